"""Reads. Every list here costs a fixed number of queries, however many rows it has."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access
from .models import AnnualBudget, Application, Call, CaseEvent, Document, Organisation, Payment, Programme


def organisations_of(user: User) -> QuerySet[Organisation]:
    """The organisations a person may act for: where a confirmed member."""
    return Organisation.objects.filter(access.confirmed_member(user))


def applications_for_user(user: User) -> QuerySet[Application]:
    """The cases an applicant may see: those of their own organisations."""
    return (
        Application.objects.filter(access.confirmed_member(user, via="organisation"))
        .select_related("call__programme__committee", "organisation")
        .order_by("-created_at")
    )


def application_for_user(user: User, pk: int) -> Application:
    """The one access check for a case in the applicant portal: 404 if it is not theirs."""
    try:
        return applications_for_user(user).get(pk=pk)
    except Application.DoesNotExist:
        raise Http404("Ärendet finns inte, eller så har du inte tillgång till det.")


def applications_for_sponsor(user: User) -> QuerySet[Application]:
    """The applications an informal group has sent to its sponsor association, for the
    sponsor's confirmed members to read, confirm or decline: never the group's drafts."""
    return (
        Application.objects.filter(access.confirmed_member(user, via="organisation__sponsor"))
        .exclude(status=Application.Status.DRAFT)
        .select_related("call__programme__committee", "organisation__sponsor")
        .order_by("-created_at")
    )


def application_for_sponsor(user: User, pk: int) -> Application:
    """The one access check for a sponsor's page on a group's application: 404 unless the
    person is a confirmed member of the group's sponsor association."""
    try:
        return applications_for_sponsor(user).get(pk=pk)
    except Application.DoesNotExist:
        raise Http404(_("Ansökan finns inte, eller så har du inte tillgång till den."))


def document_for_user(user: User, pk: int) -> Document:
    """A document as its reader may see it: applicants only their own cases' files, a
    sponsor association's confirmed members the attachments of the applications sent to it,
    staff every case's."""
    documents = Document.objects.select_related("application")
    if not access.is_staff_member(user):
        own = Q(application__in=applications_for_user(user).values("pk"))
        sponsored = Q(kind=Document.Kind.ATTACHMENT, application__in=applications_for_sponsor(user).values("pk"))
        documents = documents.filter(own | sponsored)
    try:
        return documents.get(pk=pk)
    except Document.DoesNotExist:
        raise Http404("Dokumentet finns inte, eller så har du inte tillgång till det.")


def open_calls(on: dt.date | None = None) -> QuerySet[Call]:
    on = on or timezone.localdate()
    return (
        Call.objects.filter(opens_on__lte=on, closes_on__gte=on, programme__is_active=True)
        .select_related("programme__committee")
        .order_by("programme__name", "closes_on")
    )


def annual_budgets(call: Call, *, for_update: bool = False) -> list[AnnualBudget]:
    """The annual budgets above a call: its committee's year, its programme's share."""
    programme = call.programme
    budgets = AnnualBudget.objects.filter(year=call.year).filter(
        Q(committee_id=programme.committee_id, programme__isnull=True) | Q(programme_id=programme.pk)
    )
    if for_update:
        # Always the same order (committee before programme), so that concurrent
        # decisions queue for the same locks instead of deadlocking.
        budgets = budgets.select_for_update(of=("self",))
    return list(budgets.select_related("programme", "committee").order_by(F("programme_id").asc(nulls_first=True)))


def budget_label(budget: Call | AnnualBudget) -> str:
    if isinstance(budget, Call):
        return f"utlysningens budget ({budget.title})"
    if budget.programme is not None:
        return f"budgeten för {budget.programme.name} {budget.year}"
    return f"{budget.committee.name}s bidragsbudget {budget.year}"


def budgets_overview(call: Call) -> list[dict[str, Any]]:
    """Every budget a decision in this call must fit in, for the staff's case page:
    [{label, budget, committed, remaining}], the call first."""
    rows: list[Call | AnnualBudget] = [call, *annual_budgets(call)]
    return [
        {
            "label": budget_label(row)[0].upper() + budget_label(row)[1:],
            "budget": row.budget if isinstance(row, Call) else row.amount,
            "committed": row.committed,
            "remaining": row.remaining,
        }
        for row in rows
    ]


def organisation_grants_in_year(application: Application) -> QuerySet[Application]:
    """The organisation's other applications in the same budget year, across all committees
    and programmes (double funding): for the list they are summarised for."""
    return (
        Application.objects.filter(organisation_id=application.organisation_id, call__year=application.call.year)
        .exclude(pk=application.pk)
        .exclude(status=Application.Status.DRAFT)
    )


def organisation_year_summary(application: Application) -> list[dict[str, Any]]:
    """The organisation's other applications in the same budget year, summed per committee:
    [{committee, code, count, requested, granted, paid}], in two queries however many there
    are (the case page shows these sums and links to the list of the applications)."""
    others = organisation_grants_in_year(application)
    committee = "call__programme__committee"
    rows = {
        row["committee_id"]: {**row, "paid": Decimal(0)}
        for row in others.values(committee_id=F(f"{committee}_id"))
        .annotate(
            committee=F(f"{committee}__name"),
            code=F(f"{committee}__code"),
            count=Count("pk"),
            requested=Sum("requested_amount"),
            granted=Sum("decision__amount"),
        )
        .order_by(f"{committee}__name")
    }
    paid = (
        Payment.objects.filter(application__in=others.values("pk"), status=Payment.Status.PAID)
        .values(committee_id=F(f"application__{committee}_id"))
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in paid:
        if row["committee_id"] in rows:
            rows[row["committee_id"]]["paid"] = row["total"]
    return list(rows.values())


def case_overview(pk: int) -> dict[str, Any]:
    """Everything a case page shows, in a fixed number of queries (whatever the number of
    cases, and of the organisation's other applications)."""
    application = (
        Application.objects.select_related(
            "call__programme__committee",
            "organisation__sponsor",
            "assessment__officer",
            "decision__decided_by",
            "decision__meeting",
            "follow_up",
            "created_by",
        )
        .prefetch_related(
            "budget_lines",
            "completion_requests",
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
            Prefetch("documents", queryset=Document.objects.order_by("created_at")),
            Prefetch("payments", queryset=Payment.objects.select_related("attested_by")),
        )
        .get(pk=pk)
    )
    summary = organisation_year_summary(application)
    open_requests = [r for r in application.completion_requests.all() if not r.answered_at]
    return {
        "application": application,
        "assessment": getattr(application, "assessment", None),
        "decision": getattr(application, "decision", None),
        "follow_up": getattr(application, "follow_up", None),
        "completion_due": min((r.due_on for r in open_requests), default=None),
        "budgets": budgets_overview(application.call),
        "other_grants": summary,
        "other_totals": {
            key: sum((row[key] or 0 for row in summary), Decimal(0))
            for key in ("count", "requested", "granted", "paid")
        },
    }


def catalogue(
    *,
    query: str = "",
    committee_id: int | None = None,
    open_only: bool = False,
    groups_only: bool = False,
    on: dt.date | None = None,
) -> QuerySet[Programme]:
    """The public catalogue: active programmes with their open and coming calls, in two
    queries whatever the number of programmes."""
    on = on or timezone.localdate()
    programmes = (
        Programme.objects.filter(is_active=True)
        .select_related("committee")
        .prefetch_related(
            Prefetch(
                "calls", queryset=Call.objects.filter(closes_on__gte=on).order_by("opens_on"), to_attr="current_calls"
            )
        )
    )
    if query:
        programmes = programmes.filter(
            Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(purpose__icontains=query)
            | Q(committee__name__icontains=query)
        )
    if committee_id:
        programmes = programmes.filter(committee_id=committee_id)
    if open_only:
        programmes = programmes.filter(calls__opens_on__lte=on, calls__closes_on__gte=on).distinct()
    if groups_only:
        programmes = programmes.filter(who_may_apply=Programme.ApplicantKind.ASSOCIATIONS_AND_GROUPS)
    return programmes.order_by("name")


def catalogue_programme(slug: str, on: dt.date | None = None) -> Programme:
    on = on or timezone.localdate()
    try:
        return (
            Programme.objects.filter(is_active=True)
            .select_related("committee")
            .prefetch_related(
                Prefetch(
                    "calls",
                    queryset=Call.objects.filter(closes_on__gte=on).order_by("opens_on"),
                    to_attr="current_calls",
                )
            )
            .get(slug=slug)
        )
    except Programme.DoesNotExist:
        raise Http404("Bidraget finns inte.")
