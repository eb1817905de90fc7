"""Follow up: the grantee's report, its review, and closing the case."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ..models import ZERO, FollowUpReport, Payment, RepaymentClaim
from ..notifications import notify_applicant
from ._base import lock, lock_application, record_event, transition
from .pay import payments_release_withheld


def follow_up_submit(*, report, by, what_was_done, participants, outcome, actual_costs):
    if not what_was_done.strip() or not outcome.strip():
        raise ValidationError("Beskriv vad som genomfördes och vad det gav jämfört med målen.")
    with transaction.atomic():
        report = lock(FollowUpReport, report.pk)
        before = report.status
        transition(report, "submit", by=by, what="lämna återrapporten")
        report.what_was_done = what_was_done
        report.participants = participants
        report.outcome = outcome
        report.actual_costs = actual_costs
        report.save()
        record_event(report.application, by=by, action="Återrapport inlämnad", from_state=before,
                     to_state=report.status)
    return report


VERDICTS = {
    "approve": ("approve", "Återrapport godkänd"),
    "completion": ("request_completion", "Komplettering av återrapport begärd"),
    "reject": ("reject", "Återrapport underkänd"),
}


def amount_paid(application):
    return application.payments.filter(status=Payment.Status.PAID).aggregate(total=Sum("amount"))["total"] or ZERO


def follow_up_review(*, report, by, verdict, note="", reclaim_amount=None):
    """Approve (releases withheld parts), ask for completion, or reject. A rejection decides a
    repayment claim (återkrav) of at most what was paid out; by default all of it."""
    if verdict not in VERDICTS:
        raise ValidationError("Välj godkänn, begär komplettering eller underkänn.")
    if verdict != "approve" and not note.strip():
        raise ValidationError("Skriv en motivering till den sökande.")
    from .assess import check_may_take_part

    name, action = VERDICTS[verdict]
    with transaction.atomic():
        report = lock(FollowUpReport, report.pk)
        check_may_take_part(report.application, by)
        before = report.status
        transition(report, name, by=by, what="granska återrapporten")
        report.reviewed_by = by
        report.review_note = note
        report.save()
        record_event(report.application, by=by, action=action, from_state=before, to_state=report.status, note=note)
        if verdict == "approve":
            payments_release_withheld(application=report.application, by=by)
        if verdict == "reject":
            _repayment_claim(application=report.application, by=by, reasons=note, amount=reclaim_amount)
        notify_applicant(report.application, subject=action, body=note or action)
    return report


def _repayment_claim(*, application, by, reasons, amount):
    paid = amount_paid(application)
    amount = paid if amount is None else amount
    if not ZERO <= amount <= paid:
        raise ValidationError(f"Återkravet kan vara högst det som har betalats ut, {paid} kr.")
    claim = RepaymentClaim.objects.create(
        application=application, amount=amount, reasons=reasons, decided_by=by,
        due_on=timezone.localdate() + timezone.timedelta(days=30),
    )
    record_event(application, by=by, action="Återkrav beslutat", note=f"{amount} kr, senast {claim.due_on:%Y-%m-%d}")
    return claim


def is_ready_to_close(application):
    """A granted case closes when the follow-up is settled and every payment is paid;
    parts withheld after a rejected report are never paid out (a repayment claim follows)."""
    follow_up = getattr(application, "follow_up", None)
    if follow_up is not None and follow_up.status not in (FollowUpReport.Status.APPROVED,
                                                           FollowUpReport.Status.REJECTED):
        return False
    # A failed payment is settled by the payment that replaces it.
    unsettled = application.payments.exclude(status__in=[Payment.Status.PAID, Payment.Status.FAILED])
    if follow_up is not None and follow_up.status == FollowUpReport.Status.REJECTED:
        unsettled = unsettled.exclude(status=Payment.Status.WITHHELD)
    return not unsettled.exists()


def application_close(*, application, by=None):
    """Closing is the system's step once the case is settled; `by` is whoever settled it."""
    with transaction.atomic():
        application = lock_application(application)
        if not is_ready_to_close(application):
            raise ValidationError("Ärendet kan inte avslutas förrän alla utbetalningar och återrapporten är klara.")
        before = application.status
        transition(application, "close", by=by, what="avsluta ärendet")
        application.save()
        record_event(application, by=by, action="Ärendet avslutat", from_state=before, to_state=application.status)
    return application
