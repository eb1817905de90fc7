"""The committee's work: a case made ready for the committee with its officer's report
(tjänsteskrivelse), the meeting's agenda (föredragningslista) with the delegation report,
and the meeting itself: who was present, who declared jäv on which item, and the
committee's decision on every item recorded at once, its paragraphs numbered in order.

The decisions of one meeting are made in one transaction: if one of them is refused (the
budget, a case no longer waiting for the committee), none is saved and the secretary is
told which paragraph and why. The documents (officer's reports, the agenda, the protocol
extracts) are rendered by documents.committee_papers after the step that asks for them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from .. import access
from ..models import AgendaItem, Application, CommitteeMeeting, CommitteeMember, Decision, OfficerReport
from ..notifications import lazy_amount
from ..selectors import budget_label
from ._base import record_event
from .budgets import budget_check
from .decide import decision_make

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Committee


# --- the officer's report -----------------------------------------------------------------------


def _amount(amount: Decimal) -> str:
    return str(lazy_amount(amount))


def officer_report_text(application: Application) -> dict[str, str]:
    """The officer's report as the assessment says it: background, proposal, reasons and the
    effect on the budget."""
    assessment = application.assessment
    call = application.call
    programme = call.programme
    organisation = application.organisation
    background = (
        f"{organisation.name} ansöker om {_amount(application.requested_amount)} kr i {programme.name.lower()} "
        f"för ”{application.title}” under perioden {application.period_start:%Y-%m-%d}–"
        f"{application.period_end:%Y-%m-%d}. Ansökan kom in {timezone.localdate(application.submitted_at):%Y-%m-%d} "
        f"och har diarienummer {application.case_number}.\n\n{application.description}"
    ).strip()
    if assessment.proposal == assessment.Proposal.REJECT:
        proposal = f"{programme.committee.name} beslutar att avslå ansökan."
    else:
        proposal = (
            f"{programme.committee.name} beslutar att bevilja {organisation.name} "
            f"{_amount(assessment.proposed_amount)} kr i {programme.name.lower()}."
        )
    granted = Decimal(0) if assessment.proposal == assessment.Proposal.REJECT else assessment.proposed_amount
    budget_effect = (
        f"Bidraget belastar {budget_label(call)}, som har en budget på {_amount(call.budget)} kr. "
        f"Beviljat hittills: {_amount(call.committed)} kr. Med förslaget återstår "
        f"{_amount(call.budget - call.committed - granted)} kr."
    )
    return {
        "background": background,
        "proposal": proposal,
        "reasons": assessment.justification,
        "budget_effect": budget_effect,
    }


def committee_ready_mark(*, application: Application, by: User) -> OfficerReport:
    """The officer marks an assessed case above the delegation limit ready for the committee:
    its officer's report is written from the assessment, to be edited until the agenda it is
    on has been sent. Marking it again changes nothing."""
    access.require(access.is_officer(by))
    access.require(access.may_take_part(by, application))
    with transaction.atomic():
        application = (
            # Only the case's row: PostgreSQL locks no row on the nullable side of the
            # assessment's outer join.
            Application.objects.select_for_update(of=("self",))
            .select_related("call__programme__committee", "organisation", "assessment")
            .get(pk=application.pk)
        )
        if application.status != Application.Status.ASSESSED or not application.assessment.needs_committee:
            raise ValidationError("Bara bedömda ärenden över delegationsgränsen går till nämnden.")
        report = OfficerReport.objects.filter(application=application).first()
        if report is not None:
            return report
        report = OfficerReport.objects.create(application=application, author=by, **officer_report_text(application))
        record_event(application, by=by, action="Klar för nämnden", note="Tjänsteskrivelse upprättad.")
    return report


def _sent_agenda_item(application: Application) -> AgendaItem | None:
    return (
        AgendaItem.objects.filter(application=application, meeting__agenda_sent_at__isnull=False)
        .select_related("meeting")
        .first()
    )


def officer_report_update(*, report: OfficerReport, by: User, **texts: str) -> OfficerReport:
    """Change the officer's report, until the agenda it is on has been sent to the members."""
    access.require(access.is_officer(by) or access.is_secretary(by))
    access.require(access.may_take_part(by, report.application))
    fields = ("background", "proposal", "reasons", "budget_effect")
    errors = {name: "Fältet måste fyllas i." for name in fields if not texts.get(name, "").strip()}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        report = OfficerReport.objects.select_for_update().select_related("application").get(pk=report.pk)
        sent = _sent_agenda_item(report.application)
        if sent is not None:
            raise ValidationError(
                f"Föredragningslistan till sammanträdet {sent.meeting.held_on:%Y-%m-%d} är redan skickad: "
                "tjänsteskrivelsen kan inte ändras längre."
            )
        for name in fields:
            setattr(report, name, texts[name].strip())
        report.save()
    return report


# --- the meeting and its agenda --------------------------------------------------------------------


def meeting_plan(*, committee: Committee, held_on: date, by: User, place: str = "") -> CommitteeMeeting:
    """Plan a meeting of the committee; its paragraphs continue the year's numbering."""
    access.require(access.is_secretary(by))
    access.require(access.may_see_committee(by, committee.pk))
    with transaction.atomic():
        meeting, created = CommitteeMeeting.objects.get_or_create(
            committee=committee, held_on=held_on, defaults={"place": place, "secretary": by}
        )
        if created:
            last = (
                AgendaItem.objects.filter(
                    meeting__committee=committee, meeting__held_on__year=held_on.year, paragraph__isnull=False
                ).aggregate(last=Max("paragraph"))["last"]
                or 0
            )
            meeting.first_paragraph = last + 1
            meeting.save(update_fields=["first_paragraph"])
        elif meeting.is_held:
            raise ValidationError(f"Sammanträdet den {held_on:%Y-%m-%d} är redan protokollfört.")
    return meeting


def cases_ready(meeting: CommitteeMeeting) -> QuerySet[Application]:
    """The committee's cases ready for it and on no agenda of a meeting not yet held."""
    # (Not the delegation reports' items: a NULL in NOT IN would exclude every case.)
    waiting_on_agenda = AgendaItem.objects.filter(
        meeting__protocol_recorded_at__isnull=True, application__isnull=False
    ).values("application")
    return (
        Application.objects.filter(
            call__programme__committee=meeting.committee,
            status=Application.Status.ASSESSED,
            officer_report__isnull=False,
        )
        .exclude(pk__in=waiting_on_agenda)
        .select_related("organisation", "assessment", "officer_report", "call__programme")
        .order_by("officer_report__ready_at", "pk")
    )


def delegation_decisions_unreported(committee: Committee) -> QuerySet[Decision]:
    """The committee's delegation decisions not yet on any agenda (KL 6 kap. 40 §)."""
    return (
        Decision.objects.filter(
            by_committee=False,
            reported_item__isnull=True,
            application__call__programme__committee=committee,
        )
        .select_related("application__organisation", "application__call__programme", "decided_by")
        .order_by("decided_at", "pk")
    )


def _editable(meeting: CommitteeMeeting, by: User) -> CommitteeMeeting:
    access.require(access.is_secretary(by))
    access.require(access.may_see_committee(by, meeting.committee_id))
    meeting = CommitteeMeeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)
    if meeting.agenda_sent_at is not None:
        raise ValidationError("Föredragningslistan är redan skickad och kan inte ändras.")
    return meeting


def _next_position(meeting: CommitteeMeeting) -> int:
    return (meeting.items.aggregate(last=Max("position"))["last"] or 0) + 1


def agenda_case_add(*, meeting: CommitteeMeeting, application: Application, by: User) -> AgendaItem:
    with transaction.atomic():
        meeting = _editable(meeting, by)
        if not cases_ready(meeting).filter(pk=application.pk).exists():
            raise ValidationError(
                f"Ärende {application.case_number} är inte klart för nämnden eller står redan på en föredragningslista."
            )
        return AgendaItem.objects.create(
            meeting=meeting,
            position=_next_position(meeting),
            kind=AgendaItem.Kind.CASE,
            application=application,
            title=f"{application.case_number} {application.organisation.name}: {application.title}"[:300],
        )


def agenda_delegation_report_add(*, meeting: CommitteeMeeting, by: User) -> AgendaItem:
    """Add the delegation report: every delegation decision of the committee not yet reported
    goes with it. Decisions made after it was added go with the next meeting's report."""
    with transaction.atomic():
        meeting = _editable(meeting, by)
        if meeting.items.filter(kind=AgendaItem.Kind.DELEGATION_REPORT).exists():
            raise ValidationError("Delegationsrapporten finns redan på föredragningslistan.")
        decisions = list(delegation_decisions_unreported(meeting.committee).select_for_update(of=("self",)))
        item = AgendaItem.objects.create(
            meeting=meeting,
            position=_next_position(meeting),
            kind=AgendaItem.Kind.DELEGATION_REPORT,
            title=f"Anmälan av delegationsbeslut ({len(decisions)} beslut)",
        )
        Decision.objects.filter(pk__in=[decision.pk for decision in decisions]).update(reported_item=item)
    return item


def agenda_item_remove(*, item: AgendaItem, by: User) -> None:
    with transaction.atomic():
        meeting = _editable(item.meeting, by)
        item = meeting.items.get(pk=item.pk)
        Decision.objects.filter(reported_item=item).update(reported_item=None)
        item.delete()
        _renumber(meeting, list(meeting.items.order_by("position").values_list("pk", flat=True)))


def agenda_item_move(*, item: AgendaItem, by: User, step: int) -> None:
    """Move an item up (step -1) or down (+1) the agenda."""
    with transaction.atomic():
        meeting = _editable(item.meeting, by)
        order = list(meeting.items.order_by("position").values_list("pk", flat=True))
        index = order.index(item.pk)
        other = index + step
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
            _renumber(meeting, order)


def _renumber(meeting: CommitteeMeeting, order: list[int]) -> None:
    # Two passes, so that the unique (meeting, position) holds at every row's update.
    offset = len(order) + 1000
    items = {item.pk: item for item in meeting.items.all()}
    for position, pk in enumerate(order, start=1):
        items[pk].position = position + offset
    AgendaItem.objects.bulk_update(items.values(), ["position"])
    for position, pk in enumerate(order, start=1):
        items[pk].position = position
    AgendaItem.objects.bulk_update(items.values(), ["position"])


def agenda_send(*, meeting: CommitteeMeeting, by: User) -> CommitteeMeeting:
    """Send the agenda: from now on it and the officer's reports on it are fixed. The papers
    (the agenda with the officer's reports, the delegation report) are made after commit and
    mailed to the members (documents.committee_papers)."""
    with transaction.atomic():
        meeting = _editable(meeting, by)
        if not meeting.items.exists():
            raise ValidationError("Föredragningslistan är tom: lägg till ärenden eller delegationsrapporten först.")
        meeting.agenda_sent_at = timezone.now()
        meeting.save(update_fields=["agenda_sent_at"])
        for item in meeting.items.filter(kind=AgendaItem.Kind.CASE).select_related("application"):
            assert item.application is not None
            record_event(
                item.application,
                by=by,
                action="På nämndens föredragningslista",
                note=f"Sammanträdet {meeting.held_on:%Y-%m-%d}, punkt {item.position}.",
            )
    return meeting


# --- the meeting: attendance, jäv and the decisions ------------------------------------------------


@dataclass
class ItemDecision:
    """What the committee decided on one case item, as the secretary records it."""

    item: AgendaItem
    outcome: str
    amount: Decimal
    reasons: str
    conditions: str = ""
    approved_immediately: bool = False
    conflicted: list[CommitteeMember] = field(default_factory=list)


def seats(committee: Committee) -> int:
    return committee.members.filter(active=True).exclude(role=CommitteeMember.Role.SUBSTITUTE).count()


def serving(present: list[CommitteeMember], *, seats_count: int, conflicted: list[CommitteeMember]) -> int:
    """How many may decide an item: the members present without jäv, and substitutes (ersättare)
    serving in place of absent or conflicted members, never more than the committee's seats."""
    members = sum(1 for member in present if member.votes and member not in conflicted)
    substitutes = sum(1 for member in present if not member.votes and member not in conflicted)
    return min(members + substitutes, seats_count)


def _check_quorum(meeting: CommitteeMeeting, present: list[CommitteeMember], decisions: list[ItemDecision]) -> None:
    """KL 6 kap. 27 §: the committee decides only when more than half its members take part."""
    seats_count = seats(meeting.committee)
    if seats_count == 0:
        raise ValidationError("Nämnden har inga ledamöter registrerade. Lägg in ledamöterna under Nämnder.")
    if serving(present, seats_count=seats_count, conflicted=[]) * 2 <= seats_count:
        raise ValidationError(
            f"Nämnden är inte beslutför: mer än hälften av de {seats_count} ledamöterna måste vara närvarande."
        )
    for paragraph, decision in _numbered(meeting, decisions):
        for member in decision.conflicted:
            if member not in present:
                raise ValidationError(f"§ {paragraph}: {member.name} är inte närvarande och kan inte anmäla jäv.")
        if serving(present, seats_count=seats_count, conflicted=decision.conflicted) * 2 <= seats_count:
            raise ValidationError(
                f"§ {paragraph} ({decision.item.title}): med jäv är för få ledamöter kvar för att nämnden ska vara "
                "beslutför. Kalla in en ersättare."
            )


def _numbered(meeting: CommitteeMeeting, decisions: list[ItemDecision]) -> list[tuple[int, ItemDecision]]:
    return [
        (meeting.first_paragraph + decision.item.position - 1, decision)
        for decision in sorted(decisions, key=lambda decision: decision.item.position)
    ]


def _check_budgets(decisions: list[ItemDecision]) -> None:
    """All the meeting's grants together must fit each call's budget (then each is checked and
    taken under the budget's lock as it is made)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    calls = {}
    for decision in decisions:
        application = decision.item.application
        assert application is not None
        totals[application.call_id] += decision.amount
        calls[application.call_id] = application.call
    for call_id, total in totals.items():
        try:
            budget_check(calls[call_id], total)
        except ValidationError as exc:
            raise ValidationError(
                f"Besluten ryms inte i budgeten tillsammans ({_amount(total)} kr ur {budget_label(calls[call_id])}): "
                f"{' '.join(exc.messages)} Inga beslut har sparats."
            ) from exc


def meeting_record(
    *, meeting: CommitteeMeeting, by: User, present: list[CommitteeMember], decisions: list[ItemDecision]
) -> CommitteeMeeting:
    """Record the meeting: who was present, each item's jäv, its paragraph, and the committee's
    decision on every case item, in one transaction; the delegation decisions on the meeting's
    delegation report are reported with it. Nothing is saved if anything is refused."""
    access.require(access.is_secretary(by))
    access.require(access.may_see_committee(by, meeting.committee_id))
    with transaction.atomic():
        meeting = CommitteeMeeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)
        if meeting.agenda_sent_at is None:
            raise ValidationError("Skicka föredragningslistan innan sammanträdet protokollförs.")
        if meeting.is_held:
            raise ValidationError("Sammanträdet är redan protokollfört.")
        if meeting.held_on > timezone.localdate():
            raise ValidationError(
                f"Sammanträdet den {meeting.held_on:%Y-%m-%d} har inte hållits än. Besluten kan protokollföras "
                "först när sammanträdet har hållits."
            )
        items = list(meeting.items.select_related("application__call__programme", "application__assessment"))
        case_items = {item.pk for item in items if item.kind == AgendaItem.Kind.CASE}
        if {decision.item.pk for decision in decisions} != case_items:
            raise ValidationError("Ange nämndens beslut för varje ärende på föredragningslistan.")
        members = {member.pk for member in meeting.committee.members.all()}
        if any(member.pk not in members for member in present):
            raise ValidationError("Bara nämndens ledamöter och ersättare kan vara närvarande.")
        _check_quorum(meeting, present, decisions)
        _check_budgets(decisions)
        meeting.present.set(present)
        for paragraph, item in ((meeting.first_paragraph + item.position - 1, item) for item in items):
            item.paragraph = paragraph
        AgendaItem.objects.bulk_update(items, ["paragraph"])
        for paragraph, decision in _numbered(meeting, decisions):
            decision.item.conflicted.set(decision.conflicted)
            application = decision.item.application
            assert application is not None
            try:
                decision_make(
                    application=application,
                    by=by,
                    outcome=decision.outcome,
                    amount=decision.amount,
                    reasons=decision.reasons,
                    conditions=decision.conditions,
                    meeting_date=meeting.held_on,
                    protocol_paragraph=f"§ {paragraph}",
                    approved_immediately=decision.approved_immediately,
                    at_meeting=True,
                )
            except ValidationError as exc:
                raise ValidationError(
                    f"§ {paragraph} ({application.case_number}): {' '.join(exc.messages)} Inga beslut har sparats."
                ) from exc
            if decision.conflicted:
                names = ", ".join(member.name for member in decision.conflicted)
                record_event(application, by=by, action="Jäv i nämnden", note=f"§ {paragraph}: {names} deltog inte.")
        meeting.protocol_recorded_at = timezone.now()
        meeting.secretary = by
        meeting.save(update_fields=["protocol_recorded_at", "secretary"])
        _delegation_reported(meeting, by)
    return meeting


def _delegation_reported(meeting: CommitteeMeeting, by: User) -> None:
    item = meeting.items.filter(kind=AgendaItem.Kind.DELEGATION_REPORT).first()
    if item is None:
        return
    for decision in item.reported_decisions.select_related("application"):
        record_event(
            decision.application,
            by=by,
            action="Delegationsbeslutet anmält till nämnden",
            note=f"Sammanträdet {meeting.held_on:%Y-%m-%d} {item.paragraph_label} (kommunallagen 6 kap. 40 §).",
        )


def delegation_report_announced(meeting: CommitteeMeeting, by: User) -> None:
    """Once the approval of the protocol is announced, each reported delegation decision's case
    says from when its appeal period runs: the announcement of this meeting's protocol."""
    item = meeting.items.filter(kind=AgendaItem.Kind.DELEGATION_REPORT).first()
    if item is None or meeting.announced_on is None:
        return
    note = (
        f"Delegationsbeslutet anmäldes till nämnden på sammanträdet {meeting.held_on:%Y-%m-%d} "
        f"{item.paragraph_label}. Justeringen av protokollet anslogs {meeting.announced_on:%Y-%m-%d}; "
        f"tiden för överklagande (laglighetsprövning) går ut {meeting.appeal_deadline:%Y-%m-%d}."
    )
    for decision in item.reported_decisions.select_related("application"):
        record_event(decision.application, by=by, action="Protokollet tillkännagivet", note=note)


def meetings_for(user: User) -> QuerySet[CommitteeMeeting]:
    return (
        CommitteeMeeting.objects.filter(access.in_committees(user))
        .select_related("committee")
        .order_by("-held_on", "committee__name")
    )


def reported_q(prefix: str = "") -> Q:
    """Delegation decisions reported to the committee: their meeting has been held."""
    return Q(**{f"{prefix}reported_item__meeting__protocol_recorded_at__isnull": False})
