"""The annual grant report as files: Excel, CSV and PDF, plus the figures as people read them.

Every export reads the one `AnnualReport` (grants.annual_report), so the page, the files
and the charts always show the same figures. Numbers are numbers in the files (Excel cells
with number formats, CSV with a decimal point), and Swedish text only where people read
them (the page and the PDF: "1 234 567 kr", "12,5 %").

CSV: one download, a zip with one CSV per table and summary.csv, so that a single link
gives everything; `?table=<key>` (or `?table=summary`) gives one table's CSV alone, which
is what a person opening it in a spreadsheet usually wants. Comma-separated, UTF-8 with a
byte order mark (so Excel reads å, ä, ö), header row with the Swedish labels.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from weasyprint import HTML
from weasyprint.urls import URLFetcherResponse

from grants.annual_report import SUMMARY_LABELS

from .charts import FONT_FILE, report_charts, swedish_number
from .letters import LetterAssetFetcher

TITLE = "Årsrapport om bidrag"

# Excel's tabs in Swedish (31 characters at most, none of : \ / ? * [ ]); a table not
# named here gets its title, shortened.
SHEET_NAMES = {
    "by_committee": "Per nämnd",
    "by_programme": "Per bidragsform",
    "by_priority_area": "Per prioriterat område",
    "by_target_group": "Per målgrupp",
    "largest_recipients": "Största mottagarna",
    "multi_committee": "Flera nämnder",
    "by_month": "Per månad",
}
SUMMARY_SHEET = "Sammanfattning"
NUMBER_FORMATS = {
    "money": '#,##0.00 "kr"',
    "share": "0.0%",
    "int": "#,##0",
    "days": "0.0",
}
# A cell beginning with one of these is a formula to a spreadsheet program; text from
# applicants (names, titles) must never run as one (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_title(report):
    return f"{TITLE} {report.filters.year}"


def filename(report, extension):
    return f"arsrapport-{report.filters.year}.{extension}"


# --- figures as people read them -----------------------------------------------------------


def cell_text(value, kind):
    """A figure for the page and the PDF, in Swedish."""
    if value is None or value == "":
        return "–"
    if kind == "money":
        value = Decimal(value)
        return f"{swedish_number(value, 0 if value == value.to_integral_value() else 2)} kr"
    if kind == "share":
        return f"{swedish_number(Decimal(value) * 100, 1)}\xa0%"
    if kind == "int":
        return swedish_number(value)
    if kind == "days":
        return swedish_number(value, 1)
    return str(value)


@dataclass
class DisplayTable:
    key: str
    title: str
    columns: list  # Column
    rows: list  # [[(text, kind), …], …]
    empty_text: str


MONTH_NAMES = [
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


def _display_cell(table, column, value):
    # The files keep the month's number (sortable); people read its name.
    if table.key == "by_month" and column.key == "month" and isinstance(value, int) and 1 <= value <= 12:
        return MONTH_NAMES[value - 1], "text"
    return cell_text(value, column.kind), column.kind


def display_tables(report):
    """The tables with every cell already in Swedish, for the page and the PDF."""
    return [
        DisplayTable(
            key=table.key,
            title=table.title,
            columns=table.columns,
            rows=[
                [_display_cell(table, column, value) for column, value in zip(table.columns, table.values(row))]
                for row in table.rows
            ],
            empty_text=f"Inga uppgifter för {report.filters.year}",
        )
        for table in report.tables
    ]


def report_sections(report, charts):
    """[(DisplayTable, Chart or None)] in the report's order: each table with its chart."""
    return [(table, charts.get(table.key)) for table in display_tables(report)]


def summary_rows(report):
    """[(label, value, kind)] in SUMMARY_LABELS' order; figures the report lacks are left out."""
    return [
        (label, report.summary[key], kind) for key, (label, kind) in SUMMARY_LABELS.items() if key in report.summary
    ]


# --- Excel -----------------------------------------------------------------------------------


def _sheet_name(table, taken):
    name = SHEET_NAMES.get(table.key) or table.title
    name = "".join(" " if char in ":\\/?*[]" else char for char in name).strip()[:31] or table.key[:31]
    base, number = name, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.lower())
    return name


def _write(sheet, row, column, value, kind):
    cell = sheet.cell(row=row, column=column)
    if kind in NUMBER_FORMATS and value is not None and value != "":
        cell.value = Decimal(value)
        cell.number_format = NUMBER_FORMATS[kind]
    else:
        cell.value = "" if value is None else str(value)
        cell.data_type = "s"  # text stays text, even "=…"
    return cell


def _header(sheet, labels, widths):
    bold = Font(bold=True)
    for index, label in enumerate(labels, start=1):
        sheet.cell(row=1, column=index, value=label).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = widths[index - 1]
    sheet.freeze_panes = "A2"


def report_xlsx(report, *, filters):
    """The workbook: "Sammanfattning" (filters and summary), then one sheet per table.
    `filters` is [(label, text)] as the page shows the selection."""
    workbook = Workbook()
    workbook.properties.title = report_title(report)
    workbook.properties.creator = settings.PAYER_NAME
    summary = workbook.active
    summary.title = SUMMARY_SHEET
    _header(summary, ["Uppgift", "Värde"], [48, 24])
    row = 2
    _write(summary, row, 1, "Rapport", "text")
    _write(summary, row, 2, report_title(report), "text")
    for label, text in filters:
        row += 1
        _write(summary, row, 1, f"Urval: {label}", "text")
        _write(summary, row, 2, text, "text")
    for label, value, kind in summary_rows(report):
        row += 1
        _write(summary, row, 1, label, "text")
        _write(summary, row, 2, value, kind)

    taken = {SUMMARY_SHEET.lower()}
    for table in report.tables:
        sheet = workbook.create_sheet(_sheet_name(table, taken))
        _header(
            sheet,
            [column.label for column in table.columns],
            [36 if column.kind == "text" else 18 for column in table.columns],
        )
        for row_number, row in enumerate(table.rows, start=2):
            for column_number, (column, value) in enumerate(zip(table.columns, table.values(row)), start=1):
                _write(sheet, row_number, column_number, value, column.kind)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- CSV --------------------------------------------------------------------------------------


def csv_value(value, kind="text"):
    """A figure for a CSV file: numbers with a decimal point, text safe to open in Excel."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"  # never "1E+5"
    if kind in NUMBER_FORMATS or isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_csv(table):
    return _csv(
        [column.label for column in table.columns],
        [
            [csv_value(value, column.kind) for column, value in zip(table.columns, table.values(row))]
            for row in table.rows
        ],
    )


def summary_csv(report, *, filters):
    rows = [["Rapport", report_title(report)]]
    rows += [[f"Urval: {label}", csv_value(text)] for label, text in filters]
    rows += [[label, csv_value(value, kind)] for label, value, kind in summary_rows(report)]
    return _csv(["Uppgift", "Värde"], rows)


def report_csv_zip(report, *, filters):
    """summary.csv and <table key>.csv for every table, in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.csv", summary_csv(report, filters=filters))
        for table in report.tables:
            archive.writestr(f"{table.key}.csv", table_csv(table))
    return buffer.getvalue()


# --- PDF --------------------------------------------------------------------------------------


def report_html(report, *, filters, charts=None):
    """The PDF's HTML: title, selection, summary, and every table with its chart."""
    charts = report_charts(report) if charts is None else charts
    with translation.override("sv"):
        return render_to_string(
            "reports/annual_pdf.html",
            {
                "title": report_title(report),
                "municipality": settings.PAYER_NAME,
                "filters": filters,
                "summary": [(label, cell_text(value, kind)) for label, value, kind in summary_rows(report)],
                "sections": report_sections(report, charts),
            },
        )


class ReportAssetFetcher(LetterAssetFetcher):
    """The letters' fetcher (the project's fonts and inline data, nothing else), plus the
    charts' font, the very file matplotlib measured the labels with."""

    CHART_FONT = "report-asset:fonts/DejaVuSans.ttf"

    def fetch(self, url, headers=None):
        if url == self.CHART_FONT:
            return URLFetcherResponse(url, FONT_FILE.read_bytes(), {"Content-Type": "font/ttf"})
        return super().fetch(url, headers)


def report_pdf(report, *, filters, charts=None):
    """A4, tagged PDF/A-2b as the letters are made (documents.letters.render_pdf), with a
    fetcher that also knows the charts' font."""
    html = report_html(report, filters=filters, charts=charts)
    return HTML(string=html, url_fetcher=ReportAssetFetcher(), base_url=None).write_pdf(
        pdf_variant="pdf/a-2b", pdf_tags=True
    )
