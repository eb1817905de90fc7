"""Follow-up reminders: 14 days before the last day and on it, each sent once however
often (or however many workers) the daily job runs."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection

from grants.models import CaseEvent, FollowUpReport
from grants.services.follow_up import follow_up_reminders_send

from .. import factories


@pytest.fixture
def report(anna, olle, fisksatra, inclusion_call):
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    return FollowUpReport.objects.get(application=application)


def reminders(report):
    return list(
        CaseEvent.objects.filter(
            application=report.application, action="Påminnelse om återrapport skickad"
        ).values_list("note", flat=True)
    )


@pytest.mark.django_db
def test_each_reminder_goes_out_once(report, django_capture_on_commit_callbacks):
    due = report.due_on
    mail.outbox.clear()
    for day, expected in (
        (due - dt.timedelta(days=15), 0),
        (due - dt.timedelta(days=14), 1),
        (due - dt.timedelta(days=14), 0),
        (due - dt.timedelta(days=3), 0),
        (due, 1),
        (due, 0),
        (due + dt.timedelta(days=1), 0),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert follow_up_reminders_send(today=day) == expected, day
    assert [message.subject for message in mail.outbox] == [
        f"{report.application.case_number}: Påminnelse om återrapport"
    ] * 2
    assert f"ska lämnas senast {due:%Y-%m-%d}, om 14 dagar" in mail.outbox[0].body
    assert f"i dag, {due:%Y-%m-%d}, är sista dagen" in mail.outbox[1].body
    assert mail.outbox[0].to == [report.application.organisation.members.get().email]
    assert reminders(report) == [f"Sista dag {due:%Y-%m-%d}."] * 2


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_and_a_sent_report_is_not_reminded(report, django_capture_on_commit_callbacks):
    due = report.due_on
    with django_capture_on_commit_callbacks(execute=True):
        assert follow_up_reminders_send(today=due + dt.timedelta(days=2)) == 1  # the job did not run on the day
    assert "skulle ha lämnats senast" in mail.outbox[-1].body
    FollowUpReport.objects.filter(pk=report.pk).update(status=FollowUpReport.Status.SUBMITTED, reminded_due_at=None)
    assert follow_up_reminders_send(today=due) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_reminder(report):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    FollowUpReport.objects.filter(pk=report.pk).update(due_on=dt.date.today() + dt.timedelta(days=10))
    mail.outbox.clear()
    barrier, counts = threading.Barrier(4), []

    def worker():
        from django.db import connection as own

        try:
            barrier.wait()
            counts.append(follow_up_reminders_send())
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1 and len(reminders(report)) == 1
