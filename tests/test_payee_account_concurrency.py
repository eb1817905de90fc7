"""Payee accounts under concurrency, on PostgreSQL (issue 12): twenty threads — Fisksätra
IF's signatories asking for new bankgiros, finance approving and refusing them, attesting
and exporting payments — and still no payment is ever attested to an account that was not
the approved one at the moment of attestation, and no request is decided by its requester.

Approval and attestation both lock the association's row and take their time stamp after
the lock, so the stamps order them as the database did: the account a payment was attested
to must be the one of the latest approval stamped before the attestation."""

import random
import threading
import time
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from stdnum import luhn

from documents.payment_files import payment_file_create
from grants.models import AccountChangeRequest, Membership, Payment
from grants.services import pay, payee_accounts
from grants.validators import compact_account

from . import factories
from .test_money_concurrency import needs_postgres, run_together

# Twenty threads: two members asking, five in finance deciding, thirteen attesting and exporting.
ROLES = ("request",) * 2 + ("approve",) * 3 + ("refuse",) * 2 + ("attest",) * 9 + ("export",) * 4
THREADS = len(ROLES)
PARTS = 6  # payments per case, attested one or two at a time
DEADLINE_S = 90


def bankgiro(seven_digits):
    digits = f"{seven_digits}{luhn.calc_check_digit(seven_digits)}"
    return f"{digits[:4]}-{digits[4:]}"


# Bankgiros no other association has, so that a refusal at attestation is never about sharing.
ACCOUNTS = [bankgiro(str(6000000 + 1013 * n)) for n in range(8)]


@pytest.fixture
def world(anna, olle, fisksatra):
    from documents import letters

    original = (letters.receipt_send, letters.decision_letter_send)
    letters.receipt_send = lambda application_pk: None
    letters.decision_letter_send = lambda decision_pk, **kwargs: None
    try:
        programme = factories.programme("inkludering", payment_plan=[{"percent": 100, "release": "decision"}])
        call = factories.call(programme, budget="10000000")
        granted = [
            factories.granted_case(call, fisksatra, anna, olle, amount=str(10000 + 137 * n), title=f"Läxhjälp {n}")
            for n in range(10)
        ]
    finally:
        letters.receipt_send, letters.decision_letter_send = original
    signatories = [anna] + [factories.user(f"firmatecknare{n}") for n in range(3)]
    for person in signatories[1:]:
        Membership.objects.create(user=person, organisation=fisksatra, role=Membership.Role.SIGNATORY)
    finance = [factories.user(f"ekonomi{n}", role="Ekonomi") for n in range(4)]
    # One attester is also a signatory of the association: she may ask, never decide.
    Membership.objects.create(user=finance[0], organisation=fisksatra, role=Membership.Role.TREASURER)
    # More parts per case, so that attestations go on while accounts are asked for and decided.
    for application in granted:
        first = application.payments.get()
        Payment.objects.bulk_create(
            [
                Payment(
                    application=application,
                    sequence=sequence,
                    percent=first.percent,
                    amount=first.amount,
                    release=first.release,
                    decided_by_id=first.decided_by_id,
                    status=Payment.Status.PLANNED,
                )
                for sequence in range(2, PARTS + 1)
            ]
        )
    payments = list(Payment.objects.filter(application__in=granted))
    return signatories + [finance[0]], finance, payments


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_never_pay_to_an_account_not_approved_at_attestation(world, fisksatra):
    needs_postgres()
    requesters, finance, payments = world
    ids = [payment.pk for payment in payments]
    mine = Payment.objects.filter(pk__in=ids)
    initial = fisksatra.account()
    done, refused = Counter(), Counter()
    tally = threading.Lock()

    def act(role, index, rng):
        if role == "request":
            payee_accounts.account_change_request(
                organisation=fisksatra,
                by=requesters[index % len(requesters)],
                bank_account=("bankgiro", rng.choice(ACCOUNTS)),
            )
        elif role in ("approve", "refuse"):
            pending = payee_accounts.pending_request(fisksatra)
            if pending is None:
                return False
            by = finance[index % len(finance)]
            if role == "approve":
                payee_accounts.account_change_approve(request=pending, by=by)
            else:
                payee_accounts.account_change_refuse(request=pending, by=by, reason="Stämmer inte med protokollet.")
        elif role == "attest":
            planned = list(mine.filter(status="planned").values_list("pk", flat=True))
            if not planned:
                return False
            chosen = sorted(rng.sample(planned, min(len(planned), rng.randint(1, 2))))
            pay.payments_attest(payment_ids=chosen, by=finance[1 + index % (len(finance) - 1)])
        else:
            if not mine.filter(status="attested").exists():
                return False
            payment_file_create(by=finance[1 + index % (len(finance) - 1)], payment_ids=ids)
        return True

    def unfinished():
        """Work goes on until every payment is exported and the accounts have really moved:
        at least two requests and one approval, however the threads happened to be scheduled."""
        with tally:
            accounts_moved = done["approve"] >= 1 and done["request"] >= 2
        return not accounts_moved or mine.exclude(status="exported").exists()

    def work(index):
        role, rng = ROLES[index], random.Random(index)
        while time.perf_counter() < started + DEADLINE_S and unfinished():
            try:
                if act(role, index, rng):
                    with tally:
                        done[role] += 1
            except (ValidationError, PermissionDenied):
                with tally:  # decided or replaced a moment before, or the attester's own association
                    refused[role] += 1
            # Members ask now and then; finance works faster, so requests are also decided, and
            # approved more often than refused (a refuser that always wins would test little).
            time.sleep(rng.uniform(0.2, 0.4) if role in ("request", "refuse") else rng.uniform(0.05, 0.15))

    started = time.perf_counter()
    unexpected = run_together(THREADS, work)
    print(f"\n{THREADS} threads: done {dict(done)}; refused {dict(refused)}")
    assert unexpected == [], "\n".join(unexpected)
    assert sorted(mine.values_list("status", flat=True)) == ["exported"] * len(ids)
    assert done["approve"] >= 1 and done["request"] >= 2

    requests = AccountChangeRequest.objects.filter(organisation=fisksatra)
    assert not requests.filter(decided_by=F("requested_by")).exists()
    assert not requests.filter(status="approved", decided_by__memberships__organisation=fisksatra).exists()
    assert requests.filter(status="pending").count() <= 1
    approvals = list(requests.filter(status="approved").order_by("decided_at").values_list("decided_at", "number"))
    for payment in mine:
        approved = [number for decided_at, number in approvals if decided_at <= payment.attested_at]
        expected = approved[-1] if approved else initial[1]
        assert payment.payee_account == compact_account("bankgiro", expected), (payment, payment.attested_at)
    fisksatra.refresh_from_db()
    assert fisksatra.bankgiro == (approvals[-1][1] if approvals else initial[1])
