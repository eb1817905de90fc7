"""Pay: the payment plan, attestation under the two-person rule, payment files, paid or failed.

    planned ─attest─▶ attested ─export─▶ exported ─▶ paid
                                                  └─▶ failed (a new planned payment replaces it)

Finance works on many payments at once, so every function here takes a list and makes a
fixed number of queries whatever its length: the rows are locked in primary-key order
(concurrent calls queue instead of deadlocking), every rule is checked for every row
before anything is written, and one refusal refuses the whole call.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .. import access, process
from ..calculators import split_amount
from ..models import AttestationLimit, CaseEvent, Membership, Organisation, PayeeScheme, Payment, PaymentBatch
from ..notifications import lazy_amount, lazy_interpolate, notify_applicants
from ..validators import bank_name, compact_account
from . import ledger
from ._base import record_event, service_transaction, transition
from .payee_accounts import shared_accounts

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from ..models import Application, Decision

# What a payment is attested to: the payee's name, account scheme and compact account number.
PayeeAccount = tuple[str, str, str]


def payments_plan(*, application: Application, decision: Decision) -> list[Payment]:
    """Create the payments of a granted decision from the programme's payment plan.
    Called inside the decision's transaction. The account is read when the payment is
    attested, so that an association can still correct it."""
    plan = application.call.programme.payment_plan
    payments = [
        Payment(
            application=application,
            sequence=index,
            percent=part["percent"],
            amount=amount,
            release=part["release"],
            decided_by=decision.decided_by,
            status=Payment.Status.PLANNED if part["release"] == "decision" else Payment.Status.WITHHELD,
        )
        for index, (part, amount) in enumerate(zip(plan, split_amount(decision.amount, plan)), start=1)
    ]
    return Payment.objects.bulk_create(payments)


def _locked(payment_ids: Iterable[int], *related: str) -> list[Payment]:
    """The payments, locked in primary-key order; refuses ids that do not exist."""
    ids = sorted(set(payment_ids))
    if not ids:
        raise ValidationError("Välj minst en utbetalning.")
    payments = list(
        Payment.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("application", *related)
        .order_by("pk")
    )
    if len(payments) != len(ids):
        missing = sorted(set(ids) - {payment.pk for payment in payments})
        raise ValidationError(f"Utbetalningarna {', '.join(map(str, missing))} finns inte.")
    return payments


def _update(ids: list[int], **values: Any) -> None:
    """Write the same values to the (locked) payments, in chunks that any database takes."""
    for start in range(0, len(ids), 5000):
        Payment.objects.filter(pk__in=ids[start : start + 5000]).update(**values)


def _refuse(errors: list[str]) -> None:
    if errors:
        raise ValidationError(errors + ["Inget har ändrats."])


def _events(
    payments: Iterable[Payment], *, by: User, action: str, note: Callable[[Payment], str], before: dict[int, str]
) -> None:
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                application_id=payment.application_id,
                actor=by,
                action=action.format(p=payment),
                from_state=before[payment.pk],
                to_state=payment.status,
                note=note(payment),
            )
            for payment in payments
        ]
    )


def _transition_all(
    payments: Iterable[Payment],
    name: str,
    *,
    by: User,
    what: str,
    errors: list[str],
    args: Callable[[Payment], tuple[object, ...]] = lambda payment: (),
) -> None:
    for payment in payments:
        try:
            transition(payment, name, by=by, what=what, args=args(payment))
        except ValidationError as exc:
            errors.append(f"{payment}: {exc.messages[0]}")


def _execution_refusal(payment: Payment) -> str | None:
    """A committee's decision is not executed before its protocol is approved and the
    approval announced (or the paragraph was approved at once): Decision.may_be_executed."""
    decision = payment.application.decision
    if decision.may_be_executed:
        return None
    assert decision.meeting is not None  # only a committee's decision waits for its protocol
    return f"Protokollet från sammanträdet den {decision.meeting.held_on:%Y-%m-%d} är inte justerat och anslaget ännu."


def _shared_account_refusals(payments: Iterable[Payment]) -> dict[int, str]:
    """{payment id: reason} for payments whose payee's account is also the approved account of
    another association: two organisations are never paid into one account. An informal
    group's payee is its sponsor, so a group paid through its sponsor is no collision.
    One query for all the payees."""
    payees = {payment.pk: payment.application.organisation.payee for payment in payments}
    accounts = {payee.pk: payee.account() for payee in payees.values()}
    shared = shared_accounts([account for account in accounts.values() if account])
    refusals: dict[int, str] = {}
    for payment_pk, payee in payees.items():
        account = accounts[payee.pk]
        if account is None:
            continue
        others = [
            name
            for pk, name in shared.get((account[0].value, compact_account(account[0].value, account[1])), [])
            if pk != payee.pk
        ]
        if others:
            refusals[payment_pk] = (
                f"{account[0].label} {account[1]} är också registrerat för {', '.join(others)}. "
                "Kontrollera kontot innan utbetalningen attesteras."
            )
    return refusals


def _payee_name_refusal(payment: Payment) -> str | None:
    """A payee whose name has nothing the banks' character set can carry cannot be paid:
    refused here rather than by the bank after the file is sent."""
    payee = payment.application.organisation.payee
    if not bank_name(payee.name):
        return (
            f"Mottagarens namn ”{payee.name}” kan inte skickas till banken: det har inga tecken som bankerna "
            "tar emot (a–z, å, ä, ö, siffror). Rätta föreningens namn först."
        )
    return None


def attest_refusals(payments: Sequence[Payment], user: User) -> dict[int, str]:
    """Why `user` may not attest each of the payments, {payment id: reason} for those
    refused: the two-person rule (neither decider, assessor nor applicant), a decision not
    yet to be executed, the user's amount limit and an account shared with another association.
    Three queries for any number of payments
    (with their application, organisation, assessment and decision with its meeting
    selected); pages use it to show the same answer the attestation will give."""
    member_of = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    limit = AttestationLimit.objects.filter(user=user).values_list("max_amount", flat=True).first()
    refusals: dict[int, str] = {}
    for payment in payments:
        two_persons = access.may_attest(user, payment, member_of=member_of)
        refusal = two_persons.reason if not two_persons else _execution_refusal(payment)
        if refusal is None and limit is not None and payment.amount > limit:
            refusal = f"{payment.amount} kr är över din attestgräns på {limit} kr."
        refusal = refusal or _payee_name_refusal(payment)
        if refusal:
            refusals[payment.pk] = refusal
    refusals = {**_shared_account_refusals(payments), **refusals}
    return refusals


def _lock_payees(payments: Iterable[Payment]) -> None:
    """Lock the payees' Organisation rows (in primary-key order) and read their accounts
    afresh: an account change is approved under the same lock, so each payment is attested
    to the account that is approved at this moment (grants.services.payee_accounts)."""
    payees = [payment.application.organisation.payee for payment in payments]
    fields = ("name", *(scheme.value for scheme in PayeeScheme), "account_approved_at")
    locked = {
        row["pk"]: row
        for row in Organisation.objects.select_for_update()
        .filter(pk__in={payee.pk for payee in payees})
        .order_by("pk")
        .values("pk", *fields)
    }
    for payee in payees:
        for field in fields:
            setattr(payee, field, locked[payee.pk][field])


def payments_attest(*, payment_ids: Iterable[int], by: User) -> list[Payment]:
    """Attest the payments: the attester is neither decider, assessor nor applicant, is
    within their amount limit, the decision may be executed, and the payee's account is
    valid; it is fixed on the payment."""
    access.require(access.is_finance(by), "Du har inte behörighet att attestera utbetalningar.")
    with transaction.atomic():
        payments = _locked(
            payment_ids,
            "application__organisation__sponsor",
            "application__assessment",
            "application__decision__meeting",
        )
        _lock_payees(payments)
        refusals = attest_refusals(payments, by)
        errors: list[str] = []
        payees: dict[int, PayeeAccount] = {}
        before = {payment.pk: payment.status for payment in payments}
        for payment in payments:
            if payment.pk in refusals:
                errors.append(f"{payment}: {refusals[payment.pk]}")
            try:
                payees[payment.pk] = payment.application.organisation.check_payee_account()
            except ValidationError as exc:
                errors.append(f"{payment}: {exc.messages[0]}")
        _refuse(errors)
        now = timezone.now()
        _transition_all(
            payments,
            "attest",
            by=by,
            what="attestera utbetalningen",
            errors=errors,
            args=lambda payment: (by, payees[payment.pk], now),
        )
        _refuse(errors)
        # One UPDATE per payee (few), not one CASE expression over every row: the rows are
        # locked, so exactly these change.
        by_payee: defaultdict[PayeeAccount, list[int]] = defaultdict(list)
        for payment in payments:
            by_payee[payees[payment.pk]].append(payment.pk)
        for (name, scheme, account), ids in by_payee.items():
            _update(
                ids,
                status=Payment.Status.ATTESTED,
                attested_by=by,
                attested_at=now,
                payee_name=name,
                payee_scheme=scheme,
                payee_account=account,
            )
        _events(
            payments,
            by=by,
            action="Utbetalning del {p.sequence} attesterad",
            before=before,
            note=lambda p: f"{p.amount} kr till {p.payee_name}, {p.get_payee_scheme_display()} {p.payee_account}",
        )
    return payments


def batch_create(
    *, by: User, execution_date: dt.date | None = None, payment_ids: Iterable[int] | None = None
) -> tuple[PaymentBatch, list[Payment]]:
    """Put every attested payment not yet in a file (or those of payment_ids that are) into
    a new payment file. Must run inside the caller's transaction; returns the batch and its
    payments, locked until the transaction ends: the caller writes the files in the same
    transaction, so a batch never exists without them."""
    execution_date = execution_date or timezone.localdate()
    if execution_date < timezone.localdate():
        raise ValidationError("Betaldagen kan inte ligga bakåt i tiden.")
    attested = (
        Payment.objects.select_for_update(of=("self",))
        .filter(status=Payment.Status.ATTESTED, batch__isnull=True)
        .select_related("application__call__programme")
        .order_by("pk")
    )
    if payment_ids is not None:
        attested = attested.filter(pk__in=payment_ids)
    payments = list(attested)
    if not payments:
        raise ValidationError(
            "Det finns inga attesterade utbetalningar att ta med i en betalfil. Attestera utbetalningar först."
        )
    now = timezone.now()
    batch = PaymentBatch.objects.create(
        reference=f"BF-{now:%Y%m%d}-{uuid.uuid4().hex[:10].upper()}",
        created_by=by,
        created_at=now,
        execution_date=execution_date,
        count=len(payments),
        total=sum(payment.amount for payment in payments),
    )
    errors: list[str] = []
    before = {payment.pk: payment.status for payment in payments}
    _transition_all(
        payments,
        "export",
        by=by,
        what="lägga utbetalningen i en betalfil",
        errors=errors,
        args=lambda payment: (batch,),
    )
    _refuse(errors)
    # The rows are locked: exactly these, and no payment attested since, change.
    _update([payment.pk for payment in payments], status=Payment.Status.EXPORTED, batch=batch)
    _events(
        payments,
        by=by,
        action="Utbetalning del {p.sequence} i betalfil",
        before=before,
        note=lambda p: f"{batch.reference}, {p.amount} kr",
    )
    return batch, payments


def batch_attach_file(*, batch: PaymentBatch, pain001: tuple[str, str]) -> None:
    """Record where the batch's pain.001 is stored: (key, sha256)."""
    batch.pain001_key, batch.pain001_sha256 = pain001
    batch.save(update_fields=["pain001_key", "pain001_sha256"])


def _settle_batches(batch_ids: Iterable[int | None], by: User) -> None:
    """A payment file is settled when none of its payments waits for the bank any more.
    The batches are locked first, so that of two calls finishing its last payments
    concurrently, the second sees the first's and settles it."""
    for batch in PaymentBatch.objects.select_for_update().filter(pk__in=batch_ids).order_by("pk"):
        if not batch.payments.filter(status=Payment.Status.EXPORTED).exists() and batch.settle.can_proceed():
            transition(batch, "settle", by=by, what="avsluta betalfilen")
            batch.save(update_fields=["status"])


def _paid_days(
    payments: Sequence[Payment], on: dt.date | dict[int, dt.date | None] | None
) -> dict[int, dt.date | None]:
    """{payment id: the day the bank paid it}: from `on` (a day for all, or {payment id: day}
    from the bank's report), else the file's requested execution date; never the day it is
    recorded, which may be days later."""
    given = on if isinstance(on, dict) else {}
    if on is not None and not isinstance(on, dict):
        if on > timezone.localdate():
            raise ValidationError("Dagen då banken betalade kan inte ligga i framtiden. Inget har ändrats.")
        given = {payment.pk: on for payment in payments}
    # A payment in no file yet has no day: its transition refuses it below.
    return {
        payment.pk: given.get(payment.pk) or (payment.batch.execution_date if payment.batch else None)
        for payment in payments
    }


def payments_mark_paid(
    *, payment_ids: Collection[int], by: User, on: dt.date | dict[int, dt.date | None] | None = None
) -> list[Payment]:
    """The bank has paid these payments (from its status report, or as finance confirms):
    each is recorded as paid on the day the bank paid it (see _paid_days) and booked in
    the ledger, one voucher per day. A case with nothing left to pay goes on in its flow."""
    cases = set(Payment.objects.filter(pk__in=payment_ids).values_list("application_id", flat=True))
    return process.settle(cases, partial(_payments_mark_paid, payment_ids=payment_ids, by=by, on=on))


def _payments_mark_paid(
    *, payment_ids: Iterable[int], by: User, on: dt.date | dict[int, dt.date | None] | None
) -> list[Payment]:
    with service_transaction():
        payments = _locked(payment_ids, "application__call__programme__committee", "batch")
        errors: list[str] = []
        before, days = {payment.pk: payment.status for payment in payments}, _paid_days(payments, on)
        _transition_all(
            payments,
            "mark_paid",
            by=by,
            what="markera utbetalningen som betald",
            errors=errors,
            args=lambda payment: (by, days[payment.pk]),
        )
        _refuse(errors)
        by_day: defaultdict[dt.date | None, list[int]] = defaultdict(list)
        for payment in payments:
            by_day[payment.paid_on].append(payment.pk)
        now = timezone.now()
        for day, ids in by_day.items():
            _update(ids, status=Payment.Status.PAID, paid_at=now, paid_on=day, paid_by=by)
        ledger.payments_book(payments=payments, by=by)
        _events(
            payments,
            by=by,
            action="Utbetalning del {p.sequence} utbetald",
            before=before,
            note=lambda p: (
                f"{p.amount} kr till {p.payee_name}, {p.get_payee_scheme_display()} {p.payee_account}, "
                f"betald {p.paid_on:%Y-%m-%d}"
            ),
        )
        _settle_batches({payment.batch_id for payment in payments}, by)
        _notify_paid(payments)
    return payments


def masked_account(account: str) -> str:
    """An account number as an e-mail may show it: only its last four digits or letters."""
    compact = "".join(ch for ch in account if ch.isalnum())
    return f"****{compact[-4:]}" if compact else ""


def _notify_paid(payments: Iterable[Payment]) -> None:
    """Tell each applicant organisation that a payment has gone out: one e-mail per payment,
    optional news (the applicant may turn it off). One query for the recipients of all."""
    notify_applicants(
        [
            (
                payment.application,
                lazy_interpolate(gettext_lazy("Del %(part)s av bidraget är utbetald"), part=payment.sequence),
                lazy_interpolate(
                    gettext_lazy(
                        "%(amount)s kr, del %(part)s av bidraget i ärende %(case)s, betalades ut "
                        "%(date)s till %(payee)s, %(scheme)s %(account)s."
                    ),
                    amount=lazy_amount(payment.amount),
                    part=payment.sequence,
                    case=payment.application.case_number,
                    date=f"{payment.paid_on:%Y-%m-%d}",
                    payee=payment.payee_name,
                    scheme=payment.get_payee_scheme_display(),
                    account=masked_account(payment.payee_account),
                ),
            )
            for payment in payments
        ],
        required=False,
    )


def payments_mark_failed(
    *, payment_ids: Iterable[int], by: User, reason: str | None = None, reasons: dict[int, str] | None = None
) -> list[Payment]:
    """The bank did not pay these payments. Each stays failed, with the reason, and a new
    planned payment of the same part goes back to the attestation queue, showing the reason.
    reasons: {payment id: reason}, or one reason for all."""
    reasons = reasons or {}
    if not reasons and not (reason or "").strip():
        raise ValidationError("Ange varför utbetalningen misslyckades.")
    with transaction.atomic():
        payments = _locked(payment_ids)
        errors: list[str] = []
        before = {payment.pk: payment.status for payment in payments}
        _transition_all(
            payments,
            "mark_failed",
            by=by,
            what="markera utbetalningen som misslyckad",
            errors=errors,
            args=lambda payment: (reasons.get(payment.pk) or reason,),
        )
        _refuse(errors)
        Payment.objects.bulk_update(payments, ["status", "failure_reason"])
        replacements = Payment.objects.bulk_create([payment.replacement() for payment in payments])
        _events(
            payments,
            by=by,
            action="Utbetalning del {p.sequence} misslyckades",
            before=before,
            note=lambda p: f"{p.failure_reason} Utbetalningen ligger åter för attest.",
        )
        _settle_batches({payment.batch_id for payment in payments}, by)
    return replacements


# --- the bank's status report (pain.002), read by documents.payment_files ---------------


class TransactionStatus(NamedTuple):
    reference: str  # our end-to-end id, BIDRAG-<payment id>
    status: str  # ISO 20022 code: ACSC paid; RJCT rejected; others not final
    reason: str
    on: dt.date | None = None  # the day the bank paid it, if the report says


class StatusReport(NamedTuple):
    original_message_id: str
    group_status: str
    transactions: list[TransactionStatus]


PAID_CODES = {"ACSC"}
REJECTED_CODES = {"RJCT"}


def status_report_apply(*, report: StatusReport, by: User) -> tuple[list[Payment], list[Payment]]:
    """Mark paid and failed what the bank's status report says, for the file it answers.
    The whole report is checked first: an unknown file, a payment that is not in it, or a
    verdict that contradicts what is already recorded refuses it all. A report read twice
    changes nothing the second time. The cases it settles go on in their flow. Returns
    (paid, failed)."""
    batch = PaymentBatch.objects.filter(reference=report.original_message_id).first()
    cases = set(batch.payments.values_list("application_id", flat=True)) if batch else set()
    return process.settle(cases, partial(_status_report_apply, report=report, batch=batch, by=by))


def _status_report_apply(
    *, report: StatusReport, batch: PaymentBatch | None, by: User
) -> tuple[list[Payment], list[Payment]]:
    if batch is None:
        raise ValidationError(
            f"Statusrapporten gäller betalfilen ”{report.original_message_id}”, "
            "som inte finns i systemet. Inget har ändrats."
        )
    in_batch = {payment.reference: payment for payment in batch.payments.select_related("application")}
    verdicts, days = {}, {}
    if not report.transactions and report.group_status in REJECTED_CODES:
        verdicts = dict.fromkeys(in_batch, ("failed", "Banken avvisade hela betalfilen."))
    unknown = []
    for row in report.transactions:
        if row.reference not in in_batch:
            unknown.append(row.reference)
        elif row.status in PAID_CODES:
            verdicts[row.reference] = ("paid", "")
            days[in_batch[row.reference].pk] = row.on
        elif row.status in REJECTED_CODES:
            verdicts[row.reference] = ("failed", f"Banken avvisade betalningen: {row.reason or 'ingen orsak angiven'}.")
    if unknown:
        raise ValidationError(
            f"Statusrapporten nämner betalningar som inte finns i betalfilen {batch.reference}: "
            f"{', '.join(unknown)}. Inget har ändrats."
        )
    to_pay, to_fail, errors = [], {}, []
    for reference, (verdict, reason) in verdicts.items():
        payment = in_batch[reference]
        if payment.status == Payment.Status.EXPORTED:
            if verdict == "paid":
                to_pay.append(payment.pk)
            else:
                to_fail[payment.pk] = reason
        elif payment.status != verdict:
            errors.append(
                f"{payment}: rapporten säger {'betald' if verdict == 'paid' else 'avvisad'}, men "
                f"utbetalningen är redan registrerad som {payment.get_status_display().lower()}."
            )
    _refuse(errors)
    if not to_pay and not to_fail:
        raise ValidationError(
            "Statusrapporten innehåller inget nytt: betalningarna i den är redan registrerade "
            "eller ännu inte slutligt behandlade av banken."
        )
    with transaction.atomic():
        paid = _payments_mark_paid(payment_ids=to_pay, by=by, on=days) if to_pay else []
        failed = payments_mark_failed(payment_ids=list(to_fail), by=by, reasons=to_fail) if to_fail else []
    return paid, failed


# --- the rest of the case's money ---------------------------------------------------


def payments_release_withheld(*, application: Application, by: User) -> list[Payment]:
    """Release the parts kept back until the follow-up report was approved."""
    with service_transaction():
        released = []
        for payment in Payment.objects.select_for_update().filter(
            application=application, status=Payment.Status.WITHHELD
        ):
            transition(payment, "release_part", by=by, what="släppa den innehållna delen")
            payment.save()
            released.append(payment)
        if released:
            record_event(
                application,
                by=by,
                action="Innehållen utbetalning släppt",
                note=", ".join(f"del {p.sequence}: {p.amount} kr" for p in released),
            )
    return released


def payments_open(application: Application) -> QuerySet[Payment]:
    """Payments finance still has to act on: attest, put in a file, or see paid."""
    return application.payments.filter(status__in=Payment.OPEN)
