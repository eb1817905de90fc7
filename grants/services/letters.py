"""What a letter the municipality sends means to its case: the Document row in the case's
register and the line in its history. documents/letters.py renders and stores the PDF; the
case's record of it is written here, like every other write to a case."""

from django.contrib.auth.models import User
from django.utils.text import format_lazy

from ..files import Stored, Upload
from ..models import Application, CaseEvent, Document
from ._base import document_create, record_event


def letter_register(
    *, application: Application, kind: str, filename: str, pdf: bytes, stored: Stored, by: User | None, version: int
) -> Document:
    """Register a stored letter on its case and write "<kind> skickat" into the history.
    Runs inside the caller's transaction, which decides whether the stored file is kept."""
    document = document_create(
        application=application,
        kind=kind,
        stored=stored,
        by=by,
        version=version,
        upload=Upload(filename, "application/pdf", pdf),
    )
    label = Document.Kind(kind).label
    if kind in Document.DRAWN_UP:
        record_event(application, by=by, action=format_lazy("{} upprättad", label), note=filename)
    else:
        record_event(application, by=by, action=format_lazy("{} skickat", label), note=filename)
    return document


def letter_failure_record(*, application: Application, kind: str, note: str) -> CaseEvent:
    """Write into the case's history that a letter could not be made, where staff see that it is
    missing: the step that caused the letter has committed and is not undone."""
    return record_event(
        application, by=None, action=format_lazy("{} kunde inte skapas", Document.Kind(kind).label), note=note
    )
