"""The case's file store: a file is stored under a key that is new every time, read back only
if it still matches its SHA-256, and removed again when the row that would register it is never
written. Services, documents and the portal share it; what a file means to a case (its Document
row) is the services' business."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from .models import Application, Document

log = logging.getLogger("grants.storage")


# What a file store raises when it cannot be reached or refuses: the local disk raises
# OSError, S3 the botocore errors.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
# Marked, not translated, here: the refusal translates it when it is raised, in the request's language.
STORE_DOWN = gettext_noop(
    "Filen kunde inte sparas just nu eftersom fillagringen inte svarar. Försök igen om en stund. Inget har sparats."
)


class StoreUnavailable(OSError):
    """The file store could not be read. An OSError, as a local disk's failure would be."""


class Upload(NamedTuple):
    """A received file: its name as the sender gave it, its checked media type, its bytes."""

    filename: str
    content_type: str
    content: bytes


# What store_file() returns: the storage key and the SHA-256 of the bytes stored under it.
Stored = tuple[str, str]


def store_file(
    *, application: Application | None = None, folder: str, filename: str, content: bytes, under: str | None = None
) -> Stored:
    """Save bytes under a key that is new every time, so a stored file is never overwritten.
    Returns (storage key, sha256). Runs outside any transaction, as uploads are slow, except
    for payment files, which must never exist without their batch (documents.payment_files). A file
    for a case not yet created (application None) is stored under cases/new/; a file that
    belongs to no case (a payment file) under `under`.

    If the store cannot take the file this is the one place that says so, in the request's language, as a
    ValidationError: callers show it like any other refusal, never as a server error."""
    safe_name = get_valid_filename(filename)[-120:] or "fil"
    case = application.pk if application is not None and application.pk else "new"
    key = f"{under or f'cases/{case}'}/{folder}/{uuid.uuid4().hex}-{safe_name}"
    digest = hashlib.sha256(content).hexdigest()
    try:
        stored_key = default_storage.save(key, ContentFile(content))
    except STORAGE_ERRORS as exc:
        log.warning("Storing %s failed: %s: %s", key, type(exc).__name__, exc)
        raise ValidationError(_(STORE_DOWN), code="store_unavailable") from exc
    return stored_key, digest


def discard_file(key: str) -> None:
    """Remove a stored file that was never registered. A failure is logged, not raised,
    so that the error which made us discard it is the one the caller sees."""
    try:
        default_storage.delete(key)
    except STORAGE_ERRORS:
        log.exception("Could not remove the unregistered file %s", key)


def delete_file(key: str) -> None:
    """Remove a registered file for good (gallring). Unlike discard_file() a failure is
    raised (one of STORAGE_ERRORS), so that the caller leaves the row as it was. A file that
    is already gone is no error: the local disk and S3 both accept deleting it again."""
    try:
        default_storage.delete(key)
    except STORAGE_ERRORS as exc:
        log.warning("Deleting %s failed: %s: %s", key, type(exc).__name__, exc)
        raise


@contextmanager
def discarded_on_failure(stored: Stored | None) -> Iterator[None]:
    """Around the transaction that registers a stored file: if it fails, the file goes again.
    stored: what store_file() returned, or None."""
    try:
        yield
    except BaseException:
        if stored:
            discard_file(stored[0])
        raise


def read_verified(document: Document) -> bytes:
    """The stored bytes of a document, after checking them against the recorded SHA-256.
    Raises StoreUnavailable (an OSError) if the store cannot give them."""
    return read_stored(document.storage_key, document.sha256)


def read_stored(key: str, sha256: str) -> bytes:
    """The bytes stored under key, if they still match their SHA-256."""
    try:
        with default_storage.open(key, "rb") as handle:
            content = handle.read()
    except STORAGE_ERRORS as exc:
        log.warning("Reading %s failed: %s: %s", key, type(exc).__name__, exc)
        raise StoreUnavailable(f"{key}: {exc}") from exc
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ValidationError(_("Filen stämmer inte med sin kontrollsumma och lämnas inte ut. Kontakta handläggaren."))
    return content
