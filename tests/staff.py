"""Helpers that drive the staff interface and the portal over HTTP, as a person would."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from viewflow.workflow import STATUS

from workflows.flows import GrantFlow
from workflows.models import GrantProcess

BASE = "/staff/cases/grant"


def open_task(application, node_name):
    process = GrantProcess.objects.get(application=application)
    return (
        process.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED])
        .filter(flow_task=getattr(GrantFlow, node_name))
        .first()
    )


def claim(client, application, node_name):
    """Take the task from the queue. Returns the response of the claim."""
    task = open_task(application, node_name)
    assert task is not None, f"no open {node_name} task for {application}"
    return client.post(f"{BASE}/{task.process_id}/{node_name}/{task.pk}/assign/")


def task_page(client, application, node_name):
    task = open_task(application, node_name)
    assert task is not None, f"no open {node_name} task for {application}"
    return client.get(f"{BASE}/{task.process_id}/{node_name}/{task.pk}/execute/")


def work(client, application, node_name, data, *, expect_done=True):
    """Claim (if needed) and complete a staff task with a form post."""
    task = open_task(application, node_name)
    assert task is not None, f"no open {node_name} task for {application}"
    if task.owner_id is None:
        response = claim(client, application, node_name)
        assert response.status_code == 302, response.status_code
    response = client.post(f"{BASE}/{task.process_id}/{node_name}/{task.pk}/execute/", data)
    if expect_done:
        assert response.status_code == 302, response.content.decode()[:3000]
    return response


def draft(
    client,
    call,
    *,
    organisation,
    title="Nattvandring och läxhjälp",
    amount="60000",
    inputs=None,
    budget=(("cost", "Ledararvoden", "50000"), ("cost", "Lokalhyra", "20000"), ("income", "Egen insats", "5000")),
    attachment=None,
    period=("2026-01-01", "2026-12-31"),
):
    """The applicant fills in the application's steps as the portal shows them: "Sökande och
    projekt" (the call's apply page, which creates the draft), "Belopp" and, with a file,
    "Bilagor". Returns the response of the last step posted: a redirect to the next step
    when every step was saved, or the page with its errors."""
    response = client.post(
        reverse("portal:apply", args=[call.pk]),
        {
            "organisation": organisation.pk,
            "title": title,
            "description": "Vi vill nå fler barn i Fisksätra med idrott och läxhjälp.",
            "period_start": period[0],
            "period_end": period[1],
        },
    )
    if response.status_code != 302 or "/steg/" not in response.url:
        return response
    data = {
        "requested_amount": amount,
        "budget-TOTAL_FORMS": "3",
        "budget-INITIAL_FORMS": "0",
        "budget-MIN_NUM_FORMS": "0",
        "budget-MAX_NUM_FORMS": "30",
    }
    for index, (kind, label, value) in enumerate(budget):
        data.update({f"budget-{index}-kind": kind, f"budget-{index}-label": label, f"budget-{index}-amount": value})
    for key, value in (inputs or {}).items():
        data[f"input_{key}"] = value
    response = client.post(response.url, data)
    if response.status_code != 302 or attachment is None:
        return response
    return client.post(response.url, {"attachment": attachment})


def pdf_upload(name="budget.pdf", content=b"%PDF-1.4\n%%EOF\n"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def read_pdf_text(content):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def meeting_letters(client, decision_maker, application, *, announced_on="2026-03-20"):
    """The decision maker records the announcement of the meeting's protocol and makes the
    meeting's letters on its page (with the tests' immediate task backend, at once)."""
    meeting = application.decision.meeting
    client.force_login(decision_maker)
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": announced_on})
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(reverse("meetings:start", args=[meeting.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    return meeting


def pay_out(application, finance, *, fail=""):
    """Finance's part, through the services its pages call: attest the case's planned
    payments, put them in a payment file, and the bank pays them (or returns them with
    `fail` as the reason)."""
    from documents.payment_files import payment_file_create
    from grants.services import pay

    planned = list(application.payments.filter(status="planned").values_list("pk", flat=True))
    pay.payments_attest(payment_ids=planned, by=finance)
    payment_file_create(by=finance, payment_ids=planned)
    if fail:
        return pay.payments_mark_failed(payment_ids=planned, by=finance, reason=fail)
    return pay.payments_mark_paid(payment_ids=planned, by=finance)


def pay_out_in_pages(client, application, finance):
    """Finance's part as Fia does it in her pages: tick the case's payments in the queue and
    attest them, make the payment file, then mark them paid on the file's page."""
    from django.utils import timezone

    client.force_login(finance)
    planned = list(application.payments.filter(status="planned").values_list("pk", flat=True))
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": planned})
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(reverse("finance:batch_create"), {"execution_date": timezone.localdate().isoformat()})
    assert response.status_code == 302, response.content.decode()[:3000]
    batch_url = response["Location"]
    batch_pk = int(batch_url.rstrip("/").rsplit("/", 1)[1])
    response = client.post(
        reverse("finance:batch_mark", args=[batch_pk]), {"payments": planned, "outcome": "paid", "reason": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return batch_pk
