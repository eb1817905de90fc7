"""What every service shares: locking, transitions with permission checks, the audit row."""

import hashlib
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

from ..models import Application, CaseEvent, Document


def lock(model, pk):
    """Re-read a row under SELECT … FOR UPDATE. Must run inside transaction.atomic()."""
    return model.objects.select_for_update().get(pk=pk)


def lock_application(application):
    return Application.objects.select_for_update().select_related("call__programme__committee", "organisation").get(
        pk=application.pk
    )


def transition(obj, name, *, by, what, args=(), kwargs=None):
    """Run the transition `name` on obj for the acting user, or refuse in Swedish.

    `what` completes the sentence "det går inte att …", e.g. "attestera utbetalningen".
    """
    bound = getattr(obj, name)
    if not bound.can_proceed():
        raise ValidationError(
            f"Det går inte att {what} nu: ärendet har status ”{obj.get_status_display()}”."
        )
    if not bound.has_perm(by):
        raise PermissionDenied(f"Du har inte behörighet att {what} i det här ärendet.")
    return bound(*args, **(kwargs or {}))


def record_event(application, *, by, action, from_state="", to_state="", note=""):
    return CaseEvent.objects.create(
        application=application, actor=by if by and by.is_authenticated else None,
        action=action, from_state=from_state, to_state=to_state, note=note,
    )


def store_file(*, application, folder, filename, content):
    """Save bytes under a key that is new every time, so a stored file is never overwritten.
    Returns (storage key, sha256). Runs outside any lock: uploads are slow."""
    safe_name = get_valid_filename(filename)[-120:] or "fil"
    key = f"cases/{application.pk}/{folder}/{uuid.uuid4().hex}-{safe_name}"
    digest = hashlib.sha256(content).hexdigest()
    stored_key = default_storage.save(key, ContentFile(content))
    return stored_key, digest


def document_register(*, application, kind, filename, content_type, content, by, version=1):
    """Store a file and register it on the case. If the database write fails, the file
    is removed again, so nothing is left half-created."""
    key, digest = store_file(application=application, folder=kind, filename=filename, content=content)
    try:
        return Document.objects.create(
            application=application, kind=kind, filename=filename, content_type=content_type,
            size=len(content), sha256=digest, storage_key=key, author=by, version=version,
        )
    except Exception:
        default_storage.delete(key)
        raise


def read_verified(document):
    """The stored bytes of a document, after checking them against the recorded SHA-256."""
    with default_storage.open(document.storage_key, "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise ValidationError("Filen stämmer inte med sin kontrollsumma och lämnas inte ut. Kontakta handläggaren.")
    return content
