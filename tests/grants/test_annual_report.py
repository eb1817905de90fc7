"""The annual grant report: every figure checked against an independent count in plain
Python over the raw rows, for a year with cases in every state, with and without each
filter; an empty year; the same number of queries for 10 times the cases."""

import datetime as dt
import itertools
import statistics
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from stdnum import luhn

from grants.annual_report import SUMMARY_LABELS, ReportFilters, annual_report
from grants.models import Application, Call, Decision, Organisation, Payment, PaymentBatch, RepaymentClaim

from .. import factories

pytestmark = pytest.mark.django_db

YEAR = 2026
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ZERO = Decimal("0.00")
S = Application.Status


def local(year, month, day, hour=10, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


# --- the seed: rows made directly, in every state the report tells apart -----------------


class Seed:
    def __init__(self, *, decider, attester, applicant):
        self.decider, self.attester, self.applicant = decider, attester, applicant
        kfn = factories.committee("KFN", "Kultur- och fritidsnämnden")
        sn = factories.committee("SN", "Socialnämnden")
        self.committees = {"KFN": kfn, "SN": sn}
        self.programmes = {
            "P1": factories.programme("inkludering", committee_=kfn),
            "P2": factories.programme("verksamhet", committee_=kfn),
            "P3": factories.programme("forening", committee_=sn),
        }
        self.calls = {
            (key, year): factories.call(programme, year=year, budget="100000000")
            for key, programme in self.programmes.items()
            for year in (YEAR - 1, YEAR, YEAR + 1)
        }
        self.batch = PaymentBatch.objects.create(
            reference="RAPPORT-1", created_by=attester, execution_date=dt.date(YEAR, 6, 1), count=1, total=1
        )
        self.numbers = itertools.count(1)
        self.orgnr = itertools.count(1)

    def organisation(self, name, district):
        digits = f"8024{next(self.orgnr):05d}"
        org_number = f"{digits[:6]}-{digits[6:]}{luhn.calc_check_digit(digits)}"
        return Organisation.objects.create(name=name, org_number=org_number, district=district)

    def case(
        self,
        organisation,
        programme,
        year,
        status,
        *,
        requested,
        submitted=None,
        decided=None,
        outcome=None,
        amount=None,
        area="",
        group="",
        payments=(),
        claim=None,
    ):
        """One case as the services would have left it; drafts go in as drafts (the FSM field
        refuses another first state) and are moved to `status` by a queryset update, as a
        withdrawal after submission has to be today."""
        call = self.calls[(programme, year)]
        number = next(self.numbers)
        application = Application.objects.create(
            call=call,
            organisation=organisation,
            created_by=self.applicant,
            case_number="" if status == S.DRAFT else f"{call.programme.committee.code} {year}/{number}",
            title=f"Ärende {number}",
            description="Till årsrapporten.",
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            requested_amount=Decimal(requested),
            priority_area=area,
            target_group=group,
            submitted_at=submitted,
        )
        Application.objects.filter(pk=application.pk).update(status=status)
        if outcome:
            Decision.objects.create(
                application=application,
                outcome=outcome,
                amount=Decimal(amount),
                reasons="Motivering.",
                decided_by=self.decider,
                decided_at=decided,
            )
        for sequence, (state, part) in enumerate(payments, start=1):
            self.payment(application, sequence, state, Decimal(part))
        if claim:
            claimed, repaid = (Decimal(value) for value in claim)
            RepaymentClaim.objects.create(
                application=application,
                amount=claimed,
                reasons="Underkänd återrapport.",
                due_on=dt.date(year, 12, 1),
                decided_by=self.decider,
                repaid_amount=repaid,
                status="repaid" if repaid == claimed else "open",
                repaid_on=dt.date(year, 11, 1) if repaid == claimed else None,
            )
        return application

    def payment(self, application, sequence, state, amount):
        common = dict(
            application=application,
            sequence=sequence,
            percent=100,
            amount=amount,
            release="decision",
            decided_by=self.decider,
        )
        sent = dict(
            attested_by=self.attester,
            attested_at=timezone.now(),
            payee_name="Föreningen",
            payee_scheme="bankgiro",
            payee_account="50501055",
            batch=self.batch,
        )
        if state == "planned":
            return Payment.objects.create(**common, status="planned")
        if state == "paid":
            return Payment.objects.create(**common, **sent, status="paid", paid_at=timezone.now())
        # A failed payment and the paid one that replaced it: only the paid one counts.
        failed = Payment.objects.create(**common, **sent, status="failed", failure_reason="Fel konto.")
        return Payment.objects.create(**common, **sent, status="paid", paid_at=timezone.now(), replaces=failed)

    def copy(self, k):
        """One set of organisations and cases in every state; `k` varies the amounts so that
        no two organisations tie."""

        def money(base):
            return Decimal(base) + 10 * k

        case = self.case
        A, P, R = Decision.Outcome.APPROVED, Decision.Outcome.PARTLY_APPROVED, Decision.Outcome.REJECTED
        fisk = self.organisation(f"Fisksätra IF {k}", "Fisksätra")
        salt = self.organisation(f"Saltsjöbadens scouter {k}", "Saltsjöbaden")
        new = self.organisation(f"Nya föreningen {k}", "Fisksätra")
        blank = self.organisation(f"Föreningen utan kommundel {k}", "")
        late = self.organisation(f"Sena gruppen {k}", "Saltsjöbaden")

        # Earlier years: Fisksätra granted by KFN, Saltsjöbaden by SN, the new one rejected.
        case(
            fisk,
            "P1",
            YEAR - 1,
            S.CLOSED,
            requested=5000,
            submitted=local(YEAR - 1, 3, 1),
            decided=local(YEAR - 1, 3, 1) + dt.timedelta(days=20),
            outcome=A,
            amount=5000,
            payments=[("paid", 5000)],
        )
        case(
            salt,
            "P3",
            YEAR - 1,
            S.APPROVED,
            requested=7000,
            submitted=local(YEAR - 1, 4, 1),
            decided=local(YEAR - 1, 4, 1) + dt.timedelta(days=9),
            outcome=A,
            amount=7000,
        )
        case(
            new,
            "P1",
            YEAR - 1,
            S.REJECTED,
            requested=9000,
            submitted=local(YEAR - 1, 5, 1),
            decided=local(YEAR - 1, 5, 1) + dt.timedelta(days=30),
            outcome=R,
            amount=0,
        )

        # The year: Fisksätra granted by both committees.
        submitted = local(YEAR, 2, 3)
        case(
            fisk,
            "P1",
            YEAR,
            S.APPROVED,
            requested=money(40000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=21),
            outcome=A,
            amount=money(40000),
            area="Barn och unga",
            group="Barn 7–12 år",
            payments=[("paid", money(34000)), ("planned", 6000)],
        )
        submitted = local(YEAR, 4, 1, 0, 30)  # April in Stockholm, still March in UTC
        case(
            fisk,
            "P3",
            YEAR,
            S.APPROVED,
            requested=money(16000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=14),
            outcome=A,
            amount=money(15000),
            area="Jämställdhet",
            payments=[("failed_then_paid", money(15000))],
        )
        # Saltsjöbaden: partly approved by KFN, paid nothing yet; one undecided case.
        submitted = local(YEAR, 4, 14)
        case(
            salt,
            "P2",
            YEAR,
            S.PARTLY_APPROVED,
            requested=money(30000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=40),
            outcome=P,
            amount=money(20000),
            group="Unga 13–25 år",
            payments=[("planned", money(20000))],
        )
        case(
            salt, "P2", YEAR, S.IN_ASSESSMENT, requested=money(12000), submitted=local(YEAR, 9, 2), area="Barn och unga"
        )
        # The new organisation: granted, paid, closed after a repayment claim it has partly repaid;
        # a case submitted in December of the year before, decided in January.
        submitted = local(YEAR, 1, 10)
        case(
            new,
            "P1",
            YEAR,
            S.CLOSED,
            requested=money(25000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=35),
            outcome=A,
            amount=money(25000),
            area="Barn och unga",
            group="Unga 13–25 år",
            payments=[("paid", money(25000))],
            claim=(10000, 4000),
        )
        submitted = local(YEAR - 1, 12, 15)
        case(
            new,
            "P2",
            YEAR,
            S.APPROVED,
            requested=money(8000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=36),
            outcome=A,
            amount=money(8000),
            group="Barn 7–12 år",
        )
        # No district: rejected, undecided, withdrawn after submission, a draft.
        submitted = local(YEAR, 5, 20)
        case(
            blank,
            "P3",
            YEAR,
            S.REJECTED,
            requested=money(50000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=10),
            outcome=R,
            amount=0,
            area="Jämställdhet",
        )
        case(blank, "P2", YEAR, S.SUBMITTED, requested=money(11000), submitted=local(YEAR, 10, 5))
        case(blank, "P1", YEAR, S.WITHDRAWN, requested=money(13000), submitted=local(YEAR, 6, 7))
        case(blank, "P1", YEAR, S.DRAFT, requested=money(99000))
        # Granted by KFN, paid, a claim wholly repaid; and granted again the next year.
        submitted = local(YEAR, 11, 2)
        case(
            late,
            "P1",
            YEAR,
            S.APPROVED,
            requested=money(10000),
            submitted=submitted,
            decided=submitted + dt.timedelta(days=60),
            outcome=A,
            amount=money(10000),
            group="Barn 7–12 år",
            payments=[("paid", money(10000))],
            claim=(2000, 2000),
        )
        submitted = local(YEAR + 1, 2, 1)
        case(
            late,
            "P1",
            YEAR + 1,
            S.APPROVED,
            requested=70000,
            submitted=submitted,
            decided=submitted + dt.timedelta(days=5),
            outcome=A,
            amount=70000,
            area="Barn och unga",
            payments=[("paid", 70000)],
            claim=(500, 100),
        )
        case(late, "P3", YEAR + 1, S.SUBMITTED, requested=3000, submitted=submitted)


@pytest.fixture
def seed(olle, fia, anna):
    world = Seed(decider=olle, attester=fia, applicant=anna)

    def grow(copies):
        for k in range(copies):
            world.copy(k + getattr(world, "made", 0))
        world.made = getattr(world, "made", 0) + copies
        return world

    return grow


# --- the independent count -------------------------------------------------------------


def q(value):
    return Decimal(value).quantize(ZERO)


def expected(filters):
    """Every figure of the report, counted in Python from the raw rows."""
    apps = list(Application.objects.select_related("call__programme__committee", "organisation"))
    decisions = {d.application_id: d for d in Decision.objects.all()}
    paid = {}
    for payment in Payment.objects.filter(status="paid"):
        paid[payment.application_id] = paid.get(payment.application_id, ZERO) + payment.amount
    claims = {c.application_id: c for c in RepaymentClaim.objects.all()}

    def matches(a):
        programme = a.call.programme
        return (
            (filters.committee_id is None or programme.committee_id == filters.committee_id)
            and (filters.programme_id is None or programme.pk == filters.programme_id)
            and (filters.call_id is None or a.call_id == filters.call_id)
            and (not filters.district or a.organisation.district == filters.district)
        )

    cases = [a for a in apps if a.call.year == filters.year and a.submitted_at is not None and matches(a)]

    def outcome(a):
        return decisions[a.pk].outcome if a.pk in decisions else None

    granted_cases = [a for a in cases if outcome(a) in ("approved", "partly_approved")]

    def figures(group):
        return {
            "applications": len(group),
            "approved": sum(outcome(a) == "approved" for a in group),
            "partly_approved": sum(outcome(a) == "partly_approved" for a in group),
            "rejected": sum(outcome(a) == "rejected" for a in group),
            "applied": q(sum((a.requested_amount for a in group), ZERO)),
            "granted": q(sum((decisions[a.pk].amount for a in group if a.pk in decisions), ZERO)),
            "paid": q(sum((paid.get(a.pk, ZERO) for a in group), ZERO)),
        }

    decided = [a for a in cases if a.pk in decisions]
    if decided:
        seconds = statistics.median((decisions[a.pk].decided_at - a.submitted_at).total_seconds() for a in decided)
        median = (Decimal(str(seconds)) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    else:
        median = None

    organisations = {a.organisation_id for a in granted_cases}
    call_programme = Call.objects.get(pk=filters.call_id).programme_id if filters.call_id else None

    def earlier(a):
        programme = a.call.programme
        return (
            a.call.year < filters.year
            and outcome(a) in ("approved", "partly_approved")
            and (filters.committee_id is None or programme.committee_id == filters.committee_id)
            and (filters.programme_id is None or programme.pk == filters.programme_id)
            and (call_programme is None or programme.pk == call_programme)
        )

    granted_before = {a.organisation_id for a in apps if earlier(a)}
    first_time = organisations - granted_before
    everything = figures(cases)
    summary = {
        "applications": everything["applications"],
        "approved": everything["approved"],
        "partly_approved": everything["partly_approved"],
        "rejected": everything["rejected"],
        "withdrawn": sum(a.status == S.WITHDRAWN for a in cases),
        "undecided": sum(a.status != S.WITHDRAWN and a.pk not in decisions for a in cases),
        "applied_amount": everything["applied"],
        "granted_amount": everything["granted"],
        "paid_amount": everything["paid"],
        "reclaimed_amount": q(sum((claims[a.pk].amount for a in cases if a.pk in claims), ZERO)),
        "repaid_amount": q(sum((claims[a.pk].repaid_amount for a in cases if a.pk in claims), ZERO)),
        "median_days_to_decision": median,
        "organisations_granted": len(organisations),
        "organisations_first_time": len(first_time),
        "first_time_share": (Decimal(len(first_time)) / len(organisations)).quantize(Decimal("0.0001"))
        if organisations
        else None,
    }

    def grouped(key):
        groups = {}
        for a in cases:
            groups.setdefault(key(a), []).append(a)
        return groups

    by_committee = sorted(
        (
            {"committee": name, **figures(group)}
            for name, group in grouped(lambda a: a.call.programme.committee.name).items()
        ),
        key=lambda row: row["committee"],
    )
    by_programme = sorted(
        (
            {"programme": programme.name, "committee": programme.committee.name, **figures(group)}
            for programme, group in grouped(lambda a: a.call.programme).items()
        ),
        key=lambda row: (row["committee"], row["programme"]),
    )

    def by_choice(field):
        groups = {}
        for a in granted_cases:
            groups.setdefault(getattr(a, field) or "Ej angivet", []).append(a)
        rows = [
            {field: name, "grants": len(group), "granted": q(sum(decisions[a.pk].amount for a in group))}
            for name, group in groups.items()
        ]
        return sorted(rows, key=lambda row: (-row["granted"], row[field]))

    per_organisation = {}
    for a in granted_cases:
        row = per_organisation.setdefault(
            a.organisation_id,
            {"organisation": a.organisation, "grants": 0, "granted": ZERO, "paid": ZERO, "committees": set()},
        )
        row["grants"] += 1
        row["granted"] += decisions[a.pk].amount
        row["committees"].add(a.call.programme.committee.name)
    # Paid counts every case of the organisation in the report, granted or not.
    for a in cases:
        if a.organisation_id in per_organisation:
            per_organisation[a.organisation_id]["paid"] += paid.get(a.pk, ZERO)
    ranked = sorted(per_organisation.values(), key=lambda row: (-row["granted"], row["organisation"].pk))
    largest = [
        {
            "organisation": row["organisation"].name,
            "org_number": row["organisation"].org_number,
            "grants": row["grants"],
            "granted": q(row["granted"]),
            "paid": q(row["paid"]),
        }
        for row in ranked[:10]
    ]
    multi = [
        {
            "organisation": row["organisation"].name,
            "org_number": row["organisation"].org_number,
            "committees": len(row["committees"]),
            "committee_names": ", ".join(sorted(row["committees"])),
            "granted": q(row["granted"]),
        }
        for row in ranked
        if len(row["committees"]) > 1
    ][:50]

    months = [{"month": month, "applications": 0, "decisions": 0, "granted": ZERO} for month in range(1, 13)]
    for a in cases:
        submitted = timezone.localtime(a.submitted_at)
        if submitted.year == filters.year:
            months[submitted.month - 1]["applications"] += 1
        if a.pk in decisions:
            decided = timezone.localtime(decisions[a.pk].decided_at)
            if decided.year == filters.year:
                months[decided.month - 1]["decisions"] += 1
                months[decided.month - 1]["granted"] += decisions[a.pk].amount

    return summary, {
        "by_committee": by_committee,
        "by_programme": by_programme,
        "by_priority_area": by_choice("priority_area"),
        "by_target_group": by_choice("target_group"),
        "largest_recipients": largest,
        "multi_committee": multi,
        "by_month": months,
    }


def assert_report_is(filters):
    report = annual_report(filters)
    summary, tables = expected(filters)
    assert list(report.summary) == list(SUMMARY_LABELS)
    assert report.summary == summary
    assert [table.key for table in report.tables] == list(tables)
    for table in report.tables:
        shown = [{column.key: row[column.key] for column in table.columns} for row in table.rows]
        assert shown == tables[table.key], table.key
    return report


# --- the tests -------------------------------------------------------------------------


def test_every_figure_matches_an_independent_count(seed):
    world = seed(2)
    report = assert_report_is(ReportFilters(year=YEAR))
    # The seed is what the test says it is: every state is there.
    summary = report.summary
    assert summary["applications"] == 2 * 10 and summary["withdrawn"] == 2 and summary["undecided"] == 4
    assert (summary["approved"], summary["partly_approved"], summary["rejected"]) == (10, 2, 2)
    assert summary["organisations_granted"] == 8 and summary["organisations_first_time"] == 4
    assert len(report.table("multi_committee").rows) == 2
    assert report.table("multi_committee").rows[0]["committee_names"] == "Kultur- och fritidsnämnden, Socialnämnden"
    assert {row["priority_area"] for row in report.table("by_priority_area").rows} == {
        "Barn och unga",
        "Jämställdhet",
        "Ej angivet",
    }
    # Months are Stockholm's: the case sent half past midnight on 1 April is April's.
    assert [row["applications"] for row in report.table("by_month").rows[2:4]] == [0, 4]
    assert summary["paid_amount"] == sum(
        Payment.objects.filter(status="paid", application__call__year=YEAR).values_list("amount", flat=True)
    )
    assert summary["median_days_to_decision"] is not None

    kfn, sn = world.committees["KFN"], world.committees["SN"]
    p1, p2 = world.programmes["P1"], world.programmes["P2"]
    for filters in (
        ReportFilters(year=YEAR, committee_id=kfn.pk),
        ReportFilters(year=YEAR, committee_id=sn.pk),
        ReportFilters(year=YEAR, programme_id=p1.pk),
        ReportFilters(year=YEAR, programme_id=p2.pk),
        ReportFilters(year=YEAR, call_id=world.calls[("P1", YEAR)].pk),
        ReportFilters(year=YEAR, call_id=world.calls[("P3", YEAR)].pk),
        ReportFilters(year=YEAR, district="Fisksätra"),
        ReportFilters(year=YEAR, district="Saltsjöbaden"),
        ReportFilters(year=YEAR, committee_id=kfn.pk, district="Fisksätra"),
        ReportFilters(year=YEAR + 1),
        ReportFilters(year=YEAR - 1, committee_id=kfn.pk),
    ):
        assert_report_is(filters)


def test_first_time_is_counted_per_committee_when_filtered(seed):
    """Fisksätra IF had money from KFN the year before: not new in all, nor for KFN, but new
    for SN. Saltsjöbaden had money from SN: new for KFN."""
    world = seed(1)
    kfn, sn = world.committees["KFN"], world.committees["SN"]
    assert annual_report(ReportFilters(year=YEAR)).summary["organisations_first_time"] == 2
    assert annual_report(ReportFilters(year=YEAR, committee_id=kfn.pk)).summary["organisations_first_time"] == 3
    sn_summary = annual_report(ReportFilters(year=YEAR, committee_id=sn.pk)).summary
    assert (sn_summary["organisations_granted"], sn_summary["organisations_first_time"]) == (1, 1)
    assert sn_summary["first_time_share"] == Decimal("1")


def test_an_empty_year_gives_empty_tables_and_zeros(seed):
    seed(1)
    report = assert_report_is(ReportFilters(year=YEAR + 5))
    assert all(value in (0, None) for value in report.summary.values())
    assert report.summary["median_days_to_decision"] is None and report.summary["first_time_share"] is None
    assert all(not table.rows for table in report.tables if table.key != "by_month")
    assert [row["month"] for row in report.table("by_month").rows] == list(range(1, 13))
    assert all(
        row["applications"] == row["decisions"] == 0 and row["granted"] == ZERO for row in report.table("by_month").rows
    )


def test_the_same_number_of_queries_for_ten_times_the_cases(seed):
    seed(1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            annual_report(ReportFilters(year=YEAR))
        return len(captured)

    small = queries()
    world = seed(9)
    large = queries()
    assert Application.objects.filter(call__year=YEAR).count() == 10 * 11
    print(f"annual report: {small} queries with 1 copy of the seed, {large} with 10")
    assert large == small <= 12
    # 40 organisations granted: the largest recipients are cut at 10.
    assert len(assert_report_is(ReportFilters(year=YEAR)).table("largest_recipients").rows) == 10
    assert_report_is(ReportFilters(year=YEAR, committee_id=world.committees["SN"].pk))
