"""The register (diarium, OSL 5 kap.): every document and message that comes in to a case,
goes out from it or is drawn up in it is registered with its date, direction, counterpart,
case number and a short description.

Registration follows what happens to the case (records.signals connects it): a file
(Document) once the case has been submitted, a message to or from the applicant, the
application itself, a completion answer, a follow-up report, and every e-mail to the
applicant. A draft is the applicant's own: it is registered when it comes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from grants import access
from grants.events import in_swedish
from grants.models import Application, CaseMessage, Document, Organisation
from grants.services.history import record_event

from .models import RegisterEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

NOT_YET_RECEIVED = (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR)

INCOMING_KINDS = (Document.Kind.ATTACHMENT, Document.Kind.COMPLETION, Document.Kind.FOLLOW_UP)

# CaseEvent actions that are registered (the document itself has no file of its own).
EVENT_ENTRIES = {
    "Komplettering inkommen": (RegisterEntry.Direction.INCOMING, "Svar på begäran om komplettering"),
    "Återrapport inlämnad": (RegisterEntry.Direction.INCOMING, "Återrapport"),
    "Komplettering begärd": (RegisterEntry.Direction.OUTGOING, "Begäran om komplettering"),
}


def _applicant(application: Application) -> tuple[str, str]:
    return _counterpart_of(application.organisation)


def _counterpart_of(organisation: Organisation) -> tuple[str, str]:
    """The applicant as counterpart: an association by name; an informal group is a few
    private persons, whose names the public register never shows."""
    if organisation.kind == Organisation.Kind.INFORMAL_GROUP:
        return organisation.name, RegisterEntry.Counterpart.PRIVATE_PERSON
    return organisation.name, RegisterEntry.Counterpart.ASSOCIATION


def entry_add(
    application: Application,
    *,
    direction: str,
    description: str,
    document: Document | None = None,
    message: CaseMessage | None = None,
    counterpart: tuple[str, str] | None = None,
) -> RegisterEntry:
    if counterpart is None:
        if direction == RegisterEntry.Direction.DRAWN_UP:
            counterpart = (application.call.programme.committee.name, RegisterEntry.Counterpart.MUNICIPALITY)
        else:
            counterpart = _applicant(application)
    name, kind = counterpart
    return RegisterEntry.objects.create(
        application=application,
        direction=direction,
        counterpart=name[:200],
        counterpart_kind=kind,
        description=description[:300],
        document=document,
        message=message,
    )


def _document_direction(document: Document) -> str:
    if document.kind in Document.DRAWN_UP:
        return RegisterEntry.Direction.DRAWN_UP
    if document.kind in Document.SENT_BY_MUNICIPALITY:
        return RegisterEntry.Direction.OUTGOING
    if document.kind == Document.Kind.MESSAGE and document.message is not None and document.message.from_staff:
        return RegisterEntry.Direction.OUTGOING
    return RegisterEntry.Direction.INCOMING


def document_registered(document: Document) -> RegisterEntry | None:
    """Register a file of a submitted case (a draft's files are registered when it comes in)."""
    application = document.application
    if application.status in NOT_YET_RECEIVED:
        return None
    direction = _document_direction(document)
    description = in_swedish(Document.Kind(document.kind).label)
    if direction != RegisterEntry.Direction.INCOMING:
        # The municipality names its own documents; a sender's file name may name people, so the
        # public register shows only what kind of document came in (staff see the file).
        description = f"{description}: {document.filename}"
    return entry_add(application, direction=direction, description=description, document=document)


def application_registered(application: Application) -> None:
    """The application has come in: it is registered, with the files it came with."""
    entry_add(
        application,
        direction=RegisterEntry.Direction.INCOMING,
        description=f"Ansökan om {application.call.programme.name}: {application.title}",
    )
    for document in application.documents.filter(register_entries=None).order_by("pk"):
        document_registered(document)


def message_registered(message: CaseMessage) -> RegisterEntry | None:
    """A message between officer and applicant (an internal note is working material, not registered)."""
    if message.kind != CaseMessage.Kind.MESSAGE:
        return None
    direction = RegisterEntry.Direction.OUTGOING if message.from_staff else RegisterEntry.Direction.INCOMING
    description = "Meddelande till sökande" if message.from_staff else "Meddelande från sökande"
    return entry_add(message.application, direction=direction, description=description, message=message)


def emails_registered(notices: Sequence[tuple[Application, StrOrPromise]]) -> list[RegisterEntry]:
    """Register the e-mails sent to applicants, however many, in one insert."""
    received = [
        (application, subject)
        for application, subject in notices
        if application.status not in NOT_YET_RECEIVED and application.case_number
    ]
    organisations = Organisation.objects.in_bulk({application.organisation_id for application, _ in received})
    entries = []
    for application, subject in received:
        name, kind = _counterpart_of(organisations[application.organisation_id])
        entries.append(
            RegisterEntry(
                application=application,
                direction=RegisterEntry.Direction.OUTGOING,
                counterpart=name[:200],
                counterpart_kind=kind,
                description=f"E-post till sökande: {in_swedish(subject)}"[:300],
            )
        )
    return RegisterEntry.objects.bulk_create(entries)


def entry_mark_secret(*, entry: RegisterEntry, by: User, ground: str) -> RegisterEntry:
    """Mark a registration as covered by secrecy: the public register then shows only that it
    exists. The ground (the OSL paragraph) is required; the case's history records it."""
    access.require(access.is_case_handler(by))
    access.require(access.may_see_case(by, entry.application))
    ground = ground.strip()
    if not ground:
        raise ValidationError({"secrecy_ground": "Ange vilken sekretessbestämmelse som gäller, t.ex. OSL 26 kap. 1 §."})
    with transaction.atomic():
        entry = RegisterEntry.objects.select_for_update().get(pk=entry.pk)
        entry.secret = True
        entry.secrecy_ground = ground[:100]
        entry.secrecy_marked_by = by
        entry.save(update_fields=["secret", "secrecy_ground", "secrecy_marked_by"])
        record_event(
            entry.application,
            by=by,
            action="Sekretessmarkering",
            note=f"{entry.registered_at:%Y-%m-%d}: {entry.description} ({ground})",
        )
    return entry


def entry_unmark_secret(*, entry: RegisterEntry, by: User) -> RegisterEntry:
    access.require(access.is_case_handler(by))
    access.require(access.may_see_case(by, entry.application))
    with transaction.atomic():
        entry = RegisterEntry.objects.select_for_update().get(pk=entry.pk)
        entry.secret = False
        entry.secrecy_ground = ""
        entry.secrecy_marked_by = by
        entry.save(update_fields=["secret", "secrecy_ground", "secrecy_marked_by"])
        record_event(
            entry.application,
            by=by,
            action="Sekretessmarkering hävd",
            note=f"{entry.registered_at:%Y-%m-%d}: {entry.description}",
        )
    return entry
