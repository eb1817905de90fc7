"""Money under concurrency, on PostgreSQL: many finance users attesting, exporting and
confirming the same payments at once; many decisions racing for a budget that fits only
some of them; and the database's own check that no budget is ever overcommitted.

The threaded tests need real row locks and run on PostgreSQL only (they skip on SQLite,
like the other concurrency tests; CI runs them on PostgreSQL). Every thread closes its
own database connection when it is done.
"""

import datetime as dt
import random
import threading
import time
import traceback
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from documents.payment_files import payment_file_create
from grants.models import (
    AnnualBudget,
    Application,
    Call,
    CaseEvent,
    Decision,
    Payment,
    PaymentBatch,
    Voucher,
    VoucherLine,
)
from grants.services import apply, assess, decide, pay
from workflows.flows import GrantFlow
from workflows.models import GrantProcess
from workflows.process import active_task_names

from . import factories

THREADS = 50


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")


def run_together(count, work, timeout=180):
    """Run work(index) in `count` threads that start at the same moment (a barrier).
    Returns the unexpected exceptions, with their tracebacks; each thread closes its
    database connection."""
    barrier = threading.Barrier(count)
    unexpected = []

    def run(index):
        try:
            barrier.wait(timeout=60)
            work(index)
        except Exception as exc:  # reported by the caller
            unexpected.append(f"thread {index}: {exc!r}\n{traceback.format_exc()}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "threads still running: a lock never let go"
    return unexpected


# --- 1. fifty finance users on the same payments ------------------------------------

ROLES = ("attest", "export", "confirm")
# Each thread stops when everything is paid, after MAX_ROUNDS rounds or at the deadline.
MAX_ROUNDS = 1000
DEADLINE_S = 120


@pytest.fixture
def finance_staff(db):
    """Five attesters in finance; none of them assessed or decided any case (Olle did both)."""
    return [factories.user(f"ekonomi{n}", role="Ekonomi") for n in range(5)]


@pytest.fixture
def without_letters(monkeypatch):
    """The receipts and decision letters (PDFs made after commit) are not what these tests
    are about: without them the setup takes a few seconds instead of twenty."""
    from documents import letters

    monkeypatch.setattr(letters, "receipt_send", lambda application_pk: None)
    monkeypatch.setattr(letters, "decision_letter_send", lambda decision_pk, **kwargs: None)


@pytest.fixture
def planned_cases(anna, olle, fisksatra, without_letters):
    """20 cases granted through the real flow in a programme that pays 100 % at decision and
    wants a follow-up report: one planned payment each, and the flow waits in await_payment."""
    programme = factories.programme("inkludering", payment_plan=[{"percent": 100, "release": "decision"}])
    call = factories.call(programme, budget="10000000")
    granted = [
        factories.granted_case(call, fisksatra, anna, olle, amount=str(10000 + 137 * n), title=f"Läxhjälp {n}")
        for n in range(20)
    ]
    payments = list(Payment.objects.filter(application__in=granted).order_by("pk"))
    assert [p.status for p in payments] == ["planned"] * 20
    assert all(active_task_names(application) == ["await_payment"] for application in granted)
    return granted, payments


def some(rng, ids):
    """All of them half the time, otherwise a few, so that calls overlap only partly."""
    ids = sorted(ids)
    if not ids or rng.random() < 0.5:
        return ids
    return sorted(rng.sample(ids, min(len(ids), rng.randint(1, 5))))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_finance_threads_pay_every_payment_exactly_once(planned_cases, finance_staff):
    needs_postgres()
    granted, payments = planned_cases
    ids = [payment.pk for payment in payments]
    mine = Payment.objects.filter(pk__in=ids)
    refused, done = Counter(), Counter()
    tally = threading.Lock()

    def in_status(status):
        return list(mine.filter(status=status).values_list("pk", flat=True))

    def act(role, by, rng):
        if role == "attest":
            planned = some(rng, in_status("planned"))
            if planned:
                pay.payments_attest(payment_ids=planned, by=by)
                return True
        elif role == "export":
            attested = in_status("attested")
            if attested:
                # Every attested payment, or the ones this user picked.
                chosen = None if rng.random() < 0.5 else some(rng, attested)
                payment_file_create(by=by, payment_ids=chosen)
                return True
        else:
            exported = some(rng, in_status("exported"))
            if exported:
                pay.payments_mark_paid(payment_ids=exported, by=by)
                return True
        return False

    def work(index):
        role, by, rng = ROLES[index % 3], finance_staff[index % len(finance_staff)], random.Random(index)
        for _ in range(MAX_ROUNDS):
            if not mine.exclude(status="paid").exists() or time.perf_counter() > started + DEADLINE_S:
                return
            try:
                if act(role, by, rng):
                    with tally:
                        done[role] += 1
            except ValidationError:
                # Someone else got there first: attested, exported or paid already, or
                # nothing attested left for a file. The whole call was refused.
                with tally:
                    refused[role] += 1
            time.sleep(rng.uniform(0.005, 0.025))

    started = time.perf_counter()
    unexpected = run_together(THREADS, work)
    elapsed = time.perf_counter() - started
    print(f"\n{THREADS} finance threads: {elapsed:.1f} s; done {dict(done)}; refused {dict(refused)}")
    assert unexpected == [], "\n".join(unexpected)

    # Every payment paid exactly once, in exactly one file.
    assert sorted(mine.values_list("status", flat=True)) == ["paid"] * len(ids)
    assert not mine.filter(batch__isnull=True).exists()
    for payment in mine.select_related("application"):
        events = Counter(CaseEvent.objects.filter(application=payment.application_id).values_list("action", flat=True))
        for action in ("attesterad", "i betalfil", "utbetald"):
            assert events[f"Utbetalning del {payment.sequence} {action}"] == 1, (payment, events)
        assert payment.paid_at and payment.paid_by_id and payment.attested_by_id != payment.decided_by_id

    # The files add up: every payment in one file, each file's count and total its payments',
    # and every file settled once nothing in it waits for the bank.
    batches = PaymentBatch.objects.filter(payments__in=ids).distinct()
    assert batches.count() == done["export"] >= 1
    assert sum(batch.count for batch in batches) == len(ids)
    for batch in batches:
        in_batch = Payment.objects.filter(batch=batch)
        assert batch.count == in_batch.count()
        assert batch.total == in_batch.aggregate(total=Sum("amount"))["total"]
        assert batch.status == PaymentBatch.Status.SETTLED
        assert batch.pain001_key, "a payment file without its file"
    assert sum(batch.total for batch in batches) == sum(payment.amount for payment in payments)

    # Each payment is booked once, as the bank paid it, in vouchers that balance and whose
    # numbers, taken by concurrent calls, run without gaps or duplicates.
    lines = VoucherLine.objects.filter(payment__in=ids)
    assert Counter(lines.values_list("payment_id", flat=True)) == dict.fromkeys(ids, 2)
    assert lines.aggregate(total=Sum("amount"))["total"] == 0
    numbers = sorted(Voucher.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))

    # Each payment is in exactly one pain.001 file (its own batch's), under its own end-to-end id.
    files = {}
    for batch in batches:
        with default_storage.open(batch.pain001_key, "rb") as handle:
            files[batch.pk] = handle.read().decode()
    for payment in mine:
        needle = f"<EndToEndId>{payment.reference}<"
        assert {pk: xml.count(needle) for pk, xml in files.items() if needle in xml} == {payment.batch_id: 1}, payment

    # Every case's flow moved on once: await_payment done once, the follow-up report awaited once.
    for application in granted:
        assert active_task_names(application) == ["await_report"], application
        tasks = GrantFlow.task_class.objects.filter(process__grantprocess__application=application)
        names = Counter(str(task.flow_task.name) for task in tasks)
        assert names["await_payment"] == 1 and names["await_report"] == 1, (application, names)
        assert tasks.get(flow_task=GrantFlow.await_payment).status == "DONE"
        assert Application.objects.get(pk=application.pk).status == "approved"


# --- 2. fifty decisions racing for a budget that fits ten ----------------------------

AMOUNT = Decimal("20000")


def assessed_case(call, organisation, applicant, officer, title):
    """A case taken through the real flow up to the officer's approved proposal of AMOUNT:
    it is assessed and waits in decide_by_officer."""
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=applicant,
        title=title,
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=AMOUNT,
        budget_lines=[("cost", "Ledararvoden", AMOUNT + 10000)],
    )
    application = apply.application_submit(application=draft, by=applicant)
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=AMOUNT,
        justification="Bra projekt.",
    )
    return Application.objects.get(pk=application.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("binding", ["call", "programme_year"])
def test_fifty_decisions_against_a_budget_for_ten_grant_exactly_ten(binding, anna, olle, fisksatra, without_letters):
    needs_postgres()
    programme = factories.programme("inkludering")
    year = timezone.localdate().year
    fits_ten = 10 * AMOUNT
    # Either the call's own budget fits ten, or the programme's share of the year does
    # (with the call's and the committee's year ample).
    call = factories.call(programme, budget=str(fits_ten if binding == "call" else 100 * AMOUNT))
    programme_year = AnnualBudget.objects.create(
        committee=programme.committee,
        programme=programme,
        year=year,
        amount=fits_ten if binding == "programme_year" else 100 * AMOUNT,
    )
    committee_year = AnnualBudget.objects.create(committee=programme.committee, year=year, amount=1000 * AMOUNT)
    applications = [assessed_case(call, fisksatra, anna, olle, f"Läxhjälp {n}") for n in range(THREADS)]
    assert {a.status for a in applications} == {"assessed"}

    refusals, lowest, sampling = [], [], threading.Event()
    tally = threading.Lock()

    def decide_at_once(index):
        application = applications[index]
        try:
            # Through the flow, as the officer's decision page does: the process's lock,
            # then the service's (the case, the annual budgets, the call).
            decide.decision_make(
                application=application, by=olle, outcome="approved", amount=AMOUNT, reasons="Bra projekt."
            )
        except ValidationError as exc:
            with tally:
                refusals.append(exc.messages)

    def sample():
        # What anyone reading the budgets sees while the decisions run: never below zero.
        try:
            while not sampling.is_set():
                rows = [
                    Call.objects.values_list("budget", "committed").get(pk=call.pk),
                    *AnnualBudget.objects.filter(pk__in=[programme_year.pk, committee_year.pk]).values_list(
                        "amount", "committed"
                    ),
                ]
                lowest.append(min(budget - committed for budget, committed in rows))
                time.sleep(0.005)
        finally:
            connection.close()

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        unexpected = run_together(THREADS, decide_at_once)
    finally:
        sampling.set()
        sampler.join(timeout=30)
    print(
        f"\n{THREADS} decisions ({binding} budget binding): {time.perf_counter() - started:.1f} s, "
        f"{len(lowest)} samples of the budgets"
    )
    assert unexpected == [], "\n".join(unexpected)

    label = f"utlysningens budget ({call.title})" if binding == "call" else f"budgeten för {programme.name} {year}"
    assert refusals == [[f"Beslutet på {AMOUNT} kr ryms inte i {label}: 0.00 kr återstår."]] * 40
    decisions = Decision.objects.filter(application__call=call)
    assert decisions.count() == 10 and set(decisions.values_list("outcome", flat=True)) == {"approved"}
    assert decisions.aggregate(total=Sum("amount"))["total"] == fits_ten
    call.refresh_from_db()
    programme_year.refresh_from_db()
    committee_year.refresh_from_db()
    assert call.committed == programme_year.committed == committee_year.committed == fits_ten
    assert call.remaining >= 0 and programme_year.remaining >= 0
    assert lowest and min(lowest) >= 0

    # The ten granted cases went on to the letter and payment; the forty wait, untouched.
    statuses = Counter(Application.objects.filter(call=call).values_list("status", flat=True))
    assert statuses == {"approved": 10, "assessed": 40}
    granted = Application.objects.filter(call=call, status="approved")
    assert Payment.objects.filter(application__in=granted).values("application").distinct().count() == 10
    assert not Payment.objects.filter(application__call=call, application__status="assessed").exists()
    for application in Application.objects.filter(call=call):
        expected = ["await_payment"] if application.status == "approved" else ["decide_by_officer"]
        assert active_task_names(application) == expected, application
    assert GrantProcess.objects.filter(application__call=call).count() == THREADS


# --- 3. the database alone refuses an overcommitted budget -----------------------------


# Not threaded, and true of the embedded SQLite database as well: runs on both.
@pytest.mark.django_db
def test_the_database_refuses_to_commit_past_a_budget():
    programme = factories.programme("inkludering")
    call = factories.call(programme, budget="100000")
    year_budget = AnnualBudget.objects.create(
        committee=programme.committee, programme=programme, year=call.year, amount=Decimal("50000")
    )
    # Up to the budget is fine; a single öre past it, or below zero, is not, whatever the code does.
    Call.objects.filter(pk=call.pk).update(committed=F("budget"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=call.pk).update(committed=F("committed") + Decimal("0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=call.pk).update(committed=Decimal("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=call.pk).update(budget=F("committed") - 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnualBudget.objects.filter(pk=year_budget.pk).update(committed=F("amount") + Decimal("0.01"))
    call.refresh_from_db()
    year_budget.refresh_from_db()
    assert (call.committed, year_budget.committed) == (Decimal("100000.00"), Decimal("0.00"))


# --- 4. an administrator's edit of a budget while a decision commits --------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_admin_edit_of_a_budget_keeps_what_a_decision_committed_meanwhile(client, monkeypatch):
    needs_postgres()
    from django.contrib.auth.models import User

    from grants.admin import CallAdmin
    from grants.services import budgets

    call = factories.call(factories.programme("inkludering"), budget="100000")
    original = CallAdmin.save_model

    def decision_commits():
        try:
            with transaction.atomic():
                budgets.budget_commit(Call.objects.select_related("programme").get(pk=call.pk), Decimal("30000"))
        finally:
            connection.close()

    def save_model(self, request, obj, form, change):
        # The administrator's request has read the call; a decision commits before it saves.
        thread = threading.Thread(target=decision_commits)
        thread.start()
        thread.join(timeout=30)
        original(self, request, obj, form, change)

    monkeypatch.setattr(CallAdmin, "save_model", save_model)
    client.force_login(User.objects.create_superuser("admin", "admin@example.se", "demo"))
    response = client.post(
        f"/admin/grants/call/{call.pk}/change/",
        {
            "programme": call.programme_id,
            "title": call.title,
            "year": call.year,
            "opens_on": call.opens_on,
            "closes_on": call.closes_on,
            "max_amount": call.max_amount,
            "budget": "120000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    call.refresh_from_db()
    assert call.budget == Decimal("120000.00")
    assert call.committed == Decimal("30000.00"), "the decision's 30 000 kr vanished from the budget"
