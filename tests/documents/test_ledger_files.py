"""The ledger matches the bank: Fia's bokföringsfil books what the bank has paid, on the day
it paid it, once, with voucher numbers and the committee and programme as objects; a
repayment claim is a receivable cleared by what comes back, matched by its OCR number; and
names reach the bank and the accounting system in characters they can carry."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from stdnum import luhn

from documents.letters import repayment_letter_html
from documents.payment_files import batch_file
from grants.models import Membership, Organisation, Payment, PaymentBatch, Voucher, VoucherLine
from grants.services import ledger, repayments

from .. import factories, sie
from ..workflows.test_repayment_claims import rejected

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def page(response):
    return response.content.decode().replace("\xa0", " ").replace("\u202f", " ")


def status_report(reference, rows, *, group="PART", accepted=None):
    """The bank's pain.002; rows: (end-to-end id, status, reason code). `accepted`: the
    acceptance date-time the bank gives each payment, if any."""
    transactions = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{ref}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn></StsRsnInf>" if reason else "")
        + (f"<AccptncDtTm>{accepted}</AccptncDtTm>" if accepted else "")
        + "</TxInfAndSts>"
        for ref, status, reason in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>STATUS-1</MsgId><CreDtTm>2026-03-02T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{reference}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        f"<GrpSts>{group}</GrpSts></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{reference}</OrgnlPmtInfId>{transactions}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


def attest_and_file(client, payment_ids, *, execution_date):
    """Fia ticks the payments and attests them, then makes the payment file."""
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": payment_ids})
    assert response.status_code == 302, page(response)[:3000]
    response = client.post(reverse("finance:batch_create"), {"execution_date": execution_date.isoformat()})
    assert response.status_code == 302, page(response)[:3000]
    return PaymentBatch.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def read_in(client, batch, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("finance:status_report", args=[batch.pk]),
        {"report": SimpleUploadedFile("pain002.xml", content, content_type="application/xml")},
    )
    assert response.status_code == 302, page(response)[:3000]


def ledger_file(client):
    """Fia makes the ledger file on her Bokföring page and downloads it: read strictly."""
    response = client.post(reverse("finance:ledger_files"))
    assert response.status_code == 302, page(response)[:3000]
    listing = page(client.get(reverse("finance:ledger_files")))
    assert "Bokföringsfilen BOK-" in listing and "Alla verifikationer finns redan i en bokföringsfil." in listing
    from grants.models import LedgerFile

    download = client.get(reverse("finance:ledger_file", args=[LedgerFile.objects.latest("pk").pk]))
    assert download.status_code == 200 and download["Content-Type"] == "text/plain; charset=IBM437"
    return sie.read(download.content)


@pytest.fixture
def granted(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="16800")


# --- what the bank paid, once --------------------------------------------------------------


def test_a_rejected_payment_is_never_booked_and_its_replacement_is_booked_once(client, fia, granted, in_a_week):
    """KFN 2026/0002's story: the bank rejects the first file (AC04, closed account), the
    replacement goes in a second file and is paid. The ledger books the part once."""
    client.force_login(fia)
    [first] = granted.payments.filter(status="planned")
    amount = first.amount
    batch = attest_and_file(client, [first.pk], execution_date=timezone.localdate())
    read_in(client, batch, status_report(batch.reference, [(first.reference, "RJCT", "AC04")], group="RJCT"))
    replacement = Payment.objects.get(replaces=first)
    assert not Voucher.objects.exists(), "a rejected payment is booked"

    second = attest_and_file(client, [replacement.pk], execution_date=in_a_week)
    read_in(
        client,
        second,
        status_report(
            second.reference, [(replacement.reference, "ACSC", "")], group="ACSC", accepted=f"{in_a_week}T09:12:00"
        ),
    )
    books = ledger_file(client)

    programme = granted.call.programme
    assert sie.booked_per_case(books, programme.expense_account) == {granted.case_number: amount}
    assert sie.booked_per_case(books, "1930") == {granted.case_number: -amount}
    [voucher] = books.vouchers
    assert (voucher.series, voucher.number, voucher.date, voucher.registered) == (
        "B",
        1,
        in_a_week,
        timezone.localdate(),
    )
    debit = next(row for row in voucher.rows if row.amount > 0)
    assert debit.objects == {1: programme.committee.code, 6: programme.project_code}
    assert books.objects[(1, programme.committee.code)] == programme.committee.name
    assert books.dimensions == {1: "Kostnadsställe", 6: "Projekt"}
    # A second file has nothing new: everything is already sent.
    response = client.post(reverse("finance:ledger_files"))
    assert response.status_code == 400 and "inga nya verifikationer" in page(response)


def test_voucher_numbers_run_per_series_and_year_without_gaps(fia, anna, olle, fisksatra, inclusion_call, settings):
    from tests.staff import pay_out

    settings.ACCOUNTING_VOUCHER_SERIES = "BID"
    for title in ("Läxhjälp", "Simskola", "Fotboll"):
        pay_out(factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="1000", title=title), fia)
    year = timezone.localdate().year
    assert list(Voucher.objects.order_by("number").values_list("series", "number")) == [
        ("BID", 1),
        ("BID", 2),
        ("BID", 3),
    ]
    assert all(voucher.date.year == year for voucher in Voucher.objects.all())


# --- the day the bank paid -----------------------------------------------------------------


def test_the_paid_day_is_the_banks_not_the_upload_day(
    client, fia, granted, anna, olle, fisksatra, inclusion_call, in_a_week, django_capture_on_commit_callbacks
):
    """The report without a date per payment: the file's requested execution date, four days
    after the upload; with the bank's acceptance date: that day."""
    client.force_login(fia)
    execution_day = timezone.localdate() + dt.timedelta(days=4)
    [payment] = granted.payments.filter(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=execution_day)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        read_in(client, batch, status_report(batch.reference, [(payment.reference, "ACSC", "")], group="ACSC"))
    payment.refresh_from_db()
    assert payment.paid_on == execution_day
    assert f"{execution_day:%Y-%m-%d}" in page(client.get(reverse("finance:batch", args=[batch.pk])))
    [message] = mail.outbox  # Anna is told the day the bank paid
    assert f"betalades ut {execution_day:%Y-%m-%d}" in message.body
    assert Voucher.objects.get().date == execution_day

    other = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="5000", title="Simskola")
    [payment] = other.payments.filter(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=in_a_week)
    accepted = timezone.localdate() + dt.timedelta(days=5)
    read_in(
        client,
        batch,
        status_report(batch.reference, [(payment.reference, "ACSC", "")], accepted=f"{accepted}T08:00:00+01:00"),
    )
    payment.refresh_from_db()
    assert payment.paid_on == accepted


def test_finance_confirms_payment_on_the_day_the_bank_paid(client, fia, granted, today):
    client.force_login(fia)
    [payment] = granted.payments.filter(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=today)
    url = reverse("finance:batch_mark", args=[batch.pk])
    response = client.post(
        url, {"payments": [payment.pk], "outcome": "paid", "paid_on": (today + dt.timedelta(days=1)).isoformat()}
    )
    assert response.status_code == 400 and "kan inte ligga i framtiden" in page(response)
    assert Payment.objects.get(pk=payment.pk).status == "exported" and not Voucher.objects.exists()
    yesterday = today - dt.timedelta(days=1)
    response = client.post(url, {"payments": [payment.pk], "outcome": "paid", "paid_on": yesterday.isoformat()})
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).paid_on == yesterday == Voucher.objects.get().date


# --- characters -----------------------------------------------------------------------------


@pytest.fixture
def lodz(anna):
    """A club with letters outside both the banks' set and code page 437."""
    org = Organisation.objects.create(
        name="Łódź & Ørsta Vänskapsförening", org_number="802433-1236", bankgiro="5050-1055"
    )
    Membership.objects.create(user=anna, organisation=org)
    return org


def test_names_are_transliterated_for_the_bank_and_the_ledger_never_written_as_question_marks(
    client, fia, anna, olle, lodz, inclusion_call, today
):
    application = factories.granted_case(inclusion_call, lodz, anna, olle, amount="5000")
    client.force_login(fia)
    [payment] = application.payments.filter(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=today)
    tree = etree.fromstring(batch_file(batch, "pain001")[2])
    assert tree.findtext(".//p:Cdtr/p:Nm", namespaces=NS) == "Lodz och Orsta Vänskapsförening"
    response = client.post(
        reverse("finance:batch_mark", args=[batch.pk]), {"payments": [payment.pk], "outcome": "paid"}
    )
    assert response.status_code == 302
    books = ledger_file(client)  # sie.read refuses any "?"
    texts = [row.text for voucher in books.vouchers for row in voucher.rows]
    assert texts and all("Lódz & Orsta Vänskapsförening" in text for text in texts)


def test_a_name_the_bank_cannot_take_is_refused_at_attestation(client, fia, anna, olle, inclusion_call):
    stars = Organisation.objects.create(name="★ ★", org_number="802433-1236", bankgiro="5050-1055")
    Membership.objects.create(user=anna, organisation=stars)
    application = factories.granted_case(inclusion_call, stars, anna, olle, amount="5000")
    [payment] = application.payments.filter(status="planned")
    client.force_login(fia)
    listing = page(client.get(reverse("finance:payments")))
    assert "kan inte skickas till banken" in listing
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": [payment.pk]})
    assert response.status_code == 400
    assert "Mottagarens namn ”★ ★” kan inte skickas till banken" in page(response)
    assert Payment.objects.get(pk=payment.pk).status == "planned"


# --- repayment claims ---------------------------------------------------------------------


def test_bankgirots_ocr_has_a_length_digit_and_a_luhn_check_digit():
    assert ledger.ocr_reference("123456") == "12345682"  # Bankgirot's own example
    assert ledger.ocr_reference("1") == "133"
    reference = ledger.ocr_reference("0004711")
    assert luhn.is_valid(reference) and int(reference[-2]) == len(reference) % 10
    with pytest.raises(ValueError):
        ledger.ocr_reference("12A")


def test_a_claim_is_a_receivable_cleared_by_repayments_found_by_its_ocr(
    client, anna, olle, fia, fisksatra, inclusion_call, today, settings
):
    claim = rejected(inclusion_call, fisksatra, anna, olle, fia, reclaim="10000")
    application, expense = claim.application, inclusion_call.programme.expense_account
    assert luhn.is_valid(claim.ocr) and int(claim.ocr[-2]) == len(claim.ocr) % 10

    letter = repayment_letter_html(application)
    assert settings.PAYER_BANKGIRO in letter and claim.ocr in letter

    client.force_login(fia)
    spaced = " ".join(claim.ocr[i : i + 4] for i in range(0, len(claim.ocr), 4))
    found = page(client.get(reverse("finance:claims"), {"q": spaced}))
    assert f'id="claim-{claim.pk}"' in found and claim.ocr in found
    assert f'id="claim-{claim.pk}"' not in page(client.get(reverse("finance:claims"), {"q": "99999999"}))

    repayments.repayment_register(claim=claim, by=fia, amount=Decimal("4000"), received_on=today)

    def net(account, kind):
        return sum(
            VoucherLine.objects.filter(application=application, account=account, kind=kind).values_list(
                "amount", flat=True
            ),
            Decimal("0"),
        )

    paid = sum(application.payments.filter(status="paid").values_list("amount", flat=True))
    assert net(expense, "payment") == paid and net(expense, "claim") == Decimal("-10000")
    assert net("1510", "claim") == Decimal("10000") and net("1510", "repayment") == Decimal("-4000")
    assert net("1930", "repayment") == Decimal("4000")
    books = ledger_file(client)
    assert sie.booked_per_case(books, "1510") == {application.case_number: Decimal("6000.00")}
    assert sie.booked_per_case(books, "1930") == {application.case_number: Decimal("4000.00") - paid}


def test_a_report_with_a_date_that_is_no_date_changes_nothing(client, fia, granted, today):
    client.force_login(fia)
    [payment] = granted.payments.filter(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=today)
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = status_report(batch.reference, [(payment.reference, "ACSC", "")], accepted="i morgon")
    response = client.post(
        reverse("finance:status_report", args=[batch.pk]),
        {"report": SimpleUploadedFile("pain002.xml", content, content_type="application/xml")},
    )
    assert response.status_code == 400 and "AccptncDtTm är inget datum (i morgon)" in page(response)
    assert Payment.objects.get(pk=payment.pk).status == "exported" and not Voucher.objects.exists()
