"""One way to show a refusal and one way to hand out a file (grants.web), and every page that
hands out a file does it that way: named in UTF-8 and ASCII, never cached, never sniffed."""

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from grants.files import StoreUnavailable
from grants.models import LedgerFile, OrganisationFile
from grants.services import apply
from grants.web import (
    error_summary,
    file_response,
    refusal_messages,
    refusal_to_form,
    refusal_to_messages,
    stored_file_response,
)

from .. import factories

SWEDISH_NAME = "Beslut Fisksätra IF åäö.pdf"
NO_PERMISSION = "Du har inte behörighet att göra detta."
STORE_DOWN = "Filen kan inte hämtas just nu eftersom fillagringen inte svarar. Försök igen om en stund."


class ReportForm(forms.Form):
    sessions = forms.IntegerField(label="Antal träffar")
    outcome = forms.CharField(label="Resultat")


def sent(**data):
    form = ReportForm({"sessions": "12", "outcome": "Bra", **data})
    assert form.is_valid()
    return form


# --- a refusal on the form -----------------------------------------------------------------


def test_a_refusal_by_field_lands_at_the_fields_the_form_has_and_the_rest_at_the_top():
    form = sent()
    refusal_to_form(
        form,
        ValidationError(
            {"sessions": ["Minst en träff."], "budget": ["Budgeten saknas."], NON_FIELD_ERRORS: ["Ansökan är stängd."]}
        ),
    )
    assert form.errors["sessions"] == ["Minst en träff."]
    assert form.non_field_errors() == ["Budgeten saknas.", "Ansökan är stängd."]


def test_a_refusal_as_a_list_lands_at_the_top_of_the_form():
    form = sent()
    refusal_to_form(form, ValidationError(["Utlysningen är stängd.", "Beloppet är för högt."]))
    assert form.non_field_errors() == ["Utlysningen är stängd.", "Beloppet är för högt."]
    assert "sessions" not in form.errors


def test_a_bare_permission_denied_says_the_person_may_not_in_her_language():
    form = sent()
    refusal_to_form(form, PermissionDenied())
    assert form.non_field_errors() == [NO_PERMISSION]
    with translation.override("en"):
        assert refusal_messages(PermissionDenied()) == ["You are not allowed to do this."]
    assert refusal_messages(PermissionDenied("Bara ekonomi får attestera.")) == ["Bara ekonomi får attestera."]


def test_a_refusal_can_go_to_a_named_field_or_to_a_section_of_its_own():
    form = sent()
    refusal_to_form(form, ValidationError("Datumet ligger i framtiden."), at="outcome")
    assert form.errors["outcome"] == ["Datumet ligger i framtiden."]

    form = sent()
    aside = refusal_to_form(
        form,
        ValidationError({"sessions": ["För få."], "cost_lines": ["Summan stämmer inte."]}),
        set_aside={"cost_lines"},
    )
    assert form.errors["sessions"] == ["För få."]
    assert aside == {"cost_lines": ["Summan stämmer inte."]} and not form.non_field_errors()


def test_only_what_a_refusal_says_about_a_key_when_it_names_it():
    refusal = ValidationError({"board": ["Minst 3 personer."], "name": ["Namnet saknas."]})
    assert refusal_messages(refusal, about="board") == ["Minst 3 personer."]
    assert refusal_messages(ValidationError("Något annat."), about="board") == ["Något annat."]


def test_a_refusal_without_a_form_becomes_messages():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    refusal_to_messages(request, ValidationError(["Första.", "Andra."]))
    refusal_to_messages(request, PermissionDenied())
    assert [str(message) for message in get_messages(request)] == ["Första.", "Andra.", NO_PERMISSION]


# --- the error summary -----------------------------------------------------------------------


class BoardMemberForm(forms.Form):
    name = forms.CharField(label="Namn")
    role = forms.CharField(label="Roll")


def test_the_error_summary_links_every_error_to_its_input():
    form = ReportForm({"sessions": "många", "outcome": "Bra"})
    form.is_valid()
    form.add_error(None, "Ansökan är stängd.")
    formset = forms.formset_factory(BoardMemberForm, extra=2)(
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-name": "Anna",
            "form-0-role": "",
            "form-1-name": "Bo",
            "form-1-role": "kassör",
        },
        prefix="form",
    )
    formset.is_valid()
    formset._non_form_errors = formset.error_class(["Minst 3 personer."], error_class="nonform")

    assert error_summary(form) == [
        (None, "", "Ansökan är stängd."),
        ("id_sessions", "Antal träffar", "Fyll i ett heltal."),
    ]
    assert error_summary(formset=formset, formset_what="Styrelsen") == [
        ("id_form-0-name", "Styrelsen", "Minst 3 personer."),
        ("id_form-0-role", "Styrelsen, rad 1: Roll", "Detta fält måste fyllas i."),
    ]
    assert error_summary(ReportForm()) == []


# --- one file response -------------------------------------------------------------------


def test_a_file_with_a_swedish_name_is_named_in_utf8_and_in_ascii():
    response = file_response(b"%PDF-1.4\n", filename=SWEDISH_NAME, content_type="application/pdf")
    assert response["Content-Disposition"] == (
        'attachment; filename="Beslut Fisksatra IF aao.pdf"; '
        "filename*=UTF-8''Beslut%20Fisks%C3%A4tra%20IF%20%C3%A5%C3%A4%C3%B6.pdf"
    )
    assert response["Content-Type"] == "application/pdf" and response["Content-Length"] == "9"
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"


def test_a_file_name_cannot_break_out_of_its_header():
    response = file_response(
        "a;b",
        filename='x"; y\r\nSet-Cookie: a=b/ä.csv',
        content_type="text/csv; charset=utf-8",
        disposition="inline",
        cache="public, max-age=3600",
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename=\"x_; y__Set-Cookie: a=b/a.csv\"; filename*=UTF-8''")
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("''")[1]
    assert unquote(disposition.split("''")[1]) == 'x"; y\r\nSet-Cookie: a=b/ä.csv'
    assert response["Cache-Control"] == "public, max-age=3600" and response["Content-Length"] == "3"
    with pytest.raises(ValueError):
        file_response(b"", filename="a.pdf", content_type="application/pdf", disposition="form-data")


def test_a_changed_file_is_refused_and_a_store_that_is_down_is_said_so_in_the_readers_language(rf):
    def changed():
        raise ValidationError("Filen stämmer inte med sin kontrollsumma.")

    def down():
        raise StoreUnavailable("store down")

    request = rf.get("/")
    request.user = AnonymousUser()
    response = stored_file_response(request, changed)
    assert response.status_code == 409 and "kontrollsumma" in response.content.decode()
    with translation.override("en"):
        response = stored_file_response(request, down)
    assert response.status_code == 503 and "the file storage is not responding" in response.content.decode()


# --- every page that hands out a file uses it ---------------------------------------------


def assert_not_kept(response, filename=None):
    assert response.status_code == 200, response.content[:500]
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))
    if filename is not None:
        assert unquote(response["Content-Disposition"].split("filename*=UTF-8''")[1]) == filename


@pytest.mark.django_db
def test_the_case_document_download_is_not_kept_in_any_cache(client, anna, fisksatra, inclusion_call, pdf_bytes):
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=today,
        period_end=today,
        stated_amount=1000,
        budget_lines=[],
    )
    document = apply.application_attach(
        application=draft, by=anna, filename=SWEDISH_NAME, content_type="application/pdf", content=pdf_bytes
    )
    client.force_login(anna)
    assert_not_kept(client.get(reverse("document", args=[document.pk])), SWEDISH_NAME)


@pytest.mark.django_db
def test_the_case_document_download_says_the_store_is_down_in_english_too(
    client, anna, fisksatra, inclusion_call, pdf_bytes
):
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=today,
        period_end=today,
        stated_amount=1000,
        budget_lines=[],
    )
    document = apply.application_attach(
        application=draft, by=anna, filename="budget.pdf", content_type="application/pdf", content=pdf_bytes
    )
    default_storage.delete(document.storage_key)  # the local store's way of not answering: an OSError
    client.force_login(anna)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("document", args=[document.pk]))
    assert response.status_code == 503 and "the file storage is not responding" in response.content.decode()


@pytest.mark.django_db
def test_an_organisation_file_download_is_not_kept_in_any_cache(client, anna, fisksatra, pdf_bytes):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/dokument/",
        {
            "file-kind": "statutes",
            "file-file": SimpleUploadedFile(SWEDISH_NAME, pdf_bytes, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    assert_not_kept(client.get(f"/portal/forening/dokument/{OrganisationFile.objects.get().pk}/"), SWEDISH_NAME)


@pytest.mark.django_db
def test_finance_files_are_not_kept_in_any_cache(client, anna, olle, fia, fisksatra, inclusion_call):
    from ..documents.test_ledger_files import attest_and_file

    granted = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    client.force_login(fia)
    payment = granted.payments.get(status="planned")
    batch = attest_and_file(client, [payment.pk], execution_date=timezone.localdate())
    download = client.get(reverse("finance:batch_file", args=[batch.pk, "pain001"]))
    assert_not_kept(download)
    assert hashlib.sha256(download.content).hexdigest() == batch.pain001_sha256

    response = client.post(
        reverse("finance:batch_mark", args=[batch.pk]), {"payments": [payment.pk], "outcome": "paid"}
    )
    assert response.status_code == 302
    assert client.post(reverse("finance:ledger_files")).status_code == 302
    assert_not_kept(client.get(reverse("finance:ledger_file", args=[LedgerFile.objects.get().pk])))


@pytest.mark.django_db
def test_report_exports_are_not_kept_and_public_open_data_is_kept_an_hour(client, today):
    client.force_login(factories.user("lena", role="Ledning", first_name="Lena"))
    for name in ("reports:xlsx", "reports:csv", "reports:pdf", "reports:open_data_json", "reports:open_data_csv"):
        assert_not_kept(client.get(reverse(name), {"year": today.year}))
    public = Client().get(reverse("open_data:json", args=[today.year]))
    assert public.status_code == 200 and public["Content-Disposition"].startswith("inline; ")
    assert public["Cache-Control"] == "public, max-age=3600" and public["X-Content-Type-Options"] == "nosniff"


# --- no near-copies come back ------------------------------------------------------------------

PACKAGES = ("grants", "workflows", "documents", "config")


def sources():
    for package in PACKAGES:
        for path in sorted((Path(settings.BASE_DIR) / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_content_disposition_is_written_only_by_the_file_helper():
    helper = Path(settings.BASE_DIR) / "grants" / "web.py"
    found = [
        str(path.relative_to(settings.BASE_DIR))
        for path in sources()
        if path != helper and re.search(r"Content-Disposition|FileResponse", path.read_text(), re.I)
    ]
    assert found == [], "build file responses with grants.web.file_response"


def test_views_leave_reading_a_refusal_to_the_refusal_helper():
    views = [
        path
        for path in sources()
        if path.parts[-2] != "services" and path.name != "models.py" and path.name != "web.py"
    ]
    found = [
        str(path.relative_to(settings.BASE_DIR))
        for path in views
        if re.search(r"\bexc\.(messages|message_dict|error_dict)\b|str\(exc\)", path.read_text())
    ]
    assert found == [], "show refusals with grants.web.refusal_to_form / refusal_to_messages"


@pytest.mark.parametrize(
    "text, home", [(NO_PERMISSION, "grants/access.py"), (STORE_DOWN.split(". ")[0], "grants/web.py")]
)
def test_the_no_permission_and_store_down_texts_are_written_once(text, home):
    found = [
        str(path.relative_to(settings.BASE_DIR))
        for path in sources()
        if text in " ".join(re.sub(r'"\s*\n\s*"', "", path.read_text()).split())
    ]
    assert found == [home]
