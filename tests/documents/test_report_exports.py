"""The annual report's files, read back as their readers would: Excel with openpyxl, CSV with
csv, the PDF with pypdf, the 360Giving data against the standard's required fields, and the
charts as the SVG a browser and WeasyPrint get."""

import csv
import io
import json
import re
import zipfile
from decimal import Decimal

import jsonschema
import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from documents import charts, open_data, report_exports
from grants.annual_report import AnnualReport, Column, ReportFilters, Table, annual_report
from grants.models import Membership, Organisation

from .. import factories

pytestmark = pytest.mark.django_db

SELECTION = [
    ("År", "2026"),
    ("Nämnd", "Alla nämnder"),
    ("Bidragsform", "Alla bidragsformer"),
    ("Utlysning", "Alla utlysningar"),
    ("Kommundel", "Alla kommundelar"),
]


@pytest.fixture
def lena(db):
    return factories.user("lena", role="Ledning", first_name="Lena")


@pytest.fixture
def informal_group(fisksatra, anna):
    """Night-walking parents without an organisationsnummer, applying with Fisksätra IF.
    Their name names a person; nothing about them but the grant may be published."""
    group = Organisation.objects.create(
        kind=Organisation.Kind.INFORMAL_GROUP,
        name="Annas nattvandrare",
        sponsor=fisksatra,
        district="Fisksätra",
        email="anna.privat@example.se",
    )
    Membership.objects.create(user=anna, organisation=group)
    return group


@pytest.fixture
def world(anna, olle, fisksatra, informal_group, inclusion_call):
    """Two granted grants of this year: Fisksätra IF's 40 000 kr and the group's 20 000 kr."""
    fisksatra.district = "Fisksätra"
    fisksatra.save(update_fields=["district"])
    grant = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    group_grant = factories.granted_case(
        inclusion_call, informal_group, anna, olle, amount="20000", title="Nattvandring i Fisksätra"
    )
    group_grant.description = "Anna Andersson och Bertil Berg, Fisksätravägen 1, går varje fredag."
    group_grant.save(update_fields=["description"])
    return grant, group_grant


@pytest.fixture
def report(world, today):
    return annual_report(ReportFilters(year=today.year))


def handmade_report(*, year=2026, rows=True):
    """A report with awkward text: a formula, markup, and a dollar sign."""
    table = Table(
        "by_committee",
        "Per nämnd",
        [
            Column("committee", "Nämnd"),
            Column("applications", "Ansökningar", "int"),
            Column("granted", "Beviljat (kr)", "money"),
            Column("share", "Andel", "share"),
            Column("days", "Dagar", "days"),
        ],
        [
            {
                "committee": "=SUM(A1)",
                "applications": 3,
                "granted": Decimal("1234567.50"),
                "share": Decimal("0.125"),
                "days": Decimal("14.5"),
            },
            {
                "committee": "<script>x</script> $5$",
                "applications": 1,
                "granted": Decimal("100.00"),
                "share": None,
                "days": None,
            },
        ]
        if rows
        else [],
    )
    months = Table(
        "by_month",
        "Per månad",
        [Column("month", "Månad", "int"), Column("applications", "Inkomna ansökningar", "int")],
        [{"month": month, "applications": month if rows else 0} for month in range(1, 13)],
    )
    return AnnualReport(
        filters=ReportFilters(year=year),
        summary={"applications": 4, "granted_amount": Decimal("5")},
        tables=[table, months],
    )


def download(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.content[:500]
    return response


def attachment_named(filename):
    """The Content-Disposition of a download with an ASCII name (grants.web.file_response)."""
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{filename}"


# --- Excel -----------------------------------------------------------------------------------


def test_excel_has_a_summary_and_one_sheet_per_table_with_real_numbers(client, lena, report, today):
    client.force_login(lena)
    response = download(client, "reports:xlsx", year=today.year)
    assert response["Content-Disposition"] == attachment_named(f"arsrapport-{today.year}.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Sammanfattning",
        "Per nämnd",
        "Per bidragsform",
        "Per prioriterat område",
        "Per målgrupp",
        "Största mottagarna",
        "Flera nämnder",
        "Per månad",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)

    summary = book["Sammanfattning"]
    assert summary.freeze_panes == "A2" and summary["A1"].font.bold
    values = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)}
    assert values["Rapport"].value == f"Årsrapport om bidrag {today.year}"
    assert values["Urval: År"].value == str(today.year)
    assert values["Beviljat belopp"].data_type == "n" and values["Beviljat belopp"].value == 60000
    assert values["Beviljat belopp"].number_format == '#,##0.00 "kr"'
    assert values["Ansökningar"].value == 2 and values["Ansökningar"].number_format == "#,##0"

    for table, sheet in zip(report.tables, book.worksheets[1:]):
        assert [cell.value for cell in sheet[1]] == [column.label for column in table.columns]
        assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
        assert sheet.max_row == len(table.rows) + 1
        for row, cells in zip(table.rows, sheet.iter_rows(min_row=2)):
            for column, cell in zip(table.columns, cells):
                value = row.get(column.key)
                if column.kind == "text":
                    assert cell.value == ("" if value is None else str(value)) or cell.value is None
                elif value is not None:
                    assert cell.data_type == "n" and Decimal(str(cell.value)) == value, (table.key, column.key)
                    assert cell.number_format == report_exports.NUMBER_FORMATS[column.kind]
    committees = book["Per nämnd"]
    assert committees["A2"].value == "Kultur- och fritidsnämnden"
    granted = [column.key for column in report.table("by_committee").columns].index("granted") + 1
    assert committees.cell(row=2, column=granted).value == 60000


def test_excel_keeps_text_as_text_and_formats_shares_and_days():
    book = openpyxl.load_workbook(io.BytesIO(report_exports.report_xlsx(handmade_report(), filters=SELECTION)))
    sheet = book["Per nämnd"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=SUM(A1)"  # not a formula
    assert sheet["D2"].value == 0.125 and sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].value == 14.5 and sheet["E2"].number_format == "0.0"
    assert sheet["C2"].value == 1234567.5


# --- CSV -------------------------------------------------------------------------------------


def read_csv(content):
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark, for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_zip_has_every_table_and_the_summary(client, lena, report, today):
    client.force_login(lena)
    response = download(client, "reports:csv", year=today.year)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == attachment_named(f"arsrapport-{today.year}.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["summary.csv"] + [f"{table.key}.csv" for table in report.tables]
    summary = dict(read_csv(archive.read("summary.csv"))[1:])
    assert summary["Beviljat belopp"] == "60000.00" and summary["Ansökningar"] == "2"
    rows = read_csv(archive.read("by_committee.csv"))
    table = report.table("by_committee")
    assert rows[0] == [column.label for column in table.columns]
    assert rows[1][0] == "Kultur- och fritidsnämnden"
    assert rows[1][[column.key for column in table.columns].index("granted")] == "60000.00"
    months = read_csv(archive.read("by_month.csv"))
    assert len(months) == 13 and [row[0] for row in months[1:]] == [str(month) for month in range(1, 13)]


def test_one_table_as_csv(client, lena, report, today):
    client.force_login(lena)
    response = download(client, "reports:csv", year=today.year, table="by_programme")
    assert response["Content-Disposition"] == attachment_named(f"arsrapport-{today.year}-by_programme.csv")
    rows = read_csv(response.content)
    assert rows[0][0] == "Bidragsform" and rows[1][0] == "Projektbidrag för inkludering"
    assert client.get(reverse("reports:csv"), {"year": today.year, "table": "nope"}).status_code == 404


def test_csv_numbers_have_a_decimal_point_and_text_cannot_become_a_formula():
    rows = read_csv(report_exports.table_csv(handmade_report().tables[0]))
    assert rows[1] == ["'=SUM(A1)", "3", "1234567.50", "0.125", "14.5"]
    assert rows[2][3:] == ["", ""]


# --- PDF -------------------------------------------------------------------------------------


def test_pdf_has_the_title_figures_tables_and_charts(client, lena, report, today):
    client.force_login(lena)
    response = download(client, "reports:pdf", year=today.year)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == attachment_named(f"arsrapport-{today.year}.pdf")
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = text.replace("\xa0", " ")
    assert f"Årsrapport om bidrag {today.year}" in flat
    assert "Beviljat belopp" in flat and "60 000 kr" in flat and "40 000 kr" in flat
    assert "Kultur- och fritidsnämnden" in flat and "Fisksätra IF" in flat
    for table in report.tables:
        assert table.title in flat
    # The charts are drawn as vectors with their labels as text: the axis in tkr (only the
    # charts use it) and the months' short names under the line chart.
    assert "tkr" in flat and "okt" in flat.replace("oktober", "")
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert re.search(rb"\bre\b", content) and re.search(rb"\bl\b", content)  # rectangles (bars) and lines
    # Made like the letters: PDF/A-2b with its fonts embedded.
    xmp = reader.xmp_metadata
    assert (str(xmp.pdfaid_part), xmp.pdfaid_conformance) == ("2", "B")
    assert reader.metadata.title == f"Årsrapport om bidrag {today.year}"


def test_pdf_of_a_year_without_data(client, lena):
    client.force_login(lena)
    text = PdfReader(io.BytesIO(download(client, "reports:pdf", year=2001).content)).pages[0].extract_text()
    assert "Årsrapport om bidrag 2001" in text


def test_pdf_html_uses_the_same_svg_as_the_page(client, lena, report, today):
    chart_svgs = [chart.svg for chart in charts.report_charts(report).values()]
    html = report_exports.report_html(report, filters=SELECTION)
    client.force_login(lena)
    page = client.get(reverse("reports:annual")).content.decode()
    assert len(chart_svgs) == 5
    for svg in chart_svgs:
        assert svg in html and svg in page


# --- 360Giving -------------------------------------------------------------------------------

# The fields 360Giving's schema requires of every grant (and of its organisations).
GRANT_SCHEMA = {
    "type": "object",
    "required": ["grants"],
    "properties": {
        "grants": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "title",
                    "description",
                    "currency",
                    "amountAwarded",
                    "awardDate",
                    "recipientOrganization",
                    "fundingOrganization",
                ],
                "properties": {
                    "id": {"type": "string", "pattern": "^360G-"},
                    "title": {"type": "string", "minLength": 1},
                    "description": {"type": "string", "minLength": 1},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "amountAwarded": {"type": "number"},
                    "awardDate": {"type": "string", "format": "date"},
                    "recipientOrganization": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id", "name"],
                            "properties": {"id": {"type": "string", "pattern": "^SE-ON-"}, "name": {"type": "string"}},
                        },
                    },
                    "fundingOrganization": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id", "name"],
                            "properties": {"id": {"type": "string", "pattern": "^SE-ON-"}, "name": {"type": "string"}},
                        },
                    },
                    "grantProgramme": {"type": "array", "items": {"type": "object", "required": ["title"]}},
                },
            },
        }
    },
}

# What must never be published: the group's name and description, contact people, accounts.
PRIVATE = [
    "Annas nattvandrare",
    "Anna Andersson",
    "Bertil",
    "anna.privat@example.se",
    "anna@example.se",
    "5050-1055",
    "50501055",
    "bankgiro",
]


def test_360giving_json_has_the_required_fields_and_no_personal_data(world, today, settings):
    grant, group_grant = world
    document = open_data.grants_360(ReportFilters(year=today.year))
    jsonschema.validate(document, GRANT_SCHEMA, format_checker=jsonschema.FormatChecker())
    by_id = {item["id"]: item for item in document["grants"]}
    case_id = grant.case_number.replace(" ", "-").replace("/", "-")
    first = by_id[f"360G-SE-ON-{settings.PAYER_ORGNR}-{case_id}"]
    assert first["amountAwarded"] == 40000 and first["currency"] == "SEK"
    assert first["awardDate"] == today.isoformat()
    assert first["recipientOrganization"] == [{"id": "SE-ON-802412-1231", "name": "Fisksätra IF"}]
    assert first["fundingOrganization"] == [
        {"id": f"SE-ON-{settings.PAYER_ORGNR}", "name": "Kultur- och fritidsnämnden, Nacka kommun"}
    ]
    assert first["grantProgramme"] == [{"code": "inkludering", "title": "Projektbidrag för inkludering"}]
    assert first["beneficiaryLocation"] == [{"name": "Fisksätra"}]
    # The informal group's grant: published with its sponsor, which received the money.
    group = next(item for item in document["grants"] if item["title"] == "Nattvandring i Fisksätra")
    assert group["recipientOrganization"] == [{"id": "SE-ON-802412-1231", "name": "Fisksätra IF"}]
    assert group["amountAwarded"] == 20000 and "medsökare" in group["description"]
    text = json.dumps(document, ensure_ascii=False)
    for private in PRIVATE:
        assert private not in text, private


def test_open_data_prefix_setting_names_the_grants(world, today, settings):
    settings.OPEN_DATA_PREFIX = "SE-ON-TEST"
    document = open_data.grants_360(ReportFilters(year=today.year))
    assert all(item["id"].startswith("360G-SE-ON-TEST-") for item in document["grants"])


def test_360giving_csv_uses_the_template_column_titles(world, today):
    rows = list(csv.reader(io.StringIO(open_data.grants_360_csv(ReportFilters(year=today.year)).decode("utf-8"))))
    header = rows[0]
    for title in [
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Award Date",
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Grant Programme:Title",
    ]:
        assert title in header
    grants = [dict(zip(header, row)) for row in rows[1:]]
    assert len(grants) == 2
    assert {grant["Amount Awarded"] for grant in grants} == {"40000", "20000"}
    assert all(
        grant["Currency"] == "SEK" and grant["Recipient Org:Identifier"] == "SE-ON-802412-1231" for grant in grants
    )


def test_filters_apply_to_open_data(world, today, informal_group):
    assert len(open_data.grants_360(ReportFilters(year=today.year, district="Fisksätra"))["grants"]) == 2
    assert open_data.grants_360(ReportFilters(year=today.year, district="Saltsjöbaden"))["grants"] == []
    assert open_data.grants_360(ReportFilters(year=today.year - 1))["grants"] == []
    committee_id = world[0].call.programme.committee_id
    assert len(open_data.grants_360(ReportFilters(year=today.year, committee_id=committee_id + 1))["grants"]) == 0


def test_rejected_and_undecided_cases_are_not_published(anna, olle, fisksatra, inclusion_call, today):
    from grants.services import apply

    apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Utkast",
        description="Inte inskickad.",
        period_start=today,
        period_end=today,
        stated_amount=Decimal("1000"),
        budget_lines=[],
    )
    assert open_data.grants_360(ReportFilters(year=today.year))["grants"] == []


def test_public_open_data_needs_no_login(world, today):
    client = Client()
    response = client.get(reverse("open_data:json", args=[today.year]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.content)
    jsonschema.validate(document, GRANT_SCHEMA)
    assert len(document["grants"]) == 2
    text = response.content.decode()
    csv_text = client.get(reverse("open_data:csv", args=[today.year])).content.decode()
    assert csv_text.startswith("Identifier,Title,Description,Currency,Amount Awarded,Award Date")
    for private in PRIVATE:
        assert private not in text and private not in csv_text, private
    assert reverse("open_data:json", args=[today.year]) == f"/oppna-data/bidrag-{today.year}.json"
    assert client.get("/oppna-data/bidrag-1850.json").status_code == 404
    assert client.post(reverse("open_data:json", args=[today.year])).status_code == 405


def test_staff_open_data_downloads_carry_the_selection(client, lena, world, today):
    client.force_login(lena)
    response = download(client, "reports:open_data_json", year=today.year, district="Fisksätra")
    assert "attachment" in response["Content-Disposition"]
    assert len(json.loads(response.content)["grants"]) == 2
    response = download(client, "reports:open_data_csv", year=today.year, district="Fisksätra")
    assert response.content.decode().count("\r\n") == 3


# --- charts ----------------------------------------------------------------------------------


def test_chart_svg_is_deterministic_self_contained_and_accessible():
    first = charts.report_charts(handmade_report())
    second = charts.report_charts(handmade_report())
    assert set(first) == {"by_committee", "by_month"}
    for key, chart in first.items():
        svg = chart.svg
        assert svg == second[key].svg
        assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
        assert 'role="img"' in svg and f'aria-label="{chart.title}"' in svg and "<title id=" in svg
        assert "http" not in svg and "<script" not in svg.lower() and "xlink" not in svg
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(found.startswith(f"chart-{key}-") for found in ids)  # unique on a page with others
    bars = first["by_committee"].svg
    # Labels are text, escaped, and read literally ("$5$" is no TeX).
    assert "&lt;script&gt;x&lt;/script&gt; $5$</text>" in bars
    assert ">1 234 568 kr</text>" in bars.replace("\xa0", " ")
    line = first["by_month"].svg
    assert ">jan</text>" in line and ">dec</text>" in line and "Inkomna ansökningar" in line


def test_an_address_in_a_label_stays_text():
    svg = charts.bar_chart(key="t", title="Adress", labels=["https://evil.example/x.svg"], values=[100])
    assert ">https://evil.example/x.svg</text>" in svg
    assert not re.search(r'(href|src)="(?!#)|url\((?!#)', svg)


def test_chart_of_no_data_says_so():
    empty = charts.report_charts(handmade_report(year=2001, rows=False))
    for chart in empty.values():
        assert "Inga uppgifter för 2001</text>" in chart.svg
        assert "<desc>Inga uppgifter för 2001</desc>" in chart.svg


def test_many_bars_become_the_largest_and_the_rest():
    svg = charts.bar_chart(key="t", title="Många", labels=[f"Förening {n}" for n in range(30)], values=[1000] * 30)
    assert "Övriga (16 st)" in svg and "Förening 13" in svg and "Förening 14<" not in svg


def test_cells_are_written_in_swedish():
    assert report_exports.cell_text(Decimal("1234567.50"), "money") == "1\xa0234\xa0567,50 kr"
    assert report_exports.cell_text(Decimal("40000.00"), "money") == "40\xa0000 kr"
    assert report_exports.cell_text(Decimal("0.125"), "share") == "12,5\xa0%"
    assert report_exports.cell_text(Decimal("14.5"), "days") == "14,5"
    assert report_exports.cell_text(12345, "int") == "12\xa0345"
    assert report_exports.cell_text(None, "money") == "–"
