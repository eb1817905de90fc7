"""Background tasks (Django's Tasks API; `manage.py db_worker` runs them).

One task per letter, so that several workers share a meeting's batch. Every task makes
version 1 of its letter: a second run, a second worker or a re-queued task after a crash
finds the letter already there (or loses the race on the database's unique constraint,
whose loser's file is removed again) and never makes a duplicate.

A submitted application's receipt is made here too, so that a submit takes the same time
whatever the application says; receipts_resume queues again a receipt that was never made.
"""

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from grants.models import Application, Document

from . import letters


class LetterNotProduced(Exception):
    """The letter could not be made; why is in the case's history (letters._send)."""


@task()
def produce_meeting_letter(decision_pk, meeting_pk):
    """The decision letter of one committee decision of meeting `meeting_pk` (the meeting
    is in the arguments so that documents.batches can find the meeting's tasks)."""
    existing = (
        Document.objects.filter(application__decision__pk=decision_pk, kind=Document.Kind.DECISION_LETTER)
        .order_by("version")
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        return existing  # made already: nothing to render
    document = letters.decision_letter_send(decision_pk, version=1)
    if document is None:
        # Failed: the task is marked FAILED, the page counts it and the case history says why.
        raise LetterNotProduced(f"Beslutsbrevet för beslut {decision_pk} kunde inte skapas; se ärendets historik.")
    return document.pk


@task()
def produce_receipt(application_pk):
    """The receipt of a submitted application, mailed to its organisation's confirmed
    members when it is made (the flow's start nodes queue it with the submission)."""
    existing = (
        Document.objects.filter(application_id=application_pk, kind=Document.Kind.RECEIPT)
        .order_by("version")
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        return existing  # made (and mailed) already
    document = letters.receipt_send(application_pk)
    if document is None:
        raise LetterNotProduced(
            f"Mottagningskvittot för ansökan {application_pk} kunde inte skapas; se ärendets historik."
        )
    return document.pk


def receipts_resume(*, stale_after):
    """Queue the receipt of every submitted application that has none and whose receipt no
    live task is making (a task RUNNING for longer than `stale_after` belongs to a worker
    that died: it is marked FAILED, as db_worker never picks it up again). Returns the
    applications' pks."""
    now = timezone.now()
    tasks = DBTaskResult.objects.filter(task_path=produce_receipt.module_path)
    tasks.filter(status=TaskResultStatus.RUNNING, started_at__lt=now - stale_after).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="documents.batches.WorkerLost",
        traceback="Arbetsprocessen avbröts (omstart eller krasch) innan kvittot var klart; det köas på nytt.",
    )
    live = {
        row["kwargs"]["application_pk"]
        for row in tasks.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).values_list(
            "args_kwargs", flat=True
        )
    }
    receipts = Document.objects.filter(application=OuterRef("pk"), kind=Document.Kind.RECEIPT)
    missing = (
        Application.objects.exclude(case_number="")
        .filter(~Exists(receipts))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    queued = [pk for pk in missing if pk not in live]
    for pk in queued:
        produce_receipt.enqueue(application_pk=pk)
    return queued


@task()
def produce_agenda_papers(meeting_pk):
    """A sent agenda's papers (documents.committee_papers.agenda_papers_make)."""
    from . import committee_papers

    return committee_papers.agenda_papers_make(meeting_pk).pk


@task()
def produce_protocol_extracts(meeting_pk):
    """The protocol extracts of an announced meeting's case items."""
    from . import committee_papers

    return [document.pk for document in committee_papers.protocol_extracts_make(meeting_pk)]
