"""The receipt (mottagningskvitto) of a submitted application: made in the background, so a
submit takes the same time whatever the application says; it appears on the case page and
goes out by e-mail to the association's confirmed members, each in their language, once it
is made; never twice."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from grants.models import ApplicantSettings, CaseEvent, Document, Membership
from grants.services import apply

from .. import factories
from ..grants.test_bad_input import make_draft
from .test_batches import run_queued_tasks

pytestmark = pytest.mark.django_db

BEING_MADE = "Mottagningskvittot skapas just nu. Det visas här och skickas med e-post när det är klart."


@pytest.fixture
def bilal(fisksatra):
    """Anna's fellow member in Fisksätra IF, who reads the portal in English."""
    person = factories.user("bilal", first_name="Bilal")
    Membership.objects.create(user=person, organisation=fisksatra)
    ApplicantSettings.objects.create(user=person, language="en")
    return person


def receipts(application):
    return Document.objects.filter(application=application, kind=Document.Kind.RECEIPT)


def test_the_receipt_is_mailed_to_every_confirmed_member_in_their_language(
    client, anna, bilal, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    application = make_draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    receipt = receipts(application).get()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"anna@example.se", "bilal@example.se"}
    swedish, english = by_recipient["anna@example.se"], by_recipient["bilal@example.se"]
    assert swedish.subject == f"{application.case_number}: Mottagningskvitto för er ansökan"
    assert "har tagit emot ansökan ”Läxhjälp” till Projektbidrag för inkludering" in swedish.body
    assert receipt.filename in swedish.body
    assert english.subject == f"{application.case_number}: Receipt for your application"
    assert "has received the application" in english.body
    assert CaseEvent.objects.filter(application=application, action="Mottagningskvitto skickat").count() == 1


@pytest.mark.task_queue
def test_a_submit_queues_the_receipt_and_the_worker_makes_and_mails_it_once(
    client, anna, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    application = make_draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 302
    # The submit is done: a case number, no receipt yet, no mail, nothing said to have been sent.
    application.refresh_from_db()
    assert application.status == "submitted" and application.case_number
    assert not receipts(application).exists() and mail.outbox == []
    assert not CaseEvent.objects.filter(application=application, action="Mottagningskvitto skickat").exists()
    page = client.get(response.url).content.decode()
    assert f"har fått diarienummer {application.case_number}" in page
    assert BEING_MADE in page

    with django_capture_on_commit_callbacks(execute=True):
        assert run_queued_tasks() == 1
    receipt = receipts(application).get()
    assert receipt.version == 1
    assert [message.to for message in mail.outbox] == [["anna@example.se"]]
    assert CaseEvent.objects.filter(application=application, action="Mottagningskvitto skickat").count() == 1
    page = client.get(response.url).content.decode()
    assert receipt.filename in page and BEING_MADE not in page

    # The same task again (a re-queue after a crash, say) makes and mails nothing more.
    call_command("letters_resume")
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
        from documents.tasks import produce_receipt

        produce_receipt.call(application_pk=application.pk)
    assert receipts(application).count() == 1 and len(mail.outbox) == 1


@pytest.mark.task_queue
def test_letters_resume_queues_a_receipt_that_was_never_made(
    anna, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    # The queue lost its task (a restored database, say): the case has no receipt and nothing to make it.
    DBTaskResult.objects.all().delete()
    call_command("letters_resume")
    assert DBTaskResult.objects.count() == 1
    call_command("letters_resume")  # queued once, however often it runs
    assert DBTaskResult.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run_queued_tasks() == 1
    assert receipts(application).count() == 1 and len(mail.outbox) == 1
