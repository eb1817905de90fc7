"""The administrator's pages for a person's register extract under GDPR article 15
(/staff/registerutdrag/…): find the person by user name or e-mail address, see what is held
about them, and download it as a PDF/A letter or a JSON file. Every download is written to
the audit trail (grants.records.personal_data.personal_data_extract_record).

The data is gathered by grants.records.personal_data; this module, on the documents side
of the layering, makes the PDF of it."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from grants import access
from grants.records import personal_data
from grants.web import file_response

from .letters import render_pdf

administrators_only = access.required(
    access.may_extract_personal_data, "Registerutdrag om en person tas fram av systemförvaltaren."
)

FORMATS = ("pdf", "json")


class SearchForm(forms.Form):
    q = forms.CharField(
        label="E-postadress eller användarnamn",
        max_length=254,
        help_text="Personen som begär utdraget. Utan konto söks e-postadressen bland föreningar och diariet.",
        error_messages={"required": "Skriv en e-postadress eller ett användarnamn."},
    )


def extract_pdf(data: dict[str, Any]) -> bytes:
    """The extract as a PDF/A letter from the committees that hold the data (no query: what
    the letter names of them is in the data)."""
    controllers = data["extract"]["controllers"]
    with translation.override("sv"):  # the letter is in Swedish whoever asks for it
        html = render_to_string(
            "documents/personal_data.html",
            {
                "data": data,
                "subject": data["extract"]["subject"],
                "sender": controllers[0] if controllers else None,
                "today": timezone.localdate(),
            },
        )
    return render_pdf(html)


def _filename(data: dict[str, Any], file_format: str) -> str:
    subject = data["extract"]["subject"]
    who = subject["username"] or subject["email"].replace("@", "-at-")
    return f"registerutdrag-{who}-{timezone.localdate():%Y-%m-%d}.{file_format}"


def _download(request: HttpRequest, data: dict[str, Any], file_format: str, *, person=None, email="") -> HttpResponse:
    if file_format not in FORMATS:
        raise Http404
    assert isinstance(request.user, User)
    personal_data.personal_data_extract_record(
        by=request.user, person=person, email=email, file_format=file_format, request=request
    )
    if file_format == "pdf":
        return file_response(extract_pdf(data), filename=_filename(data, "pdf"), content_type="application/pdf")
    return file_response(
        personal_data.extract_json(data),
        filename=_filename(data, "json"),
        content_type="application/json; charset=utf-8",
    )


@require_GET
@administrators_only
def extract_search(request):
    """The search form; a search that finds one account leads to its extract, an e-mail
    address without an account to what is held about the address."""
    form = SearchForm(request.GET or None)
    found: list[User] = []
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"].strip()
        found = personal_data.person_find(query)
        if len(found) == 1:
            return redirect("personal_data:person", found[0].pk)
        if not found:
            try:
                validate_email(query)
            except ValidationError:
                form.add_error("q", "Ingen person har det användarnamnet. Sök på e-postadressen i stället.")
            else:
                return redirect(reverse("personal_data:email") + "?" + urlencode({"epost": query}))
    return render(request, "records/personal_data_search.html", {"form": form, "found": found})


@require_GET
@administrators_only
def extract_person(request, pk):
    person = get_object_or_404(get_user_model(), pk=pk)
    data = personal_data.personal_data_collect(person=person)
    return _result(request, data, files=[reverse("personal_data:person_file", args=[pk, f]) for f in FORMATS])


@require_POST
@administrators_only
def extract_person_file(request, pk, file_format):
    person = get_object_or_404(get_user_model(), pk=pk)
    data = personal_data.personal_data_collect(person=person)
    return _download(request, data, file_format, person=person)


def _email(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise Http404 from None
    return value


@require_GET
@administrators_only
def extract_email(request):
    email = _email(request.GET.get("epost", ""))
    data = personal_data.personal_data_collect_by_email(email=email)
    return _result(request, data, files=[reverse("personal_data:email_file", args=[f]) for f in FORMATS], email=email)


@require_POST
@administrators_only
def extract_email_file(request, file_format):
    email = _email(request.POST.get("epost", ""))
    data = personal_data.personal_data_collect_by_email(email=email)
    return _download(request, data, file_format, email=email)


def _result(request, data, *, files, email=""):
    return render(
        request,
        "records/personal_data_result.html",
        {
            "data": data,
            "subject": data["extract"]["subject"],
            "summary": personal_data.extract_summary(data),
            "cases": data.get("applications", []),
            "pdf_url": files[0],
            "json_url": files[1],
            "email": email,
        },
    )


urlpatterns = [
    path("", extract_search, name="search"),
    path("person/<int:pk>/", extract_person, name="person"),
    path("person/<int:pk>/<str:file_format>/", extract_person_file, name="person_file"),
    path("epost/", extract_email, name="email"),
    path("epost/<str:file_format>/", extract_email_file, name="email_file"),
]
