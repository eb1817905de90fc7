"""The register's pages. Public (/diarium/): anyone searches the register by case number,
date and text, and reads or downloads (PDF/A) the register extract of one case; an entry
covered by secrecy shows only that it exists, and a private person's name is never shown.
Staff (/staff/arenden/<pk>/diarium/): the case's whole register, where an officer marks an
entry as covered by secrecy (with its OSL paragraph) or removes the marking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from grants import access
from grants.models import Application
from grants.portal.paging import page_of
from grants.web import refusal_to_messages

from . import register
from .models import RegisterEntry

if TYPE_CHECKING:
    from django.http import HttpRequest

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Diarienummer eller text"),
        required=False,
        max_length=100,
        help_text=_("T.ex. KFN 2026/0012, en förenings namn eller ett ord i beskrivningen."),
    )
    date_from = forms.DateField(label=_("Från och med"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("Till och med"), required=False, widget=DATE)
    direction = forms.ChoiceField(
        label=_("Riktning"),
        required=False,
        choices=[("", _("Alla")), *RegisterEntry.Direction.choices],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Slutdatumet kan inte ligga före startdatumet."))
        return data


def public_entries() -> QuerySet[RegisterEntry]:
    return RegisterEntry.objects.select_related("application").exclude(application__case_number="")


def _text_filter(q: str) -> Q:
    """Text matches what the public may see: the case number, a description that is not
    secret, a counterpart that is neither secret nor a private person."""
    shown_name = Q(secret=False, anonymised_at=None) & ~Q(counterpart_kind=RegisterEntry.Counterpart.PRIVATE_PERSON)
    return (
        Q(application__case_number__icontains=q)
        | Q(secret=False, description__icontains=q)
        | shown_name & Q(counterpart__icontains=q)
    )


def search(form: SearchForm) -> QuerySet[RegisterEntry]:
    entries = public_entries()
    if not form.is_valid():
        return entries.none()
    data = form.cleaned_data
    if data["q"].strip():
        entries = entries.filter(_text_filter(data["q"].strip()))
    if data["date_from"]:
        entries = entries.filter(registered_at__date__gte=data["date_from"])
    if data["date_to"]:
        entries = entries.filter(registered_at__date__lte=data["date_to"])
    if data["direction"]:
        entries = entries.filter(direction=data["direction"])
    return entries.order_by("-registered_at", "-pk")


@require_GET
def register_search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    entries = search(form) if form.is_bound else public_entries().order_by("-registered_at", "-pk")
    return render(
        request,
        "records/diarium.html",
        {"form": form, "page": page_of(entries, request), "searched": form.is_bound},
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


def public_case(pk: int) -> Application:
    return get_object_or_404(
        Application.objects.exclude(case_number="").select_related("call__programme__committee"), pk=pk
    )


@require_GET
def register_case(request: HttpRequest, pk: int) -> HttpResponse:
    application = public_case(pk)
    entries = list(application.register_entries.order_by("registered_at", "pk"))
    return render(request, "records/diarium_case.html", {"application": application, "entries": entries})


# --- staff -------------------------------------------------------------------------------------------


class SecrecyForm(forms.Form):
    secrecy_ground = forms.CharField(label="Sekretessbestämmelse", max_length=100, help_text="T.ex. OSL 26 kap. 1 §.")


case_handlers_only = access.required(access.is_case_handler)


def _staff_case(request: HttpRequest, pk: int) -> Application:
    application = get_object_or_404(Application.objects.select_related("call__programme__committee"), pk=pk)
    access.require(access.may_see_case(request.user, application))
    access.require(access.may_read_case_details(request.user, application))
    return application


@require_GET
@case_handlers_only
def staff_register(request: HttpRequest, pk: int) -> HttpResponse:
    application = _staff_case(request, pk)
    entries = list(
        application.register_entries.select_related("secrecy_marked_by", "document").order_by("registered_at", "pk")
    )
    return render(
        request,
        "records/staff_register.html",
        {"application": application, "entries": entries, "form": SecrecyForm()},
    )


@require_POST
@case_handlers_only
def staff_secrecy(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    application = _staff_case(request, pk)
    entry = get_object_or_404(RegisterEntry, pk=entry_pk, application=application)
    assert isinstance(request.user, User)  # behind case_handlers_only
    try:
        if request.POST.get("action") == "unmark":
            register.entry_unmark_secret(entry=entry, by=request.user)
            messages.success(request, "Sekretessmarkeringen är borttagen.")
        else:
            register.entry_mark_secret(entry=entry, by=request.user, ground=request.POST.get("secrecy_ground", ""))
            messages.success(request, "Handlingen är sekretessmarkerad i det allmänna diariet.")
    except ValidationError as exc:
        refusal_to_messages(request, exc)
    return redirect("records_staff:register", pk=application.pk)


app_name = "diarium"
urlpatterns = [
    path("", register_search, name="search"),
    path("arende/<int:pk>/", register_case, name="case"),
]

staff_urlpatterns = (
    [
        path("<int:pk>/diarium/", staff_register, name="register"),
        path("<int:pk>/diarium/<int:entry_pk>/sekretess/", staff_secrecy, name="secrecy"),
    ],
    "records_staff",
)
