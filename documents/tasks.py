"""Background tasks (Django's Tasks API; `manage.py db_worker` runs them).

One task per letter, so that several workers share a meeting's batch. Every task makes
version 1 of its letter: a second run, a second worker or a re-queued task after a crash
finds the letter already there (or loses the race on the database's unique constraint,
whose loser's file is removed again) and never makes a duplicate.
"""

from django_tasks import task

from grants.models import Document

from . import letters


class LetterNotProduced(Exception):
    """The letter could not be made; why is in the case's history (letters._send)."""


@task()
def produce_meeting_letter(decision_pk, meeting_pk):
    """The decision letter of one committee decision of meeting `meeting_pk` (the meeting
    is in the arguments so that documents.batches can find the meeting's tasks)."""
    existing = (Document.objects.filter(application__decision__pk=decision_pk, kind=Document.Kind.DECISION_LETTER)
                .order_by("version").values_list("pk", flat=True).first())
    if existing is not None:
        return existing  # made already: nothing to render
    document = letters.decision_letter_send(decision_pk, version=1)
    if document is None:
        # Failed: the task is marked FAILED, the page counts it and the case history says why.
        raise LetterNotProduced(f"Beslutsbrevet för beslut {decision_pk} kunde inte skapas; se ärendets historik.")
    return document.pk
