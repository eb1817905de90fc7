"""What Anna is told by e-mail when her case is decided."""

import datetime as dt

import pytest
from django.core import mail

from grants.services import apply, assess, decide
from workflows import cases, driver
from workflows.flows import GrantFlow

pytestmark = pytest.mark.django_db(transaction=True)


def _assessed(anna, olle, fisksatra, call, amount):
    application = apply.application_save_draft(
        call=call, organisation=fisksatra, by=anna, title="Läxhjälp", description="Läxhjälp och fotboll.",
        period_start="2026-01-01", period_end="2026-12-31", stated_amount=amount,
        budget_lines=[("cost", "Ledare", amount)],
    )
    application = cases.case_submit(application=application, by=anna)
    driver.task_work(application=application, node=GrantFlow.check_completeness, user=olle,
                     act=lambda: assess.completeness_confirm(application=application, by=olle))
    driver.task_work(application=application, node=GrantFlow.assess, user=olle,
                     act=lambda: assess.assessment_record(application=application, by=olle, no_conflict=True,
                                                          proposal="approved", proposed_amount=amount,
                                                          justification="Bra projekt."))
    mail.outbox.clear()
    return application


def test_a_decision_on_delegation_says_the_letter_is_in_the_portal(anna, olle, fisksatra, inclusion_call):
    application = _assessed(anna, olle, fisksatra, inclusion_call, 20000)
    driver.task_work(application=application, node=GrantFlow.decide_by_officer, user=olle,
                     act=lambda: decide.decision_make(application=application, by=olle, outcome="approved",
                                                      amount=20000, reasons="Bra projekt."))
    [message] = [m for m in mail.outbox if "Beslut i ditt ärende" in m.subject]
    assert "Beslutsbrevet finns i portalen." in message.body


def test_a_committee_decision_says_the_letter_comes_when_the_protocol_is_approved(
    anna, olle, kim, fisksatra, inclusion_call
):
    application = _assessed(anna, olle, fisksatra, inclusion_call, 60000)
    driver.task_work(application=application, node=GrantFlow.decide_by_committee, user=kim,
                     act=lambda: decide.decision_make(application=application, by=kim, outcome="approved",
                                                      amount=60000, reasons="Bra projekt.",
                                                      meeting_date=dt.date(2026, 3, 12), protocol_paragraph="§ 4"))
    [message] = [m for m in mail.outbox if "Beslut i ditt ärende" in m.subject]
    assert "när nämndens protokoll har justerats" in message.body
    assert "finns i portalen" not in message.body
