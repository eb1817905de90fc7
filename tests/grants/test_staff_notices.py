"""Staff hear of their cases by e-mail: Olle, who handles Fisksätra IF's case, is told when Anna
answers his completion request, writes to him or hands in the follow-up report, and when a
task has waited longer than the programme's service target; at once, in a daily digest, or
not at all, as he chooses on his settings page."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from grants import staff_notices
from grants.models import StaffNotice, StaffSettings
from grants.services import apply, assess
from grants.services import messages as case_messages
from workflows.flows import GrantFlow

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(anna, fisksatra, inclusion_call):
    return apply.application_submit(application=factories.draft(inclusion_call, fisksatra, anna), by=anna)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def choose(person, email):
    StaffSettings.objects.update_or_create(user=person, defaults={"email": email})


def ask_completion(case, olle):
    return assess.completion_request(
        application=case, by=olle, message="Bifoga budgeten.", due_on=timezone.localdate() + dt.timedelta(days=7)
    )


# --- who handles the case -------------------------------------------------------------------


def test_the_handler_is_the_owner_of_the_open_task_else_the_assessor_else_the_last_officer(case, olle, otto):
    assert staff_notices.handler_of(case) is None  # waiting in the queue: nobody yet
    assess.completeness_confirm(application=case, by=olle)
    assert staff_notices.handler_of(case) == olle  # the last officer in the history
    factories.hand_task_to(case, GrantFlow.assess, otto)
    assert staff_notices.handler_of(case) == otto  # the owner of the open task


def test_the_assessor_handles_a_case_awaiting_its_follow_up_report(anna, fisksatra, inclusion_call, olle, fia):
    granted = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    assert granted.decision.decided_by != olle
    assert staff_notices.handler_of(granted) == olle


# --- the three things an applicant does ------------------------------------------------------


def test_a_completion_answer_mails_the_officer_at_once(case, olle, anna, commit):
    ask_completion(case, olle)
    mail.outbox.clear()
    with commit():
        apply.completion_answer(application=case, by=anna, answer="Budgeten är bifogad.")
    notice = StaffNotice.objects.get()
    assert (notice.user, notice.kind) == (olle, StaffNotice.Kind.COMPLETION_ANSWER)
    assert notice.sent_at is not None
    [sent] = mail.outbox
    assert sent.to == [olle.email]
    assert case.case_number in sent.subject and "Kompletteringssvar" in sent.subject
    assert "kompletteringsbegäran" in sent.body and f"/staff/cases/grant/{case.process.pk}/" in sent.body
    assert "http://" in sent.body  # an absolute link (settings.SITE_URL)


def test_an_applicant_message_mails_the_officer(case, olle, anna, commit):
    assess.completeness_confirm(application=case, by=olle)
    with commit():
        case_messages.message_send(application=case, by=anna, body="En fråga om redovisningen.")
    [sent] = mail.outbox
    assert sent.to == [olle.email] and "Meddelande från sökande" in sent.subject
    assert "redovisningen" not in sent.body  # the text is read in the staff interface


def test_a_follow_up_report_mails_the_assessor(client, anna, fisksatra, inclusion_call, olle, fia, commit):
    granted = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    mail.outbox.clear()
    client.force_login(anna)
    with commit():
        response = client.post(reverse("portal:follow_up", args=[granted.pk]), factories.report_form_data(granted))
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = StaffNotice.objects.get(kind=StaffNotice.Kind.FOLLOW_UP)
    assert notice.user == olle and notice.sent_at is not None
    assert [m.to for m in mail.outbox if "Återrapport" in m.subject] == [[olle.email]]


def test_nothing_is_mailed_when_the_step_is_rolled_back(case, olle, anna):
    ask_completion(case, olle)
    mail.outbox.clear()
    apply.completion_answer(application=case, by=anna, answer="Svar.")  # on_commit never runs in the test
    assert mail.outbox == []
    assert StaffNotice.objects.get().sent_at is None


# --- immediate, daily, off --------------------------------------------------------------------


def test_daily_collects_and_the_command_sends_one_digest(case, olle, anna, commit):
    choose(olle, StaffSettings.Email.DAILY)
    ask_completion(case, olle)
    mail.outbox.clear()
    with commit():
        apply.completion_answer(application=case, by=anna, answer="Svar.")
        case_messages.message_send(application=case, by=anna, body="Och en fråga till.")
    assert mail.outbox == []
    assert StaffNotice.objects.filter(user=olle, sent_at__isnull=True).count() == 2

    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    [digest] = mail.outbox
    assert digest.to == [olle.email] and "2 händelser" in digest.subject
    assert digest.body.count(case.case_number) == 2 and "/staff/installningar/" in digest.body
    assert not StaffNotice.objects.filter(sent_at__isnull=True).exists()

    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    assert len(mail.outbox) == 1  # nothing twice


def test_off_sends_nothing_but_keeps_the_notice(case, olle, anna, commit):
    choose(olle, StaffSettings.Email.OFF)
    ask_completion(case, olle)
    mail.outbox.clear()
    with commit():
        apply.completion_answer(application=case, by=anna, answer="Svar.")
    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    assert mail.outbox == []
    assert StaffNotice.objects.get().sent_at is None


def test_a_digest_leaves_out_old_news(case, olle, anna):
    ask_completion(case, olle)
    apply.completion_answer(application=case, by=anna, answer="Svar.")
    StaffNotice.objects.update(created_at=timezone.now() - dt.timedelta(days=staff_notices.DIGEST_DAYS + 1))
    assert staff_notices.digests_send() == 0


# --- tasks over the service target -------------------------------------------------------------


def _age_tasks(case, days):
    Task.objects.filter(process__grantprocess__application=case).update(
        created=timezone.now() - dt.timedelta(days=days)
    )


def test_an_unassigned_task_over_the_target_goes_to_the_committees_officers_once(case, olle):
    social = factories.committee("SN", "Socialnämnden")
    ulla = factories.user("ulla", role="Handläggare", committees=[social])
    kim_elsewhere = factories.user("kimsn", role="Beslutsfattare", committees=[social])
    _age_tasks(case, 13)
    assert staff_notices.overdue_notices_create() == 0  # the target is 14 days
    _age_tasks(case, 15)
    assert staff_notices.overdue_notices_create() == 1
    notice = StaffNotice.objects.get()
    assert (notice.user, notice.kind, notice.application_id) == (olle, StaffNotice.Kind.OVERDUE, case.pk)
    assert not StaffNotice.objects.filter(user__in=[ulla, kim_elsewhere]).exists()
    assert staff_notices.overdue_notices_create() == 0  # once per task

    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    [sent] = mail.outbox
    assert sent.to == [olle.email] and "servicemål" in sent.body


def test_an_assigned_task_over_the_target_goes_to_its_owner_only(case, olle, otto):
    factories.hand_task_to(case, GrantFlow.check_completeness, otto)
    _age_tasks(case, 30)
    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    assert list(StaffNotice.objects.values_list("user__username", "kind")) == [("otto", "overdue")]
    call_command("staff_notices_send", stdout=open("/dev/null", "w"))
    assert StaffNotice.objects.count() == 1 and len(mail.outbox) == 1


def test_an_officer_who_declared_jav_is_not_reminded(case, olle, otto):
    assess.completeness_confirm(application=case, by=olle)
    assess.conflict_declare(application=case, by=olle, reason="Jäv.")
    _age_tasks(case, 30)
    staff_notices.overdue_notices_create()
    assert list(StaffNotice.objects.values_list("user__username", flat=True)) == ["otto"]


# --- the settings page ----------------------------------------------------------------------


def test_olle_chooses_the_daily_digest(client, olle):
    client.force_login(olle)
    url = reverse("staff_settings:edit")
    page = client.get(url).content.decode()
    assert "En sammanfattning per dag" in page and 'value="immediate" ' in page and "checked" in page
    response = client.post(url, {"email": "daily"})
    assert response.status_code == 302
    assert StaffSettings.objects.get(user=olle).email == "daily"
    assert client.post(url, {"email": "weekly"}).status_code == 400


def test_the_settings_page_is_for_staff(client, anna):
    url = reverse("staff_settings:edit")
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(anna)
    assert client.get(url).status_code == 403


def test_the_settings_page_costs_a_few_queries(client, olle):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(olle)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("staff_settings:edit")).status_code == 200
    assert len(captured) <= 10
