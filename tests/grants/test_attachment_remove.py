"""Anna removes a file she attached to her draft by mistake: the row, the stored file and an
event; never a file of a sent application, a letter, or the association's profile file."""

import datetime as dt
import logging
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse

from grants.models import Application, CaseEvent, Document, OrganisationFile
from grants.services import apply
from grants.services.attachments import attachment_remove
from grants.services.organisations import Upload, organisation_file_add

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(anna, fisksatra, inclusion_call, today):
    return apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=120),
        stated_amount=Decimal("30000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("40000"))],
    )


@pytest.fixture
def statutes(draft, anna, pdf_bytes):
    return apply.application_attach(
        application=draft, by=anna, filename="stadgar.pdf", content_type="application/pdf", content=pdf_bytes
    )


def step_url(application):
    return reverse("portal:step", args=[application.pk, "bilagor"])


def remove_url(document):
    return reverse("portal:attachment_delete", args=[document.application_id, document.pk])


def test_anna_removes_a_file_from_her_draft(client, anna, draft, statutes, django_capture_on_commit_callbacks):
    client.force_login(anna)
    page = client.get(step_url(draft)).content.decode()
    # One form per file, with a token, and a button whose accessible name names the file.
    form = re.search(rf'<form method="post" action="{re.escape(remove_url(statutes))}"[^>]*>(.*?)</form>', page, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(1)
    assert re.sub(r"<[^>]+>", "", form.group(1)).split() == ["Ta", "bort", "stadgar.pdf"]
    assert default_storage.exists(statutes.storage_key)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(remove_url(statutes))
    assert response.status_code == 302 and response.url == step_url(draft)
    assert not Document.objects.filter(pk=statutes.pk).exists()
    assert not default_storage.exists(statutes.storage_key)
    event = CaseEvent.objects.filter(application=draft).latest("pk")
    assert (event.action, event.note, event.actor) == ("Fil borttagen", "stadgar.pdf", anna)
    page = client.get(response.url).content.decode()
    assert "Filen stadgar.pdf är borttagen från ansökan." in page and "Inga filer än." in page


def test_the_file_goes_from_the_store_only_after_commit(anna, statutes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment_remove(statutes, by=anna)
    assert default_storage.exists(statutes.storage_key) and len(callbacks) == 1
    callbacks[0]()
    assert not default_storage.exists(statutes.storage_key)


def test_a_store_that_is_down_is_logged_and_the_file_is_removed_all_the_same(
    anna, statutes, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(storage, key):
        raise OSError("the disk is gone")

    monkeypatch.setattr(FileSystemStorage, "delete", down)
    with caplog.at_level(logging.ERROR, logger="grants.storage"), django_capture_on_commit_callbacks(execute=True):
        attachment_remove(statutes, by=anna)
    assert not Document.objects.filter(pk=statutes.pk).exists()
    assert statutes.storage_key in caplog.text


def test_the_profile_files_stay_when_an_attachment_goes(
    anna, fisksatra, draft, statutes, pdf_bytes, django_capture_on_commit_callbacks
):
    profile = organisation_file_add(
        organisation=fisksatra,
        by=anna,
        kind=OrganisationFile.Kind.STATUTES,
        upload=Upload("stadgar.pdf", "application/pdf", pdf_bytes),
    )
    with django_capture_on_commit_callbacks(execute=True):
        attachment_remove(statutes, by=anna)
    assert OrganisationFile.objects.filter(pk=profile.pk).exists()
    assert default_storage.exists(profile.storage_key)


def test_eve_cannot_remove_annas_file(client, eve, statutes):
    client.force_login(eve)
    assert client.post(remove_url(statutes)).status_code == 404
    with pytest.raises(PermissionDenied):
        attachment_remove(statutes, by=eve)
    assert Document.objects.filter(pk=statutes.pk).exists()


def test_a_pending_member_cannot_remove_a_file(eve, fisksatra, statutes):
    factories.pending_member(eve, fisksatra)
    with pytest.raises(PermissionDenied):
        attachment_remove(statutes, by=eve)
    assert Document.objects.filter(pk=statutes.pk).exists()


def test_a_sent_applications_files_stay(client, anna, draft, statutes):
    apply.application_submit(application=draft, by=anna)
    with pytest.raises(ValidationError, match="redan inskickad"):
        attachment_remove(statutes, by=anna)
    client.force_login(anna)
    client.post(remove_url(statutes))
    assert Document.objects.filter(pk=statutes.pk).exists()
    assert default_storage.exists(statutes.storage_key)


def test_a_sponsor_awaiting_draft_is_no_draft(anna, draft, statutes):
    Application.objects.filter(pk=draft.pk).update(status=Application.Status.AWAITING_SPONSOR)
    with pytest.raises(ValidationError, match="redan inskickad"):
        attachment_remove(statutes, by=anna)


def test_only_attachments_can_be_removed(anna, draft, pdf_bytes):
    receipt = Document.objects.create(
        application=draft,
        kind=Document.Kind.RECEIPT,
        filename="kvitto.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        storage_key="k/1",
    )
    with pytest.raises(ValidationError, match="Bara bilagor"):
        attachment_remove(receipt, by=anna)
    assert Document.objects.filter(pk=receipt.pk).exists()


def test_removing_twice_says_the_file_is_gone(client, anna, statutes, django_capture_on_commit_callbacks):
    client.force_login(anna)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(remove_url(statutes))
    response = client.post(remove_url(statutes), follow=True)
    assert "Filen finns inte längre i ansökan." in response.content.decode()
    assert CaseEvent.objects.filter(action="Fil borttagen").count() == 1


def test_removing_needs_a_post(client, anna, statutes):
    client.force_login(anna)
    assert client.get(remove_url(statutes)).status_code == 405
    assert Document.objects.filter(pk=statutes.pk).exists()
