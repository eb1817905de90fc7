"""Anna withdraws an application before the decision. A submitted case's process is
cancelled with every open task, so the officer has nothing more to do with it; after a
decision the portal refuses, in Swedish, and nothing changes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow import PROCESS, STATUS

from grants.models import Application, CaseEvent
from grants.services import apply, assess, decide
from workflows.models import GrantProcess
from workflows.process import active_task_names

from ..staff import claim

pytestmark = pytest.mark.django_db


def make_draft(call, organisation, by):
    today = timezone.localdate()
    return apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=by,
        title="Fisksätras läxhjälp",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal("40000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("50000"))],
    )


@pytest.fixture
def submitted(anna, fisksatra, inclusion_call):
    return apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)


def tasks_of(application):
    process = GrantProcess.objects.get(application=application)
    return {task.flow_task.name: task.status for task in process.task_set.all()}


def staff_lists(client, officer):
    client.force_login(officer)
    return (
        client.get("/staff/cases/grant/queue/").content.decode()
        + client.get("/staff/cases/grant/inbox/").content.decode()
    )


def withdraw_in_portal(client, anna, application, note="Vi har fått pengar från en stiftelse i stället."):
    client.force_login(anna)
    return client.post(reverse("portal:withdraw", args=[application.pk]), {"confirm": "on", "note": note})


def assert_withdrawn(application, *, note):
    application = Application.objects.get(pk=application.pk)
    assert application.status == Application.Status.WITHDRAWN and application.withdrawn_at is not None
    assert application.case_number  # the case keeps its number
    process = GrantProcess.objects.get(application=application)
    assert process.status == PROCESS.CANCELED and process.finished is not None
    assert active_task_names(application) == []
    assert CaseEvent.objects.filter(application=application, action="Ansökan återtagen", note=note).exists()
    return application


def test_a_submitted_case_is_withdrawn_and_its_process_and_tasks_cancelled(client, anna, olle, submitted):
    assert submitted.case_number in staff_lists(client, olle)
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[submitted.pk])).content.decode()
    assert f'href="{reverse("portal:withdraw", args=[submitted.pk])}">Återta ansökan</a>' in page
    page = client.get(reverse("portal:withdraw", args=[submitted.pk])).content.decode()
    assert 'type="checkbox" name="confirm"' in page and f"Ärendet {submitted.case_number} avslutas utan beslut" in page

    # Without the tick box, nothing happens.
    response = client.post(reverse("portal:withdraw", args=[submitted.pk]), {"note": "Ångrar oss."})
    assert response.status_code == 400
    assert "Kryssa i rutan för att bekräfta att du vill återta ansökan." in response.content.decode()
    assert Application.objects.get(pk=submitted.pk).status == Application.Status.SUBMITTED

    response = withdraw_in_portal(client, anna, submitted)
    assert response.status_code == 302 and response.url == reverse("portal:application", args=[submitted.pk])
    assert_withdrawn(submitted, note="Vi har fått pengar från en stiftelse i stället.")
    assert tasks_of(submitted) == {"start": STATUS.DONE, "check_completeness": STATUS.CANCELED}
    assert submitted.case_number not in staff_lists(client, olle)

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[submitted.pk])).content.decode()
    assert "Återtagen" in page and "Inget. Ansökan är återtagen" in page
    assert "Återta ansökan</a>" not in page


def test_a_task_the_officer_has_taken_is_cancelled_too_and_leaves_his_inbox(client, anna, olle, submitted):
    assess.completeness_confirm(application=submitted, by=olle)
    client.force_login(olle)
    assert claim(client, submitted, "assess").status_code == 302
    assert tasks_of(submitted)["assess"] == STATUS.ASSIGNED
    assert submitted.case_number in staff_lists(client, olle)

    withdraw_in_portal(client, anna, submitted, note="")
    assert_withdrawn(submitted, note="")
    assert tasks_of(submitted)["assess"] == STATUS.CANCELED
    assert submitted.case_number not in staff_lists(client, olle)


def test_a_case_awaiting_completion_is_withdrawn_instead_of_completed(client, anna, olle, submitted, in_a_week):
    assess.completion_request(application=submitted, by=olle, message="Protokollet.", due_on=in_a_week)
    withdraw_in_portal(client, anna, submitted, note="Vi hinner inte.")
    assert_withdrawn(submitted, note="Vi hinner inte.")
    assert tasks_of(submitted)["await_completion"] == STATUS.CANCELED
    with pytest.raises(ValidationError):
        apply.completion_answer(application=submitted, by=anna, answer="Här.")


def test_withdrawing_is_refused_after_the_decision_and_nothing_changes(client, anna, olle, submitted):
    assess.completeness_confirm(application=submitted, by=olle)
    assess.assessment_record(
        application=submitted,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Bra.",
    )
    decide.decision_make(application=submitted, by=olle, outcome="approved", amount=Decimal("40000"), reasons="Bra.")
    before = (active_task_names(submitted), CaseEvent.objects.count())
    with pytest.raises(ValidationError) as caught:
        apply.application_withdraw(application=submitted, by=anna)
    assert caught.value.messages == [
        "Ansökan kan inte återtas: beslut är redan fattat i ärendet. Kontakta "
        "handläggaren om ni inte vill ta emot bidraget."
    ]

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[submitted.pk])).content.decode()
    assert "Återta ansökan</a>" not in page
    response = client.post(reverse("portal:withdraw", args=[submitted.pk]), {"confirm": "on"}, follow=True)
    assert "Ansökan kan inte återtas: den har status ”Beviljad”." in response.content.decode()
    application = Application.objects.get(pk=submitted.pk)
    assert application.status == Application.Status.APPROVED
    assert (active_task_names(application), CaseEvent.objects.count()) == before
    assert GrantProcess.objects.get(application=application).status != PROCESS.CANCELED


def test_only_the_applicant_may_withdraw(olle, eve, submitted):
    for person in (olle, eve):
        with pytest.raises(PermissionDenied):
            apply.application_withdraw(application=submitted, by=person)
    assert active_task_names(submitted) == ["check_completeness"]
    assert GrantProcess.objects.get(application=submitted).status == PROCESS.NEW


def test_a_draft_is_withdrawn_without_a_flow(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    page = client.get(reverse("portal:withdraw", args=[application.pk]))
    assert page.status_code == 302  # logged out: to the login page
    client.force_login(anna)
    page = client.get(reverse("portal:withdraw", args=[application.pk])).content.decode()
    assert "Utkastet sparas men kan inte längre ändras eller skickas in." in page
    withdraw_in_portal(client, anna, application, note="Dubblett.")
    application.refresh_from_db()
    assert (application.status, application.case_number) == (Application.Status.WITHDRAWN, "")
    assert not GrantProcess.objects.exists()
