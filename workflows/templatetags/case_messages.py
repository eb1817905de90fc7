"""`{% case_messages application %}`: a case's messages and internal notes as staff see them on
the case page, with the forms to write to the applicant and to add a note. A fixed number of
queries however many messages (the messages with their authors, their files, and the access
checks)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User

from grants import access
from grants.models import Application, CaseMessage
from grants.portal.forms import MessageForm
from grants.services import messages as service
from workflows.messages import DRAFT_KEY, MESSAGE_PREFIX, NOTE_PREFIX, NoteForm

register = template.Library()


@register.inclusion_tag("workflows/_case_messages.html", takes_context=True)
def case_messages(context: template.Context, application: Application) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"application": application, "refusal": "Logga in för att se meddelandena."}
    may_read = service.staff_may_read(user, application)
    if not may_read:
        return {"application": application, "refusal": may_read.reason}
    # May read, so may write if her role does (staff_may_write without asking again).
    may_write = access.is_case_handler(user) or access.refused(service.WRITE_ROLES)
    session = getattr(request, "session", None)
    drafts = {
        form: session.pop(DRAFT_KEY.format(pk=application.pk, form=form), "") if session is not None else ""
        for form in ("message", "note")
    }
    thread = list(
        CaseMessage.objects.filter(application=application)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )
    return {
        "application": application,
        "case_messages": thread,
        "may_write": bool(may_write),
        "write_refusal": "" if may_write else may_write.reason,
        "message_form": MessageForm(initial={"body": drafts["message"]}, prefix=MESSAGE_PREFIX),
        "note_form": NoteForm(initial={"body": drafts["note"]}, prefix=NOTE_PREFIX),
        "next": request.get_full_path() if request is not None else "",
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
