"""The staff's task lists (queue, inbox, archive) and viewflow's process and task lists,
showing the case rather than the task id, in the user's committees only, in a fixed number
of queries however many cases are waiting: ordered, with no COUNT for the pages, and menu
badges counted once a minute at most."""

from django.core.cache import cache
from django.core.paginator import Paginator
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.views.generic import RedirectView
from django_filters import ChoiceFilter, DateRangeFilter, FilterSet
from viewflow.workflow import flow
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views import (
    DashboardProcessListView,
    DashboardTaskListView,
    FlowArchiveListView,
    FlowInboxListView,
    FlowQueueListView,
)
from viewflow.workflow.flow.viewset import FlowAppViewset
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from grants import access

from .views import CasePageView

CASE = "process__grantprocess__application"


class CaseTaskFilter(FilterSet):
    # Viewflow's own filter lists every process in a drop-down: with thousands of open
    # cases that is the slowest part of the page, so we filter by task and date only.
    flow_task = ChoiceFilter(label="Uppgift")
    created = DateRangeFilter(label="Skapad")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The staff tasks of the flow this user may take, from its definition: no DISTINCT
        # over every open task.
        from .flows import GrantFlow

        user = self.request.user if self.request else None
        self.filters["flow_task"].field.choices = [
            (get_task_ref(node), str(node.task_title))
            for node in GrantFlow.instance.nodes()
            if isinstance(node, flow.View) and user is not None and user.has_perm(node._owner_permission)
        ]

    class Meta:
        model = Task
        fields = ("flow_task", "created")


class LookaheadPaginator(Paginator):
    """Pages without a COUNT over every row: a page fetches one row more than it shows, and
    the count is what is known so far (the rows up to this page, plus one if there are more)."""

    _known: int | None = None

    @property
    def count(self) -> int:  # type: ignore[override]
        return self._known if self._known is not None else 0

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        return max(number, 1)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        fetched = list(self.object_list[bottom : bottom + self.per_page + 1])
        self._known = bottom + len(fetched)
        self.__dict__.pop("num_pages", None)
        return self._get_page(fetched[: self.per_page], number, self)


class CaseColumnsMixin:
    columns = ("case_number", "applicant", "programme", "amount", "task_title", "created")
    filterset_class = CaseTaskFilter
    paginator_class = LookaheadPaginator

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(access.in_scope(self.request.user, f"{CASE}__"))
            .select_related(f"{CASE}__organisation", f"{CASE}__call__programme", "process__grantprocess")
            .order_by("-created", "-pk")
        )

    def _case(self, task):
        return task.process.grantprocess.application

    def case_number(self, task):
        url = task.flow_task.reverse("index", args=[task.process_id, task.pk])
        return format_html('<a href="{}">{}</a>', url, self._case(task).case_number)

    case_number.short_description = "Diarienummer"

    def applicant(self, task):
        return self._case(task).organisation.name

    applicant.short_description = "Sökande"

    def programme(self, task):
        return self._case(task).call.programme.name

    programme.short_description = "Bidragsform"

    def amount(self, task):
        return f"{self._case(task).requested_amount:,.0f} kr".replace(",", " ")

    amount.short_description = "Sökt belopp"

    def task_title(self, task):
        return task.title

    task_title.short_description = "Uppgift"


class CaseQueueView(CaseColumnsMixin, FlowQueueListView):
    title = "Att ta"
    columns = (*CaseColumnsMixin.columns, "take")

    def take(self, task):
        # One click takes the task and opens its form (workflows.nodes.CaseView.take_path).
        url = task.flow_task.reverse("take", args=[task.process_id, task.pk])
        return format_html(
            '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="mdc-button mdc-button--outlined" aria-label="Ta och öppna {}">'
            "Ta och öppna</button></form>",
            url,
            get_token(self.request),
            self._case(task).case_number,
        )

    take.short_description = "Åtgärd"

    def get_queryset(self):
        # A case where the user declared jäv, or whose applicant they belong to, is not
        # theirs to take (access.may_take_part): it is not offered in their queue either.
        user = self.request.user
        return (
            super()
            .get_queryset()
            .exclude(**{f"{CASE}__conflicts__user": user})
            .exclude(**{f"{CASE}__organisation__memberships__user": user})
        )


class CaseInboxView(CaseColumnsMixin, FlowInboxListView):
    title = "Mina uppgifter"


class CaseArchiveView(CaseColumnsMixin, FlowArchiveListView):
    title = "Arkiv"
    columns = ("case_number", "applicant", "programme", "amount", "task_title", "created", "finished")

    def case_number(self, task):
        url = self.request.resolver_match.flow_viewset.reverse("process_detail", args=[task.process_id])
        return format_html('<a href="{}">{}</a>', url, self._case(task).case_number)

    case_number.short_description = "Diarienummer"


class CaseTaskListView(CaseColumnsMixin, DashboardTaskListView):
    """Every task of the flow, in the user's committees."""

    title = "Alla uppgifter"
    columns = ("case_number", "applicant", "amount", "task_title", "created", "owner")
    filterset_class = None

    def get_queryset(self):
        return super().get_queryset().select_related("owner")


class CaseProcessListView(DashboardProcessListView):
    """Every case's process, newest first, with the case instead of "Process id" and "Brief"."""

    title = "Ärendeprocesser"
    columns = ("case_number", "applicant", "amount", "status_text", "created", "finished")
    object_link_columns = ()
    paginator_class = LookaheadPaginator

    def get_queryset(self):
        # Not viewflow's Count of active tasks per process (a GROUP BY over every task).
        queryset = super(DashboardProcessListView, self).get_queryset()
        return (
            queryset.filter(flow_class=self.flow_class)
            .filter(access.in_scope(self.request.user, "application__"))
            .select_related("application__organisation")
            .order_by("-created", "-pk")
        )

    def case_number(self, process):
        url = self.request.resolver_match.flow_viewset.reverse("process_detail", args=[process.pk])
        return format_html('<a href="{}">{}</a>', url, process.application.case_number)

    case_number.short_description = "Diarienummer"

    def applicant(self, process):
        return process.application.organisation.name

    applicant.short_description = "Sökande"

    def amount(self, process):
        return f"{process.application.requested_amount:,.0f} kr".replace(",", "\u00a0")

    amount.short_description = "Sökt belopp"

    def status_text(self, process):
        return process.application.get_status_display()

    status_text.short_description = "Status"


class DashboardRedirect(RedirectView):
    """viewflow's dashboard drew a card per task (a batch of queries each): the officer's work
    list is the flow's start page instead."""

    flow_class = None
    viewset = None

    def get_redirect_url(self, *args, **kwargs):
        if access.is_case_handler(self.request.user):
            return reverse("workspace:list")
        return self.request.resolver_match.flow_viewset.reverse("queue")


class Badge:
    """A menu badge: what viewflow's menu template reads as `user_inbox.count`."""

    def __init__(self, count: int) -> None:
        self.count = count


BADGE_SECONDS = 30


def badge_counts(user) -> tuple[int, int]:
    """The user's inbox and queue sizes in his committees, cached briefly per user: the
    menu shows them on every staff page."""
    key = f"staff-badges:{user.pk}"
    counts = cache.get(key)
    if counts is None:
        from .flows import GrantFlow

        manager = Task.objects
        inbox = manager.inbox([GrantFlow], user).filter(access.in_scope(user, f"{CASE}__")).count()
        queue = (
            manager.queue([GrantFlow], user)
            .filter(status=STATUS.NEW)
            .filter(access.in_scope(user, f"{CASE}__"))
            .exclude(**{f"{CASE}__conflicts__user": user})
            .count()
        )
        counts = (inbox, queue)
        cache.set(key, counts, BADGE_SECONDS)
    return counts


class GrantFlowViewset(FlowAppViewset):
    process_detail_view_class = CasePageView  # the case page (workflows.views)
    queue_view_class = CaseQueueView
    inbox_view_class = CaseInboxView
    archive_view_class = CaseArchiveView
    task_list_view_class = CaseTaskListView
    process_list_view_class = CaseProcessListView
    dashboard_view_class = DashboardRedirect

    def get_context_data(self, request):
        if not request.user.is_authenticated:
            return {"user_inbox": Badge(0), "user_queue": Badge(0)}
        inbox, queue = badge_counts(request.user)
        return {"user_inbox": Badge(inbox), "user_queue": Badge(queue)}
