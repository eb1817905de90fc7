"""The attachments step's "Ta bort" buttons: remove a file from one's own draft.
The step itself is in views.py; this view only removes and goes back to it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..models import Document
from ..selectors import application_for_user
from ..services.attachments import attachment_remove
from ..web import refusal_to_messages


@login_required
@require_POST
def attachment_delete(request, pk, document_pk):
    application = application_for_user(request.user, pk)
    # A second click, or another tab, may have removed it already: say so on the step.
    document = Document.objects.filter(pk=document_pk, application=application).first() or Document(
        pk=document_pk, application_id=application.pk
    )
    try:
        filename = attachment_remove(document, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        refusal_to_messages(request, exc)
    else:
        messages.success(request, _("Filen %(name)s är borttagen från ansökan.") % {"name": filename})
    return redirect("portal:step", pk=application.pk, step="bilagor")
