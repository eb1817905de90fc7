"""Messages in a case between the officer and the applicant, and the staff's internal notes.

A message is part of the case record: a CaseMessage row, its attachments as Documents of
kind "message", and a CaseEvent ("Meddelande till sökande" / "Meddelande från sökande"), all
in one transaction; nothing is edited or deleted afterwards. The officer's message reaches
the applicant's members by e-mail (grants.notifications, after commit) without its text,
which may hold personal details: the e-mail says there is a message and where to read it.
The applicant's message becomes a notice to the case's handler (grants.staff_notices).

An internal note ("Intern anteckning") is for staff only: it never shows in the portal, in
the thread or in the history (grants.portal.views.INTERNAL_EVENTS).

Who may: an officer or decision maker who works in the case's committee and has not
declared jäv (staff_may_write); any staff member who may see the case adds notes and reads
the thread (staff_may_read); a confirmed member of the applying organisation writes from the
portal once the application is submitted (applicant_may_write).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, limits
from ..models import Application, CaseMessage, Document, StaffNotice
from ..notifications import lazy_interpolate, notify_applicant
from ..staff_notices import notice_create
from ..validators import validate_upload
from ._base import discard_file, document_create, record_event, store_file

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..files import Stored, Upload

# At most so many files with one message.
MAX_FILES = 5
TO_APPLICANT = "Meddelande till sökande"
FROM_APPLICANT = "Meddelande från sökande"
NOTE = "Intern anteckning"
# The case history's note: the start of the text, so that the history reads on its own.
EVENT_NOTE_CHARS = 80
# Where applicants may not write: before the application has reached the municipality.
NOT_SENT = (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR)
WRITE_ROLES = "Bara handläggare och beslutsfattare skriver till den sökande."


# --- who may ----------------------------------------------------------------------------------


def staff_may_read(user: User, application: Application) -> access.Answer:
    """Staff who may see the case (a role, its committee, no jäv) read its messages and notes
    and add notes."""
    if not access.is_staff_member(user):
        return access.refused(access.no_permission())
    in_scope = access.may_see_case(user, application)
    if not in_scope:
        return in_scope
    return access.may_take_part(user, application)


def staff_may_write(user: User, application: Application) -> access.Answer:
    """An officer or decision maker who may see the case writes to the applicant."""
    if not access.is_case_handler(user):
        return access.refused(WRITE_ROLES)
    return staff_may_read(user, application)


def applicant_may_write(user: User, application: Application) -> access.Answer:
    """A confirmed member of the applying organisation, once the application is submitted."""
    member = access.is_applicant(user, application)
    if not member:
        return access.refused(_("Du kan bara skriva i din egen förenings ärenden."))
    if application.status in NOT_SENT:
        return access.refused(_("Ansökan är inte inskickad än. Meddelanden kan skrivas när den har kommit in."))
    return access.ALLOWED


# --- the actions ------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError(_("Skriv ett meddelande."), code="empty")
    if len(body) > limits.LONG_TEXT:
        raise ValidationError(
            _("Högst %(limit)s tecken; texten har %(count)s. Korta den.")
            % {"limit": limits.LONG_TEXT, "count": len(body)},
            code="too_long",
        )
    return body


def _check_files(files: Sequence[Upload]) -> None:
    """The same checks as every upload (type, size, real content): a caller that did not use
    the form's UploadField gets them too."""
    if len(files) > MAX_FILES:
        raise ValidationError(
            _("Högst %(max)s filer per meddelande.") % {"max": MAX_FILES},
            code="too_many_files",
        )
    for upload in files:
        validate_upload(ContentFile(upload.content, name=upload.filename), max_mb=settings.GRANTS_UPLOAD_MAX_MB)


def _event_note(body: str, files: Sequence[Upload]) -> str:
    """The history's short note, in Swedish whatever the writer's language (it is the record)."""
    note = Truncator(" ".join(body.split())).chars(EVENT_NOTE_CHARS)
    if files:
        names = ", ".join(upload.filename for upload in files)
        note += f" ({len(files)} {'bilaga' if len(files) == 1 else 'bilagor'}: {names})"
    return note


def message_send(*, application: Application, by: User, body: str, files: Sequence[Upload] = ()) -> CaseMessage:
    """Write a message in the case: by a member of the applying organisation (from the portal)
    or by an officer (from the case page). Files are stored first, outside the transaction
    (uploads are slow), and removed again if the message is refused."""
    application = Application.objects.select_related("call__programme", "organisation").get(pk=application.pk)
    from_applicant = bool(access.is_applicant(by, application))
    access.require(applicant_may_write(by, application) if from_applicant else staff_may_write(by, application))
    body = _clean_body(body)
    files = list(files)
    _check_files(files)
    stored: list[Stored] = []
    try:
        for upload in files:
            stored.append(
                store_file(
                    application=application,
                    folder=Document.Kind.MESSAGE,
                    filename=upload.filename,
                    content=upload.content,
                )
            )
        with transaction.atomic():
            message = CaseMessage.objects.create(
                application=application,
                kind=CaseMessage.Kind.MESSAGE,
                author=by,
                from_staff=not from_applicant,
                body=body,
            )
            documents = [
                document_create(application=application, kind=Document.Kind.MESSAGE, upload=upload, stored=key, by=by)
                for upload, key in zip(files, stored, strict=True)
            ]
            if documents:
                Document.objects.filter(pk__in=[d.pk for d in documents]).update(message=message)
            record_event(
                application,
                by=by,
                action=FROM_APPLICANT if from_applicant else TO_APPLICANT,
                note=_event_note(body, files),
            )
            if from_applicant:
                notice_create(application=application, kind=StaffNotice.Kind.MESSAGE)
            else:
                # Answering is reading: the applicant's earlier messages count as read.
                messages_mark_read(application=application, from_staff=False)
                _mail_applicant(application)
    except BaseException:
        for key, _digest in stored:
            discard_file(key)
        raise
    return message


def _mail_applicant(application: Application) -> None:
    """The applicant's members are told there is a message, not what it says: the text may
    hold personal details, and e-mail is not the place for them. Required: it may ask them
    to act."""
    path = f"/portal/ansokningar/{application.pk}/#meddelanden"
    notify_applicant(
        application,
        subject=gettext_lazy("Nytt meddelande från handläggaren"),
        body=lazy_interpolate(
            gettext_lazy(
                "Du har fått ett meddelande i ärendet %(case)s. Logga in i bidragsportalen för att läsa det:\n%(url)s"
            ),
            case=application.case_number,
            url=f"{settings.SITE_URL}{path}",
        ),
        required=True,
    )


def note_add(*, application: Application, by: User, body: str) -> CaseMessage:
    """An internal note in the case: staff only, never shown to the applicant."""
    application = Application.objects.select_related("call__programme", "organisation").get(pk=application.pk)
    access.require(staff_may_read(by, application))
    body = _clean_body(body)
    with transaction.atomic():
        note = CaseMessage.objects.create(
            application=application, kind=CaseMessage.Kind.NOTE, author=by, from_staff=True, body=body
        )
        record_event(application, by=by, action=NOTE, note=_event_note(body, ()))
    return note


def messages_mark_read(*, application: Application, from_staff: bool) -> int:
    """The other side has read the messages: the officer's when the applicant opens the case
    page, the applicant's when an officer answers. Returns how many were new."""
    return CaseMessage.objects.filter(
        application=application, kind=CaseMessage.Kind.MESSAGE, from_staff=from_staff, read_at__isnull=True
    ).update(read_at=timezone.now())
