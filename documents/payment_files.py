"""Payment files: what goes to the bank, and what comes back.

    payment_file_create   attested payments → a PaymentBatch with its stored pain.001
    batch_file            the file read back, checksum verified, for download
    pain002_read          the bank's status report, checked, as a pay.StatusReport

Nothing is booked when a file is made: the ledger books a payment when the bank reports it
paid (grants.services.ledger, documents.ledger_files).

The files follow the Swedish banks' common interpretation of ISO 20022 (pain.001.001.03):
one payment information block per file, booked from the municipality's own bankgiro, each
payee reached by bankgiro, plusgiro or IBAN. The files are built in memory from the
payments batch_create returns, which carry their case and programme, so that building
them makes no queries whatever the number of payments.
"""

import datetime as dt
import re
from contextlib import ExitStack
from decimal import Decimal
from functools import cache, lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from grants.files import discarded_on_failure, read_stored, store_file
from grants.models import PayeeScheme
from grants.services import pay
from grants.validators import bank_name

PAIN001_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
PAIN002_VERSION = "pain.002.001.03"
PAIN002_NS = f"urn:iso:std:iso:20022:tech:xsd:{PAIN002_VERSION}"
_P = {"p": PAIN002_NS}
MAX_STATUS_REPORT_BYTES = 5 * 1024 * 1024

# kind: (file name ending, media type).
FILE_KINDS = {
    "pain001": (".pain001.xml", "application/xml"),
}

# Bankgirot and PlusGirot as the Swedish banks' clearing system knows them (SESBA).
GIRO_MEMBER = {PayeeScheme.BANKGIRO: "9900", PayeeScheme.PLUSGIRO: "9960"}

# Characters no file of ours may carry: XML 1.0 forbids most control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _clean(text, limit):
    """Text as a payee name or message in a file: one line, no control characters, at
    most `limit` characters (the bank cuts longer names anyway; we choose where)."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit].strip()


def _digits(value):
    return re.sub(r"\D", "", value or "")


def _amount(value):
    """Kronor with exactly two decimals, from Decimal: a float never touches money."""
    return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"


# --- pain.001: the payment order to the bank -------------------------------------------


@cache
def _qualified(path):
    return tuple(f"{{{PAIN001_NS}}}{tag}" for tag in path.split("/"))


def _add(parent, path, text=None):
    """Append the chain of elements "A/B/C" under parent, the last with text; returns the last."""
    for tag in _qualified(path):
        parent = etree.SubElement(parent, tag)
    if text is not None:
        parent.text = text
    return parent


def _payer_id(parent):
    """The municipality's organisationsnummer as the bank's identification of the
    initiating party: banks (Nordea, SEB, Handelsbanken) look up the payment agreement by
    OrgId/Othr with scheme code BANK."""
    other = _add(parent, "Id/OrgId/Othr")
    _add(other, "Id", _digits(settings.PAYER_ORGNR))
    _add(other, "SchmeNm/Cd", "BANK")


def _group_header(document, batch, count, total):
    header = _add(document, "GrpHdr")
    _add(header, "MsgId", batch.reference)
    _add(header, "CreDtTm", timezone.localtime(batch.created_at).strftime("%Y-%m-%dT%H:%M:%S"))
    _add(header, "NbOfTxs", str(count))
    _add(header, "CtrlSum", _amount(total))
    party = _add(header, "InitgPty")
    _add(party, "Nm", _clean(settings.PAYER_NAME, 70))
    _payer_id(party)


def _payment_information(document, batch, count, total):
    """The one debit: from the municipality's bankgiro, on the execution date. Without a
    BIC for the municipality's bank the agent is NOTPROVIDED, which the schema allows
    and the bank resolves from the agreement."""
    info = _add(document, "PmtInf")
    _add(info, "PmtInfId", batch.reference)
    _add(info, "PmtMtd", "TRF")
    _add(info, "NbOfTxs", str(count))
    _add(info, "CtrlSum", _amount(total))
    _add(info, "PmtTpInf/SvcLvl/Cd", "NURG")
    _add(info, "ReqdExctnDt", batch.execution_date.isoformat())
    _add(info, "Dbtr/Nm", _clean(settings.PAYER_NAME, 70))
    account = _add(info, "DbtrAcct")
    other = _add(account, "Id/Othr")
    _add(other, "Id", _digits(settings.PAYER_BANKGIRO))
    _add(other, "SchmeNm/Prtry", "BGNR")
    _add(account, "Ccy", "SEK")
    agent = _add(info, "DbtrAgt/FinInstnId")
    if settings.PAYER_BIC:
        _add(agent, "BIC", settings.PAYER_BIC)
    else:
        _add(agent, "Othr/Id", "NOTPROVIDED")
    return info


def _giro_payee(transaction_, scheme, name, number):
    """Bankgiro and plusgiro: the giro as clearing member, the number as the account;
    a bankgiro is named by the proprietary scheme BGNR, a plusgiro is a BBAN."""
    member = _add(transaction_, "CdtrAgt/FinInstnId/ClrSysMmbId")
    _add(member, "ClrSysId/Cd", "SESBA")
    _add(member, "MmbId", GIRO_MEMBER[scheme])
    _add(transaction_, "Cdtr/Nm", name)
    other = _add(transaction_, "CdtrAcct/Id/Othr")
    _add(other, "Id", _digits(number))
    if scheme == PayeeScheme.BANKGIRO:
        _add(other, "SchmeNm/Prtry", "BGNR")
    else:
        _add(other, "SchmeNm/Cd", "BBAN")


@lru_cache(maxsize=4096)
def _bic_for(iban):
    """The BIC of the IBAN's bank where schwifty's registry knows it, else None. Cached:
    the look-up is slow next to the rest, and the same payees come back file after file."""
    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return None
    return str(bic) if bic else None


def _iban_payee(transaction_, name, iban):
    """An IBAN needs no clearing member: the bank's BIC is given when it is known."""
    bic = _bic_for(iban)
    if bic:
        _add(transaction_, "CdtrAgt/FinInstnId/BIC", bic)
    _add(transaction_, "Cdtr/Nm", name)
    _add(transaction_, "CdtrAcct/Id/IBAN", iban.replace(" ", "").upper())


def _credit_transfer(info, payment):
    transaction_ = _add(info, "CdtTrfTxInf")
    ids = _add(transaction_, "PmtId")
    _add(ids, "InstrId", payment.reference)
    _add(ids, "EndToEndId", payment.reference)
    _add(transaction_, "Amt/InstdAmt", _amount(payment.amount)).set("Ccy", "SEK")
    # Attestation refused a name with nothing the banks take (pay._payee_name_refusal).
    name = _clean(bank_name(payment.payee_name), 70)
    if payment.payee_scheme in GIRO_MEMBER:
        _giro_payee(transaction_, PayeeScheme(payment.payee_scheme), name, payment.payee_account)
    elif payment.payee_scheme == PayeeScheme.IBAN:
        _iban_payee(transaction_, name, payment.payee_account)
    else:
        raise ValidationError(f"{payment}: utbetalningen saknar kontotyp och kan inte läggas i en betalfil.")
    message = f"Bidrag {payment.application.case_number} del {payment.sequence}"
    _add(transaction_, "RmtInf/Ustrd", _clean(bank_name(message), 140))


def pain001_xml(batch, payments):
    """The payment order for the bank: ISO 20022 pain.001.001.03 in UTF-8. MsgId and
    PmtInfId are the batch reference, which the bank's status report quotes back; each
    payment's end-to-end id is its reference, BIDRAG-<id>."""
    payments = list(payments)
    if not payments:
        raise ValueError("A payment file needs at least one payment.")
    total = sum((payment.amount for payment in payments), Decimal("0"))
    document = etree.Element(f"{{{PAIN001_NS}}}Document", nsmap={None: PAIN001_NS})
    initiation = _add(document, "CstmrCdtTrfInitn")
    _group_header(initiation, batch, len(payments), total)
    info = _payment_information(initiation, batch, len(payments), total)
    for payment in payments:
        _credit_transfer(info, payment)
    body = etree.tostring(document, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


# --- the batch and its stored files -------------------------------------------------


def _file_name(batch, kind):
    return f"{batch.reference}{FILE_KINDS[kind][0]}"


def _store(undo, batch, kind, content):
    """Store one file of the batch; if anything later fails, it is removed again."""
    stored = store_file(
        folder="betalfiler", under=f"payments/{batch.reference}", filename=_file_name(batch, kind), content=content
    )
    undo.enter_context(discarded_on_failure(stored))
    return stored


def payment_file_create(*, by, execution_date=None, payment_ids=None):
    """Put the attested payments in a new payment file and store its pain.001, all or
    nothing: the batch exists only with its file, and if anything fails (the file store
    too) there is no batch, the payments are still attested and no stored file remains.
    The file is stored while the payments are locked, so that what the bank is sent is
    exactly what the batch records."""
    with ExitStack() as undo, transaction.atomic():
        batch, payments = pay.batch_create(by=by, execution_date=execution_date, payment_ids=payment_ids)
        pain001 = _store(undo, batch, "pain001", pain001_xml(batch, payments))
        pay.batch_attach_file(batch=batch, pain001=pain001)
    return batch


def batch_file(batch, kind):
    """(file name, media type, bytes) of the batch's file of that kind ("pain001"), read
    back and checked against its recorded SHA-256."""
    if kind not in FILE_KINDS:
        raise ValueError(f"Unknown payment file kind {kind!r}.")
    key, sha256 = getattr(batch, f"{kind}_key"), getattr(batch, f"{kind}_sha256")
    if not key:
        raise ValidationError(f"Betalfilen {batch.reference} har ingen sparad fil av det slaget.")
    return _file_name(batch, kind), FILE_KINDS[kind][1], read_stored(key, sha256)


# --- pain.002: the bank's status report ------------------------------------------------


def _refused(what):
    return ValidationError(f"Statusrapporten kunde inte läsas: {what}. Inget har ändrats.", code="bad_status_report")


def _parse_report(content):
    """The XML tree, parsed without expanding entities, fetching anything from the network
    or accepting a tree deep enough to exhaust memory. A report with a document type
    declaration is refused outright: banks never send one, and it is how entity bombs come."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2's own words are English and technical: the line is what helps.
        raise _refused(f"filen är inte giltig XML (fel på rad {exc.lineno})") from exc
    if root.getroottree().docinfo.doctype:
        raise _refused(
            "filen innehåller en dokumenttypsdeklaration (DOCTYPE), vilket en statusrapport från banken aldrig gör"
        )
    return root


def _check_message_type(root):
    """Only pain.002.001.03 is read: another version or message is named in the refusal."""
    match = re.fullmatch(r"\{urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})\}Document", str(root.tag))
    if match is None:
        raise _refused(f"filen är inget ISO 20022-meddelande; förväntade en statusrapport {PAIN002_VERSION}")
    version = match.group(1)
    if version.startswith("pain.002.") and version != PAIN002_VERSION:
        raise _refused(f"filen är en statusrapport av versionen {version}, men systemet läser bara {PAIN002_VERSION}")
    if version != PAIN002_VERSION:
        raise _refused(f"filen är ett {version}-meddelande, inte en statusrapport {PAIN002_VERSION}")


def _text(element, path):
    found = element.find(path, _P)
    return (found.text or "").strip() if found is not None else ""


def _reason(transaction_):
    """The bank's reasons, "AC01: Kontot finns inte", several joined with "; "."""
    reasons = []
    for info in transaction_.iterfind("p:StsRsnInf", _P):
        code = _text(info, "p:Rsn/p:Cd") or _text(info, "p:Rsn/p:Prtry")
        extra = " ".join(filter(None, ((line.text or "").strip() for line in info.iterfind("p:AddtlInf", _P))))
        reasons.append(": ".join(filter(None, (code, extra))))
    return "; ".join(filter(None, reasons))


def _day(text, what):
    """An ISO date, or the date of an ISO date-time, from the report; "" is None."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise _refused(f"{what} är inget datum ({text[:40]})") from None


def _paid_on(row):
    """The day the bank paid: its acceptance or settlement date for the payment, else the
    requested execution date it quotes back. None when the report gives no date (the file's
    execution date is used then, pay._paid_days)."""
    for element, path in (
        (row, "p:AccptncDtTm"),
        (row, "p:OrgnlTxRef/p:IntrBkSttlmDt"),
        (row, "p:OrgnlTxRef/p:ReqdExctnDt"),
    ):
        day = _day(_text(element, path), path.split(":")[-1])
        if day:
            return day
    return None


def _transactions(report):
    rows = []
    for number, row in enumerate(report.iterfind("p:OrgnlPmtInfAndSts/p:TxInfAndSts", _P), start=1):
        reference, status = _text(row, "p:OrgnlEndToEndId"), _text(row, "p:TxSts")
        if not reference:
            raise _refused(f"betalning nr {number} i rapporten saknar referens (OrgnlEndToEndId)")
        if not re.fullmatch(r"[A-Z]{4}", status):
            raise _refused(f"betalningen {reference} saknar en giltig status (TxSts)")
        rows.append(pay.TransactionStatus(reference=reference, status=status, reason=_reason(row), on=_paid_on(row)))
    return rows


def _group_status(report):
    """GrpSts, or when a bank leaves it out, the status of the file's one payment block."""
    status = _text(report, "p:OrgnlGrpInfAndSts/p:GrpSts")
    if status:
        return status
    block_statuses = {_text(block, "p:PmtInfSts") for block in report.iterfind("p:OrgnlPmtInfAndSts", _P)}
    return block_statuses.pop() if len(block_statuses) == 1 else ""


def pain002_read(content):
    """The bank's Customer Payment Status Report (pain.002.001.03), as a pay.StatusReport
    for pay.status_report_apply. The file comes from outside: anything not exactly such a
    report is refused with a ValidationError that says what is wrong, before anything is
    changed."""
    if not content or not content.strip():
        raise _refused("filen är tom")
    if len(content) > MAX_STATUS_REPORT_BYTES:
        raise _refused(f"filen är större än {MAX_STATUS_REPORT_BYTES // (1024 * 1024)} MB")
    root = _parse_report(content)
    _check_message_type(root)
    report = root.find("p:CstmrPmtStsRpt", _P)
    if report is None:
        raise _refused("filen saknar själva statusrapporten (CstmrPmtStsRpt)")
    original = _text(report, "p:OrgnlGrpInfAndSts/p:OrgnlMsgId")
    if not original:
        raise _refused("rapporten säger inte vilken betalfil den gäller (OrgnlMsgId saknas)")
    return pay.StatusReport(
        original_message_id=original, group_status=_group_status(report), transactions=_transactions(report)
    )
