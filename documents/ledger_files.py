"""Ledger files (bokföringsfiler): the vouchers for the accounting system, as SIE 4I.

    ledger_file_create   every voucher not yet sent → a LedgerFile with its stored SIE file
    ledger_file_read     the file read back, checksum verified, for download
    sie_file             the SIE 4I text of vouchers (PC8, CRLF)

Written as strict importers read SIE 4: `#VER serie vernr verdatum "vertext" regdatum`, each
`#TRANS konto {objektlista} belopp transdat "transtext"`, the committee as cost centre and
the programme as project in the dimensions settings name (#DIM, #OBJEKT). Every text is
turned into IBM code page 437 by transliteration, never by "?".
"""

import re
from contextlib import ExitStack
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from stdnum.se import orgnr

from grants.files import discarded_on_failure, read_stored, store_file
from grants.services import ledger
from grants.validators import cp437_text

# SIE import files end in .si by the SIE convention (.se is for exports); PC8 is IBM code page 437.
SUFFIX, CONTENT_TYPE = ".si", "text/plain; charset=IBM437"

# In an SIE file a line break or tab inside a text would end the record.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _text(text, limit=200):
    """A quoted SIE field, in code page 437. The SIE spec escapes a quote with a backslash;
    a backslash of our own would then be read as an escape, so it is written as a slash."""
    cleaned = " ".join(_CONTROL.sub(" ", cp437_text(text)).split())[:limit].strip()
    return '"' + cleaned.replace("\\", "/").replace('"', '\\"') + '"'


def _amount(value):
    return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"


def _objects(line):
    """The line's object list: {cost-centre dimension "KFN" project dimension "PROJ"}."""
    pairs = [
        (settings.ACCOUNTING_COST_CENTRE_DIMENSION, line.cost_centre),
        (settings.ACCOUNTING_PROJECT_DIMENSION, line.project),
    ]
    return "{" + " ".join(f"{dimension} {_text(code, 20)}" for dimension, code in sorted(pairs) if code) + "}"


def _registers(vouchers):
    """The #KONTO, #DIM and #OBJEKT records the vouchers' lines refer to."""
    accounts = {
        settings.ACCOUNTING_BANK_ACCOUNT: {"Bank"},
        settings.ACCOUNTING_RECEIVABLE_ACCOUNT: {"Fordringar: återkrav av bidrag"},
    }
    cost_centres, projects = {}, {}
    for voucher in vouchers:
        for line in voucher.booked:
            programme = line.application.call.programme
            if line.account not in (settings.ACCOUNTING_BANK_ACCOUNT, settings.ACCOUNTING_RECEIVABLE_ACCOUNT):
                accounts.setdefault(line.account, set()).add(f"Bidrag: {programme.name}")
            cost_centres[line.cost_centre] = programme.committee.name
            projects[line.project] = programme.name
    records = [
        f"#KONTO {account} {_text(', '.join(sorted(names)), 100)}" for account, names in sorted(accounts.items())
    ]
    cost, project = settings.ACCOUNTING_COST_CENTRE_DIMENSION, settings.ACCOUNTING_PROJECT_DIMENSION
    records += [f'#DIM {cost} "Kostnadsställe"', f'#DIM {project} "Projekt"']
    records += [f"#OBJEKT {cost} {_text(code, 20)} {_text(name, 100)}" for code, name in sorted(cost_centres.items())]
    records += [f"#OBJEKT {project} {_text(code, 20)} {_text(name, 100)}" for code, name in sorted(projects.items())]
    return records


def sie_file(ledger_file, vouchers):
    """The vouchers as one SIE 4I file. Each voucher carries its series, number, date, text
    and registration date, and balances to exactly zero (checked again here: a file that
    would not balance is never written)."""
    lines = [
        "#FLAGGA 0",
        "#FORMAT PC8",
        "#SIETYP 4",
        '#PROGRAM "Bidragssystemet" 1.0',
        f"#GEN {timezone.localtime(ledger_file.created_at):%Y%m%d}",
        f"#FNAMN {_text(settings.PAYER_NAME)}",
        f"#ORGNR {orgnr.format(settings.PAYER_ORGNR)}",
        *_registers(vouchers),
    ]
    for voucher in vouchers:
        if sum((line.amount for line in voucher.booked), Decimal("0")) != 0:
            raise ValidationError(f"Verifikation {voucher} balanserar inte. Ingen bokföringsfil har skapats.")
        day = f"{voucher.date:%Y%m%d}"
        lines += [
            f"#VER {voucher.series} {voucher.number} {day} {_text(voucher.text)} {voucher.registered_on:%Y%m%d}",
            "{",
        ]
        lines += [
            f"   #TRANS {line.account} {_objects(line)} {_amount(line.amount)} {day} {_text(line.text)}"
            for line in voucher.booked
        ]
        lines.append("}")
    return ("\r\n".join(lines) + "\r\n").encode("cp437")


def ledger_file_create(*, by):
    """Put every voucher not yet sent into a new ledger file and store its SIE file, all or
    nothing: if anything fails (the file store too) there is no ledger file, the vouchers
    wait for the next one and no stored file remains."""
    with ExitStack() as undo, transaction.atomic():
        ledger_file, vouchers = ledger.ledger_file_create(by=by)
        stored = store_file(
            folder="bokforingsfiler",
            under=f"ledger/{ledger_file.reference}",
            filename=f"{ledger_file.reference}{SUFFIX}",
            content=sie_file(ledger_file, vouchers),
        )
        undo.enter_context(discarded_on_failure(stored))
        ledger.ledger_file_attach(ledger_file=ledger_file, stored=stored)
    return ledger_file


def ledger_file_read(ledger_file):
    """(file name, media type, bytes) of the stored SIE file, checked against its SHA-256."""
    return f"{ledger_file.reference}{SUFFIX}", CONTENT_TYPE, read_stored(ledger_file.key, ledger_file.sha256)
