"""Decide: the decision, under delegation or by the committee, within the call's budget."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, process
from ..models import Application, CommitteeMeeting, Decision, FollowUpReport
from ..notifications import lazy_amount, lazy_interpolate, notify_applicant
from ._base import lock_application, record_event, service_transaction, transition
from .amounts import check_amount_fits_outcome
from .budgets import budget_check, budget_commit
from .pay import payments_plan

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def follow_up_due_on(application: Application) -> date:
    """When a granted case's follow-up report is due: a set number of days after the period."""
    return application.period_end + timedelta(days=application.call.programme.follow_up_days_after_end)


def _check_decision(
    application: Application,
    *,
    by: User,
    outcome: str,
    amount: Decimal,
    meeting_date: date | None,
    protocol_paragraph: str,
    at_meeting: bool = False,
) -> bool:
    """The rules a decision must meet before it is made (or previewed). Returns whether the
    committee decides."""
    if not application.decide.can_proceed():
        # Before reading the assessment: a case not yet assessed has none.
        raise ValidationError(
            f"Det går inte att fatta beslut nu: ärendet har status ”{application.get_status_display()}”."
        )
    access.require(access.may_decide(by, application, at_meeting=at_meeting))
    programme = application.call.programme
    by_committee = application.assessment.needs_committee
    if by_committee:
        if not meeting_date or not protocol_paragraph.strip():
            raise ValidationError("Ange nämndens sammanträdesdatum och protokollsparagraf.")
        # A decision exists once the committee has taken it at its meeting, not before.
        if meeting_date > timezone.localdate():
            raise ValidationError(
                f"Sammanträdet den {meeting_date:%Y-%m-%d} har inte hållits än. Ett beslut i nämnden kan "
                "registreras först när sammanträdet har hållits."
            )
    else:
        if amount > programme.delegation_limit:
            raise ValidationError(
                f"{amount} kr är över delegationsgränsen {programme.delegation_limit} kr. "
                "Ändra förslaget så att nämnden beslutar."
            )
    check_amount_fits_outcome(application, outcome, amount)
    return by_committee


def decision_draft(
    *,
    application: Application,
    by: User,
    outcome: str,
    amount: Decimal,
    reasons: str,
    conditions: str = "",
    meeting_date: date | None = None,
    protocol_paragraph: str = "",
    approved_immediately: bool = False,
) -> Decision:
    """The decision as it would be made, unsaved, for previewing its letter. Checks the same
    rules as decision_make (the budget included) but locks and writes nothing; the meeting
    is the stored one if the committee already has it, otherwise an unsaved one."""
    if not reasons.strip():
        raise ValidationError("Beslutet måste ha en motivering.")
    by_committee = _check_decision(
        application,
        by=by,
        outcome=outcome,
        amount=amount,
        meeting_date=meeting_date,
        protocol_paragraph=protocol_paragraph,
    )
    budget_check(application.call, amount)
    programme = application.call.programme
    meeting = None
    if by_committee:
        assert meeting_date is not None  # _check_decision refuses a committee decision without one
        meeting = CommitteeMeeting.objects.filter(
            committee=programme.committee, held_on=meeting_date
        ).first() or CommitteeMeeting(committee=programme.committee, held_on=meeting_date)
    return Decision(
        application=application,
        outcome=outcome,
        amount=amount,
        reasons=reasons,
        conditions=conditions,
        decided_by=by,
        decided_at=timezone.now(),
        by_committee=by_committee,
        delegation_point="" if by_committee else programme.delegation_point,
        meeting=meeting,
        protocol_paragraph=protocol_paragraph if by_committee else "",
        approved_immediately=by_committee and approved_immediately,
    )


def decision_make(
    *,
    application: Application,
    by: User,
    outcome: str,
    amount: Decimal,
    reasons: str,
    conditions: str = "",
    meeting_date: date | None = None,
    protocol_paragraph: str = "",
    approved_immediately: bool = False,
    at_meeting: bool = False,
) -> Decision:
    """Record the decision. A committee decision names its meeting, which has been held, and
    whether the paragraph was approved at once (omedelbar justering): only then, or once the
    protocol's approval is announced, may it be executed (Decision.may_be_executed). The case's
    flow goes on to the letter."""
    if not reasons.strip():
        raise ValidationError("Beslutet måste ha en motivering.")
    return process.run(
        process.Step.DECIDE_AT_MEETING if at_meeting else process.Step.DECIDE,
        application,
        partial(
            _decision_make,
            application=application,
            by=by,
            outcome=outcome,
            amount=amount,
            reasons=reasons,
            conditions=conditions,
            meeting_date=meeting_date,
            protocol_paragraph=protocol_paragraph,
            approved_immediately=approved_immediately,
            at_meeting=at_meeting,
        ),
        by=by,
    )


def _decision_make(
    *,
    application: Application,
    by: User,
    outcome: str,
    amount: Decimal,
    reasons: str,
    conditions: str,
    meeting_date: date | None,
    protocol_paragraph: str,
    approved_immediately: bool,
    at_meeting: bool,
) -> Decision:
    with service_transaction():
        application = lock_application(application)
        by_committee = _check_decision(
            application,
            by=by,
            outcome=outcome,
            amount=amount,
            meeting_date=meeting_date,
            protocol_paragraph=protocol_paragraph,
            at_meeting=at_meeting,
        )
        programme = application.call.programme
        # Locks the budget rows, so that concurrent decisions see each other's amounts.
        budget_commit(application.call, amount)
        before = application.status
        transition(application, "decide", by=by, what=_("fatta beslut"), args=(outcome,))
        decision = Decision.objects.create(
            application=application,
            outcome=outcome,
            amount=amount,
            reasons=reasons,
            conditions=conditions,
            decided_by=by,
            by_committee=by_committee,
            delegation_point="" if by_committee else programme.delegation_point,
            meeting=CommitteeMeeting.objects.get_or_create(committee=programme.committee, held_on=meeting_date)[0]
            if by_committee
            else None,
            protocol_paragraph=protocol_paragraph if by_committee else "",
            approved_immediately=by_committee and approved_immediately,
        )
        application.save()
        if decision.is_granted:
            payments_plan(application=application, decision=decision)
            if programme.follow_up_required:
                FollowUpReport.objects.create(application=application, due_on=follow_up_due_on(application))
        if by_committee:
            who = f"nämnden {meeting_date:%Y-%m-%d} {protocol_paragraph}"
            if decision.approved_immediately:
                who += ", paragrafen omedelbart justerad"
        else:
            who = f"handläggare på delegation {programme.delegation_point}".strip()
        label = dict(Decision.Outcome.choices).get(outcome, outcome)  # lazy: the record is written in Swedish
        record_event(
            application,
            by=by,
            action=format_lazy("Beslut: {}", label),
            from_state=before,
            to_state=application.status,
            note=f"{amount} kr. Beslutat av {who}.",
        )
        letter = (
            gettext_lazy("Beslutsbrevet kommer i portalen när nämndens protokoll har justerats.")
            if by_committee
            else gettext_lazy("Beslutsbrevet finns i portalen.")
        )
        notify_applicant(
            application,
            subject=gettext_lazy("Beslut i ditt ärende"),
            body=lazy_interpolate(
                gettext_lazy("Beslut: %(outcome)s, %(amount)s kr. %(letter)s"),
                outcome=Application.Status(application.status).label,
                amount=lazy_amount(amount),
                letter=letter,
            ),
        )
    return decision
