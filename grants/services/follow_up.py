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


# --- reminders ----------------------------------------------------------------------

REMIND_DAYS_BEFORE = 14
OWED = (FollowUpReport.Status.DUE, FollowUpReport.Status.COMPLETION_REQUESTED)


def _reminder_text(due_on, today):
    days = (due_on - today).days
    if days > 0:
        return f"Påminnelse: återrapporten ska lämnas senast {due_on:%Y-%m-%d}, om {days} dagar."
    if days == 0:
        return f"Påminnelse: i dag, {due_on:%Y-%m-%d}, är sista dagen att lämna återrapporten."
    return f"Påminnelse: återrapporten skulle ha lämnats senast {due_on:%Y-%m-%d}. Lämna den så snart du kan."


def follow_up_reminders_send(*, today=None):
    """E-mail the grantees whose follow-up report is due within 14 days, and on its last
    day. Run daily (the follow_up_reminders command); a day the command did not run is
    caught up the next. Each reminder is claimed by a conditional UPDATE before it is
    sent, so that two workers, or the same one twice, send it once. Returns how many
    reminders went out."""
    today = today or timezone.localdate()
    soon = today + timezone.timedelta(days=REMIND_DAYS_BEFORE)
    late = today - timezone.timedelta(days=REMIND_DAYS_BEFORE)  # older ones are the officer's to chase
    sent = 0
    for field, window in (("reminded_before_at", {"due_on__gt": today, "due_on__lte": soon}),
                          ("reminded_due_at", {"due_on__lte": today, "due_on__gte": late})):
        unsent = {"status__in": OWED, f"{field}__isnull": True}
        for pk in list(FollowUpReport.objects.filter(**unsent, **window).values_list("pk", flat=True)):
            with transaction.atomic():
                if not FollowUpReport.objects.filter(pk=pk, **unsent).update(**{field: timezone.now()}):
                    continue  # another worker has sent it
                report = FollowUpReport.objects.select_related("application").get(pk=pk)
                notify_applicant(report.application, subject="Påminnelse om återrapport",
                                 body=_reminder_text(report.due_on, today)
                                 + " Du lämnar den under ärendet i bidragsportalen.")
                record_event(report.application, by=None, action="Påminnelse om återrapport skickad",
                             note=f"Sista dag {report.due_on:%Y-%m-%d}.")
                sent += 1
    return sent
