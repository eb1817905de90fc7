"""E-mail to staff about the cases they handle (issue 15): the applicant answered a completion
request, wrote a message or submitted the follow-up report, or a task has waited longer than
the programme's service target (Programme.service_days).

Who handles a case: the owner of its open staff task; else the officer who assessed it;
else the last officer or decision maker in its history. Each thing to hear of is a
StaffNotice row, written in the same transaction as the step that caused it. How it goes out
is the person's choice (StaffSettings.email, "immediate" when she never chose):

- immediate: one e-mail per notice, after commit (sent_at set when it went out; a failed
  send stays unsent and goes with the next digest);
- daily: collected; the command `staff_notices_send` (run once a day, e.g. 07:00) sends each
  person one digest of her unsent notices;
- off: nothing is sent. The row is kept (sent_at stays empty), and a digest only takes
  notices of the last DIGEST_DAYS days, so that someone who turns e-mail on again is not
  sent a backlog of old news.

The e-mails are in Swedish (the staff interface is Swedish only) and link to the case page
at settings.SITE_URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from viewflow.workflow import STATUS
from viewflow.workflow.models import Task

from .models import Application, CaseEvent, ConflictOfInterest, Programme, StaffNotice, StaffScope, StaffSettings

log = logging.getLogger("grants.staff_notices")

# The roles of the people who handle a case (grants.roles).
HANDLING_ROLES = ("Handläggare", "Beslutsfattare")
OPEN = (STATUS.NEW, STATUS.ASSIGNED)
# A digest takes the unsent notices of these last days, and lists at most DIGEST_LINES of them.
DIGEST_DAYS = 7
DIGEST_LINES = 50
# At most so many waiting tasks are looked at per run (oldest first): a backlog is reported
# over a few days rather than in one enormous run.
OVERDUE_TASKS_PER_RUN = 2000

WHAT = {
    StaffNotice.Kind.COMPLETION_ANSWER: "Den sökande har svarat på kompletteringsbegäran.",
    StaffNotice.Kind.MESSAGE: "Den sökande har skrivit ett meddelande i ärendet.",
    StaffNotice.Kind.FOLLOW_UP: "Den sökande har lämnat återrapporten.",
    StaffNotice.Kind.OVERDUE: "En uppgift i ärendet har väntat längre än bidragsformens servicemål.",
}


# --- where the e-mails link to ---------------------------------------------------------------


def case_path(application: Application) -> str:
    """The case page in the staff interface: the case's process page; a case without a process
    (not yet submitted) is found through the work list's search."""
    process = getattr(application, "process", None)
    process_id = process.pk if process is not None else None
    if process_id is not None:
        try:
            return reverse("cases:grant:process_detail", kwargs={"process_pk": process_id})
        except NoReverseMatch:  # pragma: no cover (the staff site is always mounted)
            pass
    return f"/staff/arenden/?q={application.case_number}"


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def settings_path() -> str:
    return reverse("staff_settings:edit")


# --- who handles a case ---------------------------------------------------------------------


def handler_of(application: Application) -> User | None:
    """The staff member who handles the case now (see the module's doc), or None."""
    owner_id = (
        Task.objects.filter(
            process__grantprocess__application=application,
            flow_task_type="HUMAN",
            status__in=OPEN,
            owner__isnull=False,
        )
        .order_by("-created")
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner_id is None:
        owner_id = (
            Application.objects.filter(pk=application.pk).values_list("assessment__officer_id", flat=True).first()
        )
    if owner_id is None:
        owner_id = (
            CaseEvent.objects.filter(application=application, actor__groups__name__in=HANDLING_ROLES)
            .order_by("-created_at", "-pk")
            .values_list("actor_id", flat=True)
            .first()
        )
    if owner_id is None:
        return None
    return User.objects.filter(pk=owner_id, is_active=True).select_related("staff_settings").first()


def email_choice(user: User) -> str:
    """The person's choice of e-mail (StaffSettings.email): immediate unless she chose."""
    try:
        return user.staff_settings.email  # read with the user by handler_of
    except StaffSettings.DoesNotExist:
        return StaffSettings.Email.IMMEDIATE


# --- a notice and its e-mail ----------------------------------------------------------------


def notice_create(*, application: Application, kind: str) -> StaffNotice | None:
    """Tell the case's handler of `kind` (a StaffNotice.Kind): the row now, in the caller's
    transaction; the e-mail after commit if she wants it at once. None if nobody handles the
    case yet (it waits in the queue, where everyone sees it)."""
    handler = handler_of(application)
    if handler is None:
        return None
    notice = StaffNotice.objects.create(user=handler, application=application, kind=kind)
    if email_choice(handler) == StaffSettings.Email.IMMEDIATE:
        transaction.on_commit(partial(notice_send, notice.pk))
    return notice


def _line(notice: StaffNotice) -> str:
    application = notice.application
    return (
        f"{application.case_number} ({application.organisation.name}, {application.title}): "
        f"{WHAT[StaffNotice.Kind(notice.kind)]}\n  {site_url(case_path(application))}"
    )


def _footer() -> str:
    return (
        "Du får det här e-brevet eftersom du handlägger ärendet. Välj om du vill ha e-post direkt, "
        f"en sammanfattning per dag eller ingen e-post: {site_url(settings_path())}\n"
    )


def _greeting(user: User) -> str:
    return f"Hej {user.first_name or user.get_username()}!\n\n"


def notice_send(pk: int) -> bool:
    """Send one notice at once (the immediate choice). True if it went out now."""
    notice = (
        StaffNotice.objects.select_related("user", "application__organisation", "application__process")
        .filter(pk=pk, sent_at__isnull=True)
        .first()
    )
    if notice is None or not notice.user.email:
        return False
    application = notice.application
    subject = f"{application.case_number}: {StaffNotice.Kind(notice.kind).label}"
    body = f"{_greeting(notice.user)}{_line(notice)}\n\n{_footer()}"
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email])
    except Exception:  # the mail server: the notice stays unsent and goes with the next digest
        log.exception("Could not send staff notice %s", pk)
        return False
    StaffNotice.objects.filter(pk=pk).update(sent_at=timezone.now())
    return True


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Send each person with unsent notices of the last DIGEST_DAYS days one e-mail listing
    them (those who chose the daily digest; also an immediate person's notice that could not go
    out at once, or an overdue task found by this run). Returns the number of e-mails sent.
    A fixed number of queries whatever the number of notices."""
    now = now or timezone.now()
    notices = (
        StaffNotice.objects.filter(sent_at__isnull=True, created_at__gte=now - dt.timedelta(days=DIGEST_DAYS))
        .exclude(user__staff_settings__email=StaffSettings.Email.OFF)
        .exclude(user__email="")
        .select_related("user", "application__organisation", "application__process")
        .order_by("user_id", "created_at", "pk")
    )
    by_person: dict[int, list[StaffNotice]] = {}
    for notice in notices:
        by_person.setdefault(notice.user_id, []).append(notice)
    mails = []
    for person_notices in by_person.values():
        user = person_notices[0].user
        count = len(person_notices)
        lines = [_line(notice) for notice in person_notices[:DIGEST_LINES]]
        if count > DIGEST_LINES:
            lines.append(f"… och {count - DIGEST_LINES} till. Se alla i arbetslistan: {site_url('/staff/arenden/')}")
        subject = f"Bidragsärenden: {count} {'händelse' if count == 1 else 'händelser'} i dina ärenden"
        body = f"{_greeting(user)}Det här har hänt i ärenden som du handlägger:\n\n" + "\n\n".join(lines)
        mails.append((subject, f"{body}\n\n{_footer()}", settings.DEFAULT_FROM_EMAIL, [user.email]))
    if not mails:
        return 0
    send_mass_mail(mails)
    StaffNotice.objects.filter(pk__in=[n.pk for ns in by_person.values() for n in ns]).update(sent_at=now)
    return len(mails)


# --- tasks waiting longer than the service target -------------------------------------------


def _scoped_staff(permission: str, committee_id: int) -> list[int]:
    """The active staff with `permission` (through a role) who work in the committee."""
    app_label, codename = permission.split(".", 1)
    return list(
        User.objects.filter(
            is_active=True,
            groups__permissions__content_type__app_label=app_label,
            groups__permissions__codename=codename,
        )
        .filter(
            Exists(
                StaffScope.objects.filter(user=OuterRef("pk")).filter(
                    Q(all_committees=True) | Q(committees=committee_id)
                )
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def overdue_notices_create(*, now: dt.datetime | None = None) -> int:
    """A notice for every open staff task of the grant flow that has waited longer than its
    programme's service_days, once per task and person (the unique constraint): to the task's
    owner, or, if nobody has taken it, to the staff in that committee who may take it (not
    those who declared jäv in the case). Returns the number of notices created."""
    now = now or timezone.now()
    already = StaffNotice.objects.filter(kind=StaffNotice.Kind.OVERDUE, task_id=OuterRef("pk"))
    waiting = Q()
    for programme_id, days in Programme.objects.values_list("pk", "service_days"):
        waiting |= Q(
            process__grantprocess__application__call__programme_id=programme_id,
            created__lt=now - dt.timedelta(days=days),
        )
    if not waiting:
        return 0
    tasks = list(
        Task.objects.filter(waiting, flow_task_type="HUMAN", status__in=OPEN)
        .filter(~Exists(already))
        .order_by("created", "pk")
        .values_list(
            "pk",
            "owner_id",
            "owner_permission",
            "process__grantprocess__application_id",
            "process__grantprocess__application__call__programme__committee_id",
        )[:OVERDUE_TASKS_PER_RUN]
    )
    application_ids = {row[3] for row in tasks}
    conflicted = set(
        ConflictOfInterest.objects.filter(application_id__in=application_ids).values_list("application_id", "user_id")
    )
    staff: dict[tuple[str, int], list[int]] = {}
    rows: list[StaffNotice] = []
    for task_id, owner_id, permission, application_id, committee_id in tasks:
        if owner_id is not None:
            people: Iterable[int] = [owner_id]
        elif permission:
            key = (permission, committee_id)
            if key not in staff:
                staff[key] = _scoped_staff(permission, committee_id)
            people = [pk for pk in staff[key] if (application_id, pk) not in conflicted]
        else:
            people = []
        rows.extend(
            StaffNotice(user_id=person, application_id=application_id, kind=StaffNotice.Kind.OVERDUE, task_id=task_id)
            for person in people
        )
    # ignore_conflicts: a run that overlaps another creates nothing twice.
    StaffNotice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)
