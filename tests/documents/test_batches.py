"""A committee meeting's decision letters, made together in the background: progress read
from the database, no duplicates however often the batch is started or however many
workers share it, and a crashed worker's letters resumed, not lost."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

import documents.letters
from documents import batches
from documents.models import LetterBatch
from documents.tasks import produce_meeting_letter
from grants.models import CaseEvent, Decision, Document
from grants.services import apply, assess, decide

from ..staff import read_pdf_text

ANNOUNCED = dt.date(2026, 3, 20)


def committee_decisions(count, *, anna, olle, kim, organisation, call, held_on=dt.date(2026, 3, 12)):
    """`count` inclusion grants of 60 000 kr (above the 50 000 kr delegation), decided by the
    committee at one meeting through the real flow. Returns the decisions."""
    decisions = []
    for index in range(count):
        application = apply.application_save_draft(
            call=call,
            organisation=organisation,
            by=anna,
            title=f"Läxhjälp {index}",
            description="Läxhjälp.",
            period_start="2026-01-01",
            period_end="2026-12-31",
            stated_amount=60000,
            budget_lines=[("cost", "Ledararvoden", 60000)],
        )
        application = apply.application_submit(application=application, by=anna)
        assess.completeness_confirm(application=application, by=olle)
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=60000,
            justification="Når barn utanför föreningslivet.",
        )
        decisions.append(
            decide.decision_make(
                application=application,
                by=kim,
                outcome="approved",
                amount=60000,
                reasons="Stämmer med nämndens mål.",
                meeting_date=held_on,
                protocol_paragraph=f"§ {index + 1}",
            )
        )
    return decisions


@pytest.fixture
def meeting_of(anna, olle, kim, fisksatra, inclusion_call):
    def make(count):
        decisions = committee_decisions(
            count, anna=anna, olle=olle, kim=kim, organisation=fisksatra, call=inclusion_call
        )
        return decisions[0].meeting, decisions

    return make


def letters_of(decision):
    return Document.objects.filter(application=decision.application_id, kind=Document.Kind.DECISION_LETTER)


def run_queued_tasks():
    """What db_worker does with each READY task (claim, run, record the outcome), in this
    process and this test's transaction."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while (result := DBTaskResult.objects.ready().first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran


# --- with the immediate backend (tests' default) -----------------------------------------


@pytest.mark.django_db
def test_start_makes_each_letter_once_and_progress_counts_them(meeting_of, kim, anna, olle, fisksatra, activity_call):
    meeting, decisions = meeting_of(3)
    assert Decision.objects.filter(meeting=meeting).count() == 3
    assert batches.meeting_letters_progress(meeting) == {"done": 0, "total": 3, "waiting": 0, "failed": 0}
    assert not Document.objects.filter(kind=Document.Kind.DECISION_LETTER).exists()

    # The letters name the appeal period, so the announcement comes first.
    with pytest.raises(ValidationError, match="tillkännagavs på anslagstavlan"):
        batches.meeting_letters_start(meeting=meeting, by=kim)
    assert not LetterBatch.objects.exists()

    batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED)
    meeting.refresh_from_db()
    assert meeting.appeal_deadline == dt.date(2026, 4, 10)
    assert CaseEvent.objects.filter(action="Protokollet tillkännagivet").count() == 3

    batch = batches.meeting_letters_start(meeting=meeting, by=kim)
    assert (batch.started_by, batch.letters_queued) == (kim, 3)
    assert batches.meeting_letters_progress(meeting) == {"done": 3, "total": 3, "waiting": 0, "failed": 0}
    for decision in decisions:
        assert list(letters_of(decision).values_list("version", flat=True)) == [1]
    text, _ = read_pdf_text(default_storage.open(letters_of(decisions[0]).get().storage_key).read())
    flat = " ".join(text.split())
    assert "§ 1" in flat and "den 20 mars 2026 att protokollet" in flat and "senast den 10 april 2026" in flat

    # Started again: nothing to do, nothing duplicated.
    again = batches.meeting_letters_start(meeting=meeting, by=kim)
    assert again.letters_queued == 0
    assert Document.objects.filter(kind=Document.Kind.DECISION_LETTER).count() == 3
    assert LetterBatch.objects.filter(meeting=meeting).count() == 2

    # The date is fixed once letters are on their way: they name it.
    with pytest.raises(ValidationError, match="kan inte ändras"):
        batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED + dt.timedelta(days=1))


@pytest.mark.django_db
def test_only_a_decision_maker_may_announce_or_start(meeting_of, kim, olle, anna):
    meeting, _ = meeting_of(1)
    for person in (olle, anna):
        with pytest.raises(PermissionDenied):
            batches.meeting_announce(meeting=meeting, by=person, announced_on=ANNOUNCED)
        with pytest.raises(PermissionDenied):
            batches.meeting_letters_start(meeting=meeting, by=person)
    meeting.refresh_from_db()
    assert meeting.announced_on is None and not LetterBatch.objects.exists()


@pytest.mark.django_db
def test_the_announcement_is_not_before_the_meeting_nor_in_the_future(meeting_of, kim):
    meeting, _ = meeting_of(1)
    with pytest.raises(ValidationError, match="före sammanträdet"):
        batches.meeting_announce(meeting=meeting, by=kim, announced_on=dt.date(2026, 3, 11))
    with pytest.raises(ValidationError, match="framtiden"):
        batches.meeting_announce(meeting=meeting, by=kim, announced_on=timezone.localdate() + dt.timedelta(days=1))
    meeting.refresh_from_db()
    assert meeting.announced_on is None


@pytest.mark.django_db
def test_a_meeting_without_committee_decisions_has_no_letters_to_make(kim, fisksatra):
    from grants.models import CommitteeMeeting

    from .. import factories

    meeting = CommitteeMeeting.objects.create(
        committee=factories.committee(), held_on=dt.date(2026, 3, 12), announced_on=ANNOUNCED
    )
    with pytest.raises(ValidationError, match="inga beslut"):
        batches.meeting_letters_start(meeting=meeting, by=kim)


# --- the pages -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_for_decision_makers_only(client, meeting_of, kim, olle, anna):
    meeting, _ = meeting_of(1)
    urls = [
        reverse("meetings:list"),
        reverse("meetings:detail", args=[meeting.pk]),
        reverse("meetings:progress", args=[meeting.pk]),
    ]
    posts = [
        (reverse("meetings:announce", args=[meeting.pk]), {"announced_on": "2026-03-20"}),
        (reverse("meetings:start", args=[meeting.pk]), {}),
    ]

    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    for person in (olle, anna):
        client.force_login(person)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 403, url
            assert "nämndens sekreterare och beslutsfattare" in response.content.decode()
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    meeting.refresh_from_db()
    assert meeting.announced_on is None and not LetterBatch.objects.exists()
    assert not Document.objects.filter(kind=Document.Kind.DECISION_LETTER).exists()

    client.force_login(kim)
    for url in urls:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_posts_need_the_csrf_token(meeting_of, kim):
    meeting, _ = meeting_of(1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(kim)
    assert (
        client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": "2026-03-20"}).status_code == 403
    )
    assert client.post(reverse("meetings:start", args=[meeting.pk])).status_code == 403
    meeting.refresh_from_db()
    assert meeting.announced_on is None


@pytest.mark.django_db
def test_meeting_pages_show_progress_and_the_letters(client, meeting_of, kim):
    meeting, decisions = meeting_of(2)
    client.force_login(kim)
    listing = client.get(reverse("meetings:list")).content.decode()
    assert reverse("meetings:detail", args=[meeting.pk]) in listing and "0 av 2" in listing

    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert '<label for="letters-progress">' in page and '<progress id="letters-progress" max="2" value="0"' in page
    assert decisions[0].application.case_number in page
    assert "Ange först dagen" in page and "Skapa beslutsbrev för sammanträdet" not in page

    # A bad date is refused on the page, in Swedish, and nothing changes.
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": "2026-03-01"})
    assert response.status_code == 400 and "före sammanträdet" in response.content.decode()
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": "2026-03-20"}, follow=True)
    page = response.content.decode()
    assert "2026-04-10" in page and "Skapa beslutsbrev för sammanträdet" in page

    assert client.get(reverse("meetings:progress", args=[meeting.pk])).json() == {
        "done": 0,
        "total": 2,
        "waiting": 0,
        "failed": 0,
        "letters": {},
    }
    page = client.post(reverse("meetings:start", args=[meeting.pk]), follow=True).content.decode()
    assert '<progress id="letters-progress" max="2" value="2"' in page
    assert "Skapa beslutsbrev för sammanträdet" not in page  # all done
    progress = client.get(reverse("meetings:progress", args=[meeting.pk]))
    assert progress["Content-Type"] == "application/json" and progress["Cache-Control"] == "no-store"
    data = progress.json()
    assert {key: data[key] for key in ("done", "total", "waiting", "failed")} == {
        "done": 2,
        "total": 2,
        "waiting": 0,
        "failed": 0,
    }
    for decision in decisions:
        letter = letters_of(decision).get()
        assert data["letters"][str(decision.pk)] == {
            "url": reverse("document", args=[letter.pk]),
            "filename": letter.filename,
        }
        assert reverse("document", args=[letter.pk]) in page
        download = client.get(reverse("document", args=[letter.pk]))
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
    listing = client.get(reverse("meetings:list")).content.decode()
    assert "2 av 2" in listing and "2026-03-20" in listing


# --- through the database queue ----------------------------------------------------------


@pytest.mark.task_queue
@pytest.mark.django_db
def test_queued_letters_wait_fail_and_are_retried(meeting_of, kim, monkeypatch):
    meeting, decisions = meeting_of(3)
    assert run_queued_tasks() == 3  # the applications' receipts, queued when they were submitted
    batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED)
    assert batches.meeting_letters_start(meeting=meeting, by=kim).letters_queued == 3
    assert batches.meeting_letters_progress(meeting) == {"done": 0, "total": 3, "waiting": 3, "failed": 0}
    # Pressed again while they wait: nothing more is queued.
    assert batches.meeting_letters_start(meeting=meeting, by=kim).letters_queued == 0
    assert DBTaskResult.objects.filter(task_path=batches.TASK_PATH).count() == 3

    # The second letter cannot be made (say its render fails); the others are.
    real_render = documents.letters.render_pdf
    broken = decisions[1].application.case_number

    def render(html):
        if broken in html:
            raise RuntimeError("trasig mall")
        return real_render(html)

    monkeypatch.setattr(documents.letters, "render_pdf", render)
    assert run_queued_tasks() == 3
    assert batches.meeting_letters_progress(meeting) == {"done": 2, "total": 3, "waiting": 0, "failed": 1}
    failed = DBTaskResult.objects.get(status=TaskResultStatus.FAILED)
    assert failed.exception_class_path == "documents.tasks.LetterNotProduced"
    assert CaseEvent.objects.filter(
        application=decisions[1].application, action="Beslutsbrev kunde inte skapas"
    ).exists()

    # Fixed, and pressed again: only the missing letter is queued and made.
    monkeypatch.setattr(documents.letters, "render_pdf", real_render)
    assert batches.meeting_letters_start(meeting=meeting, by=kim).letters_queued == 1
    assert run_queued_tasks() == 1
    assert batches.meeting_letters_progress(meeting) == {"done": 3, "total": 3, "waiting": 0, "failed": 0}
    for decision in decisions:
        assert list(letters_of(decision).values_list("version", flat=True)) == [1]


@pytest.mark.task_queue
@pytest.mark.django_db
def test_a_task_left_running_by_a_dead_worker_is_queued_again(meeting_of, kim, media_root):
    meeting, decisions = meeting_of(3)
    assert run_queued_tasks() == 3  # the applications' receipts, queued when they were submitted
    batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED)
    batches.meeting_letters_start(meeting=meeting, by=kim)
    # A worker took the first two letters and died: one long ago, one a moment ago. The
    # old one had stored its file but not yet committed the row.
    first, second = DBTaskResult.objects.filter(task_path=batches.TASK_PATH).order_by("enqueued_at", "id")[:2]
    first.claim("dead-worker")
    DBTaskResult.objects.filter(pk=first.pk).update(started_at=timezone.now() - dt.timedelta(minutes=10))
    second.claim("dead-worker")
    decision_of = {task.pk: task.args_kwargs["kwargs"]["decision_pk"] for task in (first, second)}
    stale_application = Decision.objects.get(pk=decision_of[first.pk]).application_id
    orphan = default_storage.save(
        f"cases/{stale_application}/decision_letter/abc-Beslut.pdf", ContentFile(b"%PDF-halvfardig")
    )
    old = time.time() - 600
    os.utime(Path(media_root) / orphan, (old, old))

    # The old one counts as failed, the recent one as on its way.
    assert batches.meeting_letters_progress(meeting) == {"done": 0, "total": 3, "waiting": 2, "failed": 1}
    # Pressing the button re-queues the abandoned letter only, and removes its orphan file.
    assert batches.meeting_letters_start(meeting=meeting, by=kim).letters_queued == 1
    assert DBTaskResult.objects.get(pk=first.pk).status == TaskResultStatus.FAILED
    assert not default_storage.exists(orphan)
    assert batches.meeting_letters_progress(meeting) == {"done": 0, "total": 3, "waiting": 3, "failed": 0}

    # At start-up, before any worker runs, letters_resume re-queues the recent one too.
    out = io.StringIO()
    call_command("letters_resume", stdout=out)
    assert "1 beslutsbrev köade på nytt" in out.getvalue()
    assert DBTaskResult.objects.get(pk=second.pk).status == TaskResultStatus.FAILED
    assert run_queued_tasks() == 3
    assert batches.meeting_letters_progress(meeting) == {"done": 3, "total": 3, "waiting": 0, "failed": 0}
    for decision in decisions:
        assert list(letters_of(decision).values_list("version", flat=True)) == [1]
    out = io.StringIO()
    call_command("letters_resume", stdout=out)
    assert "Inga ofärdiga beslutsbrev" in out.getvalue()


# --- real db_worker processes on PostgreSQL --------------------------------------------


def worker_start(media_root, log):
    """`manage.py db_worker` in its own process, on this test's database and media folder;
    --batch: it stops when the queue is empty."""
    db = connection.settings_dict
    userinfo = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    url = f"postgres://{userinfo}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MEDIA_ROOT": media_root,
        "GRANTS_STORAGE": "local",
        "GRANTS_ENV": "embedded",
        "DEBUG": "false",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0.1"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stored_files(media_root):
    root = Path(media_root)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def assert_one_letter_each_and_no_orphans(decisions, media_root):
    for decision in decisions:
        assert list(letters_of(decision).values_list("version", flat=True)) == [1], decision.application
        assert CaseEvent.objects.filter(application=decision.application_id, action="Beslutsbrev skickat").count() == 1
    assert stored_files(media_root) == set(Document.objects.values_list("storage_key", flat=True))


def wait(process, seconds, log_path):
    try:
        assert process.wait(timeout=seconds) == 0, Path(log_path).read_text()[-3000:]
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("db_worker did not finish:\n" + Path(log_path).read_text()[-3000:]) from None


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real db_worker processes are tested on PostgreSQL")


@pytest.mark.postgres
@pytest.mark.task_queue
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_resumes_without_losing_or_duplicating_a_letter(meeting_of, kim, media_root, tmp_path):
    needs_postgres()
    meeting, decisions = meeting_of(12)
    assert run_queued_tasks() == 12  # the applications' receipts, queued when they were submitted
    batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED)
    assert batches.meeting_letters_start(meeting=meeting, by=kim).letters_queued == 12

    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = worker_start(media_root, log)
        deadline = time.monotonic() + 90
        # Kill -9 mid-way: some letters done, one being made.
        while True:
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            assert worker.poll() is None, "the worker finished before it could be killed"
            done = batches.meeting_letters_progress(meeting)["done"]
            if done >= 3 and DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists():
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                break
            time.sleep(0.02)
    progress = batches.meeting_letters_progress(meeting)
    assert 3 <= progress["done"] < 12 and progress["total"] == 12
    assert progress["waiting"] == 12 - progress["done"]  # the RUNNING one is recent: as if on its way
    assert DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() <= 1

    # Restart: letters_resume first (make run does it), then the worker again.
    call_command("letters_resume", stdout=io.StringIO())
    with open(log_path, "a") as log:
        worker = worker_start(media_root, log)
        wait(worker, 120, log_path)

    assert batches.meeting_letters_progress(meeting) == {"done": 12, "total": 12, "waiting": 0, "failed": 0}
    assert not DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists()
    assert_one_letter_each_and_no_orphans(decisions, media_root)


@pytest.mark.postgres
@pytest.mark.task_queue
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_batch_without_duplicates(meeting_of, kim, media_root, tmp_path):
    needs_postgres()
    meeting, decisions = meeting_of(12)
    assert run_queued_tasks() == 12  # the applications' receipts, queued when they were submitted
    batches.meeting_announce(meeting=meeting, by=kim, announced_on=ANNOUNCED)
    # Every letter queued twice in a row, so that the two workers race for the same letter.
    for decision in decisions:
        for _ in range(2):
            produce_meeting_letter.enqueue(decision_pk=decision.pk, meeting_pk=meeting.pk)

    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    handles = [open(path, "w") for path in logs]
    try:
        workers = [worker_start(media_root, handle) for handle in handles]
        for worker, path in zip(workers, logs):
            wait(worker, 120, path)
    finally:
        for handle in handles:
            handle.close()

    letter_tasks = DBTaskResult.objects.filter(task_path=batches.TASK_PATH)
    assert letter_tasks.filter(status=TaskResultStatus.SUCCESSFUL).count() == 24
    assert (
        len({worker_id for ids in letter_tasks.values_list("worker_ids", flat=True) for worker_id in ids}) == 2
    )  # both workers did some of the work
    assert batches.meeting_letters_progress(meeting) == {"done": 12, "total": 12, "waiting": 0, "failed": 0}
    assert_one_letter_each_and_no_orphans(decisions, media_root)


@pytest.mark.django_db
def test_the_staff_menu_leads_decision_makers_to_the_meetings(client, kim, olle):
    client.force_login(kim)
    page = client.get("/staff/cases/grant/queue/").content.decode()
    assert 'href="/staff/beslutsbrev/"' in page and "Sammanträden och beslutsbrev" in page
    response = client.get("/staff/beslutsbrev/")
    assert response.status_code == 302 and response["Location"] == reverse("meetings:list")
    client.force_login(olle)
    assert "Sammanträden och beslutsbrev" not in client.get("/staff/cases/grant/queue/").content.decode()


@pytest.mark.django_db
def test_a_committee_decisions_case_page_links_to_its_meeting(client, meeting_of, kim, olle):
    from workflows.models import GrantProcess

    meeting, decisions = meeting_of(1)
    process = GrantProcess.objects.get(application=decisions[0].application_id)
    link = f'href="{reverse("meetings:detail", args=[meeting.pk])}"'
    client.force_login(kim)
    page = client.get(f"/staff/cases/grant/{process.pk}/").content.decode()
    assert decisions[0].application.case_number in page and link in page
    client.force_login(olle)
    page = client.get(f"/staff/cases/grant/{process.pk}/").content.decode()
    assert decisions[0].application.case_number in page and link not in page


@pytest.mark.django_db
def test_meeting_pages_cost_a_fixed_number_of_queries(client, anna, olle, kim, fisksatra, inclusion_call):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(db) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.force_login(kim)
    counts = []
    for count, held_on in ((1, dt.date(2026, 3, 12)), (4, dt.date(2026, 4, 16))):
        decisions = committee_decisions(
            count, anna=anna, olle=olle, kim=kim, organisation=fisksatra, call=inclusion_call, held_on=held_on
        )
        meeting = decisions[0].meeting
        batches.meeting_announce(meeting=meeting, by=kim, announced_on=held_on + dt.timedelta(days=5))
        batches.meeting_letters_start(meeting=meeting, by=kim)
        counts.append(
            [
                queries(reverse("meetings:list")),
                queries(reverse("meetings:detail", args=[meeting.pk])),
                queries(reverse("meetings:progress", args=[meeting.pk])),
            ]
        )
    assert counts[0] == counts[1], counts
    assert max(counts[1]) <= 20, counts
