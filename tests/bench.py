"""Benchmarks on PostgreSQL: `make bench`, or

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/grants .venv/bin/python -m tests.bench

Runs in a throwaway test database (test_<name>_bench, made and dropped here; the named
database's data is never touched) with files in a temporary folder, and prints one
figure per line as `name: value`:

* lifecycle_*: one application's whole life through the services and the flow, from
  submission to closed, median over LIFECYCLE_CASES cases (queries and milliseconds,
  the decision letter included; its share is also printed on its own).
* officer_queue_*: the officer's queue page with 100 and with 10,000 open cases
  waiting in check_completeness (bulk-made rows mirroring a really submitted case).
* letter_ms_*: one decision letter's HTML made into a stored letter through our pipeline
  (render + checksum + store + row: letters.letter_store(pdf=render_pdf(html))) and by bare
  weasyprint.HTML(...).write_pdf() with the same options, interleaved, median of
  LETTER_RUNS each; letter_ratio is pipeline / bare.
* batch_*: a committee meeting's BATCH_LETTERS letters (documents.batches) made by one and
  then, on a fresh meeting, two `manage.py db_worker` processes (warmed up, like a running
  worker pool), from the press of the button until every letter is stored.
* queries_attest_call_* / queries_per_attested_payment_* / attest_ms_*: one payments_attest
  call for 10 and for 1,000 planned payments (bulk-made cases: application, decision,
  payment), its queries in all and per payment, and its milliseconds.
* payment_file_10000_s: documents.payment_files.payment_file_create for 10,000 attested
  payments (bulk-made likewise): the batch and its pain.001 made and stored (the ledger
  books payments when the bank has paid them, not here).
* annual_report_*: the annual grant report on a million grants against hand-written SQL
  (tests/bench_report.py).

* staff_*: the officer's queue, work list (/staff/arenden/), dashboard, search and the case
  page of a large association with BENCH_STAFF_SIZES open cases (1,000, 10,000, 100,000;
  bulk-made), queries and ms each, the ratios 100k ÷ 1k (staff_*_ratio_100k),
  staff_search_ms_10000 and staff_case_page_queries. Run last; BENCH_ONLY=staff runs it alone
  (about 3.5 minutes: 100,000 cases bulk-made in under 2 minutes, the case page of the large
  association as it is today taking most of the rest).

* rush_*: the deadline rush on gunicorn (4 workers) and two db_workers (tests/bench_rush.py):
  a bare page, the catalogue, the applicant's start page at 10 and 1,000 applications, and
  RUSH_APPLICANTS (200) applicants submitting at once. BENCH_ONLY=rush runs it alone (about 3
  minutes).

BENCH_ONLY=money runs only the money figures, BENCH_ONLY=report only the annual report's,
BENCH_ONLY=lifecycle only the lifecycle's (and bench_seconds). tests/bench_steps.py shows
where the lifecycle's queries go, step by step.
"""

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

# Smaller runs while working on the bench itself: BENCH_CASES=5 BENCH_QUEUE_LARGE=1000.
LIFECYCLE_CASES = int(os.environ.get("BENCH_CASES", 50))
QUEUE_SIZES = (100, int(os.environ.get("BENCH_QUEUE_LARGE", 10_000)))
QUEUE_URL = "/staff/cases/grant/queue/"
QUEUE_WARMUPS = 2
QUEUE_RUNS = 7
BATCH = 2_000
LETTER_RUNS = int(os.environ.get("BENCH_LETTER_RUNS", 20))
BATCH_LETTERS = int(os.environ.get("BENCH_BATCH_LETTERS", 200))
PAYMENT_FILE_SIZE = int(os.environ.get("BENCH_PAYMENT_FILE", 10_000))
ATTEST_SIZES = (10, 1_000)
# Only the money figures (BENCH_ONLY=money), the annual report's (BENCH_ONLY=report) or the
# lifecycle's (BENCH_ONLY=lifecycle).
ONLY = os.environ.get("BENCH_ONLY", "")


def say(name, value):
    print(f"{name}: {value}", flush=True)


def note(text):
    # Progress goes to stderr, so stdout holds only the figures.
    print(text, file=sys.stderr, flush=True)


# --- the world -------------------------------------------------------------------------


def make_world():
    from tests import factories

    world = {
        "anna": factories.user("anna", first_name="Anna"),
        "olle": factories.user("olle", role="Handläggare", first_name="Olle"),
        "fia": factories.user("fia", role="Ekonomi", first_name="Fia"),
        "kim": factories.user("kim", role="Beslutsfattare", first_name="Kim"),
    }
    world["fisksatra"] = factories.association(members=[world["anna"]])
    # The inclusion programme, paid 100 % at decision with a follow-up report required:
    # submit → complete → assess → decide (officer, within the 50 000 kr delegation) →
    # letter → attest → payment file → paid → report → review (approve) → close, one payment per case.
    inclusion = factories.programme(
        "inkludering", payment_plan=[{"percent": 100, "release": "decision"}], follow_up_required=True
    )
    world["call"] = factories.call(inclusion, max_amount="200000", budget="100000000")
    return world


def make_draft(world, index, amount=Decimal("20000")):
    from grants.services import apply

    return apply.application_save_draft(
        call=world["call"],
        organisation=world["fisksatra"],
        by=world["anna"],
        title=f"Läxhjälp och fotboll {index}",
        description="Vi vill nå fler barn i Fisksätra med idrott och läxhjälp.",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=amount,
        budget_lines=[
            ("cost", "Ledararvoden", amount - Decimal("5000")),
            ("cost", "Lokalhyra", Decimal("10000")),
            ("income", "Egen insats", Decimal("5000")),
        ],
    )


# --- 1. the lifecycle ------------------------------------------------------------------


class LetterTimer:
    """Wraps decision_letter_send (run in transaction.on_commit) to time it and count
    its queries; the flow looks it up in documents.letters at call time."""

    def __init__(self):
        import documents.letters as letters

        self.module = letters
        self.original = letters.decision_letter_send
        self.ms = []
        self.queries = []

    def __enter__(self):
        original = self.original

        def timed(*args, **kwargs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                result = original(*args, **kwargs)
            self.ms.append((time.perf_counter() - started) * 1000)
            self.queries.append(len(captured))
            return result

        self.module.decision_letter_send = timed
        return self

    def __exit__(self, *exc):
        self.module.decision_letter_send = self.original


def lifecycle(world, application, on_submitted=None):
    """One case from submission to closed, through the flow as the staff views drive it."""
    from documents.payment_files import payment_file_create
    from grants.models import Application, FollowUpReport
    from grants.services import apply, assess, decide, follow_up, pay

    anna, olle, fia = world["anna"], world["olle"], world["fia"]
    application = apply.application_submit(application=application, by=anna)
    if on_submitted:
        on_submitted(application)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=application.requested_amount,
        justification="Når barn utanför föreningslivet.",
    )
    # The letter is made in transaction.on_commit when this task's transaction commits.
    decide.decision_make(
        application=application,
        by=olle,
        outcome="approved",
        amount=application.requested_amount,
        reasons="Projektet stämmer med nämndens mål för inkludering.",
    )

    # Finance's part, through the services its pages call: attest, a payment file (pain.001
    # made and stored), and the bank's confirmation, which books it and moves the flow on.
    planned = list(application.payments.filter(status="planned").values_list("pk", flat=True))
    pay.payments_attest(payment_ids=planned, by=fia)
    payment_file_create(by=fia, payment_ids=planned)
    pay.payments_mark_paid(payment_ids=planned, by=fia)
    follow_up.follow_up_submit(
        report=application.follow_up,
        by=anna,
        what_was_done="Trettio träffar med läxhjälp.",
        participants=41,
        outcome="Fler flickor deltog än vi hoppats.",
        own_contribution=Decimal("2000"),
        cost_lines=[("Ledararvoden", Decimal("24000"), Decimal("24000"))],
    )
    follow_up.follow_up_review(report=FollowUpReport.objects.get(application=application), by=olle, verdict="approve")
    application = Application.objects.get(pk=application.pk)
    return application


def bench_lifecycle(world):
    from django.core import mail

    from grants.models import Application, Document
    from workflows.process import active_task_names

    # Warm-up, not measured: the first case loads templates, fonts and WeasyPrint. Its
    # rows right after submission are the model the queue benchmark copies in bulk.
    snapshot = []
    lifecycle(world, make_draft(world, "warm-up"), on_submitted=lambda app: snapshot.append(CaseTemplate(app)))
    drafts = [make_draft(world, index) for index in range(LIFECYCLE_CASES)]  # setup, not measured
    counts, times = [], []
    with LetterTimer() as letters:
        for application in drafts:
            reset_queries()  # the query log keeps only 9,000 entries; counting needs room
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                done = lifecycle(world, application)
            times.append((time.perf_counter() - started) * 1000)
            counts.append(len(captured))
            if done.status != Application.Status.CLOSED or active_task_names(done):
                raise SystemExit(f"bench: case {done} ended in {done.status} with tasks {active_task_names(done)}")
            mail.outbox = []
    if Document.objects.filter(kind=Document.Kind.DECISION_LETTER, application__in=drafts).count() != LIFECYCLE_CASES:
        raise SystemExit("bench: not every case got its decision letter")
    say("lifecycle_cases", LIFECYCLE_CASES)
    say("lifecycle_queries_per_case", int(statistics.median(counts)))
    say("lifecycle_ms_per_case", f"{statistics.median(times):.1f}")
    say("lifecycle_letter_queries_per_case", int(statistics.median(letters.queries)))
    say("lifecycle_letter_ms_per_case", f"{statistics.median(letters.ms):.1f}")
    say("lifecycle_ms_per_case_without_letter", f"{statistics.median(t - m for t, m in zip(times, letters.ms)):.1f}")
    note(f"lifecycle queries per case: min {min(counts)}, max {max(counts)}")
    return snapshot[0]


# --- 2. the officer's queue ------------------------------------------------------------


class CaseTemplate:
    """The rows the flow wrote for one really submitted case, to be copied in bulk."""

    def __init__(self, application):
        from grants.models import CaseEvent
        from workflows.flows import GrantFlow
        from workflows.models import GrantProcess

        process = GrantProcess.objects.get(application=application)
        tasks = {task.flow_task: task for task in process.task_set.all()}
        self.process = process
        self.start = tasks[GrantFlow.start]
        self.check = tasks[GrantFlow.check_completeness]
        self.events = list(CaseEvent.objects.filter(application=application).order_by("pk"))
        self.budget_lines = list(application.budget_lines.order_by("pk"))
        self.application = application
        assert set(tasks) == {GrantFlow.start, GrantFlow.check_completeness}, tasks
        assert self.check.previous.get() == self.start
        assert self.check.status == "NEW" and self.check.owner_id is None


def clone(instance, model=None, **changes):
    """An unsaved copy of a model instance (its concrete fields, or those of `model`,
    e.g. a multi-table parent), with changes."""
    model = model or type(instance)
    values = {
        field.attname: getattr(instance, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    values.update(changes)
    return model(**values)


def bulk_cases(template, count):
    """Make `count` submitted cases waiting in check_completeness, as the flow would have
    made them: Application (+ budget lines, events), viewflow Process + GrantProcess,
    a done Start task and a NEW check_completeness task linked as its successor."""
    from viewflow.workflow.models import Process

    from grants.models import Application, BudgetLine, CaseEvent, CaseNumberSeries
    from workflows.flows import GrantFlow
    from workflows.models import GrantProcess

    Task = GrantFlow.task_class
    Previous = Task.previous.through
    app = template.application
    committee = app.call.programme.committee
    year = app.submitted_at.year  # the series of the template's number, as in application_submit

    def case_number(n):
        return f"{committee.code} {year}/{n:04d}"

    made = 0
    with transaction.atomic():
        series = CaseNumberSeries.objects.select_for_update().get(committee=committee, year=year)
        while made < count:
            size = min(BATCH, count - made)
            now = timezone.now()
            first = series.last_number + 1
            numbers = range(first, first + size)
            # Applications are inserted as drafts (the FSM field refuses any other initial
            # state, in bulk_create too) and moved to submitted below, as submit() does.
            apps = Application.objects.bulk_create(
                [
                    clone(
                        app,
                        status=Application.Status.DRAFT,
                        case_number=case_number(n),
                        title=f"Bulkansökan {n}",
                        submitted_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    for n in numbers
                ]
            )
            ids = [a.pk for a in apps]
            Application.objects.filter(pk__in=ids).update(status=Application.Status.SUBMITTED)
            series.last_number = first + size - 1
            BudgetLine.objects.bulk_create(
                [clone(line, application_id=pk) for pk in ids for line in template.budget_lines]
            )
            CaseEvent.objects.bulk_create(
                [
                    clone(
                        event,
                        application_id=pk,
                        created_at=now,
                        note=event.note.replace(app.case_number, case_number(n)),
                    )
                    for pk, n in zip(ids, numbers)
                    for event in template.events
                ]
            )
            # viewflow's Process is the multi-table parent of GrantProcess; bulk_create
            # refuses multi-table children, so the parents go first and the children by SQL.
            processes = Process.objects.bulk_create([clone(template.process, Process, created=now) for _ in ids])
            process_ids = [p.pk for p in processes]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {GrantProcess._meta.db_table} (process_ptr_id, application_id) "
                    "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                    [process_ids, ids],
                )
            starts = Task.objects.bulk_create(
                [clone(template.start, process_id=pid, created=now, started=now, finished=now) for pid in process_ids]
            )
            checks = Task.objects.bulk_create(
                [clone(template.check, process_id=pid, created=now) for pid in process_ids]
            )
            Previous.objects.bulk_create(
                [Previous(from_task_id=check.pk, to_task_id=start.pk) for start, check in zip(starts, checks)]
            )
            made += size
        series.save(update_fields=["last_number"])
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time a real queue holds this many cases.
        for model in (Application, BudgetLine, CaseEvent, Process, GrantProcess, Task, Previous):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return made


TASK_LINK = re.compile(r"/staff/cases/grant/(\d+)/check_completeness/(\d+)/")
TOTAL_ITEMS = re.compile(r'data-total-items-count="(\d+)"')


def time_queue(client):
    timings, counts = [], []
    for run in range(QUEUE_WARMUPS + QUEUE_RUNS):
        reset_queries()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(QUEUE_URL)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"bench: {QUEUE_URL} answered {response.status_code}")
        if run >= QUEUE_WARMUPS:
            timings.append(elapsed)
            counts.append(len(captured))
    return statistics.median(timings), int(statistics.median(counts)), response.content.decode()


def bench_queue(world, template):
    from workflows.flows import GrantFlow
    from workflows.models import GrantProcess

    client = Client()
    client.force_login(world["olle"])
    results = {}
    total = 0
    for size in QUEUE_SIZES:
        total += bulk_cases(template, size - total)
        waiting = GrantFlow.task_class.objects.filter(flow_task=GrantFlow.check_completeness, status="NEW")
        if waiting.count() != size:
            raise SystemExit(f"bench: {waiting.count()} tasks wait in check_completeness, expected {size}")
        ms, queries, page = time_queue(client)
        # The page lists the newest tasks first, so every row shown must be a bulk-made one.
        shown = TASK_LINK.findall(page)
        bulk_processes = set(
            GrantProcess.objects.filter(pk__in=[int(p) for p, _ in shown])
            .exclude(application=template.application)
            .values_list("pk", flat=True)
        )
        if not shown or len(bulk_processes) != len({p for p, _ in shown}):
            raise SystemExit(f"bench: the queue page does not show the bulk-made tasks ({len(shown)} rows)")
        listed = TOTAL_ITEMS.search(page)
        if listed and int(listed.group(1)) != size:
            raise SystemExit(f"bench: the queue page lists {listed.group(1)} tasks, expected {size}")
        note(
            f"queue with {size} cases: {len(set(shown))} rows shown on the page, "
            f"{listed.group(1) if listed else '?'} listed in all"
        )
        results[size] = (ms, queries, len(set(shown)))
    return results, total


# --- 2b. the staff's lists, search and case page at 1k and 100k open cases ----------------

STAFF_SIZES = tuple(int(n) for n in os.environ.get("BENCH_STAFF_SIZES", "1000,10000,100000").split(","))
STAFF_RUNS = 5


def time_get(client, url, runs=STAFF_RUNS, warmups=1):
    """Median milliseconds and queries of a GET (a redirect counts as answered)."""
    timings, counts = [], []
    for run in range(warmups + runs):
        reset_queries()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in (200, 302):
            raise SystemExit(f"bench: {url} answered {response.status_code}")
        if run >= warmups:
            timings.append(elapsed)
            counts.append(len(captured))
    return statistics.median(timings), int(statistics.median(counts)), response


def bench_staff(world, template):
    """The officer's pages with STAFF_SIZES open cases, all of one association (Fisksätra IF,
    so its case page is that of a large association): the queue, the work list, viewflow's
    dashboard (now a redirect to the work list), the search (case number, association name,
    organisationsnummer, title word; their mean) and the case page as it is."""
    from viewflow.workflow.models import Task

    from workflows.flows import GrantFlow

    # Cases left open by earlier steps are cancelled, so that the sizes are this step's own.
    Task.objects.filter(status__in=["NEW", "ASSIGNED"]).update(status="CANCELED")
    client = Client()
    client.force_login(world["olle"])
    case_page = f"/staff/cases/grant/{template.process.pk}/"
    results = {}
    total = 0
    for size in STAFF_SIZES:
        started = time.perf_counter()
        total += bulk_cases(template, size - total)
        note(f"staff: {total} open cases made in bulk in {time.perf_counter() - started:.0f} s (cumulative)")
        open_now = Task.objects.filter(flow_task=GrantFlow.check_completeness, status="NEW").count()
        if open_now != size:
            raise SystemExit(f"bench: {open_now} open cases, expected {size}")
        some = template.application.case_number.rsplit("/", 1)[0] + f"/{size // 2:04d}"
        searches = [
            quote(some),
            quote("Fisksätra"),
            quote(world["fisksatra"].org_number.replace("-", "")),
            quote(f"Bulkansökan {size // 3}"),
        ]
        figures = {
            "queue": time_get(client, QUEUE_URL)[:2],
            "list": time_get(client, "/staff/arenden/")[:2],
            "dashboard": time_get(client, "/staff/cases/grant/")[:2],
            # One run: as the case page is today, a large association's takes up to a minute at 100k.
            "case_page": time_get(client, case_page, runs=1, warmups=0)[:2],
        }
        found = [time_get(client, f"/staff/arenden/?q={q}") for q in searches]
        if some not in found[0][2].content.decode():
            raise SystemExit(f"bench: the search for {some} did not find it")
        figures["search"] = (statistics.mean(f[0] for f in found), max(f[1] for f in found))
        for name, (ms, queries) in figures.items():
            note(f"staff {name} with {size} open cases: {ms:.1f} ms, {queries} queries")
        results[size] = figures
    return results


def bench_staff_say(results):
    sizes = sorted(results)
    small, large = sizes[0], sizes[-1]
    for size in sizes:
        for name, (ms, queries) in results[size].items():
            say(f"staff_{name}_ms_{size}", f"{ms:.1f}")
            say(f"staff_{name}_queries_{size}", queries)
    suffix = f"{large // 1000}k"
    for name in ("queue", "case_page", "search", "list", "dashboard"):
        say(f"staff_{name}_ratio_{suffix}", f"{results[large][name][0] / results[small][name][0]:.2f}")
    if 10_000 in results:
        say("staff_search_ms_10000", f"{results[10_000]['search'][0]:.1f}")
    say("staff_case_page_queries", results[large]["case_page"][1])


# --- 3. money: a payment file of 10,000 payments, attesting 10 and 1,000 at once ----------


def bulk_payments(world, count, *, tag, attested):
    """`count` granted cases of one payment each, made in bulk as a decision leaves them
    (approved application, officer's decision, payment), the payment planned or already
    attested by Fia to Fisksätra IF's bankgiro. Returns the payments' ids."""
    from grants.models import Application, Decision, Payment

    call, organisation, anna, olle, fia = (world[key] for key in ("call", "fisksatra", "anna", "olle", "fia"))
    code = call.programme.committee.code
    payee = organisation.check_payee_account()
    ids = []
    with transaction.atomic():
        for start in range(0, count, BATCH):
            now = timezone.now()
            numbers = range(start, min(start + BATCH, count))
            # Applications go in as drafts (the FSM field refuses another initial state) and
            # are moved on below; their case numbers are a series of their own (tag).
            apps = Application.objects.bulk_create(
                [
                    Application(
                        call=call,
                        organisation=organisation,
                        created_by=anna,
                        status=Application.Status.DRAFT,
                        case_number=f"{code} {now.year}/{tag}{n:05d}",
                        title=f"Utbetalning {tag}{n}",
                        description="Bulkskapat ärende för mätningen.",
                        period_start=dt.date(2026, 1, 1),
                        period_end=dt.date(2026, 12, 31),
                        requested_amount=amount(n),
                        submitted_at=now,
                    )
                    for n in numbers
                ]
            )
            app_ids = [a.pk for a in apps]
            Application.objects.filter(pk__in=app_ids).update(status=Application.Status.APPROVED)
            Decision.objects.bulk_create(
                [
                    Decision(
                        application_id=pk,
                        outcome=Decision.Outcome.APPROVED,
                        amount=amount(n),
                        reasons="Bra.",
                        decided_by=olle,
                        decided_at=now,
                        delegation_point="4.2",
                    )
                    for pk, n in zip(app_ids, numbers)
                ]
            )
            extra = (
                dict(
                    status=Payment.Status.ATTESTED,
                    attested_by=fia,
                    attested_at=now,
                    payee_name=payee[0],
                    payee_scheme=payee[1],
                    payee_account=payee[2],
                )
                if attested
                else dict(status=Payment.Status.PLANNED)
            )
            ids += [
                p.pk
                for p in Payment.objects.bulk_create(
                    [
                        Payment(
                            application_id=pk,
                            sequence=1,
                            percent=100,
                            amount=amount(n),
                            release="decision",
                            decided_by=olle,
                            **extra,
                        )
                        for pk, n in zip(app_ids, numbers)
                    ]
                )
            ]
    with connection.cursor() as cursor:
        for model in (Application, Decision, Payment):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return ids


def amount(n):
    return Decimal(1000 + n % 997) + Decimal("0.50")


def bench_money(world):
    from documents.payment_files import payment_file_create
    from grants.models import Payment
    from grants.services import pay

    fia = world["fia"]
    # Attesting: the same queries whatever the number of payments in the call.
    warm_up = bulk_payments(world, 1, tag="W", attested=False)
    pay.payments_attest(payment_ids=warm_up, by=fia)  # not measured
    for size in ATTEST_SIZES:
        ids = bulk_payments(world, size, tag=f"A{size}-", attested=False)
        reset_queries()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            pay.payments_attest(payment_ids=ids, by=fia)
        elapsed = (time.perf_counter() - started) * 1000
        if Payment.objects.filter(pk__in=ids, status=Payment.Status.ATTESTED, attested_by=fia).count() != size:
            raise SystemExit(f"bench: attesting {size} payments did not attest them all")
        say(f"queries_attest_call_{size}", len(captured))
        say(f"queries_per_attested_payment_{size}", f"{len(captured) / size:.2f}")
        say(f"attest_ms_{size}", f"{elapsed:.0f}")
    # Put those in a file of their own, so that the big file holds exactly the bulk-made ones.
    payment_file_create(by=fia)

    ids = bulk_payments(world, PAYMENT_FILE_SIZE, tag="F", attested=True)
    started = time.perf_counter()
    batch = payment_file_create(by=fia)
    elapsed = time.perf_counter() - started
    in_file = Payment.objects.filter(batch=batch, status=Payment.Status.EXPORTED)
    if (
        batch.count != PAYMENT_FILE_SIZE
        or in_file.count() != PAYMENT_FILE_SIZE
        or set(in_file.values_list("pk", flat=True)) != set(ids)
        or not batch.pain001_key
    ):
        raise SystemExit(
            f"bench: the payment file holds {batch.count} payments, expected {PAYMENT_FILE_SIZE}, "
            "with its pain.001 file"
        )
    say(f"payment_file_{PAYMENT_FILE_SIZE}_s", f"{elapsed:.2f}")


# --- 4. one letter: our pipeline against bare WeasyPrint ---------------------------------


def committee_decisions(world, count, held_on):
    """`count` cases of 60 000 kr (above the 50 000 kr delegation) decided by the committee
    at the meeting of `held_on`, through the services (submit, complete, assess, decide)."""
    from documents import batches
    from grants.services import apply, assess, decide

    anna, olle, kim = world["anna"], world["olle"], world["kim"]
    decisions = []
    for index in range(count):
        application = make_draft(world, f"{held_on:%m%d}-{index}", amount=Decimal("60000"))
        application = apply.application_submit(application=application, by=anna)
        assess.completeness_confirm(application=application, by=olle)
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("60000"),
            justification="Når barn utanför föreningslivet.",
        )
        decisions.append(
            decide.decision_make(
                application=application,
                by=kim,
                outcome="approved",
                amount=Decimal("60000"),
                reasons="Projektet stämmer med nämndens mål för inkludering.",
                meeting_date=held_on,
                protocol_paragraph=f"§ {index + 1}",
            )
        )
    meeting = decisions[0].meeting
    batches.meeting_announce(meeting=meeting, by=kim, announced_on=held_on + dt.timedelta(days=8))
    meeting.refresh_from_db()
    return meeting, decisions


def bench_letter(world):
    from weasyprint import HTML

    from documents import letters
    from grants.models import Document

    _meeting, (decision,) = committee_decisions(world, 1, dt.date(2026, 2, 26))
    decision = letters._decision(decision.pk)
    html = letters.decision_letter_html(decision)  # the same letter HTML for both

    def pipeline():
        letters.letter_store(
            application=decision.application, kind=Document.Kind.DECISION_LETTER, pdf=letters.render_pdf(html), by=None
        )

    def bare():
        HTML(string=html, url_fetcher=letters.LetterAssetFetcher(), base_url=None).write_pdf(
            pdf_variant="pdf/a-2b", pdf_tags=True
        )

    def timed(work):
        started = time.perf_counter()
        work()
        return (time.perf_counter() - started) * 1000

    pipeline(), bare()  # warm-up, not measured
    ms = {pipeline: [], bare: []}
    for run in range(LETTER_RUNS):
        # Interleaved, each first every other run, so drift and noise hit both alike.
        for work in (pipeline, bare) if run % 2 == 0 else (bare, pipeline):
            ms[work].append(timed(work))
    stored = Document.objects.filter(application=decision.application, kind=Document.Kind.DECISION_LETTER).count()
    if stored != LETTER_RUNS + 1:
        raise SystemExit(f"bench: the pipeline stored {stored} letters, expected {LETTER_RUNS + 1}")
    pipeline_ms, bare_ms = statistics.median(ms[pipeline]), statistics.median(ms[bare])
    say("letter_ms_pipeline", f"{pipeline_ms:.1f}")
    say("letter_ms_bare", f"{bare_ms:.1f}")
    say("letter_ratio", f"{pipeline_ms / bare_ms:.3f}")


# --- 5. a meeting's letters, by one and by two background workers ----------------------


def worker_main():
    """`python -m tests.bench worker`: a db_worker warmed up first (WeasyPrint, fonts and
    templates loaded by one unstored letter), as a worker that has been running a while."""
    from django.core.management import call_command

    from documents import letters, tasks  # noqa: F401 - the task module, imported as the worker would
    from grants.models import Decision

    decision = Decision.objects.filter(by_committee=True).order_by("pk").first()
    letters.render_pdf(letters.decision_letter_html(letters._decision(decision.pk)))
    print("ready", flush=True)
    # Nothing reads this pipe any more: whatever the worker prints must not fill it.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    call_command("db_worker", reload=False, startup_delay=False, interval=0.05, verbosity=0)


def workers_start(count, media):
    """`count` warmed-up db_worker processes on the bench database and files."""
    db = connection.settings_dict
    userinfo = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{userinfo}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}",
        "MEDIA_ROOT": media,
        "GRANTS_STORAGE": "local",
        "DEBUG": "false",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bench", "worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit("bench: a db_worker did not start")
    return workers


def workers_stop(workers):
    for worker in workers:
        worker.terminate()  # db_worker stops gracefully on SIGTERM
    for worker in workers:
        worker.wait(timeout=60)


def bench_batch(world, media, held_on, workers):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from documents import batches
    from grants.models import Document

    meeting, _decisions = committee_decisions(world, BATCH_LETTERS, held_on)
    letters_made = Document.objects.filter(kind=Document.Kind.DECISION_LETTER, application__decision__meeting=meeting)
    pool = workers_start(workers, media)
    note(f"batch with {workers} worker(s): load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        started = time.perf_counter()
        batch = batches.meeting_letters_start(meeting=meeting, by=world["kim"])
        deadline = started + 600
        while letters_made.count() < BATCH_LETTERS:
            if time.perf_counter() > deadline or DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists():
                raise SystemExit(
                    f"bench: the batch with {workers} worker(s) did not finish: "
                    f"{batches.meeting_letters_progress(meeting)}"
                )
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        workers_stop(pool)
    if (
        batch.letters_queued != BATCH_LETTERS
        or letters_made.count() != BATCH_LETTERS
        or letters_made.exclude(version=1).exists()
    ):
        raise SystemExit("bench: the batch did not make exactly one letter (version 1) per decision")
    ran_on = {
        worker
        for ids in DBTaskResult.objects.filter(args_kwargs__kwargs__meeting_pk=meeting.pk).values_list(
            "worker_ids", flat=True
        )
        for worker in ids
    }
    note(f"batch with {workers} worker(s): {BATCH_LETTERS} letters in {elapsed:.1f} s on {len(ran_on)} worker(s)")
    return BATCH_LETTERS / elapsed


@contextlib.contextmanager
def throwaway_database():
    """test_<NAME>_bench, made afresh (a leftover of an interrupted run is replaced) and
    dropped at the end. Not test_<NAME>: a pytest run on PostgreSQL at the same time
    uses that one, and autoclobber would drop it under the tests' feet."""
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def bench_all(world, media):
    template = bench_lifecycle(world)
    results, total = bench_queue(world, template)
    small, large = QUEUE_SIZES
    say("cases_bulk_created", total)
    for size in QUEUE_SIZES:
        say(f"officer_queue_ms_{size}", f"{results[size][0]:.1f}")
        say(f"officer_queue_queries_{size}", results[size][1])
    say("officer_queue_rows_shown", results[large][2])
    say("officer_queue_ratio", f"{results[large][0] / results[small][0]:.2f}")
    bench_money(world)
    bench_letter(world)
    one = bench_batch(world, media, dt.date(2026, 3, 12), workers=1)
    say("batch_letters", BATCH_LETTERS)
    say("batch_letters_per_s_1_worker", f"{one:.2f}")
    two = bench_batch(world, media, dt.date(2026, 3, 19), workers=2)
    say("batch_letters_per_s_2_workers", f"{two:.2f}")
    say("batch_speedup_2_workers", f"{two / one:.2f}")
    bench_annual_report(world)
    bench_rush_say(world, media)
    bench_staff_say(bench_staff(world, template))


def bench_rush_say(world, media):
    from tests.bench_rush import bench_rush

    bench_rush(world, media, say=say, note=note)


def bench_annual_report(world):
    from tests.bench_report import bench_report

    bench_report(world, say=say, note=note)


def main():
    if connection.vendor != "postgresql":
        raise SystemExit(
            f"bench: runs on PostgreSQL only, and this is {connection.vendor}. Set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/grants .venv/bin/python -m tests.bench"
        )
    media = tempfile.mkdtemp(prefix="grants-bench-media-")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
    }
    started = time.perf_counter()
    try:
        # No console mail (notifications would flood stdout) and no DEBUG query log.
        with (
            override_settings(
                STORAGES=storages, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DEBUG=False
            ),
            throwaway_database() as name,
        ):
            note(f"bench: database {name}, files in {media}")
            world = make_world()
            if ONLY == "money":
                bench_money(world)
            elif ONLY == "report":
                bench_annual_report(world)
            elif ONLY == "lifecycle":
                bench_lifecycle(world)
            elif ONLY == "rush":
                bench_rush_say(world, media)
            elif ONLY == "staff":
                template = []
                lifecycle(world, make_draft(world, "mall"), on_submitted=lambda app: template.append(CaseTemplate(app)))
                bench_staff_say(bench_staff(world, template[0]))
            else:
                bench_all(world, media)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    say("bench_seconds", f"{time.perf_counter() - started:.0f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        worker_main()
    else:
        main()
