"""A programme's required attachments (Programme.required_attachments, issue 18): the
administrator's configuration is checked in Swedish; the applicant uploads a file for each in
the "Bilagor" step; a submission without a required one is refused naming it; the check page
lists them with their files or "saknas"; the officer's completeness task shows a checklist."""

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grants.models import Application, Document
from grants.services import apply

from .. import factories
from ..staff import claim, task_page

pytestmark = pytest.mark.django_db

ATTACHMENTS = [
    {"key": "budget", "label": "Projektbudget", "label_en": "Project budget", "required": True},
    {"key": "stadgar", "label": "Stadgar", "required": True},
    {"key": "cv", "label": "Projektledarens CV", "required": False},
]


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def call_with_attachments(inclusion_call):
    inclusion_call.programme.required_attachments = ATTACHMENTS
    inclusion_call.programme.save()
    return inclusion_call


@pytest.fixture
def draft(anna, fisksatra, call_with_attachments):
    return factories.draft(call_with_attachments, fisksatra, anna)


def pdf(name):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


def attach(application, by, key, name, pdf_bytes):
    return apply.application_attach(
        application=application,
        by=by,
        filename=name,
        content_type="application/pdf",
        content=pdf_bytes,
        attachment_key=key,
    )


# --- the configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, message",
    [
        ({"key": "budget"}, "Ange en lista med bilagor"),
        ([{"label": "Projektbudget", "required": True}], 'Bilaga 1: "key" saknas.'),
        ([{"key": "Projekt budget", "label": "Projektbudget"}], 'Bilaga 1 (”Projekt budget”): "key" får bara'),
        ([{"key": "budget", "label": " "}], 'Bilaga 1 (”budget”): "label" saknas.'),
        (
            [{"key": "budget", "label": "Budget"}, {"key": "budget", "label": "Budget igen"}],
            'Bilaga 2 (”budget”): "key" används redan av bilaga 1.',
        ),
        ([{"key": "budget", "label": "Budget", "required": "ja"}], '"required" ska vara true eller false.'),
        ([{"key": "budget", "label": "Budget", "lable_en": "x"}], "okänd uppgift lable_en"),
        (["budget"], "Bilaga 1: ange bilagan som ett objekt"),
    ],
)
def test_a_malformed_configuration_is_refused_at_the_field_in_swedish(inclusion_call, config, message):
    programme = inclusion_call.programme
    programme.required_attachments = config
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    errors = refused.value.message_dict["required_attachments"]
    assert any(message in error for error in errors), errors


def test_a_good_configuration_is_saved(inclusion_call):
    programme = inclusion_call.programme
    programme.required_attachments = ATTACHMENTS
    programme.save()
    programme.refresh_from_db()
    assert [item["key"] for item in programme.required_attachments] == ["budget", "stadgar", "cv"]


# --- submission -------------------------------------------------------------------------------


def test_submit_is_refused_naming_each_missing_required_attachment(anna, draft, pdf_bytes):
    assert "Bifoga Projektbudget." in apply.check_submittable(draft)
    assert "Bifoga Stadgar." in apply.check_submittable(draft)
    assert not any("CV" in problem for problem in apply.check_submittable(draft))
    with pytest.raises(ValidationError) as refused:
        apply.application_submit(application=draft, by=anna)
    assert "Bifoga Projektbudget." in refused.value.messages
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT and not draft.case_number

    # A file that is not the budget does not count as it.
    apply.application_attach(
        application=draft, by=anna, filename="annat.pdf", content_type="application/pdf", content=pdf_bytes
    )
    attach(draft, anna, "stadgar", "stadgar.pdf", pdf_bytes)
    assert [p for p in apply.check_submittable(draft) if p.startswith("Bifoga")] == ["Bifoga Projektbudget."]

    attach(draft, anna, "budget", "budget.pdf", pdf_bytes)
    application = apply.application_submit(application=draft, by=anna)
    assert application.case_number
    keys = sorted(
        Document.objects.filter(application=application, kind="attachment").values_list("attachment_key", flat=True)
    )
    assert keys == ["", "budget", "stadgar"]


def test_a_file_for_an_attachment_the_programme_does_not_ask_for_is_refused(anna, draft, pdf_bytes):
    with pytest.raises(ValidationError):
        attach(draft, anna, "protokoll", "protokoll.pdf", pdf_bytes)
    assert not Document.objects.filter(application=draft).exists()


# --- the portal -------------------------------------------------------------------------------


def test_the_applicant_uploads_a_file_for_each_attachment_and_the_check_page_lists_them(client, anna, draft):
    client.force_login(anna)
    url = reverse("portal:step", args=[draft.pk, "bilagor"])
    page = text(client.get(url))
    assert "Projektbudget" in page and "Stadgar" in page and "saknas" in page
    # The first attachment still missing is the one chosen.
    assert re.search(r'<input type="radio" name="attachment_key" value="budget"[^>]*checked', page)

    response = client.post(url, {"attachment_key": "budget", "attachment": pdf("budget.pdf"), "action": "attach"})
    assert response.status_code == 302
    assert Document.objects.get(application=draft).attachment_key == "budget"
    page = text(client.get(url))
    assert re.search(r'<input type="radio" name="attachment_key" value="stadgar"[^>]*checked', page)
    client.post(url, {"attachment_key": "", "attachment": pdf("bilder.pdf"), "action": "attach"})

    check = text(client.get(reverse("portal:step", args=[draft.pk, "granska"])))
    assert "Projektbudget: budget.pdf" in check
    assert "Stadgar: <strong>saknas</strong>" in check
    assert "bilder.pdf" in check
    assert "Bifoga Stadgar." in check

    response = client.post(reverse("portal:submit", args=[draft.pk]), follow=True)
    assert "Bifoga Stadgar." in text(response)
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT

    client.post(url, {"attachment_key": "stadgar", "attachment": pdf("stadgar.pdf"), "action": "attach"})
    client.post(reverse("portal:submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == Application.Status.SUBMITTED


def test_the_attachment_is_named_in_english_for_an_english_reader(client, anna, draft):
    client.force_login(anna)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(reverse("portal:step", args=[draft.pk, "bilagor"])))
    assert "Project budget" in page


def test_the_officer_sees_a_checklist_in_the_completeness_task(client, anna, olle, draft, pdf_bytes):
    attach(draft, anna, "budget", "budget.pdf", pdf_bytes)
    attach(draft, anna, "stadgar", "stadgar.pdf", pdf_bytes)
    application = apply.application_submit(application=draft, by=anna)
    client.force_login(olle)
    claim(client, application, "check_completeness")
    page = text(task_page(client, application, "check_completeness"))
    assert "Bilagor som bidragsformen ber om" in page
    assert re.search(r"✓</span> Projektbudget: <a [^>]*>budget.pdf</a>", page)
    assert re.search(r"✓</span> Stadgar: <a [^>]*>stadgar.pdf</a>", page)
    assert "Projektledarens CV: <strong>saknas</strong> (frivillig)" in page
