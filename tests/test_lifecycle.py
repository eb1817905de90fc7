"""The whole story, over HTTP, for each kind of grant: apply, complete, assess, decide,
letter, attest, pay, report back, close."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse

from grants.models import Application, CaseEvent, Document, FollowUpReport, Payment
from workflows.process import active_task_names

from . import factories
from .staff import draft, pay_out_in_pages, pdf_upload, read_pdf_text, work

pytestmark = pytest.mark.django_db(transaction=True)


def test_inclusion_project_grant_through_committee_with_completion(
    client, anna, olle, kim, fia, fisksatra, inclusion_call, in_a_week
):
    # Anna saves a draft with a budget and a PDF, comes back, and submits it.
    client.force_login(anna)
    response = client.get(reverse("portal:index"))
    assert "Projektbidrag för inkludering" in response.content.decode()
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload())
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.status == "draft"
    assert application.documents.get().kind == Document.Kind.ATTACHMENT
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Utkast" in page and "Fyll i ansökan och skicka in den." in page
    page = client.get(reverse("portal:step", args=[application.pk, "granska"])).content.decode()
    assert "budget.pdf" in page and "Skicka in ansökan" in page

    response = client.post(reverse("portal:submit", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.case_number == f"KFN {application.submitted_at.year}/0001"
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Inkommen" in page and application.case_number in page
    # ... and has her receipt (mottagningskvitto), listing what she sent.
    receipt = application.documents.get(kind=Document.Kind.RECEIPT)
    assert receipt.filename in page
    text, _ = read_pdf_text(client.get(reverse("document", args=[receipt.pk])).content)
    assert "Mottagningskvitto" in text and application.case_number in text and "budget.pdf" in text

    # Olle finds the case in his queue and asks for a completion.
    client.force_login(olle)
    queue = client.get("/staff/cases/grant/queue/").content.decode()
    assert "Kontrollera att ansökan är komplett" in queue
    work(
        client,
        application,
        "check_completeness",
        {
            "result": "completion",
            "message": "Bifoga föreningens senaste årsmötesprotokoll.",
            "due_on": in_a_week.isoformat(),
        },
    )
    application.refresh_from_db()
    assert application.status == "awaiting_completion"
    assert active_task_names(application) == ["await_completion"]
    assert any("Komplettering begärd" in m.subject for m in mail.outbox)

    # Anna sees the request, answers and uploads a file; the case goes back to Olle.
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "årsmötesprotokoll" in page
    response = client.post(
        reverse("portal:completion", args=[application.pk]),
        {"answer": "Här är protokollet.", "attachment": pdf_upload("protokoll.pdf")},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"
    assert active_task_names(application) == ["check_completeness"]

    # Olle accepts it, assesses above his delegation limit: the committee decides.
    client.force_login(olle)
    work(client, application, "check_completeness", {"result": "complete"})
    work(
        client,
        application,
        "assess",
        {
            "conflict": "none",
            "proposal": "approved",
            "proposed_amount": "60000",
            "justification": "Projektet når barn som inte deltar i föreningslivet i dag.",
        },
    )
    application.refresh_from_db()
    assert application.status == "assessed"
    assert active_task_names(application) == ["decide_by_committee"]

    # Olle cannot decide above the limit; Kim decides, with the protocol paragraph.
    client.force_login(kim)
    work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": "Projektet stämmer med nämndens mål för inkludering.",
            "conditions": "Kommunens logotyp ska synas i kommunikationen.",
            "meeting_date": "2026-03-12",
            "protocol_paragraph": "§ 42",
        },
    )
    application.refresh_from_db()
    assert application.status == "approved"
    # A committee decision's letter waits for the meeting's letters.
    assert not application.documents.filter(kind=Document.Kind.DECISION_LETTER).exists()

    # Kim opens the meeting, records the day the protocol's approval was announced on the
    # notice board and makes the meeting's letters (here at once; a db_worker in the product).
    meeting = application.decision.meeting
    meetings = client.get(reverse("meetings:list")).content.decode()
    assert reverse("meetings:detail", args=[meeting.pk]) in meetings and "0 av 1" in meetings
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert application.case_number in page and "<progress" in page
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": "2026-03-20"})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(reverse("meetings:start", args=[meeting.pk]), follow=True)
    page = response.content.decode()
    assert "1 beslutsbrev skapas nu" in page and 'value="1"' in page
    assert client.get(reverse("meetings:progress", args=[meeting.pk])).json()["done"] == 1

    letter = application.documents.get(kind=Document.Kind.DECISION_LETTER)
    assert letter.version == 1 and reverse("document", args=[letter.pk]) in page
    text, reader = read_pdf_text(default_storage.open(letter.storage_key).read())
    assert application.case_number in text
    assert "60 000,00" in text or "60000" in text.replace("\xa0", "").replace(" ", "")
    assert "§ 42" in text and "laglighetsprövning" in text
    assert "nämndens mål för inkludering" in text
    flat = " ".join(text.split())
    assert "den 20 mars 2026 att protokollet" in flat  # the announcement …
    assert "senast den 10 april 2026" in flat  # … and the appeal deadline three weeks later

    payments = list(application.payments.order_by("sequence"))
    assert [(p.amount, p.status) for p in payments] == [
        (Decimal("51000.00"), "planned"),
        (Decimal("9000.00"), "withheld"),
    ]

    # Anna downloads the letter from the portal.
    client.force_login(anna)
    response = client.get(reverse("document", args=[letter.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")

    # Fia attests the first part in her queue, makes the payment file, downloads it for the
    # bank, and marks the payment paid.
    batch = pay_out_in_pages(client, application, fia)
    pain001 = client.get(reverse("finance:batch_file", args=[batch, "pain001"]))
    assert pain001.status_code == 200 and application.case_number.encode() in pain001.content
    assert Payment.objects.get(pk=payments[0].pk).status == "paid"
    assert active_task_names(application) == ["await_report"]

    # Anna reports back; Olle approves, which releases the last 15 %; Fia pays it; closed.
    client.force_login(anna)
    response = client.post(
        reverse("portal:follow_up", args=[application.pk]),
        factories.report_form_data(
            application,
            what_was_done="Trettio träffar med läxhjälp och fotboll.",
            outcome="Fler flickor deltog än vi hoppats.",
        ),
    )
    assert response.status_code == 302
    client.force_login(olle)
    work(client, application, "review_report", {"verdict": "approve", "note": ""})
    assert FollowUpReport.objects.get().status == "approved"
    pay_out_in_pages(client, application, fia)

    application.refresh_from_db()
    assert application.status == "closed"
    assert active_task_names(application) == []
    actions = list(CaseEvent.objects.filter(application=application).values_list("action", flat=True))
    for step in (
        "Ansökan inkommen",
        "Komplettering begärd",
        "Komplettering inkommen",
        "Ansökan komplett",
        "Bedömning klar",
        "Beslut: Beviljas",
        "Protokollet tillkännagivet",
        "Beslutsbrev skickat",
        "Utbetalning del 1 attesterad",
        "Utbetalning del 1 i betalfil",
        "Utbetalning del 1 utbetald",
        "Utbetalning del 2 attesterad",
        "Återrapport inlämnad",
        "Återrapport godkänd",
        "Ärendet avslutat",
    ):
        assert step in actions, step
