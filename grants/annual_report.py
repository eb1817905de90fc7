"""The annual grant report (årsredovisning av bidrag): the year's applications, decisions,
payments and repayment claims across all committees, as tables.

Every figure is aggregated in the database: a fixed number of queries whatever the
number of grants, and no Python loop over grant rows. A year without data gives the same
tables, empty, with zeros. The web page, the Excel/CSV/PDF exports and the charts all
read the `AnnualReport` this module returns, so they always show the same figures.

The year of a case is its call's budget year (Call.year), as for the budgets.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
    Window,
)
from django.db.models.functions import ExtractMonth, RowNumber
from django.db.models.lookups import GreaterThan

from .models import Application, Call, Decision, Organisation, Payment, Programme, RepaymentClaim


@dataclass(frozen=True)
class ReportFilters:
    year: int
    committee_id: int | None = None
    programme_id: int | None = None
    call_id: int | None = None
    district: str | None = None  # Organisation.district, exact match


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # "text", "int", "money" (Decimal kronor), "share" (Decimal 0–1) or "days" (Decimal)
    kind: str = "text"


@dataclass
class Table:
    key: str  # stable, ASCII: used for sheet names, CSV file names and anchors
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def values(self, row):
        return [row.get(column.key) for column in self.columns]


@dataclass
class AnnualReport:
    filters: ReportFilters
    # Named figures for the summary (keys listed in SUMMARY_LABELS, in that order).
    summary: dict
    # Tables in the order the page and the exports show them.
    tables: list[Table]

    def table(self, key):
        return next(table for table in self.tables if table.key == key)


SUMMARY_LABELS = {
    "applications": ("Ansökningar", "int"),
    "approved": ("Beviljade", "int"),
    "partly_approved": ("Delvis beviljade", "int"),
    "rejected": ("Avslagna", "int"),
    "withdrawn": ("Återtagna", "int"),
    "undecided": ("Ännu inte beslutade", "int"),
    "applied_amount": ("Sökt belopp", "money"),
    "granted_amount": ("Beviljat belopp", "money"),
    "paid_amount": ("Utbetalt", "money"),
    "reclaimed_amount": ("Återkrävt", "money"),
    "repaid_amount": ("Återbetalt av återkrav", "money"),
    "median_days_to_decision": ("Mediantid från ansökan till beslut (dagar)", "days"),
    "organisations_granted": ("Organisationer med bidrag", "int"),
    "organisations_first_time": ("Varav för första gången", "int"),
    "first_time_share": ("Andel som fick bidrag för första gången", "share"),
}

ZERO = Decimal("0.00")


# --- the report ------------------------------------------------------------------------

NOT_GIVEN = "Ej angivet"
MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]
# How many rows the organisation tables show at most.
LARGEST_RECIPIENTS = 10
MULTI_COMMITTEE_ROWS = 50

_COUNTS = [
    Column("applications", "Ansökningar", "int"),
    Column("approved", "Beviljade", "int"),
    Column("partly_approved", "Delvis beviljade", "int"),
    Column("rejected", "Avslagna", "int"),
    Column("applied", "Sökt (kr)", "money"),
    Column("granted", "Beviljat (kr)", "money"),
    Column("paid", "Utbetalt (kr)", "money"),
]
_GRANTS = [Column("grants", "Beviljade bidrag", "int"), Column("granted", "Beviljat (kr)", "money")]
COLUMNS = {
    "by_committee": [Column("committee", "Nämnd"), *_COUNTS],
    "by_programme": [Column("programme", "Bidragsform"), Column("committee", "Nämnd"), *_COUNTS],
    "by_priority_area": [Column("priority_area", "Prioriterat område"), *_GRANTS],
    "by_target_group": [Column("target_group", "Målgrupp"), *_GRANTS],
    "largest_recipients": [
        Column("organisation", "Organisation"),
        Column("org_number", "Organisationsnummer"),
        Column("grants", "Antal bidrag", "int"),
        Column("granted", "Beviljat (kr)", "money"),
        Column("paid", "Utbetalt (kr)", "money"),
    ],
    "multi_committee": [
        Column("organisation", "Organisation"),
        Column("org_number", "Organisationsnummer"),
        Column("committees", "Antal nämnder", "int"),
        Column("committee_names", "Nämnder"),
        Column("granted", "Beviljat (kr)", "money"),
    ],
    "by_month": [
        Column("month", "Månad", "int"),
        Column("applications", "Inkomna ansökningar", "int"),
        Column("decisions", "Beslut", "int"),
        Column("granted", "Beviljat (kr)", "money"),
    ],
}
TITLES = {
    "by_committee": "Per nämnd",
    "by_programme": "Per bidragsform",
    "by_priority_area": "Beviljade bidrag per prioriterat område",
    "by_target_group": "Beviljade bidrag per målgrupp",
    "largest_recipients": f"De {LARGEST_RECIPIENTS} största bidragsmottagarna",
    "multi_committee": "Organisationer med bidrag från flera nämnder",
    "by_month": "Ansökningar och beslut per månad",
}

_APPROVED, _PARTLY, _REJECTED = (Decision.Outcome.APPROVED, Decision.Outcome.PARTLY_APPROVED, Decision.Outcome.REJECTED)
_GRANTED = [_APPROVED, _PARTLY]
_MONEY = DecimalField(max_digits=20, decimal_places=2)


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the middle value, or the mean of the two middle
    ones. SQLite has no such aggregate; see _median_seconds."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class SecondsBetween(Func):
    """end − start in seconds, as a float: the input of the median."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        (end, end_params), (start, start_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::double precision", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps SQLite datetimes as UTC text, which julianday() reads.
        (end, end_params), (start, start_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"((julianday({end}) - julianday({start})) * 86400.0)", [*end_params, *start_params]


def _cases(filters, prefix=""):
    """The report's cases as a Q on Application (or through `prefix`, e.g. "application__"):
    submitted (not drafts), in a call of the year, narrowed by the filters."""
    lookups = {"call__year": filters.year, "submitted_at__isnull": False}
    if filters.committee_id:
        lookups["call__programme__committee_id"] = filters.committee_id
    if filters.programme_id:
        lookups["call__programme_id"] = filters.programme_id
    if filters.call_id:
        lookups["call_id"] = filters.call_id
    if filters.district:
        lookups["organisation__district"] = filters.district
    return Q(**{prefix + key: value for key, value in lookups.items()})


def _earlier(filters):
    """Granted cases of earlier years make an organisation no first-time grantee: from the
    same committee and programme when the report is filtered on them (a call filter stands
    for the call's programme, since a call lives one year only). The district is the
    organisation's own, so it needs no filter here."""
    earlier = Q(call__year__lt=filters.year)
    if filters.committee_id:
        earlier &= Q(call__programme__committee_id=filters.committee_id)
    if filters.programme_id:
        earlier &= Q(call__programme_id=filters.programme_id)
    if filters.call_id:
        earlier &= Q(call__programme_id=Subquery(Call.objects.filter(pk=filters.call_id).values("programme_id")))
    return earlier


def _money(value):
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def _empty_counts():
    return {
        "applications": 0,
        "approved": 0,
        "partly_approved": 0,
        "rejected": 0,
        "withdrawn": 0,
        "undecided": 0,
        "applied": ZERO,
        "granted": ZERO,
        "paid": ZERO,
    }


def _add(total, row):
    for key, value in row.items():
        if key in total:
            total[key] += value


def _grouped(filters):
    """One pass over the year's cases, grouped by programme, priority area and target group:
    every summed figure of the summary and of the committee, programme, area and group tables
    rolls up from these few rows (at most programmes × areas × groups)."""
    granted = Q(decision__outcome__in=_GRANTED)
    return list(
        Application.objects.filter(_cases(filters))
        .values("call__programme_id", "priority_area", "target_group")
        .annotate(
            applications=Count("pk"),
            approved=Count("pk", filter=Q(decision__outcome=_APPROVED)),
            partly_approved=Count("pk", filter=Q(decision__outcome=_PARTLY)),
            rejected=Count("pk", filter=Q(decision__outcome=_REJECTED)),
            withdrawn=Count("pk", filter=Q(status=Application.Status.WITHDRAWN)),
            undecided=Count("pk", filter=Q(decision__isnull=True) & ~Q(status=Application.Status.WITHDRAWN)),
            grants=Count("pk", filter=granted),
            applied=Sum("requested_amount", output_field=_MONEY),
            granted=Sum("decision__amount", output_field=_MONEY),
        )
        .order_by()
    )


def _median_seconds(filters):
    """The median of decided_at − submitted_at over the year's decided cases, in the
    database: percentile_cont on PostgreSQL; on SQLite the middle one or two of the ordered
    values, numbered by a window function."""
    decisions = Decision.objects.filter(_cases(filters, "application__"))
    seconds = SecondsBetween("decided_at", "application__submitted_at")
    if connection.vendor == "postgresql":
        return decisions.aggregate(median=Median(seconds))["median"]
    ranked = (
        decisions.annotate(
            seconds=seconds,
            position=Window(RowNumber(), order_by=seconds.asc()),
            total=Window(Count("*")),
        )
        .values("seconds", "position", "total")
        .order_by()
    )
    sql, params = ranked.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT AVG(seconds) FROM ({sql}) AS ranked WHERE position IN ((total + 1) / 2, (total + 2) / 2)", params
        )
        return cursor.fetchone()[0]


def _days(seconds):
    if seconds is None:
        return None
    return (Decimal(repr(seconds)) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _organisations(filters):
    """How many organisations were granted money in the year, and how many of them for the
    first time (see _earlier): one pass over the granted cases of the year and the years
    before, grouped by organisation. (An anti-join in the FILTER of an aggregate would be
    planned per organisation when PostgreSQL misjudges how many earlier grants there are.)"""
    per_organisation = (
        Application.objects.filter(_cases(filters) | _earlier(filters), decision__outcome__in=_GRANTED)
        .values("organisation_id")
        .annotate(first=Min("call__year"), last=Max("call__year"))
        .filter(last=filters.year)
    )
    return per_organisation.aggregate(
        granted=Count("organisation_id"), first_time=Count("organisation_id", filter=Q(first=filters.year))
    )


def _by_month(filters):
    """12 rows: cases submitted in each month of the calendar year, and decisions made in it
    with what they granted. Grouped by (month submitted, month decided): at most 13 × 13 rows.
    Months are the municipality's (TIME_ZONE); a case of the year's calls submitted or decided
    in another calendar year is in no month."""
    year = filters.year
    submitted = Case(When(submitted_at__year=year, then=ExtractMonth("submitted_at")), default=None)
    decided = Case(When(decision__decided_at__year=year, then=ExtractMonth("decision__decided_at")), default=None)
    months = [
        {"month": number, "month_name": name, "applications": 0, "decisions": 0, "granted": ZERO}
        for number, name in enumerate(MONTHS, start=1)
    ]
    rows = (
        Application.objects.filter(_cases(filters))
        .values(submitted_month=submitted, decided_month=decided)
        .annotate(
            applications=Count("pk"), decisions=Count("decision"), granted=Sum("decision__amount", output_field=_MONEY)
        )
        .order_by()
    )
    for row in rows:
        if row["submitted_month"]:
            months[row["submitted_month"] - 1]["applications"] += row["applications"]
        if row["decided_month"]:
            month = months[row["decided_month"] - 1]
            month["decisions"] += row["decisions"]
            month["granted"] += _money(row["granted"])
    return months


class _OverGroups(Window):
    """A window over the rows of a GROUP BY. Django would add the window's own ORDER BY
    columns (and so the window) to the GROUP BY, which PostgreSQL refuses; they are
    grouped already."""

    def get_group_by_cols(self):
        return []


def _recipients(filters):
    """The largest recipients and the organisations granted by more than one committee, in
    one pass: the year's grants summed per organisation in the database, ranked twice by
    window functions, and only the top rows of each ranking fetched. Their names, paid
    amounts and committees follow in two more bounded queries."""
    granted = Application.objects.filter(_cases(filters), decision__outcome__in=_GRANTED)
    several = GreaterThan(Max("call__programme__committee_id"), Min("call__programme__committee_id"))
    ranked = list(
        granted.values("organisation_id")
        .annotate(grants=Count("pk"), granted=Sum("decision__amount", output_field=_MONEY), several=several)
        .annotate(
            rank=_OverGroups(RowNumber(), order_by=[F("granted").desc(), F("organisation_id").asc()]),
            # Organisations granted by several committees first, then by amount.
            several_rank=_OverGroups(
                RowNumber(), order_by=[F("several").desc(), F("granted").desc(), F("organisation_id").asc()]
            ),
        )
        .filter(Q(rank__lte=LARGEST_RECIPIENTS) | Q(several=True, several_rank__lte=MULTI_COMMITTEE_ROWS))
        .order_by()
    )
    largest = sorted((row for row in ranked if row["rank"] <= LARGEST_RECIPIENTS), key=lambda row: row["rank"])
    multi = sorted(
        (row for row in ranked if row["several"] and row["several_rank"] <= MULTI_COMMITTEE_ROWS),
        key=lambda row: row["several_rank"],
    )
    ids = {row["organisation_id"] for row in largest + multi}
    paid = (
        Payment.objects.filter(
            _cases(filters, "application__"), status=Payment.Status.PAID, application__organisation_id=OuterRef("pk")
        )
        .values("application__organisation_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    organisations = {
        org["pk"]: org
        for org in Organisation.objects.filter(pk__in=ids)
        .annotate(paid=Subquery(paid, output_field=_MONEY))
        .values("pk", "name", "org_number", "paid")
    }
    committees = {}
    for organisation_id, name in (
        granted.filter(organisation_id__in=[row["organisation_id"] for row in multi])
        .values_list("organisation_id", "call__programme__committee__name")
        .distinct()
        .order_by()
    ):
        committees.setdefault(organisation_id, []).append(name)
    for names in committees.values():
        names.sort()  # in Python, as the committee table: the same order whatever the database's collation

    def described(row):
        org = organisations[row["organisation_id"]]
        return {
            "organisation_id": org["pk"],
            "organisation": org["name"],
            "org_number": org["org_number"],
            "granted": _money(row["granted"]),
        }

    largest_rows = [
        {**described(row), "grants": row["grants"], "paid": _money(organisations[row["organisation_id"]]["paid"])}
        for row in largest
    ]
    multi_rows = [
        {
            **described(row),
            "committees": len(committees[row["organisation_id"]]),
            "committee_names": ", ".join(committees[row["organisation_id"]]),
        }
        for row in multi
    ]
    return largest_rows, multi_rows


def annual_report(filters: ReportFilters) -> AnnualReport:
    """The year's report in ten queries whatever the number of grants (fewer for an empty
    year): sums and counts come grouped from the database, and only those few group rows
    are added up here."""
    grouped = _grouped(filters)
    programme_ids = {row["call__programme_id"] for row in grouped}
    programmes = {
        p["pk"]: p
        for p in Programme.objects.filter(pk__in=programme_ids).values("pk", "name", "committee_id", "committee__name")
    }
    paid = dict(
        Payment.objects.filter(_cases(filters, "application__"), status=Payment.Status.PAID)
        .values_list("application__call__programme_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    claims = RepaymentClaim.objects.filter(_cases(filters, "application__")).aggregate(
        reclaimed=Sum("amount", output_field=_MONEY), repaid=Sum("repaid_amount", output_field=_MONEY)
    )
    median = _days(_median_seconds(filters))
    organisations = _organisations(filters)
    largest, multi = _recipients(filters)
    months = _by_month(filters)

    # Rolling the group rows up: per programme, per committee, per area, per group, in all.
    total = _empty_counts()
    by_programme, by_committee, by_area, by_group = {}, {}, {}, {}
    for row in grouped:
        programme = programmes[row["call__programme_id"]]
        counts = {
            key: row[key]
            for key in ("applications", "approved", "partly_approved", "rejected", "withdrawn", "undecided")
        }
        counts.update(applied=_money(row["applied"]), granted=_money(row["granted"]))
        for table, key, label in (
            (
                by_programme,
                programme["pk"],
                {
                    "programme": programme["name"],
                    "programme_id": programme["pk"],
                    "committee": programme["committee__name"],
                    "committee_id": programme["committee_id"],
                },
            ),
            (
                by_committee,
                programme["committee_id"],
                {"committee": programme["committee__name"], "committee_id": programme["committee_id"]},
            ),
        ):
            _add(table.setdefault(key, {**label, **_empty_counts()}), counts)
        _add(total, counts)
        for table, name, key in (
            (by_area, "priority_area", row["priority_area"]),
            (by_group, "target_group", row["target_group"]),
        ):
            _add(
                table.setdefault(key or NOT_GIVEN, {name: key or NOT_GIVEN, "grants": 0, "granted": ZERO}),
                {"grants": row["grants"], "granted": counts["granted"]},
            )
    for programme_id, amount in paid.items():
        by_programme[programme_id]["paid"] += _money(amount)
        by_committee[programmes[programme_id]["committee_id"]]["paid"] += _money(amount)
        total["paid"] += _money(amount)

    granted_organisations = organisations["granted"]
    summary = {
        "applications": total["applications"],
        "approved": total["approved"],
        "partly_approved": total["partly_approved"],
        "rejected": total["rejected"],
        "withdrawn": total["withdrawn"],
        "undecided": total["undecided"],
        "applied_amount": total["applied"],
        "granted_amount": total["granted"],
        "paid_amount": total["paid"],
        "reclaimed_amount": _money(claims["reclaimed"]),
        "repaid_amount": _money(claims["repaid"]),
        "median_days_to_decision": median,
        "organisations_granted": granted_organisations,
        "organisations_first_time": organisations["first_time"],
        "first_time_share": (Decimal(organisations["first_time"]) / granted_organisations).quantize(Decimal("0.0001"))
        if granted_organisations
        else None,
    }

    def ordered(rows, *keys):
        return sorted(rows, key=lambda row: tuple(row[key] for key in keys))

    def by_granted(rows, name):
        # Areas and groups without grants are not listed: the table counts grants.
        return sorted((row for row in rows if row["grants"]), key=lambda row: (-row["granted"], row[name]))

    rows = {
        "by_committee": ordered(by_committee.values(), "committee", "committee_id"),
        "by_programme": ordered(by_programme.values(), "committee", "programme", "programme_id"),
        "by_priority_area": by_granted(by_area.values(), "priority_area"),
        "by_target_group": by_granted(by_group.values(), "target_group"),
        "largest_recipients": largest,
        "multi_committee": multi,
        "by_month": months,
    }
    return AnnualReport(
        filters=filters,
        summary=summary,
        tables=[
            Table(key=key, title=TITLES[key], columns=COLUMNS[key], rows=table_rows) for key, table_rows in rows.items()
        ],
    )
