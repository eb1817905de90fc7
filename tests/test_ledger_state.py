"""The ledger matches the bank under any sequence of what finance and the bank do: Fia attests,
makes payment files, the bank pays or rejects (a rejected part comes back planned and is
attested again), Olle decides a repayment claim, the grantee pays back and Fia sends the
ledger file, in random order.
After every step, per case: the bank account shows paid − repaid, the expense account paid −
claimed, the receivable claimed − repaid; no part is paid or booked twice; nothing paid
exceeds the decision; every voucher balances and the numbers run without gaps.

A stateful property test (hypothesis), on PostgreSQL as in production (it skips on SQLite).
Each example starts from the same two granted cases and rolls back at its end.
"""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from documents import ledger_files
from documents.payment_files import payment_file_create
from grants.models import Application, Payment, PaymentBatch, RepaymentClaim, Voucher, VoucherLine
from grants.services import follow_up, pay, repayments

from . import factories

ZERO = Decimal("0.00")


def _sum(queryset, field="amount"):
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


class LedgerMachine(RuleBasedStateMachine):
    applications = []  # set by the test: the granted cases every example starts from
    fia = olle = None

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint that teardown rolls back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _ids(self, status):
        return sorted(
            Payment.objects.filter(application__in=self.applications, status=status).values_list("pk", flat=True)
        )

    @precondition(lambda self: self._ids("planned"))
    @rule(data=st.data())
    def attest(self, data):
        ids = data.draw(st.lists(st.sampled_from(self._ids("planned")), min_size=1, unique=True))
        pay.payments_attest(payment_ids=ids, by=self.fia)

    @precondition(lambda self: self._ids("attested"))
    @rule()
    def export(self):
        payment_file_create(by=self.fia)

    def _report(self, data, status):
        batch = PaymentBatch.objects.get(
            pk=data.draw(
                st.sampled_from(
                    sorted(
                        PaymentBatch.objects.filter(payments__status="exported").values_list("pk", flat=True).distinct()
                    )
                )
            )
        )
        waiting = sorted(batch.payments.filter(status="exported").values_list("pk", flat=True))
        chosen = data.draw(st.lists(st.sampled_from(waiting), min_size=1, unique=True))
        day = data.draw(
            st.none()
            | st.integers(min_value=0, max_value=5).map(lambda days: timezone.localdate() - dt.timedelta(days=days))
        )
        rows = [
            pay.TransactionStatus(
                reference=f"BIDRAG-{pk}", status=status, reason="AC04" if status == "RJCT" else "", on=day
            )
            for pk in chosen
        ]
        return pay.StatusReport(original_message_id=batch.reference, group_status="PART", transactions=rows)

    @precondition(lambda self: self._ids("exported"))
    @rule(data=st.data())
    def bank_accepts(self, data):
        pay.status_report_apply(report=self._report(data, "ACSC"), by=self.fia)

    @precondition(lambda self: self._ids("exported"))
    @rule(data=st.data())
    def bank_rejects(self, data):
        """The rejected parts come back planned, to be attested again."""
        pay.status_report_apply(report=self._report(data, "RJCT"), by=self.fia)

    def _claimable(self):
        return [
            application
            for application in self.applications
            if not RepaymentClaim.objects.filter(application=application).exists()
            and follow_up.amount_paid(application) > ZERO
        ]

    @precondition(lambda self: self._claimable())
    @rule(data=st.data())
    def repayment_claim(self, data):
        """Olle decides a claim of at most what was paid (follow_up_review's own step)."""
        application = data.draw(st.sampled_from(self._claimable()))
        paid = follow_up.amount_paid(application)
        amount = data.draw(st.integers(min_value=0, max_value=int(paid * 100)).map(lambda ore: Decimal(ore) / 100))
        with transaction.atomic():
            follow_up._repayment_claim(application=application, by=self.olle, reasons="Underkänd.", amount=amount)

    @precondition(
        lambda self: (
            RepaymentClaim.objects.filter(application__in=self.applications, status="open").exclude(amount=0).exists()
        )
    )
    @rule(data=st.data())
    def repayment(self, data):
        claim = data.draw(
            st.sampled_from(
                list(
                    RepaymentClaim.objects.filter(application__in=self.applications, status="open")
                    .exclude(amount=0)
                    .order_by("pk")
                )
            )
        )
        amount = data.draw(
            st.integers(min_value=1, max_value=int(claim.outstanding * 100)).map(lambda ore: Decimal(ore) / 100)
        )
        repayments.repayment_register(claim=claim, by=self.fia, amount=amount, received_on=timezone.localdate())

    @rule()
    def ledger_file(self):
        """Fia sends what is booked to the accounting system; with nothing new it is refused."""
        if Voucher.objects.filter(ledger_file__isnull=True).exists():
            made = ledger_files.ledger_file_create(by=self.fia)
            assert not Voucher.objects.filter(ledger_file__isnull=True).exists() and made.count > 0
        else:
            with pytest.raises(ValidationError):
                ledger_files.ledger_file_create(by=self.fia)

    @invariant()
    def the_ledger_matches_the_bank(self):
        for application in Application.objects.filter(pk__in=[a.pk for a in self.applications]).select_related(
            "decision", "call__programme"
        ):
            payments = application.payments.all()
            paid = _sum(payments.filter(status="paid"))
            claim = RepaymentClaim.objects.filter(application=application).first()
            claimed, repaid = (claim.amount, claim.repaid_amount) if claim else (ZERO, ZERO)
            lines = VoucherLine.objects.filter(application=application)
            assert _sum(lines.filter(account=settings.ACCOUNTING_BANK_ACCOUNT)) == -(paid - repaid)
            assert _sum(lines.filter(account=application.call.programme.expense_account)) == paid - claimed
            assert _sum(lines.filter(account=settings.ACCOUNTING_RECEIVABLE_ACCOUNT)) == claimed - repaid
            parts = Counter(payments.filter(status="paid").values_list("sequence", flat=True))
            assert all(count == 1 for count in parts.values()), f"a part paid twice: {parts}"
            booked = Counter(lines.filter(payment__isnull=False).values_list("payment_id", flat=True))
            assert all(count == 2 for count in booked.values()), "a payment booked more than once"
            assert set(booked) == set(payments.filter(status="paid").values_list("pk", flat=True))
            assert paid <= application.decision.amount

    @invariant()
    def every_voucher_balances_and_the_numbers_have_no_gaps(self):
        per_voucher = VoucherLine.objects.values("voucher").annotate(total=Sum("amount"))
        assert all(row["total"] == ZERO for row in per_voucher)
        numbers = defaultdict(list)
        for series, day, number in Voucher.objects.values_list("series", "date", "number"):
            numbers[(series, day.year)].append(number)
        for taken in numbers.values():
            assert sorted(taken) == list(range(1, len(taken) + 1))


@pytest.mark.postgres
@pytest.mark.django_db
def test_any_sequence_of_attest_export_accept_reject_claim_and_repay_keeps_the_ledger_true(
    anna, olle, fia, fisksatra, inclusion_call
):
    if connection.vendor != "postgresql":
        pytest.skip("the ledger's property test runs on PostgreSQL")
    LedgerMachine.applications = [
        factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000"),
        factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="12345.67", title="Simskola"),
    ]
    LedgerMachine.fia, LedgerMachine.olle = fia, olle
    run_state_machine_as_test(
        LedgerMachine,
        settings=hypothesis_settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
