"""workflows.process: each public grants action, called from code, takes its step in the
grant flow. Before, the services were a way around the flow: a submitted case with a case
number and no process, a paid case stuck in await_payment, a staff step done while its task
stayed open."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from viewflow.workflow import STATUS

from documents.payment_files import payment_file_create
from grants.models import Application, CaseEvent, FollowUpReport
from grants.services import apply, assess, decide, follow_up, pay
from workflows.flows import GrantFlow
from workflows.models import GrantProcess
from workflows.process import active_task_names

from .. import factories
from ..grants.test_bad_input import make_draft

pytestmark = pytest.mark.django_db


def test_submitting_starts_the_case_and_its_completeness_check_waits_for_an_officer(anna, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assert application.status == "submitted" and application.case_number
    assert active_task_names(application) == ["check_completeness"]


def test_a_sponsors_confirmation_starts_the_case(anna, fisksatra, inclusion_call):
    nadia = factories.user("nadia")
    group = factories.informal_group(fisksatra, members=[nadia])
    application = apply.application_ask_sponsor(application=make_draft(inclusion_call, group, nadia), by=nadia)
    assert not GrantProcess.objects.filter(application=application).exists()
    apply.application_sponsor_confirm(application=application, by=anna)
    assert active_task_names(application) == ["check_completeness"]


def test_answering_a_completion_request_sends_the_case_back_to_the_officer(
    anna, olle, fisksatra, inclusion_call, in_a_week
):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completion_request(application=application, by=olle, message="Protokollet.", due_on=in_a_week)
    assert active_task_names(application) == ["await_completion"]
    apply.completion_answer(application=application, by=anna, answer="Här.")
    assert active_task_names(application) == ["check_completeness"]


def test_a_staff_step_from_code_completes_its_task_for_the_person(anna, olle, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assert active_task_names(application) == ["assess"]
    task = GrantProcess.objects.get(application=application).task_set.get(flow_task=GrantFlow.check_completeness)
    assert (task.status, task.owner) == (STATUS.DONE, olle)


def test_a_staff_step_without_its_open_task_is_refused(anna, olle, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    # Out of turn: the case's status says why.
    with pytest.raises(ValidationError, match="Det går inte att lämna en bedömning nu"):
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("40000"),
            justification="Bra.",
        )
    # In turn for the state, but the flow has no such task open: refused, and nothing changes.
    GrantProcess.objects.get(application=application).task_set.filter(flow_task=GrantFlow.check_completeness).update(
        status=STATUS.CANCELED
    )
    with pytest.raises(ValidationError, match="ingen öppen uppgift för kontroll av att ansökan är komplett"):
        assess.completeness_confirm(application=application, by=olle)
    assert Application.objects.get(pk=application.pk).status == "submitted"
    assert not CaseEvent.objects.filter(application=application, action="Ansökan komplett").exists()


def test_a_task_someone_else_has_taken_is_refused(anna, olle, otto, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Bra.",
    )
    # The officer's decision task is assigned to the officer who assessed the case.
    with pytest.raises(PermissionDenied):
        decide.decision_make(
            application=application, by=otto, outcome="approved", amount=Decimal("40000"), reasons="Bra."
        )
    assert Application.objects.get(pk=application.pk).status == "assessed"


def test_an_officer_who_declared_jav_cannot_work_the_step_from_code(anna, olle, otto, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.conflict_declare(application=application, by=olle, reason="Min bror är kassör.")
    with pytest.raises(PermissionDenied):
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("40000"),
            justification="Bra.",
        )
    assert Application.objects.get(pk=application.pk).status == "in_assessment"
    assess.assessment_record(
        application=application,
        by=otto,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Bra.",
    )
    assert active_task_names(application) == ["decide_by_officer"]


def test_withdrawing_a_submitted_case_cancels_its_process(anna, fisksatra, inclusion_call):
    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    apply.application_withdraw(application=application, by=anna, note="Vi hinner inte.")
    assert Application.objects.get(pk=application.pk).status == "withdrawn"
    assert GrantProcess.objects.get(application=application).status == STATUS.CANCELED
    assert active_task_names(application) == []


def test_marking_the_last_open_payment_paid_moves_the_case_on(anna, olle, fia, fisksatra, inclusion_call):
    granted = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    planned = list(granted.payments.filter(status="planned").values_list("pk", flat=True))
    pay.payments_attest(payment_ids=planned, by=fia)
    payment_file_create(by=fia, payment_ids=planned)
    assert active_task_names(granted) == ["await_payment"]
    pay.payments_mark_paid(payment_ids=planned, by=fia)
    # The 15 % is withheld until the follow-up report: the grantee owes it now.
    assert active_task_names(granted) == ["await_report"]


def test_the_follow_up_report_goes_to_the_officers_review(anna, olle, fia, fisksatra, inclusion_call):
    owed = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    report = FollowUpReport.objects.get(application=owed)
    follow_up.follow_up_submit(
        report=report,
        by=anna,
        what_was_done="Träffar.",
        outcome="Bra.",
        own_contribution=Decimal("0"),
        cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("50000"))],
    )
    assert active_task_names(owed) == ["review_report"]
    follow_up.follow_up_review(report=report, by=olle, verdict="approve")
    assert active_task_names(owed) == ["await_payment"]
    assert CaseEvent.objects.filter(application=owed, action="Återrapport godkänd").count() == 1
