"""A committee meeting's decision letters, made together in the background.

A committee's decisions get no letter when they are made (workflows.flows): the letters
go out together once the approval of the meeting's protocol has been announced on the
notice board, so that every letter names the day the appeal period ends.

    meeting_announce         the decision maker records the day of the announcement
    meeting_letters_start    queues one task per missing letter (documents.tasks)
    meeting_letters_progress done / total / waiting / failed, read from the database
    letters_resume           after a crash or a restart: re-queues what a dead worker
                             left unfinished (manage.py letters_resume, and every start)

Nothing here stores progress: a letter is done when the case has its decision letter
(grants.Document), waiting while its task is READY or RUNNING in django_tasks_db's table,
failed when its last task failed or was left RUNNING by a worker that died.

Duplicates are impossible: every task makes version 1 of its letter, and the database
allows one version 1 per case (Document's unique constraint), so re-queuing a letter is
always safe; at worst a letter is rendered twice and the second copy is thrown away.
"""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from grants import access
from grants.models import CommitteeMeeting, Decision, Document
from grants.services.meetings import meeting_announcement_record

from . import tasks
from .models import LetterBatch
from .tasks import produce_meeting_letter

log = logging.getLogger("grants.documents")

TASK_PATH = produce_meeting_letter.module_path
# A letter takes about a second to make. A task RUNNING for longer than this belongs to a
# worker that was killed or restarted (db_worker never picks such a task up again).
STALE_AFTER = dt.timedelta(minutes=5)


def _letters():
    return Document.objects.filter(application=OuterRef("application"), kind=Document.Kind.DECISION_LETTER)


def committee_decisions(meeting):
    return Decision.objects.filter(meeting=meeting, by_committee=True)


def meeting_decisions(meeting):
    """The meeting's committee decisions for the page, each with its latest letter (or None)."""
    latest = _letters().order_by("-version")
    return (
        committee_decisions(meeting)
        .select_related("application__organisation")
        .annotate(letter_pk=Subquery(latest.values("pk")[:1]), letter_filename=Subquery(latest.values("filename")[:1]))
        .order_by("decided_at", "pk")
    )


def _tasks(meeting, statuses):
    return DBTaskResult.objects.filter(
        task_path=TASK_PATH, status__in=statuses, args_kwargs__kwargs__meeting_pk=meeting.pk
    )


def _decision_pks(tasks):
    return {row["kwargs"]["decision_pk"] for row in tasks.values_list("args_kwargs", flat=True)}


def _live_decision_pks(meeting, stale_after):
    """Decisions whose letter a worker has queued or is making right now."""
    cutoff = timezone.now() - stale_after
    ready = _tasks(meeting, [TaskResultStatus.READY])
    running = _tasks(meeting, [TaskResultStatus.RUNNING]).filter(started_at__gte=cutoff)
    return _decision_pks(ready) | _decision_pks(running)


def _missing(meeting):
    """Committee decisions of the meeting without a decision letter, with their application."""
    return dict(committee_decisions(meeting).filter(~Exists(_letters())).values_list("pk", "application_id"))


def meeting_letters_progress(meeting):
    """{"done", "total", "waiting", "failed"}: letters made, committee decisions, letters in
    the queue or being made, and letters whose last attempt failed (or whose worker died)."""
    rows = committee_decisions(meeting).annotate(has_letter=Exists(_letters())).values_list("pk", "has_letter")
    total = len(rows)
    missing = {pk for pk, has_letter in rows if not has_letter}
    cutoff = timezone.now() - STALE_AFTER
    waiting, attempted = set(), set()
    tasks = _tasks(meeting, [TaskResultStatus.READY, TaskResultStatus.RUNNING, TaskResultStatus.FAILED])
    for status, started_at, args_kwargs in tasks.values_list("status", "started_at", "args_kwargs"):
        decision_pk = args_kwargs["kwargs"]["decision_pk"]
        if status == TaskResultStatus.READY or status == TaskResultStatus.RUNNING and started_at >= cutoff:
            waiting.add(decision_pk)
        else:  # failed, or left running by a worker that died
            attempted.add(decision_pk)
    return {
        "done": total - len(missing),
        "total": total,
        "waiting": len(waiting & missing),
        "failed": len((attempted - waiting) & missing),
    }


# --- the announcement ------------------------------------------------------------------


def meeting_announce(*, meeting, by, announced_on):
    """Record the day the approval of the meeting's protocol was announced on the notice
    board: the appeal period (three weeks) runs from it, and the letters name both days."""
    access.require(
        access.works_with_meetings(by),
        "Bara nämndens sekreterare och beslutsfattare kan ange när protokollet tillkännagavs.",
    )
    if announced_on is None:
        raise ValidationError("Ange dagen då det tillkännagavs att protokollet justerats.")
    if announced_on < meeting.held_on:
        raise ValidationError(
            f"Protokollet kan inte ha tillkännagivits före sammanträdet den {meeting.held_on:%Y-%m-%d}."
        )
    if announced_on > timezone.localdate():
        raise ValidationError("Tillkännagivandet kan inte ligga i framtiden: ange dagen då det anslogs.")
    with transaction.atomic():
        meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.announced_on == announced_on:
            return meeting
        if meeting.announced_on is not None and (
            LetterBatch.objects.filter(meeting=meeting).exists()
            or Document.objects.filter(
                application__decision__meeting=meeting, kind=Document.Kind.DECISION_LETTER
            ).exists()
        ):
            raise ValidationError(
                f"Beslutsbreven för sammanträdet är redan beställda med tillkännagivandet den "
                f"{meeting.announced_on:%Y-%m-%d}; datumet kan inte ändras i efterhand."
            )
        if meeting.items.exists() and not meeting.is_held:
            raise ValidationError("Sammanträdet är inte protokollfört än: protokollför besluten först.")
        meeting.announced_on = announced_on
        meeting.save(update_fields=["announced_on"])
        meeting_announcement_record(meeting=meeting, by=by)
        if meeting.items.exists():
            # The meeting's protocol extracts go to those concerned once its approval is announced
            # (queued in this transaction: the task exists exactly when the announcement does).
            tasks.produce_protocol_extracts.enqueue(meeting_pk=meeting.pk)
    return meeting


# --- the batch -------------------------------------------------------------------------


def _orphans_remove(application_pk, older_than):
    """Files in a case's decision-letter folder (grants.files.store_file's layout)
    that no Document row names: what a worker killed between storing the file and
    committing its row left behind. Only files older than `older_than` are touched, so a
    live worker's file, stored a moment before its row commits, is never removed."""
    folder = f"cases/{application_pk}/{Document.Kind.DECISION_LETTER}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    registered = set(Document.objects.filter(application_id=application_pk).values_list("storage_key", flat=True))
    cutoff = timezone.now() - older_than
    removed = 0
    for name in files:
        key = f"{folder}/{name}"
        if key in registered:
            continue
        try:
            if default_storage.get_modified_time(key) > cutoff:
                continue
            default_storage.delete(key)
        except OSError:
            log.warning("Could not remove the unregistered letter file %s", key)
            continue
        log.info("Removed the unregistered letter file %s", key)
        removed += 1
    return removed


def _requeue(meeting, *, stale_after):
    """Queue a task for every missing letter of the meeting that no live task is making.
    Tasks RUNNING for longer than `stale_after` belong to a dead worker: they are marked
    FAILED (db_worker would never finish them) and their letters queued again."""
    now = timezone.now()
    _tasks(meeting, [TaskResultStatus.RUNNING]).filter(started_at__lt=now - stale_after).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="documents.batches.WorkerLost",
        traceback="Arbetsprocessen avbröts (omstart eller krasch) innan brevet var klart; brevet köas på nytt.",
    )
    live = _live_decision_pks(meeting, stale_after)
    tried = _decision_pks(_tasks(meeting, [TaskResultStatus.FAILED]))
    queued = []
    for decision_pk, application_pk in sorted(_missing(meeting).items()):
        if decision_pk in live:
            continue
        if decision_pk in tried:  # a dead worker may have left a file without its row
            _orphans_remove(application_pk, stale_after)
        produce_meeting_letter.enqueue(decision_pk=decision_pk, meeting_pk=meeting.pk)
        queued.append(decision_pk)
    return queued


def meeting_letters_start(*, meeting, by):
    """Queue the letters of every committee decision of the meeting that has none yet.
    Safe to press again: it queues only what is neither made nor on its way, so pressing
    it after a crash resumes the batch. Returns the LetterBatch recording who started it."""
    access.require(
        access.works_with_meetings(by),
        "Bara nämndens sekreterare och beslutsfattare kan skapa beslutsbrev för ett sammanträde.",
    )
    with transaction.atomic():
        # The lock makes two presses at once queue each letter once.
        meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
        if not committee_decisions(meeting).exists():
            raise ValidationError("Sammanträdet har inga beslut fattade av nämnden, så det finns inga brev att skapa.")
        if meeting.announced_on is None:
            raise ValidationError(
                "Ange först dagen då det tillkännagavs på anslagstavlan att protokollet justerats: "
                "breven anger tiden för överklagande från den dagen."
            )
        # With the database backend the tasks become visible to the workers when this commits.
        queued = _requeue(meeting, stale_after=STALE_AFTER)
        return LetterBatch.objects.create(meeting=meeting, started_by=by, letters_queued=len(queued))


def letters_resume(*, stale_after=dt.timedelta(0)):
    """Re-queue the missing letters of every meeting whose letters were started. With the
    default (nothing is stale-proof) it must run before any worker starts: `make run` and
    a deployment run `manage.py letters_resume` first. Returns {meeting: letters queued}."""
    resumed = {}
    for meeting in CommitteeMeeting.objects.filter(letter_batches__isnull=False).distinct():
        with transaction.atomic():
            meeting = CommitteeMeeting.objects.select_for_update().get(pk=meeting.pk)
            queued = _requeue(meeting, stale_after=stale_after)
        if queued:
            resumed[meeting] = len(queued)
    return resumed
