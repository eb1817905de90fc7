"""Retention (gallring) under the document management plan (dokumenthanteringsplan).

The plan is data: a RetentionRule per kind of record (a Document kind, or the texts of the
case's messages and notes, "message_text") says keep, cull after N years or anonymise after
N years, counted in calendar years from the case's closing (Application.closed_at). A record
closed on 29 February counts its years to 28 February when the year it reaches is not a leap
year (as Swedish law counts a period in years).

`retention_plan(today=…)` lists what is due; `retention_apply(today=…)` does it, once a day
(`manage.py retention_apply`). A case is never touched while it is open (no closed_at, or a
status other than closed, rejected or withdrawn), owes a follow-up report (one that is not
approved), has an open repayment claim, or is on hold (retention_hold).

What is done:

- cull of a Document: its stored file is deleted; the row stays with its name, checksum and
  register entry, and culled_at says when. The log (RetentionLog) keeps the case number, the
  file's name and checksum and the decision (gallringsbeslut).
- anonymise of a Document: the same as cull (the file is the personal data), and the
  counterpart of its register entries is removed too (anonymised_at set).
- anonymise or cull of message_text: each message's and note's text is replaced by a fixed
  text naming the decision, the counterpart of its register entries is removed, and the
  case history's notes that quoted the messages (grants.services.messages) are replaced too.

Each case is done in one transaction, with the case locked and the guards above checked
again. The file is deleted inside it: if the store refuses, that document is left as it was
(logged, and listed as failed) and the rest goes on; if the transaction fails after a file was
deleted, the row stays unculled and the next run culls it (deleting a missing file again is no
error). A second run finds nothing: culled documents are skipped, and a message is done once
(the log's unique constraints guard both).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from grants.events import in_swedish
from grants.files import STORAGE_ERRORS, delete_file
from grants.models import Application, CaseEvent, CaseMessage, Document, FollowUpReport, RepaymentClaim
from grants.services.history import record_event
from grants.services.messages import FROM_APPLICANT, NOTE, TO_APPLICANT

from .models import RegisterEntry, RetentionLog, RetentionRule

log = logging.getLogger("grants.retention")

ENDED = (Application.Status.CLOSED, Application.Status.REJECTED, Application.Status.WITHDRAWN)
EVENT_ACTION = "Gallring enligt dokumenthanteringsplanen"
MESSAGE_EVENTS = (TO_APPLICANT, FROM_APPLICANT, NOTE)
ANONYMISED_TEXT = "[Texten är avidentifierad enligt gallringsbeslut {ref}]"
CULLED_TEXT = "[Gallrad enligt gallringsbeslut {ref}]"


@dataclass
class PlannedAction:
    """One record that the plan says is due: a document or a message of a case."""

    application: Application
    rule: RetentionRule
    document: Document | None = None
    message: CaseMessage | None = None

    @property
    def subject(self) -> str:
        return self.rule.subject

    @property
    def action(self) -> str:
        return self.rule.action

    @property
    def what(self) -> str:
        """The record as the log and the command name it, in Swedish."""
        if self.document is not None:
            return self.document.filename
        assert self.message is not None
        if self.message.kind == CaseMessage.Kind.NOTE:
            kind = "intern anteckning"
        else:
            kind = "meddelande till sökande" if self.message.from_staff else "meddelande från sökande"
        return f"{kind} {timezone.localtime(self.message.created_at):%Y-%m-%d}"

    def describe(self) -> str:
        """ "KFN 2023/12 Bilaga till ansökan: budget.pdf (gallringsbeslut KFN 2026-03-12 § 14)"."""
        subject = in_swedish(self.rule.get_subject_display())
        return f"{self.application.case_number} {subject}: {self.what} (gallringsbeslut {self.rule.decision_reference})"


@dataclass
class RetentionRun:
    """What a run did (or, in a dry run, would do), and what it could not do and why."""

    done: list[PlannedAction] = field(default_factory=list)
    failed: list[tuple[PlannedAction, str]] = field(default_factory=list)
    dry_run: bool = False


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` calendar years on (or back); 29 February becomes 28 February in a
    year that has none."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_due(closed_on: dt.date, years: int, today: dt.date) -> bool:
    """Whether a case closed on closed_on has passed `years` years by `today`."""
    return add_years(closed_on, years) <= today


def latest_closing(today: dt.date, years: int) -> dt.date:
    """The last closing day for which `years` years have passed by `today`: the day d with
    retention_due(d, years, today) exactly when d <= latest_closing(today, years)."""
    year = today.year - years
    if (today.month, today.day) == (2, 28) and calendar.isleap(year) and not calendar.isleap(today.year):
        return dt.date(year, 2, 29)  # 29 February + years is 28 February of today's year
    return add_years(today, -years)


def cases_that_may_be_culled() -> QuerySet[Application]:
    """Ended cases with nothing outstanding and no hold: the only ones retention touches."""
    owes_report = FollowUpReport.objects.filter(application=OuterRef("pk")).exclude(
        status=FollowUpReport.Status.APPROVED
    )
    open_claim = RepaymentClaim.objects.filter(application=OuterRef("pk"), status=RepaymentClaim.Status.OPEN)
    return (
        Application.objects.filter(closed_at__isnull=False, status__in=ENDED, retention_hold=False)
        .exclude(Exists(owes_report))
        .exclude(Exists(open_claim))
    )


def _closed_by(today: dt.date, years: int) -> dt.datetime:
    """The moment before which a case must have closed for `years` years to have passed by today."""
    day_after = latest_closing(today, years) + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day_after, dt.time.min))


def _rules() -> list[RetentionRule]:
    return list(
        RetentionRule.objects.filter(
            action__in=[RetentionRule.Action.CULL, RetentionRule.Action.ANONYMISE], years__isnull=False
        ).order_by("subject")
    )


def _messages_not_done() -> QuerySet[CaseMessage]:
    return CaseMessage.objects.exclude(Exists(RetentionLog.objects.filter(message=OuterRef("pk"))))


def retention_plan(*, today: dt.date) -> list[PlannedAction]:
    """What the plan says is due by `today`, case by case (in case number order), documents
    before messages. Changes nothing."""
    planned: list[PlannedAction] = []
    for rule in _rules():
        assert rule.years is not None
        cases = cases_that_may_be_culled().filter(closed_at__lt=_closed_by(today, rule.years))
        if rule.subject == RetentionRule.Subject.MESSAGE_TEXT:
            messages = _messages_not_done().filter(application__in=cases).select_related("application")
            planned += [PlannedAction(m.application, rule, message=m) for m in messages.order_by("created_at", "pk")]
        else:
            documents = Document.objects.filter(application__in=cases, kind=rule.subject, culled_at__isnull=True)
            documents = documents.select_related("application").order_by("created_at", "pk")
            planned += [PlannedAction(d.application, rule, document=d) for d in documents]
    planned.sort(key=lambda p: (p.application.case_number, p.application.pk, p.message is not None))
    return planned


def _by_case(planned: Iterable[PlannedAction]) -> dict[int, list[PlannedAction]]:
    cases: dict[int, list[PlannedAction]] = {}
    for item in planned:
        cases.setdefault(item.application.pk, []).append(item)
    return cases


def retention_apply(*, today: dt.date, dry_run: bool = False) -> RetentionRun:
    """Carry out the plan due by `today` (see the module's docstring); with dry_run only say
    what would be done."""
    planned = retention_plan(today=today)
    if dry_run:
        return RetentionRun(done=planned, dry_run=True)
    run = RetentionRun()
    for items in _by_case(planned).values():
        try:
            _apply_case(items, today=today, run=run)
        except DatabaseError as exc:
            log.exception("Retention of case %s failed", items[0].application.case_number)
            run.failed += [(item, f"databasfel: {exc}") for item in items]
    return run


def _apply_case(items: list[PlannedAction], *, today: dt.date, run: RetentionRun) -> None:
    """One case's due records, in one transaction with the case locked."""
    done: list[PlannedAction] = []
    failed: list[tuple[PlannedAction, str]] = []
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=items[0].application.pk)
        if not cases_that_may_be_culled().filter(pk=application.pk).exists():
            return  # reopened, held or owing something since the plan was made: left alone
        assert application.closed_at is not None
        closed_on = timezone.localdate(application.closed_at)
        items = [item for item in items if retention_due(closed_on, item.rule.years or 0, today)]
        now = timezone.now()
        for item in items:
            act = _cull_document if item.document is not None else _anonymise_message
            problem = act(item, now=now)
            if problem is None:
                done.append(item)
            elif problem:
                failed.append((item, problem))
        texts = [item for item in done if item.message is not None]
        if texts:
            reference = texts[0].rule.decision_reference
            text = (ANONYMISED_TEXT if texts[0].action == RetentionRule.Action.ANONYMISE else CULLED_TEXT).format(
                ref=reference
            )
            CaseEvent.objects.filter(application=application, action__in=MESSAGE_EVENTS).update(note=text)
        if done:
            record_event(
                application,
                by=None,
                action=EVENT_ACTION,
                note="\n".join(
                    f"{_verb(item.action)}: {in_swedish(item.rule.get_subject_display())}: {item.what} "
                    f"(gallringsbeslut {item.rule.decision_reference})"
                    for item in done
                ),
            )
    run.done += done
    run.failed += failed


def _verb(action: str) -> str:
    return "Avidentifierad" if action == RetentionRule.Action.ANONYMISE else "Gallrad"


def _cull_document(item: PlannedAction, *, now: dt.datetime) -> str | None:
    """Delete the file and mark the row culled. None when done, "" when there was nothing
    left to do, the reason when the store refused (the row is then left as it was)."""
    assert item.document is not None
    document = Document.objects.select_for_update().get(pk=item.document.pk)
    if document.culled_at is not None:
        return ""
    try:
        delete_file(document.storage_key)
    except STORAGE_ERRORS as exc:
        log.warning("Retention left %s (%s): the store refused: %s", document.pk, document.filename, exc)
        return f"fillagringen svarade inte: {type(exc).__name__}"
    document.culled_at = now
    document.save(update_fields=["culled_at"])
    if item.action == RetentionRule.Action.ANONYMISE:
        RegisterEntry.objects.filter(document=document).update(counterpart="", anonymised_at=now)
    RetentionLog.objects.create(
        performed_at=now,
        application=item.application,
        case_number=item.application.case_number,
        subject=item.subject,
        action=item.action,
        what=document.filename[:300],
        sha256=document.sha256,
        decision_reference=item.rule.decision_reference,
        document=document,
    )
    item.document = document
    return None


def _anonymise_message(item: PlannedAction, *, now: dt.datetime) -> str | None:
    """Replace a message's text and its register entries' counterpart. None when done, ""
    when it was done already."""
    assert item.message is not None
    message = CaseMessage.objects.select_for_update().get(pk=item.message.pk)
    if RetentionLog.objects.filter(message=message).exists():
        return ""
    what = item.what
    template = ANONYMISED_TEXT if item.action == RetentionRule.Action.ANONYMISE else CULLED_TEXT
    message.body = template.format(ref=item.rule.decision_reference)
    message.save(update_fields=["body"])
    RegisterEntry.objects.filter(message=message).update(counterpart="", anonymised_at=now)
    RetentionLog.objects.create(
        performed_at=now,
        application=item.application,
        case_number=item.application.case_number,
        subject=item.subject,
        action=item.action,
        what=what[:300],
        decision_reference=item.rule.decision_reference,
        message=message,
    )
    item.message = message
    return None
