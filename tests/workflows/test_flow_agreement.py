"""The FSM state of the application is the truth; the viewflow process holds only the
tasks. These tests walk the flow's paths over HTTP and, after every step, check that
the two never disagree: the application's status allows exactly the open tasks it has,
and the payments and the follow-up report are in the state the open task needs."""

import datetime as dt

import pytest
from django.urls import reverse
from viewflow.workflow import STATUS

from documents import batches
from documents.payment_files import payment_file_create
from grants.models import Application, CaseEvent, FollowUpReport
from grants.services import pay
from workflows import cases
from workflows.cases import active_task_names
from workflows.models import GrantProcess

from .. import factories
from ..staff import draft, work

pytestmark = pytest.mark.django_db(transaction=True)

AFTER_DECISION = [["await_payment"], ["await_report"], ["review_report"]]

# application.status → the open tasks the process may have in that state.
ALLOWED = {
    "draft": [[]],
    "submitted": [["check_completeness"]],
    "awaiting_completion": [["await_completion"]],
    "in_assessment": [["assess"]],
    "assessed": [["decide_by_officer"], ["decide_by_committee"]],
    "approved": AFTER_DECISION,
    "partly_approved": AFTER_DECISION,
    "rejected": [[]],
    "closed": [[]],
}

OPEN_REPORT = {"due", "completion_requested"}


def agree(application):
    """Assert that the case's state and its open tasks tell the same story."""
    application = Application.objects.get(pk=application.pk)
    status, tasks = application.status, active_task_names(application)
    assert tasks in ALLOWED[status], f"status {status!r} with open tasks {tasks}"
    task = tasks[0] if tasks else None

    payments = set(application.payments.values_list("status", flat=True))
    follow_up = FollowUpReport.objects.filter(application=application).first()
    report = follow_up.status if follow_up else None
    decision = getattr(application, "decision", None)
    process = GrantProcess.objects.filter(application=application).first()

    # Before a decision there is no money and no report; after it, the decision matches.
    if status in ("draft", "submitted", "awaiting_completion", "in_assessment", "assessed"):
        assert decision is None and not payments and follow_up is None
    if status == "assessed":
        expected = "decide_by_committee" if application.assessment.needs_committee else "decide_by_officer"
        assert task == expected
    if status in ("approved", "partly_approved"):
        assert decision.outcome == status

    # Each task after the decision has what it works on; and what waits has its task.
    open_payments = payments & {"planned", "attested", "exported"}
    assert (task == "await_payment") == bool(open_payments), (task, payments)
    assert (task == "await_report") == (report in OPEN_REPORT and not open_payments), (task, report, payments)
    assert (task == "review_report") == (report == "submitted"), (task, report)

    if status == "rejected":
        assert decision.outcome == "rejected" and not payments and follow_up is None
    if status == "closed":
        assert report in (None, "approved", "rejected")
        assert payments <= ({"paid", "failed", "withheld"} if report == "rejected" else {"paid", "failed"})

    # A case with no open task has a finished process (or, as a draft, none at all).
    if status == "draft":
        assert process is None
    else:
        assert (process.status == STATUS.DONE) == (tasks == []), (process.status, tasks)
    return status, tasks


# --- steps, each followed by the check -------------------------------------------------

def submit(client, applicant, call, organisation, **kwargs):
    client.force_login(applicant)
    response = draft(client, call, organisation=organisation, **kwargs)
    assert response.status_code == 302
    application = Application.objects.latest("pk")
    assert agree(application) == ("draft", [])
    client.post(reverse("portal:submit", args=[application.pk]))
    assert agree(application) == ("submitted", ["check_completeness"])
    return application


def staff(client, user, application, node, data):
    client.force_login(user)
    work(client, application, node, data)
    return agree(application)


def money(finance, application, step, reason=""):
    """Finance's steps, through the services its pages call: attest the case's planned
    payments, put the attested in a payment file, the bank pays (or returns) what is in it."""
    ids = lambda status: list(application.payments.filter(status=status).values_list("pk", flat=True))  # noqa: E731
    if step == "attest":
        pay.payments_attest(payment_ids=ids("planned"), by=finance)
    elif step == "file":
        payment_file_create(by=finance, payment_ids=ids("attested"))
    elif step == "paid":
        cases.cases_mark_paid(payment_ids=ids("exported"), by=finance)
    else:
        cases.cases_mark_failed(payment_ids=ids("exported"), by=finance, reason=reason)
    return agree(application)


def paid_out(finance, application):
    money(finance, application, "attest")
    money(finance, application, "file")
    return money(finance, application, "paid")


def portal(client, applicant, application, name, data):
    client.force_login(applicant)
    response = client.post(reverse(f"portal:{name}", args=[application.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return agree(application)


def assessment(proposal, amount):
    return {"conflict": "none", "proposal": proposal, "proposed_amount": amount,
            "justification": "Verksamheten når barn och unga i kommundelen."}


def decision(outcome, amount, **committee):
    return {"outcome": outcome, "amount": amount, "reasons": "Stämmer med nämndens mål.", "conditions": "",
            **committee}


def report(application, **fields):
    """A complete follow-up report as the portal's form posts it."""
    return factories.report_form_data(application, **{"what_was_done": "Träffar varje vecka.",
                                                      "outcome": "Målen nåddes.", **fields})


# --- the paths ---------------------------------------------------------------------------

def test_completion_loop_committee_and_report_completion(
    client, anna, olle, kim, fia, fisksatra, inclusion_call, in_a_week
):
    application = submit(client, anna, inclusion_call, fisksatra, amount="60000")

    # Completion loop: asked, answered, back to completeness, accepted.
    assert staff(client, olle, application, "check_completeness", {
        "result": "completion", "message": "Bifoga verksamhetsplanen.", "due_on": in_a_week.isoformat(),
    }) == ("awaiting_completion", ["await_completion"])
    assert portal(client, anna, application, "completion", {"answer": "Här är planen."}) == \
        ("submitted", ["check_completeness"])
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == \
        ("in_assessment", ["assess"])

    # Above the delegation limit: the committee decides.
    assert staff(client, olle, application, "assess", assessment("approved", "60000")) == \
        ("assessed", ["decide_by_committee"])
    assert staff(client, kim, application, "decide_by_committee", decision(
        "approved", "60000", meeting_date="2026-03-12", protocol_paragraph="§ 42",
    )) == ("approved", ["await_payment"])
    # Paid once the approval of the meeting's protocol has been announced.
    batches.meeting_announce(meeting=Application.objects.get(pk=application.pk).decision.meeting, by=kim,
                             announced_on=dt.date(2026, 3, 20))
    assert paid_out(fia, application) == ("approved", ["await_report"])

    # The report: Olle asks for a completion of it, Anna sends it again, Olle approves.
    assert portal(client, anna, application, "follow_up", report(application)) == ("approved", ["review_report"])
    assert staff(client, olle, application, "review_report", {
        "verdict": "completion", "note": "Bifoga kvitton för lokalhyran.",
    }) == ("approved", ["await_report"])
    assert FollowUpReport.objects.get().status == "completion_requested"
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Bifoga kvitton för lokalhyran." in page and "Komplettera återrapporten" in page
    page = client.get(reverse("portal:follow_up", args=[application.pk])).content.decode()
    assert "Bifoga kvitton för lokalhyran." in page and "Skicka in återrapporten" in page
    assert portal(client, anna, application, "follow_up",
                  report(application, outcome="Målen nåddes; kvitton bifogade.")) == ("approved", ["review_report"])
    # Approval releases the withheld 15 %, which goes back to finance.
    assert staff(client, olle, application, "review_report", {"verdict": "approve", "note": ""}) == \
        ("approved", ["await_payment"])
    assert paid_out(fia, application) == ("closed", [])

    assert list(application.payments.order_by("sequence").values_list("status", flat=True)) == ["paid", "paid"]
    events = list(CaseEvent.objects.filter(application=application).values_list("action", flat=True))
    assert events.count("Återrapport inlämnad") == 2
    assert "Komplettering av återrapport begärd" in events


def test_officer_path_with_a_failed_payment(client, anna, olle, fia, fisksatra, activity_call):
    application = submit(client, anna, activity_call, fisksatra, amount="", inputs={"members": 40})
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == \
        ("in_assessment", ["assess"])
    assert staff(client, olle, application, "assess", assessment("approved", "11000")) == \
        ("assessed", ["decide_by_officer"])
    assert staff(client, olle, application, "decide_by_officer", decision("approved", "11000")) == \
        ("approved", ["await_payment"])
    assert money(fia, application, "attest") == ("approved", ["await_payment"])
    assert money(fia, application, "file") == ("approved", ["await_payment"])

    # The bank returns the payment: it stays failed, and a new payment of the same part, with
    # the reason, waits for attestation.
    assert money(fia, application, "failed", "Bankgirot är avslutat.") == ("approved", ["await_payment"])
    failed = application.payments.get(status="failed")
    assert failed.failure_reason == "Bankgirot är avslutat."
    assert CaseEvent.objects.get(application=application, action="Utbetalning del 1 misslyckades").note.startswith(
        "Bankgirot är avslutat.")
    payment = application.payments.get(status="planned")
    assert (payment.replaces, payment.failure_reason, payment.amount) == (failed, "Bankgirot är avslutat.",
                                                                          failed.amount)

    assert paid_out(fia, application) == ("approved", ["await_report"])
    assert portal(client, anna, application, "follow_up", report(application)) == ("approved", ["review_report"])
    assert staff(client, olle, application, "review_report", {"verdict": "approve", "note": ""}) == ("closed", [])
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.batch_id != failed.batch_id


def test_rejection(client, anna, olle, fisksatra, activity_call):
    application = submit(client, anna, activity_call, fisksatra, amount="", inputs={"members": 5})
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == \
        ("in_assessment", ["assess"])
    assert staff(client, olle, application, "assess", assessment("rejected", "0")) == \
        ("assessed", ["decide_by_officer"])
    assert staff(client, olle, application, "decide_by_officer", decision("rejected", "0")) == ("rejected", [])


def test_association_grant_without_report(client, anna, olle, fia, fisksatra, association_call):
    application = submit(client, anna, association_call, fisksatra, amount="",
                         inputs={"sessions": 30, "participants": 10})
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == \
        ("in_assessment", ["assess"])
    assert staff(client, olle, application, "assess", assessment("approved", "3600")) == \
        ("assessed", ["decide_by_officer"])
    assert staff(client, olle, application, "decide_by_officer", decision("approved", "3600")) == \
        ("approved", ["await_payment"])
    assert paid_out(fia, application) == ("closed", [])


def test_conflict_partial_approval_and_rejected_report(
    client, anna, olle, otto, fia, fisksatra, inclusion_call
):
    application = submit(client, anna, inclusion_call, fisksatra, amount="60000")
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == \
        ("in_assessment", ["assess"])
    # Olle is jävig: the case stays in assessment with its task back in the queue.
    assert staff(client, olle, application, "assess", {
        "conflict": "conflict", "conflict_reason": "Min dotter är ledare i föreningen.",
    }) == ("in_assessment", ["assess"])
    assert staff(client, otto, application, "assess", assessment("partly_approved", "40000")) == \
        ("assessed", ["decide_by_officer"])
    assert staff(client, otto, application, "decide_by_officer", decision("partly_approved", "40000")) == \
        ("partly_approved", ["await_payment"])
    assert paid_out(fia, application) == ("partly_approved", ["await_report"])
    assert portal(client, anna, application, "follow_up", report(application)) == ("partly_approved", ["review_report"])

    # A rejected report closes the case; the withheld 15 % is never paid.
    assert staff(client, otto, application, "review_report", {
        "verdict": "reject", "note": "Projektet genomfördes inte enligt ansökan.",
    }) == ("closed", [])
    assert list(application.payments.order_by("sequence").values_list("status", flat=True)) == \
        ["paid", "withheld"]
