"""What every service shares: locking, transitions with permission checks, the audit row, the file store."""

import hashlib
import logging
import uuid
from contextlib import contextmanager
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..events import in_swedish
from ..models import Application, CaseEvent, Document

log = logging.getLogger("grants.storage")


def lock(model, pk):
    """Re-read a row under SELECT … FOR UPDATE. Must run inside transaction.atomic()."""
    return model.objects.select_for_update().get(pk=pk)


def lock_application(application):
    return Application.objects.select_for_update().select_related("call__programme__committee", "organisation").get(
        pk=application.pk
    )


class _Writes:
    """An execute wrapper that notes whether a row was written."""

    def __init__(self):
        self.seen = False

    def __call__(self, execute, sql, params, many, context):
        if not self.seen and sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.seen = True
        return execute(sql, params, many, context)


@contextmanager
def service_transaction():
    """A service's transaction. Called on its own it is one. Inside another (the flow's lock
    around a step) it joins that one instead of opening a savepoint, which costs two round
    trips and buys nothing when the service refuses, as ours do, before it writes: the staff
    task view then shows the refusal and its transaction goes on as if the service had not
    been called. Should anything fail after a write, the caller's transaction is marked for
    rollback, as a failed block without a savepoint is, so that half a step never commits."""
    if not connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    writes, callbacks = _Writes(), len(connection.run_on_commit)
    with connection.execute_wrapper(writes):
        try:
            yield
        except BaseException:
            if writes.seen or len(connection.run_on_commit) > callbacks:
                transaction.set_rollback(True)
            raise


def transition(obj, name, *, by, what, args=(), kwargs=None):
    """Run the transition `name` on obj for the acting user, or refuse in the language of the
    request (Swedish by default: an applicant who chose English reads the refusal in English).

    `what` completes the sentence "det går inte att …" and is marked for translation, e.g.
    _("attestera utbetalningen"); the model's `status_subject` (lazy) names what has the status.
    """
    bound = getattr(obj, name)
    if not bound.can_proceed():
        raise ValidationError(_("Det går inte att %(what)s nu: %(subject)s har status ”%(status)s”.") % {
            "what": what, "subject": getattr(obj, "status_subject", None) or _("ärendet"),
            "status": obj.get_status_display()})
    if not bound.has_perm(by):
        raise PermissionDenied(_("Du har inte behörighet att %(what)s i det här ärendet.") % {"what": what})
    return bound(*args, **(kwargs or {}))


def record_event(application, *, by, action, from_state="", to_state="", note=""):
    """Write the case's history row. It is kept in Swedish whatever the request's language: a
    lazy action or note (built with format_lazy from a choice's label) is written in Swedish.
    The portal shows the action translated (CaseEvent.label, grants.events)."""
    return CaseEvent.objects.create(
        application=application, actor=by if by and by.is_authenticated else None,
        action=in_swedish(action), from_state=from_state, to_state=to_state, note=in_swedish(note),
    )


# What a file store raises when it cannot be reached or refuses: the local disk raises
# OSError, S3 the botocore errors.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
# Marked, not translated, here: the refusal translates it when it is raised, in the request's language.
STORE_DOWN = gettext_noop("Filen kunde inte sparas just nu eftersom fillagringen inte svarar. Försök igen om en "
                          "stund. Inget har sparats.")


class StoreUnavailable(OSError):
    """The file store could not be read. An OSError, as a local disk's failure would be."""


class Upload(NamedTuple):
    """A received file: its name as the sender gave it, its checked media type, its bytes."""

    filename: str
    content_type: str
    content: bytes


def store_file(*, application=None, folder, filename, content, under=None):
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


def discard_file(key):
    """Remove a stored file that was never registered. A failure is logged, not raised,
    so that the error which made us discard it is the one the caller sees."""
    try:
        default_storage.delete(key)
    except STORAGE_ERRORS:
        log.exception("Could not remove the unregistered file %s", key)


@contextmanager
def discarded_on_failure(stored):
    """Around the transaction that registers a stored file: if it fails, the file goes again.
    stored: what store_file() returned, or None."""
    try:
        yield
    except BaseException:
        if stored:
            discard_file(stored[0])
        raise


def document_create(*, application, kind, upload, stored, by, version=1):
    """The Document row for an upload that store_file() has stored."""
    key, digest = stored
    return Document.objects.create(
        application=application, kind=kind, filename=upload.filename, content_type=upload.content_type,
        size=len(upload.content), sha256=digest, storage_key=key, author=by, version=version,
    )


def read_verified(document):
    """The stored bytes of a document, after checking them against the recorded SHA-256.
    Raises StoreUnavailable (an OSError) if the store cannot give them."""
    return read_stored(document.storage_key, document.sha256)


def read_stored(key, sha256):
    """The bytes stored under key, if they still match their SHA-256."""
    try:
        with default_storage.open(key, "rb") as handle:
            content = handle.read()
    except STORAGE_ERRORS as exc:
        log.warning("Reading %s failed: %s: %s", key, type(exc).__name__, exc)
        raise StoreUnavailable(f"{key}: {exc}") from exc
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ValidationError(_("Filen stämmer inte med sin kontrollsumma och lämnas inte ut. Kontakta "
                                "handläggaren."))
    return content
