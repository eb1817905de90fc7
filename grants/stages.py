"""Where a case is, as its applicant sees it on the case page: the stages of the lifecycle
and the one the case is at, what is expected of her and by when, and what she waits for.

The stage comes from the FSM state through one table (STAGE_OF_STATUS), refined only by the
case's own rows: the decision (a committee's waits for its protocol), the payments, the
follow-up report, the repayment claim and an open completion request. Like the selectors
next to it, this module only reads, and only rows the caller has already loaded
(selectors.case_overview): it makes no query of its own and knows nothing of HTTP."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Application, CompletionRequest, Decision, FollowUpReport, Payment, RepaymentClaim
from .services.follow_up import OWED

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

S = Application.Status


class Stage(models.TextChoices):
    """The stages of every case, in the order the page lists them."""

    APPLICATION = "ansokan", gettext_lazy("Ansökan")
    ASSESSMENT = "bedomning", gettext_lazy("Bedömning")
    DECISION = "beslut", gettext_lazy("Beslut")
    PAYMENT = "utbetalning", gettext_lazy("Utbetalning")
    FOLLOW_UP = "aterrapport", gettext_lazy("Återrapport")
    CLOSED = "avslutat", gettext_lazy("Avslutat")


# The stage of each FSM state. A granted case is at its payments, unless its committee
# decision waits for the protocol (then still at the decision) or the follow-up report is
# what holds it (then at the report): see _current_stage.
STAGE_OF_STATUS: Final[Mapping[str, Stage]] = {
    S.DRAFT: Stage.APPLICATION,
    S.AWAITING_SPONSOR: Stage.APPLICATION,
    S.SUBMITTED: Stage.ASSESSMENT,
    S.AWAITING_COMPLETION: Stage.ASSESSMENT,
    S.IN_ASSESSMENT: Stage.ASSESSMENT,
    S.ASSESSED: Stage.DECISION,
    S.APPROVED: Stage.PAYMENT,
    S.PARTLY_APPROVED: Stage.PAYMENT,
    S.REJECTED: Stage.CLOSED,
    S.WITHDRAWN: Stage.CLOSED,
    S.CLOSED: Stage.CLOSED,
}

_WAIT_FOR_DECISION = gettext_lazy(
    "Inget just nu. Vänta på beslutet. Handläggaren hör av sig här och med e-post om något saknas."
)
_BEING_PAID = gettext_lazy("Inget just nu. Bidraget betalas ut till %(account)s.")

# What the applicant waits for in each FSM state when nothing is expected of her, with the
# blanks of _blanks. Empty where something always is (a draft, a completion request).
# Two rows of the case come first: a committee decision waiting for its protocol, and a
# follow-up report being reviewed (see _waiting).
WAITING: Final[Mapping[str, str | _StrPromise]] = {
    S.DRAFT: "",
    S.AWAITING_SPONSOR: gettext_lazy(
        "Inget just nu. %(sponsor)s ska bekräfta att föreningen är medsökare; först då kommer ansökan till "
        "handläggaren. Föreningen behöver bekräfta senast %(date)s, när utlysningen stänger."
    ),
    S.SUBMITTED: _WAIT_FOR_DECISION,
    S.AWAITING_COMPLETION: "",
    S.IN_ASSESSMENT: _WAIT_FOR_DECISION,
    S.ASSESSED: _WAIT_FOR_DECISION,
    S.APPROVED: _BEING_PAID,
    S.PARTLY_APPROVED: _BEING_PAID,
    S.REJECTED: gettext_lazy(
        "Inget. Ansökan är avslagen. Läs beslutet och motiveringen nedan; i beslutsbrevet står hur man överklagar."
    ),
    S.WITHDRAWN: gettext_lazy("Inget. Ansökan är återtagen och behandlas inte vidare."),
    S.CLOSED: gettext_lazy("Inget. Ärendet är avslutat."),
}

StepState = Literal["done", "current", "todo", "skipped", "partly"]


@dataclass(frozen=True)
class Step:
    """One stage as the page's progress list shows it."""

    key: Stage
    title: str | _StrPromise
    state: StepState
    note: str


class Expected(enum.StrEnum):
    """What the applicant may be expected to do: the page links each to where it is done."""

    APPLICATION = "application"
    COMPLETION = "completion"
    FOLLOW_UP_REPORT = "follow_up_report"
    REPAYMENT = "repayment"


@dataclass(frozen=True)
class Todo:
    """One thing expected of the applicant, by when, and the words of the link to it."""

    expected: Expected
    text: str
    due: dt.date
    link: str


@dataclass(frozen=True)
class CaseStage:
    """Where one case is for its applicant."""

    current: Stage
    progress: tuple[Step, ...]
    todo: tuple[Todo, ...]
    waiting: str
    awaiting_protocol: bool


def case_stage(
    *,
    application: Application,
    decision: Decision | None,
    report: FollowUpReport | None,
    claim: RepaymentClaim | None,
    open_request: CompletionRequest | None,
) -> CaseStage:
    """Where the case is, from its FSM state and the rows the case page has loaded: the
    page shows the waiting text only when nothing is expected of the applicant."""
    payments = list(application.payments.all())
    current = _current_stage(application, decision, report, payments)
    return CaseStage(
        current=current,
        progress=_progress(application, decision, report, payments, current),
        todo=_todo(application, report, claim, open_request),
        waiting=_waiting(application, decision, report),
        awaiting_protocol=awaiting_protocol(decision),
    )


def awaiting_protocol(decision: Decision | None) -> bool:
    """Whether the committee has decided but its protocol is not yet approved and announced:
    the case page then says that the letter follows, and shows no payment as done or coming."""
    return decision is not None and not decision.may_be_executed


def _current_stage(
    application: Application, decision: Decision | None, report: FollowUpReport | None, payments: Sequence[Payment]
) -> Stage:
    """The stage of the FSM state; a granted case stays at the decision until it may be
    executed, and is at the follow-up report when that is what holds it: no payment under
    way, and none still to pay once the officer has judged the report."""
    stage = STAGE_OF_STATUS[application.status]
    if stage != Stage.PAYMENT:
        return stage
    if awaiting_protocol(decision):
        return Stage.DECISION
    if report is not None and not _open(payments) and not (_unpaid(payments) and _report_settled(report)):
        return Stage.FOLLOW_UP
    return Stage.PAYMENT


def _open(payments: Sequence[Payment]) -> list[Payment]:
    """Payments on their way: planned, attested or in a payment file."""
    return [p for p in payments if p.status in Payment.OPEN]


def _unpaid(payments: Sequence[Payment]) -> list[Payment]:
    """Payments still to be made, including those withheld until the follow-up report."""
    return [p for p in payments if p.status in (Payment.Status.WITHHELD, *Payment.OPEN)]


def _report_settled(report: FollowUpReport | None) -> bool:
    """Whether the officer has given the follow-up report her verdict."""
    return report is not None and report.status in (FollowUpReport.Status.APPROVED, FollowUpReport.Status.REJECTED)


def _granted(application: Application, decision: Decision | None) -> bool:
    """Whether money was granted: a closed case counts when its decision granted some."""
    return application.status in Application.GRANTED or (
        application.status == S.CLOSED and decision is not None and decision.is_granted
    )


def _progress(
    application: Application,
    decision: Decision | None,
    report: FollowUpReport | None,
    payments: Sequence[Payment],
    current: Stage,
) -> tuple[Step, ...]:
    """Every stage with its state: the current one, those done, those that will not happen
    (a case that ended early, a programme without follow-up) and a payment made in part."""
    done = _done(application, decision, report, payments)
    ended = STAGE_OF_STATUS[application.status] == Stage.CLOSED
    skipped: set[Stage] = set()
    if ended:
        skipped = {stage for stage in Stage if not done[stage] and stage != Stage.CLOSED}
    if not application.call.programme.follow_up_required and report is None:
        skipped.add(Stage.FOLLOW_UP)
    # Some parts paid, the rest waiting (for the follow-up report, say): partly done.
    partly = any(p.status == Payment.Status.PAID for p in payments) and bool(_unpaid(payments))
    notes = _notes(application, decision, report, payments, current)

    def state(stage: Stage) -> StepState:
        if stage == current:
            return "current"
        if done[stage]:
            return "done"
        if stage in skipped:
            return "skipped"
        if stage == Stage.PAYMENT and partly:
            return "partly"
        return "todo"

    return tuple(Step(key=stage, title=stage.label, state=state(stage), note=notes[stage]) for stage in Stage)


def _done(
    application: Application, decision: Decision | None, report: FollowUpReport | None, payments: Sequence[Payment]
) -> dict[Stage, bool]:
    """Which stages the case has been through."""
    return {
        Stage.APPLICATION: application.submitted_at is not None,
        Stage.ASSESSMENT: (
            hasattr(application, "assessment") and STAGE_OF_STATUS[application.status] != Stage.ASSESSMENT
        ),
        Stage.DECISION: decision is not None,
        Stage.PAYMENT: _granted(application, decision) and bool(payments) and not _unpaid(payments),
        Stage.FOLLOW_UP: _report_settled(report),
        Stage.CLOSED: False,
    }


def _notes(
    application: Application,
    decision: Decision | None,
    report: FollowUpReport | None,
    payments: Sequence[Payment],
    current: Stage,
) -> dict[Stage, str]:
    """The short line under each stage: when it happened, or what it waits for."""
    return {
        Stage.APPLICATION: _application_note(application),
        Stage.ASSESSMENT: application.get_status_display() if current == Stage.ASSESSMENT else "",
        Stage.DECISION: _decision_note(decision, current),
        Stage.PAYMENT: (
            _("%(paid)s av %(count)s delar utbetalda")
            % {
                "paid": sum(p.status == Payment.Status.PAID for p in payments),
                "count": len({p.sequence for p in payments}),
            }
            if _granted(application, decision) and payments and not awaiting_protocol(decision)
            else ""
        ),
        Stage.FOLLOW_UP: _report_note(report),
        Stage.CLOSED: _closed_note(application),
    }


def _application_note(application: Application) -> str:
    if application.status == S.AWAITING_SPONSOR:
        return _("Väntar på att %(sponsor)s bekräftar") % {"sponsor": _sponsor_name(application)}
    if application.submitted_at:
        return _("Inskickad %(date)s") % {"date": f"{application.submitted_at:%Y-%m-%d}"}
    return _("Utkast")


def _decision_note(decision: Decision | None, current: Stage) -> str:
    if decision is not None and awaiting_protocol(decision):
        return _("Nämnden beslutade %(date)s. Beslutsbrevet kommer när protokollet har justerats.") % {
            "date": _meeting_day(decision)
        }
    if decision is not None:
        return f"{decision.get_outcome_display()} {decision.decided_at:%Y-%m-%d}"
    return _("Väntar på beslut") if current == Stage.DECISION else ""


def _meeting_day(decision: Decision) -> str:
    """The day of the meeting where the committee decided (a decision awaiting its protocol
    always has one), as the page writes dates."""
    meeting = decision.meeting
    assert meeting is not None, "a committee decision is taken at a meeting"
    return f"{meeting.held_on:%Y-%m-%d}"


def _report_note(report: FollowUpReport | None) -> str:
    if report is None:
        return ""
    deadline = _(", senast %(date)s") % {"date": f"{report.due_on:%Y-%m-%d}"} if report.status in OWED else ""
    return report.get_status_display() + deadline


def _closed_note(application: Application) -> str:
    if application.status == S.WITHDRAWN and application.withdrawn_at:
        return _("Återtagen %(date)s") % {"date": f"{application.withdrawn_at:%Y-%m-%d}"}
    return application.get_status_display() if STAGE_OF_STATUS[application.status] == Stage.CLOSED else ""


def _todo(
    application: Application,
    report: FollowUpReport | None,
    claim: RepaymentClaim | None,
    open_request: CompletionRequest | None,
) -> tuple[Todo, ...]:
    """What is expected of the applicant now, and by when; empty when nothing is."""
    todo = []
    if application.status == S.DRAFT:
        todo.append(
            Todo(
                Expected.APPLICATION,
                _("Fyll i ansökan och skicka in den."),
                application.call.closes_on,
                _("Fortsätt med ansökan"),
            )
        )
    if application.status == S.AWAITING_COMPLETION and open_request is not None:
        todo.append(
            Todo(
                Expected.COMPLETION,
                _("Komplettera ansökan med det handläggaren ber om."),
                open_request.due_on,
                _("Svara på kompletteringen"),
            )
        )
    if report is not None and report.status in OWED:
        todo.append(
            Todo(
                Expected.FOLLOW_UP_REPORT,
                _("Lämna återrapporten: berätta vad ni gjorde och vad pengarna användes till."),
                report.due_on,
                _("Fortsätt med återrapporten") if report.saved_at else _("Fyll i återrapporten"),
            )
        )
    if claim is not None and claim.status == RepaymentClaim.Status.OPEN:
        todo.append(
            Todo(
                Expected.REPAYMENT,
                _("Betala tillbaka %(amount)s kr enligt beslutet om återkrav.")
                % {"amount": number_format(claim.outstanding, 2, force_grouping=True)},
                claim.due_on,
                _("Läs om återkravet"),
            )
        )
    return tuple(todo)


def _waiting(application: Application, decision: Decision | None, report: FollowUpReport | None) -> str:
    """What the applicant waits for when nothing is expected of her: the text of her FSM
    state, unless the committee's protocol or the officer's review of her report is what
    she waits for."""
    if decision is not None and awaiting_protocol(decision):
        held_on = {"date": _meeting_day(decision)}
        if decision.is_granted:
            return (
                _(
                    "Inget just nu. Nämnden har beslutat vid sammanträdet den %(date)s. Beslutsbrevet kommer "
                    "här när protokollet från sammanträdet har justerats; först då betalas bidraget ut."
                )
                % held_on
            )
        return (
            _(
                "Inget just nu. Nämnden har beslutat vid sammanträdet den %(date)s. Beslutsbrevet, med hur man "
                "överklagar, kommer här när protokollet från sammanträdet har justerats."
            )
            % held_on
        )
    if (
        application.status in Application.GRANTED
        and report is not None
        and report.status == FollowUpReport.Status.SUBMITTED
    ):
        return _("Inget just nu. Handläggaren granskar återrapporten.")
    return WAITING[application.status] % _blanks(application)


def _blanks(application: Application) -> dict[str, str]:
    """What the waiting texts leave blank: a group's sponsor and the day it must confirm by,
    and the account the grant is paid to. All from rows already loaded."""
    organisation = application.organisation
    return {
        "sponsor": _sponsor_name(application),
        "date": f"{application.call.closes_on:%Y-%m-%d}",
        "account": organisation.payment_account or organisation.payee.name,
    }


def _sponsor_name(application: Application) -> str:
    sponsor = application.organisation.sponsor
    return sponsor.name if sponsor is not None else ""
