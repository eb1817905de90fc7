"""Olle previews the decision letter before deciding, and afterwards downloads exactly the PDF
that was sent, over HTTP as he would in the staff interface."""

import datetime as dt
import hashlib
import io
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from viewflow.workflow import STATUS

from grants.models import CaseEvent, CommitteeMeeting, Decision, Document, FollowUpReport, Payment
from grants.services import apply, assess
from workflows.flows import GrantFlow
from workflows.models import GrantProcess

from ..staff import BASE, open_task, read_pdf_text, task_page, work

pytestmark = pytest.mark.django_db

REASONS = "Lokalhyran bekostas redan av kommunen."
DRAFT_BANNER = "FÖRHANDSGRANSKNING – INTE ETT BESLUT"


def assessed(anna, olle, organisation, call, *, amount, proposal="approved", proposed=None):
    application = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=anna,
        title="Nattvandring och läxhjälp",
        description="Läxhjälp.",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal("70000"))],
    )
    application = apply.application_submit(application=application, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal=proposal,
        proposed_amount=Decimal(proposed or amount),
        justification=REASONS,
    )
    application.refresh_from_db()
    return application


def snapshot(application):
    """Everything a decision would write."""
    task = GrantProcess.objects.get(application=application).task_set.get(
        flow_task__in=[GrantFlow.decide_by_officer, GrantFlow.decide_by_committee]
    )
    return {
        "status": type(application).objects.get(pk=application.pk).status,
        "decisions": Decision.objects.count(),
        "documents": Document.objects.filter(application=application).count(),
        "events": CaseEvent.objects.filter(application=application).count(),
        "payments": Payment.objects.count(),
        "follow_ups": FollowUpReport.objects.count(),
        "meetings": CommitteeMeeting.objects.count(),
        "task": (task.status, task.owner_id, task.started),
        "files": sorted(default_storage.listdir("")[0]) if default_storage.exists("") else [],
    }


def post_task(client, application, node_name, data):
    task = open_task(application, node_name)
    if task.owner_id is None:
        assert client.post(f"{BASE}/{task.process_id}/{node_name}/{task.pk}/assign/").status_code == 302
    return client.post(f"{BASE}/{task.process_id}/{node_name}/{task.pk}/execute/", data)


def pdf_text(content):
    text, reader = read_pdf_text(content)
    return " ".join(text.replace("\xa0", " ").split()), reader


def test_the_decision_task_offers_a_preview(client, anna, olle, fisksatra, inclusion_call):
    application = assessed(
        anna, olle, fisksatra, inclusion_call, amount="60000", proposal="partly_approved", proposed="40000"
    )
    client.force_login(olle)
    page = task_page(client, application, "decide_by_officer").content.decode()
    assert 'name="preview"' in page and "Förhandsgranska beslutsbrev" in page


def test_officer_previews_the_letter_and_nothing_is_stored(client, anna, olle, fisksatra, inclusion_call):
    application = assessed(
        anna, olle, fisksatra, inclusion_call, amount="60000", proposal="partly_approved", proposed="40000"
    )
    client.force_login(olle)
    data = {
        "outcome": "partly_approved",
        "amount": "40000",
        "reasons": REASONS,
        "conditions": "Kommunens logotyp ska synas i kommunikationen.",
    }
    before = snapshot(application)

    response = post_task(client, application, "decide_by_officer", {**data, "preview": "1"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = unquote(response["Content-Disposition"])
    assert disposition.startswith("inline;") and "Förhandsgranskning" in disposition
    assert response["Cache-Control"] == "no-store" and response["X-Content-Type-Options"] == "nosniff"
    text, reader = pdf_text(response.content)
    assert DRAFT_BANNER in text
    assert application.case_number in text and "40 000,00 kronor" in text and "delvis bifall" in text
    assert REASONS in text and "Kommunens logotyp ska synas" in text
    assert "punkt 4.2" in text and "laglighetsprövning" in text
    # The payment plan the decision would create: 85 % now and 15 % after the report.
    assert "34 000,00 kr" in text and "6 000,00 kr" in text and "efter godkänd återrapport" in text
    assert "Återrapportering" in text and "2027-03-01" in text
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    assert reader.xmp_metadata.pdfaid_conformance == "B"
    # Nothing decided, nothing stored, the task still open for Olle.
    assert snapshot(application) == before
    assert open_task(application, "decide_by_officer").status == STATUS.ASSIGNED

    # He decides; the letter that goes out carries no draft banner.
    work(client, application, "decide_by_officer", data)
    application.refresh_from_db()
    assert application.status == "partly_approved"
    from documents.letters import decision_letter_send

    document = decision_letter_send(application.decision.pk)
    sent, _ = pdf_text(default_storage.open(document.storage_key).read())
    assert DRAFT_BANNER not in sent and "Förhandsgranskning" not in sent
    assert "34 000,00 kr" in sent and REASONS in sent


def test_committee_preview_names_the_meeting_without_creating_it(client, anna, olle, kim, fisksatra, inclusion_call):
    application = assessed(anna, olle, fisksatra, inclusion_call, amount="60000")
    client.force_login(kim)
    before = snapshot(application)
    response = post_task(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": REASONS,
            "conditions": "",
            "meeting_date": "2026-03-12",
            "protocol_paragraph": "§ 42",
            "preview": "1",
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text, _ = pdf_text(response.content)
    assert DRAFT_BANNER in text
    assert "sammanträdet 2026-03-12, § 42" in text and "60 000,00 kronor" in text
    assert "51 000,00 kr" in text and "9 000,00 kr" in text
    assert "delegation" not in text
    after = snapshot(application)
    # Kim has claimed the task; the claim is all that changed.
    assert {k: v for k, v in after.items() if k != "task"} == {k: v for k, v in before.items() if k != "task"}
    assert not CommitteeMeeting.objects.exists()
    assert open_task(application, "decide_by_committee").status == STATUS.ASSIGNED


def test_committee_preview_uses_an_announced_meeting(client, anna, olle, kim, fisksatra, inclusion_call):
    application = assessed(anna, olle, fisksatra, inclusion_call, amount="60000")
    committee = inclusion_call.programme.committee
    CommitteeMeeting.objects.create(committee=committee, held_on=dt.date(2026, 3, 5), announced_on=dt.date(2026, 3, 12))
    client.force_login(kim)
    response = post_task(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": REASONS,
            "conditions": "",
            "meeting_date": "2026-03-05",
            "protocol_paragraph": "§ 7",
            "preview": "1",
        },
    )
    text, _ = pdf_text(response.content)
    assert "12 mars 2026" in text and "2 april 2026" in text
    assert CommitteeMeeting.objects.count() == 1


def test_an_invalid_preview_shows_the_form_errors(client, anna, olle, fisksatra, inclusion_call):
    application = assessed(
        anna, olle, fisksatra, inclusion_call, amount="60000", proposal="partly_approved", proposed="40000"
    )
    client.force_login(olle)
    before = snapshot(application)
    # A missing field: the form's own error.
    response = post_task(
        client,
        application,
        "decide_by_officer",
        {"outcome": "partly_approved", "amount": "40000", "reasons": "", "preview": "1"},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "Detta fält måste fyllas i." in response.content.decode()
    # A rule of the decision: the same message as when deciding.
    response = post_task(
        client,
        application,
        "decide_by_officer",
        {"outcome": "rejected", "amount": "40000", "reasons": REASONS, "preview": "1"},
    )
    assert response["Content-Type"].startswith("text/html")
    assert "Vid avslag är beloppet 0 kr." in response.content.decode()
    # Above the delegation limit.
    response = post_task(
        client,
        application,
        "decide_by_officer",
        {"outcome": "approved", "amount": "60000", "reasons": REASONS, "preview": "1"},
    )
    assert "över delegationsgränsen" in response.content.decode()
    assert {k: v for k, v in snapshot(application).items() if k != "task"} == {
        k: v for k, v in before.items() if k != "task"
    }


def test_olle_downloads_exactly_the_letter_that_was_sent(
    client, anna, olle, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    application = assessed(
        anna, olle, fisksatra, inclusion_call, amount="60000", proposal="partly_approved", proposed="40000"
    )
    client.force_login(olle)
    with django_capture_on_commit_callbacks(execute=True):
        work(
            client,
            application,
            "decide_by_officer",
            {"outcome": "partly_approved", "amount": "40000", "reasons": REASONS, "conditions": ""},
        )
    letter = Document.objects.get(application=application, kind=Document.Kind.DECISION_LETTER)

    # The case summary beside every task and on the case page lists the letter.
    process = GrantProcess.objects.get(application=application)
    page = client.get(f"{BASE}/{process.pk}/").content.decode()
    link = reverse("document", args=[letter.pk])
    assert f'href="{link}"' in page and letter.filename in page and "Beslutsbrev" in page

    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == letter.sha256
    assert response.content == default_storage.open(letter.storage_key).read()
    text, _ = pdf_text(response.content)
    assert DRAFT_BANNER not in text and application.case_number in text

    # Anna sees the same letter in the portal.
    client.force_login(anna)
    portal = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert f'href="{link}"' in portal
    assert hashlib.sha256(client.get(link).content).hexdigest() == letter.sha256
    assert io.BytesIO(response.content).read(5) == b"%PDF-"
