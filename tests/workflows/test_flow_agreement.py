"""The FSM state of the application is the truth; the viewflow process holds only the
tasks. These tests walk the flow's paths over HTTP, and every public lifecycle action from
code (as the demo, the benchmarks and the tests call them), and after every step check that
the two never disagree: the application's status allows exactly the open tasks it has,
and the payments and the follow-up report are in the state the open task needs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from viewflow.workflow import STATUS

from documents import batches
from documents.payment_files import payment_file_create
from grants.models import Application, CaseEvent, FollowUpReport, Payment
from grants.services import apply, assess, decide, follow_up, pay
from workflows.models import GrantProcess
from workflows.process import active_task_names

from .. import factories
from ..staff import draft, work

pytestmark = pytest.mark.django_db(transaction=True)

AFTER_DECISION = [["await_payment"], ["await_report"], ["review_report"]]

# application.status → the open tasks the process may have in that state.
ALLOWED = {
    "draft": [[]],
    "awaiting_sponsor": [[]],
    "withdrawn": [[]],
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

    # A case with no open task has a finished process (or, before it reaches the officer,
    # none at all); a withdrawn case's process, if it had one, is cancelled.
    if status in ("draft", "awaiting_sponsor"):
        assert process is None
    elif status == "withdrawn":
        assert process is None or process.status == STATUS.CANCELED, process.status
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
        pay.payments_mark_paid(payment_ids=ids("exported"), by=finance)
    else:
        pay.payments_mark_failed(payment_ids=ids("exported"), by=finance, reason=reason)
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
    return {
        "conflict": "none",
        "proposal": proposal,
        "proposed_amount": amount,
        "justification": "Verksamheten når barn och unga i kommundelen.",
    }


def decision(outcome, amount, **committee):
    return {"outcome": outcome, "amount": amount, "reasons": "Stämmer med nämndens mål.", "conditions": "", **committee}


def report(application, **fields):
    """A complete follow-up report as the portal's form posts it."""
    return factories.report_form_data(
        application, **{"what_was_done": "Träffar varje vecka.", "outcome": "Målen nåddes.", **fields}
    )


# --- the paths ---------------------------------------------------------------------------


def test_completion_loop_committee_and_report_completion(
    client, anna, olle, kim, fia, fisksatra, inclusion_call, in_a_week
):
    application = submit(client, anna, inclusion_call, fisksatra, amount="60000")

    # Completion loop: asked, answered, back to completeness, accepted.
    assert staff(
        client,
        olle,
        application,
        "check_completeness",
        {
            "result": "completion",
            "message": "Bifoga verksamhetsplanen.",
            "due_on": in_a_week.isoformat(),
        },
    ) == ("awaiting_completion", ["await_completion"])
    assert portal(client, anna, application, "completion", {"answer": "Här är planen."}) == (
        "submitted",
        ["check_completeness"],
    )
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == (
        "in_assessment",
        ["assess"],
    )

    # Above the delegation limit: the committee decides.
    assert staff(client, olle, application, "assess", assessment("approved", "60000")) == (
        "assessed",
        ["decide_by_committee"],
    )
    assert staff(
        client,
        kim,
        application,
        "decide_by_committee",
        decision(
            "approved",
            "60000",
            meeting_date="2026-03-12",
            protocol_paragraph="§ 42",
        ),
    ) == ("approved", ["await_payment"])
    # Paid once the approval of the meeting's protocol has been announced.
    batches.meeting_announce(
        meeting=Application.objects.get(pk=application.pk).decision.meeting, by=kim, announced_on=dt.date(2026, 3, 20)
    )
    assert paid_out(fia, application) == ("approved", ["await_report"])

    # The report: Olle asks for a completion of it, Anna sends it again, Olle approves.
    assert portal(client, anna, application, "follow_up", report(application)) == ("approved", ["review_report"])
    assert staff(
        client,
        olle,
        application,
        "review_report",
        {
            "verdict": "completion",
            "note": "Bifoga kvitton för lokalhyran.",
        },
    ) == ("approved", ["await_report"])
    assert FollowUpReport.objects.get().status == "completion_requested"
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Bifoga kvitton för lokalhyran." in page and "Komplettera återrapporten" in page
    page = client.get(reverse("portal:follow_up", args=[application.pk])).content.decode()
    assert "Bifoga kvitton för lokalhyran." in page and "Skicka in återrapporten" in page
    assert portal(
        client, anna, application, "follow_up", report(application, outcome="Målen nåddes; kvitton bifogade.")
    ) == ("approved", ["review_report"])
    # Approval releases the withheld 15 %, which goes back to finance.
    assert staff(client, olle, application, "review_report", {"verdict": "approve", "note": ""}) == (
        "approved",
        ["await_payment"],
    )
    assert paid_out(fia, application) == ("closed", [])

    assert list(application.payments.order_by("sequence").values_list("status", flat=True)) == ["paid", "paid"]
    events = list(CaseEvent.objects.filter(application=application).values_list("action", flat=True))
    assert events.count("Återrapport inlämnad") == 2
    assert "Komplettering av återrapport begärd" in events


def test_officer_path_with_a_failed_payment(client, anna, olle, fia, fisksatra, activity_call):
    application = submit(client, anna, activity_call, fisksatra, amount="", inputs={"members": 40})
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == (
        "in_assessment",
        ["assess"],
    )
    assert staff(client, olle, application, "assess", assessment("approved", "11000")) == (
        "assessed",
        ["decide_by_officer"],
    )
    assert staff(client, olle, application, "decide_by_officer", decision("approved", "11000")) == (
        "approved",
        ["await_payment"],
    )
    assert money(fia, application, "attest") == ("approved", ["await_payment"])
    assert money(fia, application, "file") == ("approved", ["await_payment"])

    # The bank returns the payment: it stays failed, and a new payment of the same part, with
    # the reason, waits for attestation.
    assert money(fia, application, "failed", "Bankgirot är avslutat.") == ("approved", ["await_payment"])
    failed = application.payments.get(status="failed")
    assert failed.failure_reason == "Bankgirot är avslutat."
    assert CaseEvent.objects.get(application=application, action="Utbetalning del 1 misslyckades").note.startswith(
        "Bankgirot är avslutat."
    )
    payment = application.payments.get(status="planned")
    assert (payment.replaces, payment.failure_reason, payment.amount) == (
        failed,
        "Bankgirot är avslutat.",
        failed.amount,
    )

    assert paid_out(fia, application) == ("approved", ["await_report"])
    assert portal(client, anna, application, "follow_up", report(application)) == ("approved", ["review_report"])
    assert staff(client, olle, application, "review_report", {"verdict": "approve", "note": ""}) == ("closed", [])
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.batch_id != failed.batch_id


def test_rejection(client, anna, olle, fisksatra, activity_call):
    application = submit(client, anna, activity_call, fisksatra, amount="", inputs={"members": 5})
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == (
        "in_assessment",
        ["assess"],
    )
    assert staff(client, olle, application, "assess", assessment("rejected", "0")) == (
        "assessed",
        ["decide_by_officer"],
    )
    assert staff(client, olle, application, "decide_by_officer", decision("rejected", "0")) == ("rejected", [])


def test_association_grant_without_report(client, anna, olle, fia, fisksatra, association_call):
    application = submit(
        client, anna, association_call, fisksatra, amount="", inputs={"sessions": 30, "participants": 10}
    )
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == (
        "in_assessment",
        ["assess"],
    )
    assert staff(client, olle, application, "assess", assessment("approved", "3600")) == (
        "assessed",
        ["decide_by_officer"],
    )
    assert staff(client, olle, application, "decide_by_officer", decision("approved", "3600")) == (
        "approved",
        ["await_payment"],
    )
    assert paid_out(fia, application) == ("closed", [])


def test_conflict_partial_approval_and_rejected_report(client, anna, olle, otto, fia, fisksatra, inclusion_call):
    application = submit(client, anna, inclusion_call, fisksatra, amount="60000")
    assert staff(client, olle, application, "check_completeness", {"result": "complete"}) == (
        "in_assessment",
        ["assess"],
    )
    # Olle is jävig: the case stays in assessment with its task back in the queue.
    assert staff(
        client,
        olle,
        application,
        "assess",
        {
            "conflict": "conflict",
            "conflict_reason": "Min dotter är ledare i föreningen.",
        },
    ) == ("in_assessment", ["assess"])
    assert staff(client, otto, application, "assess", assessment("partly_approved", "40000")) == (
        "assessed",
        ["decide_by_officer"],
    )
    assert staff(client, otto, application, "decide_by_officer", decision("partly_approved", "40000")) == (
        "partly_approved",
        ["await_payment"],
    )
    assert paid_out(fia, application) == ("partly_approved", ["await_report"])
    assert portal(client, anna, application, "follow_up", report(application)) == ("partly_approved", ["review_report"])

    # A rejected report closes the case; the withheld 15 % is never paid.
    assert staff(
        client,
        otto,
        application,
        "review_report",
        {
            "verdict": "reject",
            "note": "Projektet genomfördes inte enligt ansökan.",
        },
    ) == ("closed", [])
    assert list(application.payments.order_by("sequence").values_list("status", flat=True)) == ["paid", "withheld"]


# --- every public lifecycle action, from code ------------------------------------------------
#
# The demo, the benchmarks and the tests call the grants services directly: each one must
# take its step in the flow too, exactly as the portal's and the staff's pages do.


def _draft(call, organisation, by, amount):
    today = dt.date.today()
    return apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=by,
        title="Läxhjälp och fotboll",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 10000)],
    )


def _ids(application, status):
    return list(application.payments.filter(status=status).values_list("pk", flat=True))


def _bank_pays(application, fia):
    """Fia attests and files the case's planned payments; the bank's status report says paid."""
    pay.payments_attest(payment_ids=_ids(application, "planned"), by=fia)
    agree(application)
    batch = payment_file_create(by=fia, payment_ids=_ids(application, "attested"))
    agree(application)
    exported = Payment.objects.filter(batch=batch)
    return pay.status_report_apply(
        by=fia,
        report=pay.StatusReport(
            batch.reference, "ACSC", [pay.TransactionStatus(payment.reference, "ACSC", "") for payment in exported]
        ),
    )


REPORT = dict(
    what_was_done="Trettio träffar med läxhjälp.",
    outcome="Fler flickor deltog än vi hoppats.",
    own_contribution=Decimal("3000"),
    cost_lines=[("Ledararvoden", Decimal("70000"), Decimal("69000"))],
)


def test_every_public_action_from_code_keeps_state_and_tasks_in_agreement(
    anna, olle, otto, kim, fia, fisksatra, inclusion_call, in_a_week
):
    application = _draft(inclusion_call, fisksatra, anna, "60000")
    assert agree(application) == ("draft", [])
    apply.application_submit(application=application, by=anna)
    assert agree(application) == ("submitted", ["check_completeness"])
    assess.completion_request(application=application, by=olle, message="Bifoga planen.", due_on=in_a_week)
    assert agree(application) == ("awaiting_completion", ["await_completion"])
    apply.completion_answer(application=application, by=anna, answer="Här är planen.")
    assert agree(application) == ("submitted", ["check_completeness"])
    assess.completeness_confirm(application=application, by=olle)
    assert agree(application) == ("in_assessment", ["assess"])
    assess.conflict_declare(application=application, by=olle, reason="Min dotter är ledare i föreningen.")
    assert agree(application) == ("in_assessment", ["assess"])
    assess.assessment_record(
        application=application,
        by=otto,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("60000"),
        justification="Når barn i kommundelen.",
    )
    assert agree(application) == ("assessed", ["decide_by_committee"])
    decide.decision_make(
        application=application,
        by=kim,
        outcome="approved",
        amount=Decimal("60000"),
        reasons="Stämmer med nämndens mål.",
        meeting_date=dt.date.today(),
        protocol_paragraph="§ 3",
        approved_immediately=True,
    )
    assert agree(application) == ("approved", ["await_payment"])
    _bank_pays(application, fia)
    assert agree(application) == ("approved", ["await_report"])

    report = FollowUpReport.objects.get(application=application)
    follow_up.follow_up_submit(report=report, by=anna, **REPORT)
    assert agree(application) == ("approved", ["review_report"])
    follow_up.follow_up_review(report=report, by=otto, verdict="completion", note="Bifoga kvitton.")
    assert agree(application) == ("approved", ["await_report"])
    follow_up.follow_up_submit(report=report, by=anna, **REPORT)
    assert agree(application) == ("approved", ["review_report"])
    follow_up.follow_up_review(report=report, by=otto, verdict="approve")
    assert agree(application) == ("approved", ["await_payment"])  # the withheld 15 %

    # The bank returns it once; its replacement is paid, and the case closes.
    pay.payments_attest(payment_ids=_ids(application, "planned"), by=fia)
    payment_file_create(by=fia, payment_ids=_ids(application, "attested"))
    pay.payments_mark_failed(payment_ids=_ids(application, "exported"), by=fia, reason="Bankgirot är avslutat.")
    assert agree(application) == ("approved", ["await_payment"])
    pay.payments_attest(payment_ids=_ids(application, "planned"), by=fia)
    payment_file_create(by=fia, payment_ids=_ids(application, "attested"))
    pay.payments_mark_paid(payment_ids=_ids(application, "exported"), by=fia)
    assert agree(application) == ("closed", [])


def test_a_rejected_report_and_a_rejected_application_from_code(anna, olle, fia, fisksatra, inclusion_call):
    application = _draft(inclusion_call, fisksatra, anna, "40000")
    apply.application_submit(application=application, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Bra projekt.",
    )
    assert agree(application) == ("assessed", ["decide_by_officer"])
    decide.decision_make(
        application=application, by=olle, outcome="approved", amount=Decimal("40000"), reasons="Bra projekt."
    )
    assert agree(application) == ("approved", ["await_payment"])
    _bank_pays(application, fia)
    follow_up.follow_up_submit(report=FollowUpReport.objects.get(application=application), by=anna, **REPORT)
    follow_up.follow_up_review(
        report=FollowUpReport.objects.get(application=application),
        by=olle,
        verdict="reject",
        note="Projektet genomfördes inte.",
    )
    assert agree(application) == ("closed", [])

    rejected = _draft(inclusion_call, fisksatra, anna, "30000")
    apply.application_submit(application=rejected, by=anna)
    assess.completeness_confirm(application=rejected, by=olle)
    assess.assessment_record(
        application=rejected,
        by=olle,
        no_conflict=True,
        proposal="rejected",
        proposed_amount=Decimal("0"),
        justification="Utanför bidragets syfte.",
    )
    decide.decision_make(
        application=rejected, by=olle, outcome="rejected", amount=Decimal("0"), reasons="Utanför bidragets syfte."
    )
    assert agree(rejected) == ("rejected", [])


def test_withdrawing_and_a_sponsors_confirmation_from_code(anna, fisksatra, inclusion_call):
    draft_ = _draft(inclusion_call, fisksatra, anna, "20000")
    apply.application_withdraw(application=draft_, by=anna)
    assert agree(draft_) == ("withdrawn", [])

    submitted = _draft(inclusion_call, fisksatra, anna, "20000")
    apply.application_submit(application=submitted, by=anna)
    apply.application_withdraw(application=submitted, by=anna, note="Vi hinner inte.")
    assert agree(submitted) == ("withdrawn", [])

    nadia = factories.user("nadia", first_name="Nadia")
    group = factories.informal_group(fisksatra, members=[nadia])
    sponsored = _draft(inclusion_call, group, nadia, "18000")
    apply.application_ask_sponsor(application=sponsored, by=nadia)
    assert agree(sponsored) == ("awaiting_sponsor", [])
    apply.application_sponsor_confirm(application=sponsored, by=anna)
    assert agree(sponsored) == ("submitted", ["check_completeness"])
