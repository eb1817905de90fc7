"""A completion answer takes several files (issue 18): the portal's form has one input for
many files, each checked as every upload is; all are stored as the case's completion
documents, or none when one is refused."""

import os

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grants.models import Application, CaseEvent, Document
from grants.services import apply, assess
from grants.services._base import read_verified

from .. import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def stored_files(folder):
    return sorted(name for _, _, names in os.walk(folder) for name in names)


@pytest.fixture
def awaiting(anna, olle, fisksatra, inclusion_call, in_a_week):
    application = apply.application_submit(application=factories.draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completion_request(
        application=application, by=olle, message="Skicka protokollet och budgeten.", due_on=in_a_week
    )
    return Application.objects.get(pk=application.pk)


def upload(name, content, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_form_takes_several_files_in_one_input(client, anna, awaiting):
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[awaiting.pk])).content.decode()
    assert 'type="file" name="attachment" multiple' in page


def test_a_completion_answer_stores_every_file(client, anna, awaiting):
    client.force_login(anna)
    response = client.post(
        reverse("portal:completion", args=[awaiting.pk]),
        {
            "answer": "Här är protokollet och budgeten.",
            "attachment": [upload("protokoll.pdf", PDF), upload("budget.png", PNG, "image/png")],
        },
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == Application.Status.SUBMITTED
    documents = list(Document.objects.filter(application=awaiting, kind=Document.Kind.COMPLETION).order_by("filename"))
    assert [(d.filename, d.content_type) for d in documents] == [
        ("budget.png", "image/png"),
        ("protokoll.pdf", "application/pdf"),
    ]
    assert read_verified(documents[1]) == PDF and read_verified(documents[0]) == PNG
    assert awaiting.completion_requests.get().answer == "Här är protokollet och budgeten."
    notes = set(CaseEvent.objects.filter(application=awaiting, action="Fil bifogad").values_list("note", flat=True))
    assert {"protokoll.pdf", "budget.png"} <= notes


def test_one_refused_file_keeps_none_and_the_case_still_awaits_completion(client, anna, awaiting, media_root):
    files_before = stored_files(media_root)
    events_before = CaseEvent.objects.filter(application=awaiting).count()
    client.force_login(anna)
    response = client.post(
        reverse("portal:completion", args=[awaiting.pk]),
        {"answer": "Här.", "attachment": [upload("protokoll.pdf", PDF), upload("budget.pdf", b"GIF89a")]},
    )
    assert response.status_code == 400
    assert "Filen budget.pdf är inte en riktig PDF-fil." in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == Application.Status.AWAITING_COMPLETION
    assert not Document.objects.filter(application=awaiting, kind=Document.Kind.COMPLETION).exists()
    assert CaseEvent.objects.filter(application=awaiting).count() == events_before
    assert stored_files(media_root) == files_before


def test_the_service_keeps_no_file_when_the_answer_is_refused(anna, awaiting, media_root):
    files_before = stored_files(media_root)
    apply.completion_answer(
        application=awaiting,
        by=anna,
        answer="Svar.",
        files=[apply.Upload("a.pdf", "application/pdf", PDF), apply.Upload("b.pdf", "application/pdf", PDF)],
    )
    assert Document.objects.filter(application=awaiting, kind=Document.Kind.COMPLETION).count() == 2
    files_after = stored_files(media_root)
    assert len(files_after) == len(files_before) + 2
    # A second answer, from a page read before the first was sent: the files are stored before
    # the case is locked and found no longer awaiting a completion; then they go again.
    with pytest.raises(ValidationError):
        apply.completion_answer(
            application=awaiting,
            by=anna,
            answer="Igen.",
            files=[apply.Upload("c.pdf", "application/pdf", PDF)],
        )
    assert stored_files(media_root) == files_after
    assert Document.objects.filter(application=awaiting, kind=Document.Kind.COMPLETION).count() == 2
