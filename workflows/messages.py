"""The staff's side of a case's messages and notes, and the staff's e-mail setting.

- POST /staff/arenden/<pk>/meddelande/: write to the applicant (with files);
- POST /staff/arenden/<pk>/anteckning/: add an internal note;
  both go back to the case page (?next=, a page of this site) with a confirmation, or with
  the refusal and the text kept for the form (the session) so that nothing typed is lost.
  The thread and the two forms are drawn on the case page by `{% case_messages application %}`
  (workflows/templatetags/case_messages.py, templates/workflows/_case_messages.html).
- /staff/installningar/: how she hears of her cases by e-mail (immediate, daily, off).

Who may is grants.services.messages' rule (role, committee, jäv); the services say why not.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import RedirectView
from viewflow.urls import Application as MenuEntry

from grants import access, limits
from grants.fields import text_field
from grants.files import Upload
from grants.models import Application, StaffSettings
from grants.portal.forms import MessageForm
from grants.services import messages as service
from grants.staff_notices import case_path
from grants.web import refusal_messages

# Where the text of a refused message or note waits for the form (a session key per case and form).
DRAFT_KEY = "case_messages:{pk}:{form}"
# The forms' prefixes: their fields' ids stay apart from the task form's on the case page.
MESSAGE_PREFIX = "meddelande"
NOTE_PREFIX = "anteckning"


class NoteForm(forms.Form):
    body = text_field("Intern anteckning", rows=3, max_length=limits.LONG_TEXT)


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # behind login_required
    return request.user


def _case(pk: int) -> Application:
    return get_object_or_404(Application.objects.select_related("call__programme", "organisation"), pk=pk)


def _back(request: HttpRequest, application: Application) -> HttpResponseRedirect:
    """To ?next= when it is a page of this site, else to the case page, at the messages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = case_path(application)
    return redirect(f"{target.split('#')[0]}#meddelanden")


def _refused(request: HttpRequest, application: Application, form: str, body: str, exc: Exception) -> HttpResponse:
    request.session[DRAFT_KEY.format(pk=application.pk, form=form)] = body
    if isinstance(exc, ValidationError | PermissionDenied):
        for message in refusal_messages(exc):
            messages.error(request, message)
    return _back(request, application)


def _upload(uploaded: Any) -> Upload:
    return Upload(filename=uploaded.name, content_type=uploaded.checked_content_type, content=uploaded.read())


@login_required
@require_POST
def message_send(request: HttpRequest, pk: int) -> HttpResponse:
    application = _case(pk)
    user = _person(request)
    access.require(service.staff_may_write(user, application))  # an applicant writes from the portal
    form = MessageForm(request.POST, request.FILES, prefix=MESSAGE_PREFIX)
    if not form.is_valid():
        errors = ValidationError([error for errors in form.errors.values() for error in errors])
        return _refused(request, application, "message", request.POST.get(f"{MESSAGE_PREFIX}-body", ""), errors)
    try:
        service.message_send(
            application=application,
            by=user,
            body=form.cleaned_data["body"],
            files=[_upload(uploaded) for uploaded in form.cleaned_data["files"]],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, application, "message", form.cleaned_data["body"], exc)
    messages.success(request, f"{application.case_number}: meddelandet är skickat till den sökande.")
    return _back(request, application)


@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _case(pk)
    user = _person(request)
    access.require(service.staff_may_read(user, application))
    form = NoteForm(request.POST, prefix=NOTE_PREFIX)
    if not form.is_valid():
        errors = ValidationError([error for errors in form.errors.values() for error in errors])
        return _refused(request, application, "note", request.POST.get(f"{NOTE_PREFIX}-body", ""), errors)
    try:
        service.note_add(application=application, by=user, body=form.cleaned_data["body"])
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, application, "note", form.cleaned_data["body"], exc)
    messages.success(request, f"{application.case_number}: anteckningen är sparad. Den syns inte för den sökande.")
    return _back(request, application)


case_urls = (
    [
        path("meddelande/", message_send, name="message"),
        path("anteckning/", note_add, name="note"),
    ],
    "case_messages",
)


# --- the staff's e-mail setting ----------------------------------------------------------------


class StaffSettingsForm(forms.ModelForm):
    class Meta:
        model = StaffSettings
        fields = ["email"]
        widgets = {"email": forms.RadioSelect}
        labels = {"email": "E-post om mina ärenden"}


@require_http_methods(["GET", "POST"])
@access.required(access.works_in_staff_interface, "Inställningarna är till för kommunens personal.")
def settings_edit(request: HttpRequest) -> HttpResponse:
    user = _person(request)
    current = StaffSettings.objects.filter(user=user).first() or StaffSettings(user=user)
    form = StaffSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        StaffSettings.objects.update_or_create(user=user, defaults={"email": form.cleaned_data["email"]})
        messages.success(request, "Dina inställningar är sparade.")
        return redirect("staff_settings:edit")
    return render(request, "workflows/staff_settings.html", {"form": form}, status=400 if form.is_bound else 200)


settings_urls = ([path("", settings_edit, name="edit")], "staff_settings")


class StaffSettingsMenu(MenuEntry):
    """The staff menu's way to the e-mail setting (every staff member)."""

    title = "Mina inställningar"
    icon = "settings"
    turbo_disabled = True
    permission = staticmethod(access.works_in_staff_interface)
    index_path = path("", RedirectView.as_view(pattern_name="staff_settings:edit"), name="index")
