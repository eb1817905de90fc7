"""The officer's work list (/staff/arenden/): his cases and the cases waiting to be taken in
his committees, a search over every case he may see, filters, sorting and exports, in a
fixed number of queries however many cases there are.

The list reads applications, not tasks: each row is one case with its oldest open task
(a subquery), so there is one row per case and no query per row. Pages are cut with one
row of look-ahead instead of a COUNT over all open tasks.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from viewflow.workflow import flow
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from grants import access
from grants.models import (
    Application,
    Call,
    Committee,
    CompletionRequest,
    ConflictOfInterest,
    FollowUpReport,
    Membership,
    Organisation,
    Programme,
)
from grants.web import file_response

PAGE_SIZE = 50
EXPORT_LIMIT = 5000  # rows in an export; the page says so when the selection is larger
FAR = datetime.date(9999, 12, 31)
NOT_CASES = (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR)
ORGNR = re.compile(r"^(\d{6})-?(\d{4})$")
CASE_NUMBER = re.compile(r"^([A-ZÅÄÖ]+)\s*(\d{4})\s*/\s*(\d{1,6})$", re.IGNORECASE)

SORTS = {
    # By id: the order cases came in, which an index walks without sorting every case.
    "inkommen": ("pk",),
    "diarienummer": ("case_number",),
    "sokande": ("organisation__name", "case_number"),
    "belopp": ("requested_amount", "case_number"),
    "vantat": ("task_created", "case_number"),
    "frist": ("next_due", "task_created", "case_number"),
}
SORT_LABELS = {
    "inkommen": "Inkommen",
    "diarienummer": "Diarienummer",
    "sokande": "Sökande",
    "belopp": "Belopp",
    "vantat": "Dagar i väntan",
    "frist": "Nästa frist",
}
DEFAULT_SORT = "inkommen"


def _nodes() -> dict[str, Any]:
    """The flow's staff tasks by their reference (the value of Task.flow_task)."""
    from .flows import GrantFlow

    return {get_task_ref(node): node for node in GrantFlow.instance.nodes() if isinstance(node, flow.View)}


class ListForm(forms.Form):
    q = forms.CharField(label="Sök", required=False, max_length=100)
    view = forms.ChoiceField(
        label="Visa",
        required=False,
        choices=[("mitt", "Mitt arbete"), ("alla", "Alla ärenden i mina nämnder")],
        widget=forms.RadioSelect,
    )
    committee = forms.TypedChoiceField(label="Nämnd", required=False, coerce=int, empty_value=None)
    programme = forms.TypedChoiceField(label="Bidragsform", required=False, coerce=int, empty_value=None)
    call = forms.TypedChoiceField(label="Utlysning", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="Status", required=False)
    officer = forms.TypedChoiceField(label="Handläggare", required=False, coerce=int, empty_value=None)
    year = forms.TypedChoiceField(label="Budgetår", required=False, coerce=int, empty_value=None)
    organisation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(label="Sortera", required=False, choices=list(SORT_LABELS.items()))
    order = forms.ChoiceField(required=False, choices=[("asc", "Stigande"), ("desc", "Fallande")])

    def __init__(self, data: Any, *, user: Any) -> None:
        super().__init__(data)
        committees = Committee.objects.order_by("name")
        if (ids := access.committee_scope(user)) is not None:
            committees = committees.filter(pk__in=ids)
        self._choose("committee", [("", "Alla")] + [(c.pk, c.name) for c in committees])
        programmes = Programme.objects.filter(**_scope_kwargs(user, "committee_id")).order_by("name")
        self._choose("programme", [("", "Alla")] + [(p.pk, p.name) for p in programmes])
        calls = Call.objects.filter(**_scope_kwargs(user, "programme__committee_id")).order_by("-year", "title")[:200]
        self._choose("call", [("", "Alla")] + [(c.pk, f"{c.title} ({c.year})") for c in calls])
        statuses = [s for s in Application.Status.choices if s[0] not in NOT_CASES]
        self._choose("status", [("", "Alla"), ("open", "Pågående (inte avslutade)"), *statuses])
        officers = (
            get_user_model()
            .objects.filter(
                Q(groups__permissions__codename="handle_application")
                | Q(user_permissions__codename="handle_application"),
                is_active=True,
            )
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self._choose("officer", [("", "Alla")] + [(u.pk, u.get_full_name() or u.username) for u in officers])
        this_year = timezone.localdate().year
        self._choose("year", [("", "Alla")] + [(y, str(y)) for y in range(this_year + 1, this_year - 6, -1)])

    def _choose(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


def _scope_kwargs(user: Any, field: str) -> dict[str, Any]:
    ids = access.committee_scope(user)
    return {} if ids is None else {f"{field}__in": ids}


@dataclass
class Selection:
    """What the form asked for, after validation (bad values are ignored, not errors)."""

    q: str = ""
    mine: bool = True
    committee: int | None = None
    programme: int | None = None
    call: int | None = None
    status: str = ""
    officer: int | None = None
    year: int | None = None
    organisation: int | None = None
    sort: str = DEFAULT_SORT
    descending: bool = False


def selection_from(form: ListForm) -> Selection:
    form.is_valid()
    data = dict(form.cleaned_data)
    q = (data.get("q") or "").strip()
    # Searching or filtering by organisation is finding a case: look among all, not just mine.
    explicit = form.data.get("view")
    mine = explicit == "mitt" if explicit in ("mitt", "alla") else not (q or data.get("organisation"))
    sort = data.get("sort") or DEFAULT_SORT
    descending = data.get("order") == "desc"
    if q and not form.data.get("sort"):  # a search shows the newest cases first
        sort, descending = "inkommen", True
    return Selection(
        q=q,
        mine=mine,
        committee=data.get("committee"),
        programme=data.get("programme"),
        call=data.get("call"),
        status=data.get("status") or "",
        officer=data.get("officer"),
        year=data.get("year"),
        organisation=data.get("organisation"),
        sort=sort,
        descending=descending,
    )


def _open_tasks() -> QuerySet[Task]:
    return Task.objects.filter(
        process_id=OuterRef("process"), flow_task_type="HUMAN", status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )


def _mine(user: Any) -> Q:
    """The open tasks assigned to the user, or unassigned ones he has the permission to take."""
    perms = list(user.get_all_permissions())
    return Q(owner=user, status=STATUS.ASSIGNED) | Q(status=STATUS.NEW, owner__isnull=True) & (
        Q(owner_permission__isnull=True) | Q(owner_permission__in=perms)
    )


def _search(q: str) -> Q:
    """A case number or an organisationsnummer is looked up as such (an index lookup);
    other words match a case number's beginning, the association's name or the title."""
    case = CASE_NUMBER.match(q)
    if case:  # "kfn 2026/12" is KFN 2026/0012
        code, year, number = case.groups()
        return Q(case_number=f"{code.upper()} {year}/{int(number):04d}") | Q(case_number__iexact=q)
    orgnr = ORGNR.match(q.replace(" ", ""))
    if orgnr:
        return Q(organisation__org_number=f"{orgnr.group(1)}-{orgnr.group(2)}")
    # Subqueries, not joins: PostgreSQL runs each once (the title's through its full-text
    # index) and checks the cases against their results.
    found = Q(case_number__istartswith=q) | Q(
        organisation_id__in=Organisation.objects.filter(name__icontains=q).values("pk")
    )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVector

        titled = Application.objects.annotate(title_search=SearchVector("title", config="swedish")).filter(
            title_search=_search_query(q)
        )
        found |= Q(pk__in=titled.values("pk"))
    else:
        found |= Q(title__icontains=q)
    return found


def _search_query(q: str) -> Any:
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(q, config="swedish", search_type="plain")


def cases(user: Any, sel: Selection) -> QuerySet[Application]:
    """The cases of the selection, each with its oldest open task (the user's own in "Mitt
    arbete") and next deadline, sorted; not yet sliced."""
    tasks = _open_tasks()
    if sel.mine:
        tasks = tasks.filter(_mine(user))
    task = tasks.order_by("created", "pk")
    today = timezone.localdate()
    open_completion = CompletionRequest.objects.filter(
        application=OuterRef("pk"), answered_at__isnull=True, due_on__gte=today - datetime.timedelta(days=3650)
    ).order_by("due_on")
    due_report = FollowUpReport.objects.filter(
        application=OuterRef("pk"),
        status__in=[FollowUpReport.Status.DUE, FollowUpReport.Status.COMPLETION_REQUESTED],
    )
    found = (
        Application.objects.exclude(status__in=NOT_CASES)
        .filter(access.in_scope(user))
        .select_related("organisation", "call__programme__committee", "process")
        .annotate(
            task_id=Subquery(task.values("pk")[:1]),
            task_ref=Subquery(task.values("flow_task")[:1]),
            task_created=Subquery(task.values("created")[:1]),
            task_owner=Subquery(task.values("owner_id")[:1]),
            completion_due=Subquery(open_completion.values("due_on")[:1]),
            report_due=Subquery(due_report.values("due_on")[:1]),
        )
        .annotate(
            next_due=Least(Coalesce("completion_due", Value(FAR)), Coalesce("report_due", Value(FAR))),
        )
    )
    if sel.mine:
        found = found.filter(Exists(tasks))
        # A case where he declared jäv, or whose applicant he belongs to, is not his to work on.
        found = found.exclude(Exists(ConflictOfInterest.objects.filter(application=OuterRef("pk"), user=user)))
        found = found.exclude(Exists(Membership.objects.filter(organisation=OuterRef("organisation"), user=user)))
    if sel.q:
        found = found.filter(_search(sel.q))
    if sel.committee:
        found = found.filter(call__programme__committee_id=sel.committee)
    if sel.programme:
        found = found.filter(call__programme_id=sel.programme)
    if sel.call:
        found = found.filter(call_id=sel.call)
    if sel.status == "open":
        found = found.exclude(status__in=[Application.Status.CLOSED, Application.Status.WITHDRAWN])
    elif sel.status:
        found = found.filter(status=sel.status)
    if sel.officer:
        found = found.filter(Exists(Task.objects.filter(process_id=OuterRef("process"), owner_id=sel.officer)))
    if sel.year:
        found = found.filter(call__year=sel.year)
    if sel.organisation:
        found = found.filter(organisation_id=sel.organisation)
    fields = SORTS.get(sel.sort, SORTS[DEFAULT_SORT])
    sign = "-" if sel.descending else ""
    order = [F(f).desc(nulls_last=True) if sign else F(f).asc(nulls_last=True) for f in fields]
    return found.order_by(*order, "pk")


@dataclass
class Row:
    application: Application
    process_pk: int | None
    task_title: str
    task_url: str
    case_url: str
    # How his own or a free task opens in one click: its form (his) or "Ta och öppna" (a POST).
    execute_url: str
    take_url: str
    days_waiting: int | None
    next_due: datetime.date | None
    due_what: str
    amount: Decimal

    @property
    def amount_text(self) -> str:
        return kronor(self.amount)


def rows(found: list[Application], user_pk: int | None = None) -> list[Row]:
    nodes = _nodes()
    now = timezone.now()
    made = []
    for application in found:
        process_pk = getattr(getattr(application, "process", None), "pk", None)
        # The subquery's value comes back through viewflow's field: the node itself, or its reference.
        ref = application.task_ref  # type: ignore[attr-defined]
        node = ref if isinstance(ref, flow.View) else nodes.get(ref or "")
        task_url = case_url = execute_url = take_url = ""
        if process_pk:
            case_url = f"/staff/cases/grant/{process_pk}/"
            if node is not None and application.task_id:  # type: ignore[attr-defined]
                args = [process_pk, application.task_id]  # type: ignore[attr-defined]
                task_url = node.reverse("index", args=args)
                owner = application.task_owner  # type: ignore[attr-defined]
                if owner is not None and owner == user_pk:
                    execute_url = node.reverse("execute", args=args)
                elif owner is None:
                    take_url = node.reverse("take", args=args)
        created = application.task_created  # type: ignore[attr-defined]
        days = (now - created).days if created else None
        deadlines: list[tuple[datetime.date, str]] = []
        if application.completion_due:  # type: ignore[attr-defined]
            deadlines.append((application.completion_due, "komplettering"))  # type: ignore[attr-defined]
        if application.report_due:  # type: ignore[attr-defined]
            deadlines.append((application.report_due, "återrapport"))  # type: ignore[attr-defined]
        if created:
            service = application.call.programme.service_days
            if service:
                deadlines.append(
                    (timezone.localtime(created).date() + datetime.timedelta(days=service), "handläggning")
                )
        due, what = min(deadlines) if deadlines else (None, "")
        made.append(
            Row(
                application=application,
                process_pk=process_pk,
                task_title=str(node.task_title) if node is not None else "",
                task_url=task_url,
                case_url=case_url,
                execute_url=execute_url,
                take_url=take_url,
                days_waiting=days,
                next_due=due,
                due_what=what,
                amount=application.requested_amount,
            )
        )
    return made


def kronor(amount: Decimal) -> str:
    """45000.00 → "45 000 kr" (no-break spaces)."""
    whole = f"{amount:,.0f}".replace(",", "\u00a0")
    return f"{whole}\u00a0kr"


# --- the page and its exports ------------------------------------------------------------------

EXPORT_HEADER = [
    "Diarienummer",
    "Sökande",
    "Organisationsnummer",
    "Rubrik",
    "Nämnd",
    "Bidragsform",
    "Utlysning",
    "Sökt belopp (kr)",
    "Status",
    "Uppgift",
    "Dagar i väntan",
    "Nästa frist",
]


def _export_values(row: Row) -> list[Any]:
    a = row.application
    return [
        a.case_number,
        a.organisation.name,
        a.organisation.org_number,
        a.title,
        a.call.programme.committee.name,
        a.call.programme.name,
        a.call.title,
        row.amount,
        a.get_status_display(),
        row.task_title,
        row.days_waiting if row.days_waiting is not None else "",
        row.next_due.isoformat() if row.next_due else "",
    ]


def export_csv(export_rows: list[Row]) -> HttpResponse:
    """Semicolon-separated, decimal comma, UTF-8 with BOM: what Swedish Excel opens as it is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(EXPORT_HEADER)
    for row in export_rows:
        values = _export_values(row)
        values[7] = f"{row.amount:.2f}".replace(".", ",")
        writer.writerow(values)
    return file_response(
        ("\ufeff" + out.getvalue()).encode("utf-8"), filename="ärenden.csv", content_type="text/csv; charset=utf-8"
    )


def export_xlsx(export_rows: list[Row]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Ärenden"
    sheet.append(EXPORT_HEADER)
    for row in export_rows:
        values = _export_values(row)
        values[7] = float(row.amount)
        sheet.append(values)
    for cell in sheet["H"][1:]:
        cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return file_response(
        out.getvalue(),
        filename="ärenden.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("sida", "1")
    return max(1, min(int(value), 10_000)) if value.isdigit() else 1


@access.required(access.is_case_handler)
def case_list(request: HttpRequest) -> HttpResponse:
    form = ListForm(request.GET, user=request.user)
    sel = selection_from(form)
    found = cases(request.user, sel)
    export = request.GET.get("format")
    if export in ("csv", "xlsx"):
        export_rows = rows(list(found[:EXPORT_LIMIT]))
        return export_csv(export_rows) if export == "csv" else export_xlsx(export_rows)
    number = _page_number(request)
    start = (number - 1) * PAGE_SIZE
    fetched = list(found[start : start + PAGE_SIZE + 1])
    has_next = len(fetched) > PAGE_SIZE
    params = request.GET.copy()
    for key in ("sida", "format"):
        params.pop(key, None)
    organisation = None
    if sel.organisation:
        organisation = Organisation.objects.filter(pk=sel.organisation).only("name").first()
    return render(
        request,
        "workflows/case_list.html",
        {
            "form": form,
            "sel": sel,
            "rows": rows(fetched[:PAGE_SIZE], request.user.pk),
            "page": number,
            "has_next": has_next,
            "has_previous": number > 1,
            "first_index": start + 1,
            "last_index": start + min(len(fetched), PAGE_SIZE),
            "sort_label": SORT_LABELS.get(sel.sort, SORT_LABELS[DEFAULT_SORT]),
            "query": params.urlencode(),
            "sort_links": _sort_links(params, sel),
            "organisation": organisation,
            "export_limit": EXPORT_LIMIT,
            "menu": staff_menu(request.user),
            # A new staff member whom no committee has been given yet: say why nothing shows.
            "no_committees": access.committee_scope(request.user) == frozenset(),
        },
    )


def staff_menu(user: Any) -> list[tuple[str, str]]:
    """The staff interface's other pages this person may open (viewflow's menu is not drawn
    on the project's own pages)."""
    base = "/staff/cases/grant/"
    links = [
        ("Att ta", base + "queue/"),
        ("Mina uppgifter", base + "inbox/"),
        ("Arkiv", base + "archive/"),
        ("Ärendeprocesser", base + "flows/"),
    ]
    if access.works_with_meetings(user):
        links.append(("Nämndens sammanträden", "/staff/namnd/"))
        links.append(("Sammanträden och beslutsbrev", "/staff/beslutsbrev/"))
    if access.is_finance(user):
        links.append(("Utbetalningar", "/staff/ekonomi/"))
    if access.may_verify_associations(user):
        links.append(("Föreningar att verifiera", "/staff/verifiering/"))
    if access.may_see_annual_report(user):
        links.append(("Årsrapport", "/staff/ledning/"))
    return links


def _sort_links(params: Any, sel: Selection) -> dict[str, dict[str, str]]:
    links = {}
    for key in SORT_LABELS:
        current = sel.sort == key
        descending = current and not sel.descending
        query = params.copy()
        query["sort"] = key
        query["order"] = "desc" if descending else "asc"
        links[key] = {
            "url": "?" + query.urlencode(),
            "aria": ("descending" if sel.descending else "ascending") if current else "none",
            "arrow": ("↓" if sel.descending else "↑") if current else "",
        }
    return links


app_name = "workspace"
urlpatterns = [path("", case_list, name="list")]
