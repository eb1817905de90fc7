"""Where a case is, as Anna's case page shows it (grants.stages): the stage of every FSM state
from one table, refined by the case's rows — a committee decision awaiting its protocol, a
grant paid in part while the follow-up report is owed, a report under review, a repayment
claim, an open completion request — and what she is expected to do or waits for. The cases
are taken there over HTTP, as Anna, Olle, Kim and Fia would."""

import datetime as dt

import pytest
from django.urls import reverse

from grants.models import Application, RepaymentClaim
from grants.selectors import case_overview
from grants.stages import STAGE_OF_STATUS, WAITING, Expected, Stage, case_stage

from .. import factories
from ..staff import draft, meeting_letters, pay_out, work

pytestmark = pytest.mark.django_db


def stage_of(application):
    """Where the case is, from the rows its case page loads."""
    overview = case_overview(application.pk)
    application, report = overview["application"], overview["follow_up"]
    open_request = next((r for r in application.completion_requests.all() if r.answered_at is None), None)
    claim = RepaymentClaim.objects.filter(application=application).first() if report else None
    return case_stage(
        application=application, decision=overview["decision"], report=report, claim=claim, open_request=open_request
    )


def states(stage):
    return {step.key: step.state for step in stage.progress}


def notes(stage):
    return {step.key: step.note for step in stage.progress}


def expected(stage):
    return [item.expected for item in stage.todo]


# --- the stories that take a case somewhere ---------------------------------------------------


def drafted(client, anna, call, organisation, *, amount="60000"):
    client.force_login(anna)
    response = draft(client, call, organisation=organisation, amount=amount)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Application.objects.latest("pk")


def submitted(client, anna, call, organisation, *, amount="60000"):
    application = drafted(client, anna, call, organisation, amount=amount)
    response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    return application


def completeness_checked(client, olle, application, *, completion_due=None):
    client.force_login(olle)
    data = {"result": "complete"}
    if completion_due:
        data = {"result": "completion", "message": "Skicka föreningens budget.", "due_on": completion_due.isoformat()}
    work(client, application, "check_completeness", data)
    application.refresh_from_db()
    return application


def assessed(client, olle, application, *, proposal="approved", amount="60000"):
    completeness_checked(client, olle, application)
    work(
        client,
        application,
        "assess",
        {
            "conflict": "none",
            "proposal": proposal,
            "proposed_amount": amount,
            "justification": "Når barn utanför föreningslivet.",
        },
    )
    application.refresh_from_db()
    return application


def decided_by_officer(client, olle, application, *, outcome, amount):
    client.force_login(olle)
    work(
        client,
        application,
        "decide_by_officer",
        {"outcome": outcome, "amount": amount, "reasons": "Stämmer med programmets mål.", "conditions": ""},
    )
    application.refresh_from_db()
    return application


def decided_by_committee(client, kim, application, *, held_on):
    client.force_login(kim)
    work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": "Stämmer med nämndens mål för inkludering.",
            "meeting_date": held_on.isoformat(),
            "protocol_paragraph": "§ 12",
        },
        expect_done=False,
    )
    application.refresh_from_db()
    return application


def report_sent(client, anna, application):
    client.force_login(anna)
    response = client.post(reverse("portal:follow_up", args=[application.pk]), factories.report_form_data(application))
    assert response.status_code == 302, response.content.decode()[:3000]
    application.refresh_from_db()
    return application


def report_reviewed(client, olle, application, verdict, **data):
    client.force_login(olle)
    work(client, application, "review_report", {"verdict": verdict, **data})
    application.refresh_from_db()
    return application


@pytest.fixture
def owed(anna, olle, fia, fisksatra, inclusion_call):
    """Fisksätra IF's project grant of 40 000 kr: 34 000 paid, 6 000 withheld until the report."""
    return factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)


# --- one table decides ------------------------------------------------------------------------


def test_every_status_has_a_stage_and_a_waiting_text():
    """A new FSM state fails here until someone decides where the applicant sees it."""
    assert set(STAGE_OF_STATUS) == set(Application.Status.values)
    assert set(WAITING) == set(Application.Status.values)


def test_the_stages_are_listed_in_the_order_of_the_lifecycle():
    assert list(Stage) == [
        Stage.APPLICATION,
        Stage.ASSESSMENT,
        Stage.DECISION,
        Stage.PAYMENT,
        Stage.FOLLOW_UP,
        Stage.CLOSED,
    ]


# --- applying -----------------------------------------------------------------------------------


def test_a_draft_is_at_the_application_and_waits_for_anna(client, anna, fisksatra, inclusion_call):
    stage = stage_of(drafted(client, anna, inclusion_call, fisksatra))
    assert stage.current == Stage.APPLICATION
    assert notes(stage)[Stage.APPLICATION] == "Utkast"
    assert expected(stage) == [Expected.APPLICATION]
    assert stage.todo[0].due == inclusion_call.closes_on and stage.todo[0].link == "Fortsätt med ansökan"
    assert not stage.awaiting_protocol


def test_a_groups_application_waits_for_its_sponsor(client, fisksatra, inclusion_call):
    nadia = factories.user("nadia", first_name="Nadia")
    group = factories.informal_group(fisksatra, members=[nadia])
    application = submitted(client, nadia, inclusion_call, group)
    assert application.status == Application.Status.AWAITING_SPONSOR
    stage = stage_of(application)
    assert stage.current == Stage.APPLICATION
    assert notes(stage)[Stage.APPLICATION] == "Väntar på att Fisksätra IF bekräftar"
    assert stage.todo == ()
    assert stage.waiting.startswith("Inget just nu. Fisksätra IF ska bekräfta att föreningen är medsökare")
    assert f"senast {inclusion_call.closes_on:%Y-%m-%d}" in stage.waiting


# --- assessment -------------------------------------------------------------------------------


def test_a_submitted_case_is_in_assessment(client, anna, fisksatra, inclusion_call, today):
    application = submitted(client, anna, inclusion_call, fisksatra)
    stage = stage_of(application)
    assert stage.current == Stage.ASSESSMENT
    assert states(stage)[Stage.APPLICATION] == "done"
    assert notes(stage)[Stage.APPLICATION] == f"Inskickad {application.submitted_at:%Y-%m-%d}"
    assert notes(stage)[Stage.ASSESSMENT] == "Inkommen"
    assert stage.waiting.startswith("Inget just nu. Vänta på beslutet.")


def test_a_completion_request_is_what_anna_must_do(client, anna, olle, fisksatra, inclusion_call, in_a_week):
    application = completeness_checked(
        client, olle, submitted(client, anna, inclusion_call, fisksatra), completion_due=in_a_week
    )
    assert application.status == Application.Status.AWAITING_COMPLETION
    stage = stage_of(application)
    assert stage.current == Stage.ASSESSMENT
    assert notes(stage)[Stage.ASSESSMENT] == "Komplettering begärd"
    assert expected(stage) == [Expected.COMPLETION] and stage.todo[0].due == in_a_week


def test_a_case_under_assessment(client, anna, olle, fisksatra, inclusion_call):
    application = completeness_checked(client, olle, submitted(client, anna, inclusion_call, fisksatra))
    assert application.status == Application.Status.IN_ASSESSMENT
    stage = stage_of(application)
    assert stage.current == Stage.ASSESSMENT and notes(stage)[Stage.ASSESSMENT] == "Under bedömning"
    assert stage.todo == () and stage.waiting.startswith("Inget just nu. Vänta på beslutet.")


def test_an_assessed_case_waits_for_the_decision(client, anna, olle, fisksatra, inclusion_call):
    application = assessed(client, olle, submitted(client, anna, inclusion_call, fisksatra))
    assert application.status == Application.Status.ASSESSED
    stage = stage_of(application)
    assert stage.current == Stage.DECISION
    assert states(stage)[Stage.ASSESSMENT] == "done"
    assert notes(stage)[Stage.DECISION] == "Väntar på beslut"


# --- the decision ---------------------------------------------------------------------------


def test_a_committee_decision_awaiting_its_protocol_stays_at_the_decision(
    client, anna, olle, kim, fisksatra, inclusion_call, today
):
    held_on = today - dt.timedelta(days=1)
    application = decided_by_committee(
        client, kim, assessed(client, olle, submitted(client, anna, inclusion_call, fisksatra)), held_on=held_on
    )
    assert application.status == Application.Status.APPROVED
    stage = stage_of(application)
    assert stage.awaiting_protocol
    assert stage.current == Stage.DECISION
    assert notes(stage)[Stage.DECISION] == (
        f"Nämnden beslutade {held_on:%Y-%m-%d}. Beslutsbrevet kommer när protokollet har justerats."
    )
    assert notes(stage)[Stage.PAYMENT] == ""
    assert stage.waiting.startswith(f"Inget just nu. Nämnden har beslutat vid sammanträdet den {held_on:%Y-%m-%d}.")
    assert "först då betalas bidraget ut" in stage.waiting

    meeting_letters(client, kim, application, announced_on=today.isoformat())
    stage = stage_of(application)
    assert not stage.awaiting_protocol
    assert stage.current == Stage.PAYMENT and states(stage)[Stage.DECISION] == "done"
    assert notes(stage)[Stage.PAYMENT] == "0 av 2 delar utbetalda"
    assert stage.waiting == "Inget just nu. Bidraget betalas ut till Bankgiro 5050-1055."


def test_a_grant_decided_under_delegation_is_at_its_payments(anna, olle, fisksatra, inclusion_call):
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    stage = stage_of(application)
    assert (application.status, stage.current) == (Application.Status.APPROVED, Stage.PAYMENT)
    assert states(stage)[Stage.DECISION] == "done" and states(stage)[Stage.FOLLOW_UP] == "todo"
    assert notes(stage)[Stage.PAYMENT] == "0 av 2 delar utbetalda"
    # The report is owed from the decision on, while the first part is on its way.
    assert expected(stage) == [Expected.FOLLOW_UP_REPORT]


def test_a_partly_approved_grant_is_at_its_payments(client, anna, olle, fisksatra, inclusion_call):
    application = decided_by_officer(
        client,
        olle,
        assessed(
            client, olle, submitted(client, anna, inclusion_call, fisksatra), proposal="partly_approved", amount="40000"
        ),
        outcome="partly_approved",
        amount="40000",
    )
    assert application.status == Application.Status.PARTLY_APPROVED
    stage = stage_of(application)
    assert stage.current == Stage.PAYMENT
    assert notes(stage)[Stage.DECISION].startswith("Beviljas delvis ")


def test_a_rejected_case_is_closed_and_skips_what_never_came(client, anna, olle, fisksatra, inclusion_call):
    application = decided_by_officer(
        client,
        olle,
        assessed(client, olle, submitted(client, anna, inclusion_call, fisksatra), proposal="rejected", amount="0"),
        outcome="rejected",
        amount="0",
    )
    assert application.status == Application.Status.REJECTED
    stage = stage_of(application)
    assert stage.current == Stage.CLOSED and notes(stage)[Stage.CLOSED] == "Avslagen"
    assert states(stage) == {
        Stage.APPLICATION: "done",
        Stage.ASSESSMENT: "done",
        Stage.DECISION: "done",
        Stage.PAYMENT: "skipped",
        Stage.FOLLOW_UP: "skipped",
        Stage.CLOSED: "current",
    }
    assert stage.waiting.startswith("Inget. Ansökan är avslagen.")


# --- payments and the follow-up report -----------------------------------------------------


def test_a_grant_paid_in_part_is_at_the_follow_up_report_anna_owes(owed):
    stage = stage_of(owed)
    assert stage.current == Stage.FOLLOW_UP
    assert states(stage)[Stage.PAYMENT] == "partly"
    assert notes(stage)[Stage.PAYMENT] == "1 av 2 delar utbetalda"
    assert notes(stage)[Stage.FOLLOW_UP] == f"Ska lämnas, senast {owed.follow_up.due_on:%Y-%m-%d}"
    assert expected(stage) == [Expected.FOLLOW_UP_REPORT]
    assert stage.todo[0].link == "Fyll i återrapporten"


def test_a_report_under_review_is_what_anna_waits_for(client, anna, owed):
    stage = stage_of(report_sent(client, anna, owed))
    assert stage.current == Stage.FOLLOW_UP and stage.todo == ()
    assert stage.waiting == "Inget just nu. Handläggaren granskar återrapporten."


def test_an_approved_report_brings_the_last_part_to_payment(client, anna, olle, owed):
    application = report_reviewed(client, olle, report_sent(client, anna, owed), "approve", note="")
    stage = stage_of(application)
    assert stage.current == Stage.PAYMENT and states(stage)[Stage.FOLLOW_UP] == "done"


def test_a_rejected_report_asks_anna_to_pay_back(client, anna, olle, owed):
    application = report_reviewed(
        client,
        olle,
        report_sent(client, anna, owed),
        "reject",
        note="Pengarna gick till annat.",
        reclaim_amount="12500",
    )
    stage = stage_of(application)
    assert expected(stage) == [Expected.REPAYMENT]
    assert stage.todo[0].text == "Betala tillbaka 12\xa0500,00 kr enligt beslutet om återkrav."


# --- the end --------------------------------------------------------------------------------


def test_a_closed_case_has_every_stage_done(client, anna, olle, fia, owed):
    application = report_reviewed(client, olle, report_sent(client, anna, owed), "approve", note="")
    pay_out(application, fia)
    application.refresh_from_db()
    assert application.status == Application.Status.CLOSED
    stage = stage_of(application)
    assert stage.current == Stage.CLOSED and notes(stage)[Stage.CLOSED] == "Avslutad"
    assert states(stage) == {
        Stage.APPLICATION: "done",
        Stage.ASSESSMENT: "done",
        Stage.DECISION: "done",
        Stage.PAYMENT: "done",
        Stage.FOLLOW_UP: "done",
        Stage.CLOSED: "current",
    }
    assert notes(stage)[Stage.PAYMENT] == "2 av 2 delar utbetalda"
    assert stage.todo == () and stage.waiting == "Inget. Ärendet är avslutat."


def test_a_withdrawn_case_is_closed_with_the_day_it_was_withdrawn(client, anna, fisksatra, inclusion_call):
    application = submitted(client, anna, inclusion_call, fisksatra)
    response = client.post(reverse("portal:withdraw", args=[application.pk]), {"confirm": "on", "note": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    stage = stage_of(application)
    assert stage.current == Stage.CLOSED
    assert notes(stage)[Stage.CLOSED] == f"Återtagen {application.withdrawn_at:%Y-%m-%d}"
    assert states(stage)[Stage.APPLICATION] == "done" and states(stage)[Stage.ASSESSMENT] == "skipped"
    assert stage.waiting == "Inget. Ansökan är återtagen och behandlas inte vidare."


def test_a_programme_without_follow_up_skips_the_report(anna, olle, fisksatra):
    programme = factories.programme(
        "inkludering", follow_up_required=False, payment_plan=[{"percent": 100, "release": "decision"}]
    )
    application = factories.granted_case(factories.call(programme), fisksatra, anna, olle)
    stage = stage_of(application)
    assert states(stage)[Stage.FOLLOW_UP] == "skipped" and stage.todo == ()
    assert stage.waiting == "Inget just nu. Bidraget betalas ut till Bankgiro 5050-1055."


def test_the_stage_costs_no_query_of_its_own(owed, django_assert_num_queries):
    overview = case_overview(owed.pk)
    application = overview["application"]
    with django_assert_num_queries(0):
        case_stage(
            application=application,
            decision=overview["decision"],
            report=overview["follow_up"],
            claim=None,
            open_request=None,
        )
