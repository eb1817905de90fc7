"""Validation of Swedish numbers and of programme configuration, and the character sets
that the banks and the accounting system accept.

Checksums come from python-stdnum; no hand-written Luhn.
"""

import re
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

from anyascii import anyascii
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr

RELEASES = ("decision", "follow_up")

# The characters the Swedish banks take in a pain.001 name: the ISO 20022 Latin set and å ä ö.
_BANK_CHARACTERS = re.compile(r"[a-zA-Z0-9 /\-?:().,'+åäöÅÄÖ]")
_BANK_TEXT = re.compile(r"[a-zA-Z0-9 /\-?:().,'+åäöÅÄÖ]*")
# Line breaks, tabs and other control characters separate words: they become spaces.
_SPACES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def _transliterated(char: str, keep: Callable[[str], object]) -> str:
    """char itself if `keep` says so, else its closest ASCII (anyascii): "Ø" → "O", "ł" → "l"."""
    if keep(char):
        return char
    return "och" if char == "&" else anyascii(char)


@lru_cache(maxsize=4096)
def bank_name(name: str | None) -> str:
    """A name as the banks accept it in a payment file, or "" if nothing meaningful is left:
    other letters transliterated ("Łódź" → "Lodz", "&" → "och"), other characters left out.
    Cached, and most names need no change: a payment file of 10 000 payments stays fast."""
    if _BANK_TEXT.fullmatch(name or ""):
        text = " ".join((name or "").split())
        return text if any(char.isalnum() for char in text) else ""
    text = "".join(_transliterated(char, _BANK_CHARACTERS.fullmatch) for char in _SPACES.sub(" ", name or ""))
    text = " ".join("".join(char for char in text if _BANK_CHARACTERS.fullmatch(char)).split())
    return text if any(char.isalnum() for char in text) else ""


def _in_cp437(char: str) -> bool:
    try:
        char.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


def cp437_text(text: str | None) -> str:
    """Text as an SIE file (PC8, IBM code page 437) can carry it: characters outside the code
    page transliterated ("Łódź" → "Lodz", "€" → "EUR"), never written as "?"."""
    return "".join(_transliterated(char, _in_cp437) for char in text or "")


def _digits(value: object) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def validate_orgnr(value: str) -> None:
    """An organisationsnummer: ten digits with a Luhn check digit, and digits 3–4 at least 20
    (which is what tells it apart from a personnummer)."""
    try:
        number = orgnr.validate(value)
    except StdnumError:
        raise ValidationError(
            _("Organisationsnumret %(value)s är inte giltigt. Skriv det som NNNNNN-NNNN och kontrollera siffrorna."),
            params={"value": value},
            code="invalid_orgnr",
        )
    if int(number[2:4]) < 20:
        raise ValidationError(
            _("%(value)s är inget organisationsnummer: tredje och fjärde siffran ska tillsammans vara minst 20."),
            params={"value": value},
            code="orgnr_is_personal",
        )


def format_orgnr(value: str) -> str:
    return orgnr.format(value)


def validate_bankgiro(value: str) -> None:
    digits = _digits(value)
    if len(digits) not in (7, 8) or not luhn.is_valid(digits):
        raise ValidationError(
            _("Bankgironumret %(value)s är inte giltigt (7–8 siffror med rätt kontrollsiffra, t.ex. 5050-1055)."),
            params={"value": value},
            code="invalid_bankgiro",
        )


def validate_plusgiro(value: str) -> None:
    digits = _digits(value)
    if not 2 <= len(digits) <= 8 or not luhn.is_valid(digits):
        raise ValidationError(
            _("Plusgironumret %(value)s är inte giltigt (2–8 siffror med rätt kontrollsiffra)."),
            params={"value": value},
            code="invalid_plusgiro",
        )


def validate_iban(value: str) -> None:
    try:
        IBAN(value)
    except SchwiftyException:
        raise ValidationError(
            _(
                "IBAN-numret %(value)s är inte giltigt. Kontrollera landskod, kontrollsiffror och längd "
                "(t.ex. SE45 5000 0000 0583 9825 7466)."
            ),
            params={"value": value},
            code="invalid_iban",
        )


def compact_account(scheme: str, value: str) -> str:
    """The account as a payment file writes it: digits only for bankgiro and plusgiro,
    the IBAN without spaces."""
    return IBAN(value).compact if scheme == "iban" else _digits(value)


def validate_payment_plan(plan: Any) -> None:
    """A payment plan is a list of parts that add up to 100 %; parts released after the
    follow-up report come after those released at the decision."""
    if not isinstance(plan, list) or not plan:
        raise ValidationError("Utbetalningsplanen måste vara en lista med minst en del.")
    total = 0
    seen_follow_up = False
    for index, part in enumerate(plan, start=1):
        if not isinstance(part, dict) or set(part) != {"percent", "release"}:
            raise ValidationError(f"Del {index}: ange exakt 'percent' och 'release'.")
        percent, release = part["percent"], part["release"]
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 < percent <= 100:
            raise ValidationError(f"Del {index}: andelen måste vara ett heltal mellan 1 och 100.")
        if release not in RELEASES:
            raise ValidationError(f"Del {index}: 'release' ska vara 'decision' eller 'follow_up'.")
        if release == "decision" and seen_follow_up:
            raise ValidationError("Delar som betalas vid beslut ska komma före delar som betalas efter återrapport.")
        seen_follow_up = seen_follow_up or release == "follow_up"
        total += percent
    if total != 100:
        raise ValidationError(f"Utbetalningsplanens delar blir {total} %, de ska bli 100 %.")


ALLOWED_UPLOADS = {
    # extension: (content type, the bytes a real file of that kind starts with)
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}


def validate_upload(uploaded: File, *, max_mb: int) -> str:
    """Check an uploaded file's size, name and first bytes. Returns its content type."""
    name = (uploaded.name or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension not in ALLOWED_UPLOADS:
        raise ValidationError(
            _("Filen %(name)s har en filtyp som inte tas emot. Ladda upp PDF, PNG eller JPEG."),
            params={"name": uploaded.name},
            code="file_type",
        )
    if uploaded.size > max_mb * 1024 * 1024:
        raise ValidationError(
            _("Filen %(name)s är för stor. Den största tillåtna storleken är %(max)s MB."),
            params={"name": uploaded.name, "max": max_mb},
            code="file_size",
        )
    content_type, signatures = ALLOWED_UPLOADS[extension]
    head = uploaded.read(16)
    uploaded.seek(0)
    if not any(head.startswith(signature) for signature in signatures):
        raise ValidationError(
            _("Filen %(name)s är inte en riktig %(ext)s-fil. Spara den på nytt och försök igen."),
            params={"name": uploaded.name, "ext": extension[1:].upper()},
            code="file_content",
        )
    return content_type


LOGO_MAX_BYTES = 1024 * 1024
LOGO_SIGNATURES = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}


def validate_logo(uploaded: File) -> str:
    """A committee's logo for its letters: a real PNG or JPEG (by its first bytes, whatever
    its name says) of at most 1 MB, that can be decoded as an image."""
    if uploaded.size > LOGO_MAX_BYTES:
        raise ValidationError(
            "Logotypen är för stor (%(size)s kB). Den får vara högst 1 MB.",
            params={"size": uploaded.size // 1024},
            code="logo_size",
        )
    head = uploaded.read(16)
    uploaded.seek(0)
    kind = next((name for name, signature in LOGO_SIGNATURES.items() if head.startswith(signature)), None)
    if kind is None:
        raise ValidationError(
            "Logotypen måste vara en PNG- eller JPEG-bild. Filen %(name)s är inte det.",
            params={"name": uploaded.name},
            code="logo_type",
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(uploaded) as image:
            image.verify()
            if image.format != kind:
                raise ValueError(image.format)
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(
            "Logotypen %(name)s går inte att läsa som bild. Spara den på nytt som PNG eller JPEG.",
            params={"name": uploaded.name},
            code="logo_broken",
        )
    finally:
        uploaded.seek(0)
    return f"image/{kind.lower()}"


def validate_choice_list(value: Any, *, allowed: Collection[str] | None = None) -> None:
    """A programme's list of choices: distinct non-empty strings, from `allowed` when given."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError('Ange en lista med texter, t.ex. ["Barn och unga", "Jämställdhet"].')
    if len(set(value)) != len(value):
        raise ValidationError("Listan innehåller samma val två gånger.")
    if allowed is not None:
        unknown = [item for item in value if item not in allowed]
        if unknown:
            raise ValidationError(f"Okända delar: {', '.join(unknown)}. Möjliga: {', '.join(allowed)}.")


def validate_eligibility_questions(value: Any) -> None:
    """[{"question": …, "answer": "ja"|"nej", "otherwise": …}]: the answer that qualifies,
    and what a visitor who answers otherwise is told."""
    if not isinstance(value, list):
        raise ValidationError("Ange en lista med frågor.")
    for index, item in enumerate(value, start=1):
        if (
            not isinstance(item, dict)
            or set(item) != {"question", "answer", "otherwise"}
            or not all(isinstance(item[key], str) and item[key].strip() for key in item)
        ):
            raise ValidationError(f"Fråga {index}: ange exakt 'question', 'answer' och 'otherwise' som texter.")
        if item["answer"] not in ("ja", "nej"):
            raise ValidationError(f"Fråga {index}: 'answer' ska vara 'ja' eller 'nej'.")


ATTACHMENT_KEY = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
ATTACHMENT_FIELDS = {"key", "label", "label_en", "required"}


def validate_required_attachments(value: Any) -> None:
    """A programme's required attachments: [{"key": "budget", "label": "Projektbudget",
    "label_en": "Project budget", "required": true}]. Keys are distinct slugs (what a stored
    file says it is, so they do not change once used), labels non-empty texts; every problem
    is reported, each naming its attachment by number."""
    if not isinstance(value, list):
        raise ValidationError(
            'Ange en lista med bilagor, t.ex. [{"key": "budget", "label": "Projektbudget", "required": true}].'
        )
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            problems.append(f'Bilaga {number}: ange bilagan som ett objekt med "key", "label" och "required".')
            continue
        key = item.get("key")
        name = f"Bilaga {number} (”{key}”)" if isinstance(key, str) and key.strip() else f"Bilaga {number}"
        unknown = sorted(str(k) for k in set(item) - ATTACHMENT_FIELDS)
        if unknown:
            problems.append(
                f"{name}: okänd uppgift {', '.join(unknown)}. Möjliga: {', '.join(sorted(ATTACHMENT_FIELDS))}."
            )
        if not isinstance(key, str) or not key.strip():
            problems.append(f'{name}: "key" saknas. Ange ett kort namn med a–z, siffror, - och _, t.ex. "budget".')
        elif not ATTACHMENT_KEY.match(key) or len(key) > 40:
            problems.append(
                f'{name}: "key" får bara innehålla små bokstäver a–z, siffror, - och _ (högst 40 tecken), '
                f't.ex. "projektbudget".'
            )
        elif key in seen:
            problems.append(f'{name}: "key" används redan av bilaga {seen[key]}. Varje bilaga behöver en egen.')
        else:
            seen[key] = number
        if not isinstance(item.get("label"), str) or not item["label"].strip():
            problems.append(f'{name}: "label" saknas. Skriv bilagans namn som den sökande ska se det.')
        if "label_en" in item and not isinstance(item["label_en"], str):
            problems.append(f'{name}: "label_en" ska vara en text.')
        if "required" in item and not isinstance(item["required"], bool):
            problems.append(f'{name}: "required" ska vara true eller false.')
    if problems:
        raise ValidationError(problems)
