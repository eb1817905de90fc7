"""The annual grant report (årsredovisning av bidrag): the year's applications, decisions,
payments and repayment claims across all committees, as tables.

Every figure is aggregated in the database: a fixed number of queries whatever the
number of grants, and no Python loop over grant rows. A year without data gives the same
tables, empty, with zeros. The web page, the Excel/CSV/PDF exports and the charts all
read the `AnnualReport` this module returns, so they always show the same figures.

The year of a case is its call's budget year (Call.year), as for the budgets.
"""

from dataclasses import dataclass, field
from decimal import Decimal


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
