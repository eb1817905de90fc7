"""Payment files: the pain.001 the bank gets validates against the ISO schema and pays each
payee by its own scheme, by a name the banks accept; the bank's pain.002 is read strictly
and safely; a file is made all or nothing; and the status report settles the cases. (What
is booked, and the SIE file, are in test_ledger_files.)"""

import datetime as dt
import hashlib
import os
import time
from decimal import Decimal
from importlib import resources
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone
from lxml import etree

from documents import payment_files
from documents.payment_files import batch_file, pain001_xml, pain002_read, payment_file_create
from grants.models import Application, Call, Membership, Organisation, Payment, PaymentBatch, Programme
from grants.services import pay
from workflows.process import active_task_names

from .. import factories

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


# --- helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pain001_schema():
    """The official pain.001.001.03 schema, as shipped in the sepaxml package."""
    with resources.as_file(resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd") as path:
        return etree.XMLSchema(etree.parse(str(path)))


def status_report(original, rows=(), *, group_status="PART", namespace=PAIN002, drop=()):
    """A bank's pain.002 for tests. rows: (end-to-end id, status, [(code, additional info)]);
    drop: element names to leave out, to make it malformed."""

    def add(parent, tag, text=None):
        element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
        element.text = text
        return element

    document = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    report = add(document, "CstmrPmtStsRpt")
    header = add(report, "GrpHdr")
    add(header, "MsgId", "SEB-STATUS-1")
    add(header, "CreDtTm", "2026-05-04T07:00:00")
    group = add(report, "OrgnlGrpInfAndSts")
    if "OrgnlMsgId" not in drop:
        add(group, "OrgnlMsgId", original)
    add(group, "OrgnlMsgNmId", "pain.001.001.03")
    if group_status:
        add(group, "GrpSts", group_status)
    block = add(report, "OrgnlPmtInfAndSts")
    add(block, "OrgnlPmtInfId", original)
    for reference, status, reasons in rows:
        row = add(block, "TxInfAndSts")
        if "OrgnlEndToEndId" not in drop:
            add(row, "OrgnlEndToEndId", reference)
        if "TxSts" not in drop:
            add(row, "TxSts", status)
        for code, extra in reasons:
            info = add(row, "StsRsnInf")
            add(add(info, "Rsn"), "Cd", code)
            if extra:
                add(info, "AddtlInf", extra)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def stored_files(folder):
    """The payment files stored under the media folder (the cases' receipts, made at submit, aside)."""
    return [os.path.join(root, name) for root, _, names in os.walk(os.path.join(folder, "payments")) for name in names]


def attest_all(*applications, by):
    ids = [p.pk for a in applications for p in a.payments.filter(status="planned")]
    pay.payments_attest(payment_ids=ids, by=by)
    return Payment.objects.filter(pk__in=ids).order_by("pk")


# --- the cast --------------------------------------------------------------------------


@pytest.fixture
def granted(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")


@pytest.fixture
def choir(anna):
    """Pays to plusgiro, and has quotes and an ampersand in its name."""
    org = Organisation.objects.create(
        name='Älvsjö kör & orkester "Sångfåglarna"', org_number="802433-1236", plusgiro="123456-6"
    )
    Membership.objects.create(user=anna, organisation=org)
    return org


@pytest.fixture
def rowers(anna):
    """Pays to an IBAN."""
    org = Organisation.objects.create(
        name="Roddklubben Öresund", org_number="802455-9877", iban="SE45 5000 0000 0583 9825 7466"
    )
    Membership.objects.create(user=anna, organisation=org)
    return org


@pytest.fixture
def night_walkers(anna, choir):
    """An informal group: its grant goes to its sponsor, the choir."""
    group = Organisation.objects.create(kind="informal_group", name="Nattvandrarna i Fisksätra", sponsor=choir)
    Membership.objects.create(user=anna, organisation=group)
    return group


@pytest.fixture
def four_payees(anna, olle, fia, inclusion_call, granted, choir, rowers, night_walkers):
    applications = [granted] + [
        factories.granted_case(inclusion_call, org, anna, olle, amount=amount)
        for org, amount in ((choir, "12345"), (rowers, "20000"), (night_walkers, "8000"))
    ]
    attest_all(*applications, by=fia)
    return applications


def transactions_by_reference(tree):
    return {row.findtext("p:PmtId/p:EndToEndId", namespaces=NS): row for row in tree.iterfind(".//p:CdtTrfTxInf", NS)}


# --- pain.001 --------------------------------------------------------------------------


def test_the_payment_order_validates_and_pays_each_payee_by_its_scheme(four_payees, fia, in_a_week, pain001_schema):
    batch = payment_file_create(by=fia, execution_date=in_a_week)
    name, content_type, content = batch_file(batch, "pain001")
    assert (name, content_type) == (f"{batch.reference}.pain001.xml", "application/xml")
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = etree.fromstring(content)
    pain001_schema.assertValid(tree)

    payments = list(batch.payments.select_related("application").order_by("pk"))
    total = sum(p.amount for p in payments)
    assert total == Decimal("34000.00") + Decimal("10493.25") + Decimal("17000.00") + Decimal("6800.00")
    assert (batch.count, batch.total) == (4, total)
    for level in ("p:CstmrCdtTrfInitn/p:GrpHdr", "p:CstmrCdtTrfInitn/p:PmtInf"):
        assert tree.findtext(f"{level}/p:NbOfTxs", namespaces=NS) == "4"
        assert tree.findtext(f"{level}/p:CtrlSum", namespaces=NS) == "68293.25"
    header = tree.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == batch.reference
    assert header.findtext("p:InitgPty/p:Nm", namespaces=NS) == "Nacka kommun"
    assert header.findtext("p:InitgPty/p:Id/p:OrgId/p:Othr/p:Id", namespaces=NS) == "2120000167"
    info = tree.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:PmtInfId", namespaces=NS) == batch.reference
    assert info.findtext("p:ReqdExctnDt", namespaces=NS) == in_a_week.isoformat()
    assert info.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS) == "NURG"
    assert info.findtext("p:DbtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "54029681"
    assert info.findtext("p:DbtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry", namespaces=NS) == "BGNR"
    assert info.findtext("p:DbtrAcct/p:Ccy", namespaces=NS) == "SEK"

    rows = transactions_by_reference(tree)
    assert list(rows) == [f"BIDRAG-{p.pk}" for p in payments]
    for payment in payments:
        row = rows[payment.reference]
        assert row.findtext("p:PmtId/p:InstrId", namespaces=NS) == payment.reference
        amount = row.find("p:Amt/p:InstdAmt", NS)
        assert (amount.text, amount.get("Ccy")) == (f"{payment.amount:.2f}", "SEK")
        assert row.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == (f"Bidrag {payment.application.case_number} del 1")

    bankgiro, plusgiro, iban, group = (rows[p.reference] for p in payments)
    assert bankgiro.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Fisksätra IF"
    assert bankgiro.findtext("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:ClrSysId/p:Cd", namespaces=NS) == "SESBA"
    assert bankgiro.findtext("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=NS) == "9900"
    assert bankgiro.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "50501055"
    assert bankgiro.findtext("p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry", namespaces=NS) == "BGNR"
    for row in (plusgiro, group):  # the group is paid to its sponsor, the choir
        # In the banks' character set: "&" and quotes are not in it.
        assert row.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Älvsjö kör och orkester Sångfåglarna"
        assert row.findtext("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=NS) == "9960"
        assert row.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "1234566"
        assert row.findtext("p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Cd", namespaces=NS) == "BBAN"
    assert iban.findtext("p:Cdtr/p:Nm", namespaces=NS) == "Roddklubben Öresund"
    assert iban.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == "SE4550000000058398257466"
    assert iban.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "ESSESESS"
    assert iban.find("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId", NS) is None


def test_the_payers_bic_is_given_when_configured(granted, fia, settings, pain001_schema):
    settings.PAYER_BIC = "HANDSESS"
    attest_all(granted, by=fia)
    tree = etree.fromstring(batch_file(payment_file_create(by=fia), "pain001")[2])
    pain001_schema.assertValid(tree)
    assert tree.findtext(".//p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "HANDSESS"


def in_memory_payments(count, *, name="Fisksätra IF"):
    """Payments as batch_create returns them (with case and programme), without a database."""
    programme = Programme(name="Projektbidrag", expense_account="4990")
    application = Application(case_number="KFN 2026/1", call=Call(programme=programme))
    schemes = [("bankgiro", "50501055"), ("plusgiro", "1234566"), ("iban", "SE4550000000058398257466")]
    return [
        Payment(
            pk=index,
            application=application,
            sequence=1,
            amount=Decimal("1234.50"),
            payee_name=name,
            payee_scheme=schemes[index % 3][0],
            payee_account=schemes[index % 3][1],
        )
        for index in range(1, count + 1)
    ]


def in_memory_batch():
    return PaymentBatch(
        reference="BF-20260504-ABCDEF1234", created_at=timezone.now(), execution_date=dt.date(2026, 5, 4)
    )


def test_ten_thousand_payments_build_in_well_under_a_few_seconds(pain001_schema):
    payments = in_memory_payments(10_000)
    started = time.perf_counter()
    content = pain001_xml(in_memory_batch(), payments)
    assert time.perf_counter() - started < 2.5
    tree = etree.fromstring(content)
    pain001_schema.assertValid(tree)
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "12345000.00"
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "10000"


def test_names_are_cut_to_what_the_bank_takes_and_lose_control_characters(pain001_schema):
    [payment] = in_memory_payments(1, name="Föreningen\tför\nen " + "mycket " * 20 + "lång")
    tree = etree.fromstring(pain001_xml(in_memory_batch(), [payment]))
    pain001_schema.assertValid(tree)
    name = tree.findtext(".//p:Cdtr/p:Nm", namespaces=NS)
    assert name.startswith("Föreningen för en mycket") and len(name) <= 70


# --- pain.002 --------------------------------------------------------------------------


def refusal(content):
    with pytest.raises(ValidationError) as caught:
        pain002_read(content)
    [message] = caught.value.messages
    assert message.startswith("Statusrapporten kunde inte läsas") and message.endswith("Inget har ändrats.")
    return message


def test_a_good_status_report_is_read():
    content = status_report(
        "BF-20260504-ABCDEF1234",
        [
            ("BIDRAG-7", "ACSC", []),
            ("BIDRAG-8", "RJCT", [("AC01", "Kontonumret finns inte."), ("AC04", "")]),
            ("BIDRAG-9", "PDNG", []),
        ],
    )
    report = pain002_read(content)
    assert report == pay.StatusReport(
        "BF-20260504-ABCDEF1234",
        "PART",
        [
            pay.TransactionStatus("BIDRAG-7", "ACSC", ""),
            pay.TransactionStatus("BIDRAG-8", "RJCT", "AC01: Kontonumret finns inte.; AC04"),
            pay.TransactionStatus("BIDRAG-9", "PDNG", ""),
        ],
    )


def test_a_report_without_group_status_takes_that_of_its_payment_block():
    content = status_report("BF-1", group_status=None).replace(
        b"<OrgnlPmtInfId>BF-1</OrgnlPmtInfId>", b"<OrgnlPmtInfId>BF-1</OrgnlPmtInfId><PmtInfSts>RJCT</PmtInfSts>"
    )
    assert pain002_read(content) == pay.StatusReport("BF-1", "RJCT", [])


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "filen är tom"),
        (b"  \n ", "filen är tom"),
        (b"<Document><CstmrPmtStsRpt>", "inte giltig XML"),
        (b"%PDF-1.4 not xml", "inte giltig XML"),
        (b"<Document/>", "inget ISO 20022-meddelande"),
        (status_report("BF-1", namespace="urn:example:other"), "inget ISO 20022-meddelande"),
        (
            status_report("BF-1", namespace="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"),
            "versionen pain.002.001.10, men systemet läser bara pain.002.001.03",
        ),
        (
            status_report("BF-1", namespace="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"),
            "pain.001.001.03-meddelande, inte en statusrapport pain.002.001.03",
        ),
        (f'<Document xmlns="{PAIN002}"><Other/></Document>'.encode(), "saknar själva statusrapporten"),
        (status_report("BF-1", drop=["OrgnlMsgId"]), "OrgnlMsgId saknas"),
        (
            status_report("BF-1", [("BIDRAG-1", "ACSC", [])], drop=["OrgnlEndToEndId"]),
            "betalning nr 1 i rapporten saknar referens",
        ),
        (status_report("BF-1", [("BIDRAG-1", "ACSC", [])], drop=["TxSts"]), "BIDRAG-1 saknar en giltig status"),
    ],
)
def test_a_malformed_report_is_refused_in_swedish(content, words):
    assert words in refusal(content)


def test_a_huge_report_is_refused_before_it_is_parsed():
    padding = b"<!--" + b"x" * (5 * 1024 * 1024) + b"-->"
    content = status_report("BF-1").replace(b"<Document", padding + b"<Document", 1)
    assert "större än 5 MB" in refusal(content)


def test_an_entity_bomb_is_refused_without_being_expanded():
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    content = (
        f'<?xml version="1.0"?><!DOCTYPE Document [{entities}]>'
        f'<Document xmlns="{PAIN002}"><CstmrPmtStsRpt><OrgnlGrpInfAndSts>'
        f"<OrgnlMsgId>&lol9;</OrgnlMsgId></OrgnlGrpInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()
    started = time.perf_counter()
    message = refusal(content)  # libxml2 stops the amplification, or we refuse the DOCTYPE
    assert "DOCTYPE" in message or "inte giltig XML" in message
    assert "lollol" not in message and time.perf_counter() - started < 1


def test_a_report_with_a_harmless_doctype_is_refused_all_the_same():
    content = status_report("BF-1").replace(b"?>", b'?><!DOCTYPE Document [<!ENTITY bank "SEB">]>', 1)
    assert "dokumenttypsdeklaration (DOCTYPE)" in refusal(content)


def test_an_external_entity_is_never_read():
    content = (
        f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<Document xmlns="{PAIN002}"><CstmrPmtStsRpt><OrgnlGrpInfAndSts>'
        f"<OrgnlMsgId>&x;</OrgnlMsgId></OrgnlGrpInfAndSts></CstmrPmtStsRpt></Document>"
    ).encode()
    message = refusal(content)
    assert "root:" not in message


# --- making the file: all or nothing ---------------------------------------------------


def test_a_file_with_nothing_attested_is_refused(granted, fia, media_root):
    with pytest.raises(ValidationError) as caught:
        payment_file_create(by=fia)
    assert "inga attesterade utbetalningar" in caught.value.messages[0]
    assert not PaymentBatch.objects.exists() and stored_files(media_root) == []


def test_the_batch_records_both_files_and_a_second_file_has_nothing_new(granted, fia, media_root):
    [payment] = attest_all(granted, by=fia)
    batch = payment_file_create(by=fia)
    batch.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, payment.batch_id) == ("exported", batch.pk)
    assert batch.pain001_key.startswith(f"payments/{batch.reference}/betalfiler/")
    assert hashlib.sha256(batch_file(batch, "pain001")[2]).hexdigest() == batch.pain001_sha256
    assert len(stored_files(media_root)) == 1
    with pytest.raises(ValidationError) as caught:
        payment_file_create(by=fia)
    assert "inga attesterade utbetalningar" in caught.value.messages[0]
    assert PaymentBatch.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_a_changed_stored_file_is_not_handed_out(granted, fia):
    attest_all(granted, by=fia)
    batch = payment_file_create(by=fia)
    with open(default_storage.path(batch.pain001_key), "ab") as handle:
        handle.write(b"<!-- changed -->")
    with pytest.raises(ValidationError) as caught:
        batch_file(batch, "pain001")
    assert "kontrollsumma" in caught.value.messages[0]


def assert_nothing_happened(payments, media_root):
    assert not PaymentBatch.objects.exists()
    assert set(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("status", "batch")) == {
        ("attested", None)
    }
    assert stored_files(media_root) == []


def test_a_file_store_that_is_down_leaves_nothing_behind(granted, fia, media_root):
    payments = attest_all(granted, by=fia)
    with (
        mock.patch.object(default_storage, "save", side_effect=OSError("disk full")),
        pytest.raises(ValidationError) as caught,
    ):
        payment_file_create(by=fia)
    assert "fillagringen inte svarar" in caught.value.messages[0]
    assert_nothing_happened(payments, media_root)


def test_a_failure_after_the_file_is_stored_removes_it(granted, fia, media_root):
    payments = attest_all(granted, by=fia)
    with (
        mock.patch.object(payment_files.pay, "batch_attach_file", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        payment_file_create(by=fia)
    assert_nothing_happened(payments, media_root)


# --- the bank's report settles the cases -----------------------------------------------


@pytest.fixture
def exported(granted, fia):
    [payment] = attest_all(granted, by=fia)
    batch = payment_file_create(by=fia)
    payment.refresh_from_db()
    return batch, payment


def test_a_paid_report_marks_the_payment_paid_and_moves_the_case_on(granted, exported, fia):
    batch, payment = exported
    report = pain002_read(status_report(batch.reference, [(payment.reference, "ACSC", [])], group_status="ACSC"))
    paid, failed = pay.status_report_apply(report=report, by=fia)
    assert ([p.pk for p in paid], failed) == ([payment.pk], [])
    payment.refresh_from_db()
    batch.refresh_from_db()
    assert (payment.status, batch.status) == ("paid", "settled")
    assert active_task_names(granted) == ["await_report"]  # the 15 % waits for the follow-up report
    with pytest.raises(ValidationError) as caught:
        pay.status_report_apply(report=report, by=fia)
    assert "inget nytt" in caught.value.messages[0]


def test_a_rejected_payment_fails_with_the_banks_reason_and_is_planned_again(granted, exported, fia):
    batch, payment = exported
    report = pain002_read(
        status_report(
            batch.reference,
            [(payment.reference, "RJCT", [("AC01", "Mottagarkontot finns inte.")])],
            group_status="RJCT",
        )
    )
    paid, [replacement] = pay.status_report_apply(report=report, by=fia)
    payment.refresh_from_db()
    assert paid == [] and payment.status == "failed"
    assert "AC01: Mottagarkontot finns inte." in payment.failure_reason
    assert (replacement.status, replacement.replaces_id) == ("planned", payment.pk)
    assert active_task_names(granted) == ["await_payment"]


def test_a_report_naming_an_unknown_payment_changes_nothing(exported, fia):
    batch, payment = exported
    report = pain002_read(
        status_report(batch.reference, [(payment.reference, "ACSC", []), ("BIDRAG-999999", "ACSC", [])])
    )
    with pytest.raises(ValidationError) as caught:
        pay.status_report_apply(report=report, by=fia)
    assert "BIDRAG-999999" in caught.value.messages[0]
    payment.refresh_from_db()
    assert payment.status == "exported"
