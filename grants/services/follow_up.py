"""Follow up: the grantee's report, its review, and closing the case.

The report asks for what the programme's `follow_up_parts` say, beyond what was done and
what it gave: participants by age band and gender, sessions, a financial statement. The
grantee can save it half-done and come back; submitting checks that every part is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from .. import access, limits, process, staff_notices
from ..models import (
    AGE_BANDS,
    GENDERS,
    ZERO,
    Document,
    FollowUpCostLine,
    FollowUpReport,
    Payment,
    RepaymentClaim,
    StaffNotice,
)
from ..notifications import lazy_amount, lazy_interpolate, notify_applicant
from . import ledger
from ._base import (
    discarded_on_failure,
    document_create,
    lock_application,
    record_event,
    service_transaction,
    store_file,
    transition,
)
from .pay import payments_release_withheld
from .repayments import kronor

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    from ..files import Stored, Upload
    from ..models import Application

OWED = (FollowUpReport.Status.DUE, FollowUpReport.Status.COMPLETION_REQUESTED)
# The report's total of participants adds up the grid's cells.
COUNT_MAXIMA = {"sessions": limits.SESSIONS, "participants": limits.PARTICIPANTS * len(AGE_BANDS) * len(GENDERS)}

# What a caller may fill in; cost lines and an attachment come as their own arguments.
REPORT_FIELDS = (
    "what_was_done",
    "outcome",
    "participants",
    "participants_by_group",
    "sessions",
    "actual_costs",
    "own_contribution",
)


# What the report asks, as the decision letter says it: what every report asks, then what
# each of the programme's follow_up_parts adds. The portal's form (FollowUpReportForm) asks
# exactly these: what_was_done and outcome always, and each part's own fields.
ALWAYS_ASKED = ("vad ni har genomfört", "resultatet jämfört med målen i ansökan")
PART_ASKED = {
    "participants_by_age_gender": "antal deltagare per åldersgrupp och kön",
    "sessions": "antal sammankomster",
    "financial_statement": "en ekonomisk redovisning med budget mot utfall och egen insats",
}


def report_contents(parts: Iterable[str]) -> list[str]:
    """What a report with these follow_up_parts asks, in the letter's words and order."""
    parts = list(parts)
    return [*ALWAYS_ASKED, *(PART_ASKED[part] for part in PART_ASKED if part in parts)]


def report_contents_text(parts: Iterable[str]) -> str:
    """The same as one Swedish phrase: "a, b och c"."""
    items = report_contents(parts)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} och {items[-1]}"


# Participants as stored: {age band: {gender: count}}, a cell left empty as None or absent.
Grid = Mapping[str, Mapping[str, int | None]]
# A cost line as a caller gives it: (label, budgeted, actual), the amounts as typed or as Decimal.
CostLineRow = tuple[str | None, Decimal | int | str | None, Decimal | int | str]


class CostLine(NamedTuple):
    """One row of the financial statement: the application's budget for it (None for a cost
    that was not budgeted) and what it actually cost."""

    label: str
    budgeted: Decimal | None
    actual: Decimal


def participants_total(grid: Grid | None) -> int:
    return sum(count or 0 for genders in (grid or {}).values() for count in genders.values())


def participant_table(grid: Grid) -> dict[str, Any]:
    """A report's participants for people to read: [(band, [count per gender], row total)],
    then the totals per gender and in all. Pure: no queries."""
    cells = [(band, [(grid.get(band) or {}).get(gender) or 0 for gender in GENDERS]) for band in AGE_BANDS]
    rows = [(band, counts, sum(counts)) for band, counts in cells]
    totals = [sum(counts[index] for _band, counts, _total in rows) for index in range(len(GENDERS))]
    return {"genders": list(GENDERS.values()), "rows": rows, "totals": totals, "total": sum(totals)}


def cost_statement(lines: Sequence[CostLine]) -> dict[str, Any]:
    """The financial statement for people to read: each line with its difference from the
    budget (None for an unbudgeted cost), and the totals. Pure: no queries."""
    rows = [
        {
            "label": line.label,
            "budgeted": line.budgeted,
            "actual": line.actual,
            "difference": None if line.budgeted is None else line.actual - line.budgeted,
        }
        for line in lines
    ]
    budgeted = sum((line.budgeted or ZERO for line in lines), ZERO)
    actual = sum((line.actual for line in lines), ZERO)
    return {"rows": rows, "budgeted": budgeted, "actual": actual, "difference": actual - budgeted}


def _participant_grid(value: object) -> dict[str, dict[str, int]]:
    """The participants over AGE_BANDS × GENDERS as {band: {gender: int}}, empty cells left out."""
    if not isinstance(value, dict):
        raise ValidationError({"participants_by_group": _("Deltagarna ska anges per åldersgrupp och kön.")})
    grid: dict[str, dict[str, int]] = {}
    for band, genders in value.items():
        if band not in AGE_BANDS or not isinstance(genders, dict) or set(genders) - set(GENDERS):
            raise ValidationError(
                {
                    "participants_by_group": _(
                        "Deltagarna ska anges per åldersgrupp och kön i de grupper som formuläret visar."
                    )
                }
            )
        for gender, count in genders.items():
            if count is None or count == "":
                continue
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= limits.PARTICIPANTS:
                raise ValidationError(
                    {
                        "participants_by_group": _(
                            "Antalet deltagare (%(band)s år, %(gender)s) ska vara ett heltal från 0 till högst %(max)s."
                        )
                        % {"band": band, "gender": GENDERS[gender], "max": limits.count_text(limits.PARTICIPANTS)}
                    }
                )
            grid.setdefault(band, {})[gender] = count
    return grid


def _full_grid(grid: Grid) -> dict[str, dict[str, int]]:
    """Every band and gender, an empty cell counted as 0: what a submitted report stores."""
    return {band: {gender: (grid.get(band) or {}).get(gender) or 0 for gender in GENDERS} for band in AGE_BANDS}


def _cost_lines(lines: Iterable[CostLineRow]) -> list[CostLine]:
    cleaned = []
    for line in lines:
        label, budgeted, actual = line
        label = (label or "").strip()
        try:
            budgeted = None if budgeted in (None, "") else Decimal(budgeted)
            actual = Decimal(actual)
        except (InvalidOperation, TypeError):
            raise ValidationError({"cost_lines": _("Beloppen för ”%(label)s” ska vara i kronor.") % {"label": label}})
        if not label:
            raise ValidationError({"cost_lines": _("Varje kostnadspost behöver en benämning.")})
        if len(label) > limits.LABEL:
            raise ValidationError(
                {
                    "cost_lines": _("Benämningen ”%(label)s…” är för lång: högst %(max)s tecken.")
                    % {"label": label[:40], "max": limits.LABEL}
                }
            )
        if actual < 0 or (budgeted is not None and budgeted < 0):
            raise ValidationError(
                {"cost_lines": _("Beloppen för ”%(label)s” kan inte vara negativa.") % {"label": label}}
            )
        cleaned.append(CostLine(label, budgeted, actual))
    return cleaned


def _apply(report: FollowUpReport, fields: dict[str, Any], cost_lines: Iterable[CostLineRow] | None) -> None:
    """Write what the caller filled in onto the locked report; cost lines replace the old ones."""
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown follow-up report fields: {', '.join(sorted(unknown))}")
    parts = report.application.call.programme.follow_up_parts
    for name, value in fields.items():
        if name == "participants_by_group":
            value = _participant_grid(value or {})
        elif name in ("what_was_done", "outcome"):
            value = value or ""
        elif (
            name in ("participants", "sessions")
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= COUNT_MAXIMA[name])
        ):
            raise ValidationError(
                {name: _("Ange ett heltal från 0 till högst %(max)s.") % {"max": limits.count_text(COUNT_MAXIMA[name])}}
            )
        elif name == "own_contribution" and value is not None and value < 0:
            raise ValidationError({name: _("Den egna insatsen kan inte vara negativ.")})
        setattr(report, name, value)
    if "participants_by_group" in fields and "participants_by_age_gender" in parts:
        report.participants = participants_total(report.participants_by_group) or None
    if cost_lines is not None:
        lines = _cost_lines(cost_lines)
        report.cost_lines.all().delete()
        FollowUpCostLine.objects.bulk_create(
            [
                FollowUpCostLine(report=report, label=line.label, budgeted=line.budgeted, actual=line.actual)
                for line in lines
            ]
        )
        if "financial_statement" in parts:
            report.actual_costs = sum((line.actual for line in lines), ZERO) if lines else None


def follow_up_problems(report: FollowUpReport) -> dict[str, str]:
    """What a report still lacks before it can be submitted, by part, in the active language ({} if none).
    Reads the report as stored, cost lines included."""
    parts = report.application.call.programme.follow_up_parts
    problems: dict[str, str] = {}
    if not report.what_was_done.strip():
        problems["what_was_done"] = _("Beskriv vad som genomfördes.")
    if not report.outcome.strip():
        problems["outcome"] = _("Beskriv resultatet jämfört med målen i ansökan.")
    if "participants_by_age_gender" in parts and not participants_total(report.participants_by_group):
        problems["participants_by_group"] = _("Ange antalet deltagare per åldersgrupp och kön; minst en deltagare.")
    if "sessions" in parts and not report.sessions:
        problems["sessions"] = _("Ange antalet sammankomster (minst en).")
    if "financial_statement" in parts:
        if not report.cost_lines.exists():
            problems["cost_lines"] = _(
                "Fyll i den ekonomiska redovisningen: vad kostnaderna blev (utfall), minst en kostnadspost."
            )
        if report.own_contribution is None:
            problems["own_contribution"] = _("Ange föreningens egna insats i kronor (0 om ingen).")
    return problems


def _lock_report(report: FollowUpReport) -> FollowUpReport:
    """The report under its row lock, read with its case and programme, which every step on it
    reads next; only the report's row is locked."""
    return (
        FollowUpReport.objects.select_for_update(of=("self",))
        .select_related("application__call__programme")
        .get(pk=report.pk)
    )


def _lock_owed(report: FollowUpReport, by: User, what: str) -> FollowUpReport:
    report = _lock_report(report)
    access.require(
        access.is_applicant(by, report.application), _("Du kan bara fylla i din egen förenings återrapporter.")
    )
    if report.status not in OWED:
        raise ValidationError(
            _("Det går inte att %(what)s nu: återrapporten har status ”%(status)s”.")
            % {"what": what, "status": report.get_status_display()}
        )
    return report


def _attachment_store(*, application: Application, upload: Upload | None) -> Stored | None:
    """Store a report's attachment (an Upload, or None) before the transaction that registers
    it. Returns what store_file() returns, or None."""
    if upload is None:
        return None
    return store_file(
        application=application, folder=Document.Kind.FOLLOW_UP, filename=upload.filename, content=upload.content
    )


def _register(report: FollowUpReport, attachment: Upload | None, stored: Stored | None, by: User) -> None:
    if stored and attachment is not None:
        document_create(
            application=report.application, kind=Document.Kind.FOLLOW_UP, upload=attachment, stored=stored, by=by
        )
        record_event(report.application, by=by, action="Fil bifogad", note=attachment.filename)


def follow_up_save_draft(
    *,
    report: FollowUpReport,
    by: User,
    attachment: Upload | None = None,
    cost_lines: Iterable[CostLineRow] | None = None,
    **fields: Any,
) -> FollowUpReport:
    """Save what the grantee has filled in so far, complete or not; the status stays.

    cost_lines: (label, budgeted, actual) rows that replace the saved ones, or None to keep
    them. attachment: an Upload, stored before the transaction (uploads are slow) and
    removed again if the save fails. The history notes the first save of each round, not
    every save."""
    stored = _attachment_store(application=report.application, upload=attachment)
    with discarded_on_failure(stored), transaction.atomic():
        report = _lock_owed(report, by, _("spara återrapporten"))
        first = report.saved_at is None or (report.submitted_at is not None and report.saved_at <= report.submitted_at)
        _apply(report, fields, cost_lines)
        report.saved_at = timezone.now()
        report.full_clean(exclude=["application", "reviewed_by"])
        report.save()
        if first:
            record_event(report.application, by=by, action="Återrapport sparad som utkast")
        _register(report, attachment, stored, by)
    return report


def follow_up_submit(
    *,
    report: FollowUpReport,
    by: User,
    attachment: Upload | None = None,
    cost_lines: Iterable[CostLineRow] | None = None,
    **fields: Any,
) -> FollowUpReport:
    """Submit the report with what is filled in now (added to what was saved before); the
    case goes to the officer's review. Refused, with nothing changed, unless every part the
    programme asks for is there. An attachment (an Upload) is stored before the flow's lock
    is taken, as uploads are slow, and removed again if the submission is refused."""
    stored = _attachment_store(application=report.application, upload=attachment)
    with discarded_on_failure(stored):
        return process.run(
            process.Step.SUBMIT_REPORT,
            report.application,
            partial(
                _submit, report=report, by=by, attachment=attachment, stored=stored, cost_lines=cost_lines, **fields
            ),
            by=by,
        )


def _submit(
    *,
    report: FollowUpReport,
    by: User,
    attachment: Upload | None,
    stored: Stored | None,
    cost_lines: Iterable[CostLineRow] | None,
    **fields: Any,
) -> FollowUpReport:
    with transaction.atomic():
        report = _lock_report(report)
        before = report.status
        transition(report, "submit", by=by, what=_("lämna återrapporten"))
        _apply(report, fields, cost_lines)
        problems = follow_up_problems(report)
        if problems:
            raise ValidationError(problems)
        if "participants_by_age_gender" in report.application.call.programme.follow_up_parts:
            report.participants_by_group = _full_grid(report.participants_by_group)
            report.participants = participants_total(report.participants_by_group)
        report.saved_at = report.submitted_at
        report.full_clean(exclude=["application", "reviewed_by"])
        report.save()
        record_event(
            report.application, by=by, action="Återrapport inlämnad", from_state=before, to_state=report.status
        )
        staff_notices.notice_create(application=report.application, kind=StaffNotice.Kind.FOLLOW_UP)
        _register(report, attachment, stored, by)
    return report


VERDICTS = {
    "approve": ("approve", "Återrapport godkänd"),
    "completion": ("request_completion", "Komplettering av återrapport begärd"),
    "reject": ("reject", "Återrapport underkänd"),
}
# The e-mail's subject, in the recipient's language.
REVIEW_MAILS = {
    "approve": gettext_lazy("Återrapporten är godkänd"),
    "completion": gettext_lazy("Komplettering av återrapporten begärd"),
    "reject": gettext_lazy("Återrapporten är underkänd"),
}


def amount_paid(application: Application) -> Decimal:
    return application.payments.filter(status=Payment.Status.PAID).aggregate(total=Sum("amount"))["total"] or ZERO


def follow_up_review(
    *, report: FollowUpReport, by: User, verdict: str, note: str = "", reclaim_amount: Decimal | None = None
) -> FollowUpReport:
    """Approve (releases withheld parts), ask for completion, or reject. A rejection decides a
    repayment claim (återkrav) of at most what was paid out; by default all of it. The case's
    flow goes on to payment, the report again, or closing."""
    if verdict not in VERDICTS:
        raise ValidationError("Välj godkänn, begär komplettering eller underkänn.")
    if verdict != "approve" and not note.strip():
        raise ValidationError("Skriv en motivering till den sökande.")
    return process.run(
        process.Step.REVIEW_REPORT,
        report.application,
        partial(_review, report=report, by=by, verdict=verdict, note=note, reclaim_amount=reclaim_amount),
        by=by,
    )


def _review(
    *, report: FollowUpReport, by: User, verdict: str, note: str, reclaim_amount: Decimal | None
) -> FollowUpReport:
    name, action = VERDICTS[verdict]
    with service_transaction():
        report = _lock_report(report)
        access.require(access.may_take_part(by, report.application))
        before = report.status
        transition(report, name, by=by, what=_("granska återrapporten"))
        if verdict == "reject":
            reclaim_amount = _reclaim_amount(report.application, reclaim_amount)
        report.reviewed_by = by
        report.review_note = note
        report.save()
        record_event(report.application, by=by, action=action, from_state=before, to_state=report.status, note=note)
        if verdict == "approve":
            payments_release_withheld(application=report.application, by=by)
        if verdict == "reject":
            assert reclaim_amount is not None  # settled by _reclaim_amount above
            claim = _repayment_claim(application=report.application, by=by, reasons=note, amount=reclaim_amount)
            body = lazy_interpolate(
                gettext_lazy(
                    "%(note)s\n\nKommunen kräver tillbaka %(amount)s kr, "
                    "att betala senast %(due_on)s. Beslutet om återkrav finns i "
                    "portalen."
                ),
                note=note,
                amount=lazy_amount(claim.amount),
                due_on=f"{claim.due_on:%Y-%m-%d}",
            )
        else:
            body = note or REVIEW_MAILS[verdict]
        # An approval is news; a completion request or a rejection with its claim asks something of them.
        notify_applicant(report.application, subject=REVIEW_MAILS[verdict], body=body, required=verdict != "approve")
    return report


def _reclaim_amount(application: Application, amount: Decimal | None) -> Decimal:
    """What a rejection claims back: at most what was paid out, by default all of it.
    Checked before the review writes anything, as a refusal must be."""
    paid = amount_paid(application)
    amount = paid if amount is None else amount
    if not ZERO <= amount <= paid:
        raise ValidationError(f"Återkravet kan vara högst det som har betalats ut, {kronor(paid)}.")
    return amount


def _repayment_claim(*, application: Application, by: User, reasons: str, amount: Decimal) -> RepaymentClaim:
    claim = RepaymentClaim.objects.create(
        application=application,
        amount=amount,
        reasons=reasons,
        decided_by=by,
        due_on=timezone.localdate() + dt.timedelta(days=30),
        ocr=ledger.claim_ocr(application.pk),
    )
    ledger.claim_book(claim=claim, by=by)
    record_event(
        application,
        by=by,
        action="Återkrav beslutat",
        note=f"{amount} kr, senast {claim.due_on:%Y-%m-%d}, OCR {claim.ocr}",
    )
    return claim


def is_ready_to_close(application: Application) -> bool:
    """A granted case closes when the follow-up is settled and every payment is paid;
    parts withheld after a rejected report are never paid out (a repayment claim follows)."""
    follow_up = getattr(application, "follow_up", None)
    if follow_up is not None and follow_up.status not in (
        FollowUpReport.Status.APPROVED,
        FollowUpReport.Status.REJECTED,
    ):
        return False
    # A failed payment is settled by the payment that replaces it.
    unsettled = application.payments.exclude(status__in=[Payment.Status.PAID, Payment.Status.FAILED])
    if follow_up is not None and follow_up.status == FollowUpReport.Status.REJECTED:
        unsettled = unsettled.exclude(status=Payment.Status.WITHHELD)
    return not unsettled.exists()


def application_close(*, application: Application, by: User | None = None) -> Application:
    """Closing is the system's step once the case is settled; `by` is whoever settled it."""
    with service_transaction():
        application = lock_application(application)
        if not is_ready_to_close(application):
            raise ValidationError("Ärendet kan inte avslutas förrän alla utbetalningar och återrapporten är klara.")
        before = application.status
        transition(application, "close", by=by, what=_("avsluta ärendet"))
        application.save()
        record_event(application, by=by, action="Ärendet avslutat", from_state=before, to_state=application.status)
    return application


# --- reminders ----------------------------------------------------------------------

REMIND_DAYS_BEFORE = 14


def _reminder_text(due_on: dt.date, today: dt.date) -> StrOrPromise:
    days = (due_on - today).days
    date = f"{due_on:%Y-%m-%d}"
    if days > 0:
        text = ngettext_lazy(
            "Påminnelse: återrapporten ska lämnas senast %(date)s, om %(days)s dag.",
            "Påminnelse: återrapporten ska lämnas senast %(date)s, om %(days)s dagar.",
            days,
        )
        return lazy_interpolate(text, date=date, days=days)
    if days == 0:
        return lazy_interpolate(
            gettext_lazy("Påminnelse: i dag, %(date)s, är sista dagen att lämna återrapporten."), date=date
        )
    return lazy_interpolate(
        gettext_lazy("Påminnelse: återrapporten skulle ha lämnats senast %(date)s. Lämna den så snart du kan."),
        date=date,
    )


def follow_up_reminders_send(*, today: dt.date | None = None) -> int:
    """E-mail the grantees whose follow-up report is due within 14 days, and on its last
    day. Run daily (the follow_up_reminders command); a day the command did not run is
    caught up the next. Each reminder is claimed by a conditional UPDATE before it is
    sent, so that two workers, or the same one twice, send it once. Returns how many
    reminders went out."""
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=REMIND_DAYS_BEFORE)
    late = today - dt.timedelta(days=REMIND_DAYS_BEFORE)  # older ones are the officer's to chase
    sent = 0
    for field, window in (
        ("reminded_before_at", {"due_on__gt": today, "due_on__lte": soon}),
        ("reminded_due_at", {"due_on__lte": today, "due_on__gte": late}),
    ):
        unsent = {"status__in": OWED, f"{field}__isnull": True}
        for pk in list(FollowUpReport.objects.filter(**unsent, **window).values_list("pk", flat=True)):
            with transaction.atomic():
                if not FollowUpReport.objects.filter(pk=pk, **unsent).update(**{field: timezone.now()}):
                    continue  # another worker has sent it
                report = FollowUpReport.objects.select_related("application").get(pk=pk)
                notify_applicant(
                    report.application,
                    subject=gettext_lazy("Påminnelse om återrapport"),
                    body=lazy_interpolate(
                        "%(reminder)s %(where)s",
                        reminder=_reminder_text(report.due_on, today),
                        where=gettext_lazy("Du lämnar den under ärendet i bidragsportalen."),
                    ),
                )
                record_event(
                    report.application,
                    by=None,
                    action="Påminnelse om återrapport skickad",
                    note=f"Sista dag {report.due_on:%Y-%m-%d}.",
                )
                sent += 1
    return sent
