"""The ledger: what the accounting system is told, as vouchers (verifikationer) kept as data.

    payments_book     the bank has paid: debit each programme's expense account, credit the bank
    claim_book        a repayment claim decided: debit the receivable, credit the expense account
    repayment_book    a repayment received: debit the bank, credit the receivable
    ledger_file_create  the vouchers not yet sent, for documents.ledger_files to write

Only what the bank has paid is booked, so a payment the bank rejects is never in the
ledger and its replacement is booked once, when it is paid. Per case, then, what the bank
account shows is paid − repaid, the expense is paid − claimed and the receivable is
claimed − repaid. Every voucher balances to 0.00, and its number is taken under a lock
per series and year, so that the numbers run without gaps. documents.ledger_files writes
the vouchers not yet sent as an SIE file.
"""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TypeAlias

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from stdnum import luhn

from .. import access
from ..files import Stored
from ..models import Application, LedgerFile, Payment, RepaymentClaim, Voucher, VoucherLine, VoucherNumber

ZERO = Decimal("0.00")
# One line of a voucher to be: (kind, account, amount, application, payment, text).
Line: TypeAlias = tuple[str, str, Decimal, Application, Payment | None, str]


def ocr_reference(base: str | int) -> str:
    """Bankgirot's OCR reference for the digits `base`: the length digit (the whole
    reference's length, mod 10) and a Luhn (modulus 10) check digit appended, so that the
    bank refuses a mistyped number and the length can be checked too ("hård kontroll")."""
    digits = f"{base}"
    if not digits.isdigit():
        raise ValueError(f"An OCR reference is made of digits, not {base!r}.")
    with_length = digits + str((len(digits) + 2) % 10)
    return with_length + luhn.calc_check_digit(with_length)


def claim_ocr(application_id: int) -> str:
    """The OCR of a case's repayment claim, made from the case's id (one claim per case)."""
    return ocr_reference(f"{application_id:06d}")


def _next_number(series: str, year: int) -> int:
    """The next voucher number of the series and year, taken under the counter's row lock:
    two bookings at once queue here, and a rolled-back booking gives its number back."""
    VoucherNumber.objects.bulk_create([VoucherNumber(series=series, year=year)], ignore_conflicts=True)
    counter = VoucherNumber.objects.select_for_update().get(series=series, year=year)
    VoucherNumber.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    return counter.last + 1


def _voucher(*, on: dt.date, text: str, by: User, lines: Sequence[Line]) -> Voucher:
    """One balanced voucher dated `on` with its lines [(kind, account, amount, application,
    payment, text)]. Must run inside the caller's transaction."""
    if sum((line[2] for line in lines), ZERO) != ZERO:
        raise ValidationError(f"Verifikationen ”{text}” balanserar inte och bokförs inte. Inget har ändrats.")
    series = settings.ACCOUNTING_VOUCHER_SERIES
    voucher = Voucher.objects.create(
        series=series, number=_next_number(series, on.year), date=on, text=text[:200], created_by=by
    )
    VoucherLine.objects.bulk_create(
        [
            VoucherLine(
                voucher=voucher,
                kind=kind,
                account=account,
                amount=amount,
                application=application,
                payment=payment,
                cost_centre=application.call.programme.committee.code,
                project=application.call.programme.project_code,
                text=line_text[:200],
            )
            for kind, account, amount, application, payment, line_text in lines
        ],
        batch_size=2000,
    )
    return voucher


def payments_book(*, payments: Iterable[Payment], by: User) -> list[Voucher]:
    """Book payments the bank has paid, one voucher per paid day: for each payment a debit on
    its programme's expense account and a credit on the bank account. The payments carry
    their paid day and their application's programme and committee (selected)."""
    by_day: defaultdict[dt.date, list[Payment]] = defaultdict(list)
    for payment in payments:
        assert payment.paid_on is not None, "only what the bank has paid is booked"
        by_day[payment.paid_on].append(payment)
    bank, kind = settings.ACCOUNTING_BANK_ACCOUNT, VoucherLine.Kind.PAYMENT
    vouchers = []
    for day, paid in sorted(by_day.items()):
        lines: list[Line] = []
        for payment in paid:
            application = payment.application
            text = f"{application.case_number} del {payment.sequence} {payment.payee_name}"
            lines += [
                (kind, application.call.programme.expense_account, payment.amount, application, payment, text),
                (kind, bank, -payment.amount, application, payment, text),
            ]
        vouchers.append(_voucher(on=day, by=by, lines=lines, text=f"Utbetalda bidrag {day:%Y-%m-%d}, {len(paid)} st"))
    return vouchers


def claim_book(*, claim: RepaymentClaim, by: User) -> Voucher | None:
    """A repayment claim is a receivable from the day it is decided; the expense it takes back
    is reduced by as much. A claim of nothing books nothing."""
    if claim.amount == ZERO:
        return None
    application = claim.application
    text = f"{application.case_number} återkrav OCR {claim.ocr}"
    kind = VoucherLine.Kind.CLAIM
    return _voucher(
        on=timezone.localdate(claim.decided_at),
        by=by,
        text=f"Återkrav {application.case_number}",
        lines=[
            (kind, settings.ACCOUNTING_RECEIVABLE_ACCOUNT, claim.amount, application, None, text),
            (kind, application.call.programme.expense_account, -claim.amount, application, None, text),
        ],
    )


def repayment_book(*, claim: RepaymentClaim, amount: Decimal, received_on: dt.date, by: User) -> Voucher:
    """What came back clears as much of the receivable, into the bank account."""
    application = claim.application
    text = f"{application.case_number} återbetalning OCR {claim.ocr}"
    kind = VoucherLine.Kind.REPAYMENT
    return _voucher(
        on=received_on,
        by=by,
        text=f"Återbetalning {application.case_number}",
        lines=[
            (kind, settings.ACCOUNTING_BANK_ACCOUNT, amount, application, None, text),
            (kind, settings.ACCOUNTING_RECEIVABLE_ACCOUNT, -amount, application, None, text),
        ],
    )


def ledger_file_create(*, by: User) -> tuple[LedgerFile, list[Voucher]]:
    """Put every voucher not yet sent to the accounting system into a new ledger file. Must
    run inside the caller's transaction; returns the file and its vouchers with their lines
    (and the lines' programme and committee), locked until the transaction ends: the caller
    writes the SIE file in the same transaction, so a ledger file never exists without it."""
    access.require(access.is_finance(by), "Bokföringsfiler skapas av ekonomi (attestanter).")
    vouchers = list(
        Voucher.objects.select_for_update().filter(ledger_file__isnull=True).order_by("series", "date", "number")
    )
    if not vouchers:
        raise ValidationError(
            "Det finns inga nya verifikationer att ta med i en bokföringsfil. Allt som är bokfört finns redan i en fil."
        )
    now = timezone.now()
    ledger_file = LedgerFile.objects.create(
        reference=f"BOK-{now:%Y%m%d}-{uuid.uuid4().hex[:10].upper()}",
        created_by=by,
        created_at=now,
        count=len(vouchers),
    )
    ids = [voucher.pk for voucher in vouchers]
    for start in range(0, len(ids), 5000):
        Voucher.objects.filter(pk__in=ids[start : start + 5000]).update(ledger_file=ledger_file)
    lines: defaultdict[int, list[VoucherLine]] = defaultdict(list)
    for line in (
        VoucherLine.objects.filter(voucher_id__in=ids)
        .select_related("application__call__programme__committee")
        .order_by("voucher_id", "pk")
    ):
        lines[line.voucher_id].append(line)
    for voucher in vouchers:
        voucher.ledger_file, voucher.booked = ledger_file, lines[voucher.pk]
    return ledger_file, vouchers


def ledger_file_attach(*, ledger_file: LedgerFile, stored: Stored) -> None:
    """Record where the ledger file's SIE file is stored: (key, sha256)."""
    ledger_file.key, ledger_file.sha256 = stored
    ledger_file.save(update_fields=["key", "sha256"])
