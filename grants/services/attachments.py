"""An applicant's files on a draft: removing one again before the application is sent.

Documents are stored once and never overwritten (grants.models.Document), because what the
municipality has received is a public record. A draft's attachment has not been received
yet: it is the applicant's own work in progress, so removing it removes the row and the
stored file. Once the application is sent its attachments stay, and a correction is a new
file. Files from the association's profile (OrganisationFile) are never touched here: they
are not the draft's rows, and every application reuses them."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import access
from ..models import Application, Document
from ._base import discard_file, lock_application, record_event


def attachment_remove(document: Document, *, by: User) -> str:
    """Remove an attachment from one's own organisation's draft: the Document row and its
    event in one transaction, under the draft's lock (so that it cannot be sent meanwhile);
    the stored file after commit. Returns the removed file's name."""
    with transaction.atomic():
        application = lock_application(Application(pk=document.application_id))
        access.require(
            access.is_applicant(by, application), _("Du kan bara ta bort filer i din egen förenings ansökningar.")
        )
        # Locked after the application, in the order the other services lock them.
        locked = Document.objects.select_for_update().filter(pk=document.pk, application=application).first()
        if locked is None:
            raise ValidationError(_("Filen finns inte längre i ansökan. Den kan redan vara borttagen."), code="gone")
        document = locked
        if document.kind != Document.Kind.ATTACHMENT:
            raise ValidationError(_("Bara bilagor som du själv har lagt till i ett utkast kan tas bort."), code="kind")
        if application.status != Application.Status.DRAFT:
            raise ValidationError(_("Ansökan är redan inskickad. Filerna i den finns kvar som de kom in."), code="sent")
        key, filename = document.storage_key, document.filename
        document.delete()
        record_event(application, by=by, action="Fil borttagen", note=filename)
        # If the store is down the file stays behind, unregistered: discard_file logs it.
        transaction.on_commit(lambda: discard_file(key))
    return filename
