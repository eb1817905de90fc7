"""Pay: the payment plan, attestation under the two-person rule, paid or failed."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ..calculators import split_amount
from ..models import Payment
from ._base import lock, lock_application, record_event, transition


def payments_plan(*, application, decision):
    """Create the payments of a granted decision from the programme's payment plan.
    Called inside the decision's transaction."""
    plan = application.call.programme.payment_plan
    account = application.organisation.payment_account
    payments = [
        Payment(
            application=application, sequence=index, percent=part["percent"], amount=amount,
            release=part["release"], payee_account=account, decided_by=decision.decided_by,
            status=Payment.Status.PLANNED if part["release"] == "decision" else Payment.Status.WITHHELD,
        )
        for index, (part, amount) in enumerate(zip(plan, split_amount(decision.amount, plan)), start=1)
    ]
    return Payment.objects.bulk_create(payments)


def check_may_attest(payment, user):
    """The two-person rule: nobody attests money in a case they assessed, decided or applied in."""
    application = payment.application
    if payment.decided_by_id == user.pk:
        raise PermissionDenied("Du fattade beslutet i ärendet och får därför inte attestera utbetalningen "
                               "(tvåpersonsregeln). En annan attestant måste göra det.")
    assessment = getattr(application, "assessment", None)
    if assessment is not None and assessment.officer_id == user.pk:
        raise PermissionDenied("Du bedömde ärendet och får därför inte attestera utbetalningen "
                               "(tvåpersonsregeln). En annan attestant måste göra det.")
    if application.is_applicant(user) or application.organisation.payee.memberships.filter(user=user).exists():
        raise PermissionDenied("Du tillhör mottagande förening och får inte attestera utbetalningen.")


def payment_attest(*, payment, by):
    with transaction.atomic():
        payment = lock(Payment, payment.pk)
        check_may_attest(payment, by)
        before = payment.status
        transition(payment, "attest", by=by, what="attestera utbetalningen", args=(by,))
        payment.save()
        record_event(payment.application, by=by, action=f"Utbetalning del {payment.sequence} attesterad",
                     from_state=before, to_state=payment.status, note=f"{payment.amount} kr")
    return payment


def payment_mark_paid(*, payment, by):
    with transaction.atomic():
        payment = lock(Payment, payment.pk)
        before = payment.status
        transition(payment, "mark_paid", by=by, what="markera utbetalningen som betald")
        payment.save()
        record_event(payment.application, by=by, action=f"Utbetalning del {payment.sequence} utbetald",
                     from_state=before, to_state=payment.status, note=f"{payment.amount} kr till {payment.payee_account}")
    return payment


def payment_mark_failed(*, payment, by, reason):
    if not reason.strip():
        raise ValidationError("Ange varför utbetalningen misslyckades.")
    with transaction.atomic():
        payment = lock(Payment, payment.pk)
        before = payment.status
        transition(payment, "mark_failed", by=by, what="markera utbetalningen som misslyckad", args=(reason,))
        payment.save()
        record_event(payment.application, by=by, action=f"Utbetalning del {payment.sequence} misslyckades",
                     from_state=before, to_state=payment.status, note=reason)
    return payment


def payments_release_withheld(*, application, by):
    """Release the parts kept back until the follow-up report was approved."""
    with transaction.atomic():
        released = []
        for payment in Payment.objects.select_for_update().filter(application=application,
                                                                  status=Payment.Status.WITHHELD):
            transition(payment, "release_part", by=by, what="släppa den innehållna delen")
            payment.save()
            released.append(payment)
        if released:
            record_event(application, by=by, action="Innehållen utbetalning släppt",
                         note=", ".join(f"del {p.sequence}: {p.amount} kr" for p in released))
    return released


def payments_open(application):
    """Payments finance still has to act on (attest or confirm)."""
    return application.payments.filter(
        status__in=[Payment.Status.PLANNED, Payment.Status.ATTESTED, Payment.Status.FAILED]
    )
