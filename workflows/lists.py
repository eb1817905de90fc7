"""The staff's task lists (queue and inbox), showing the case rather than the task id,
in a fixed number of queries however many cases are waiting."""

from django.middleware.csrf import get_token
from django.utils.html import format_html
from django_filters import ChoiceFilter, DateRangeFilter, FilterSet
from viewflow.workflow import flow
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.views import FlowInboxListView, FlowQueueListView
from viewflow.workflow.flow.viewset import FlowAppViewset
from viewflow.workflow.models import Task

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


class CaseColumnsMixin:
    columns = ("case_number", "applicant", "programme", "amount", "task_title", "created")
    filterset_class = CaseTaskFilter

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(f"{CASE}__organisation", f"{CASE}__call__programme", "process__grantprocess")
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


class GrantFlowViewset(FlowAppViewset):
    process_detail_view_class = CasePageView  # the case page (workflows.views)
    queue_view_class = CaseQueueView
    inbox_view_class = CaseInboxView
