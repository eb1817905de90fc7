"""The annual grant report for management (/staff/arsrapport/…): the page with its charts,
the Excel, CSV and PDF exports, the 360Giving files of the selection, and the public
open-data files (/oppna-data/bidrag-<år>.json and .csv).

Every staff view takes the same GET filters through one form and needs the permission
grants.view_annual_report (the group Ledning; superusers have every permission). Nothing
here changes anything, so there is no POST and no CSRF token to carry.
"""

import json
from functools import wraps

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from documents import open_data, report_exports
from documents.charts import report_charts
from grants import access
from grants import annual_report as reporting
from grants.annual_report import ReportFilters
from grants.models import Call, Committee, Organisation, Programme
from grants.web import file_response

FIRST_YEAR, LAST_YEAR = 2000, 2100


management_only = access.required(access.may_see_annual_report)


class CallChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, call):
        return f"{call.year} – {call.programme.name}: {call.title}"


class ReportFilterForm(forms.Form):
    year = forms.IntegerField(
        label="År",
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text="Utlysningarnas budgetår.",
        error_messages={
            "required": "Ange ett år.",
            "invalid": "Ange året med fyra siffror, t.ex. 2026.",
            "min_value": f"Året kan inte vara före {FIRST_YEAR}.",
            "max_value": f"Året kan inte vara efter {LAST_YEAR}.",
        },
    )
    committee = forms.ModelChoiceField(
        label="Nämnd",
        required=False,
        empty_label="Alla nämnder",
        queryset=Committee.objects.order_by("name"),
        error_messages={"invalid_choice": "Den nämnden finns inte. Välj en nämnd i listan."},
    )
    programme = forms.ModelChoiceField(
        label="Bidragsform",
        required=False,
        empty_label="Alla bidragsformer",
        queryset=Programme.objects.order_by("name"),
        error_messages={"invalid_choice": "Den bidragsformen finns inte. Välj en bidragsform i listan."},
    )
    call = CallChoiceField(
        label="Utlysning",
        required=False,
        empty_label="Alla utlysningar",
        queryset=Call.objects.select_related("programme").order_by("-year", "programme__name", "title", "pk"),
        error_messages={"invalid_choice": "Den utlysningen finns inte. Välj en utlysning i listan."},
    )
    district = forms.ChoiceField(
        label="Kommundel",
        required=False,
        error_messages={"invalid_choice": "Kommundelen %(value)s finns inte. Välj en kommundel i listan."},
    )

    def __init__(self, data):
        super().__init__(data)
        districts = (
            Organisation.objects.exclude(district="").order_by("district").values_list("district", flat=True).distinct()
        )
        self.fields["district"].choices = [("", "Alla kommundelar")] + [(name, name) for name in districts]

    def filters(self):
        data = self.cleaned_data
        return ReportFilters(
            year=data["year"],
            committee_id=data["committee"].pk if data.get("committee") else None,
            programme_id=data["programme"].pk if data.get("programme") else None,
            call_id=data["call"].pk if data.get("call") else None,
            district=data.get("district") or None,
        )

    def described(self):
        """The selection as people read it, for the page and the files: [(label, text)]."""
        data = self.cleaned_data
        return [
            ("År", str(data["year"])),
            ("Nämnd", data["committee"].name if data.get("committee") else "Alla nämnder"),
            ("Bidragsform", data["programme"].name if data.get("programme") else "Alla bidragsformer"),
            (
                "Utlysning",
                self.fields["call"].label_from_instance(data["call"]) if data.get("call") else "Alla utlysningar",
            ),
            ("Kommundel", data.get("district") or "Alla kommundelar"),
        ]

    def query(self):
        """The filters as a query string for links that carry the same selection."""
        data = self.cleaned_data
        params = {"year": data["year"]}
        for name in ("committee", "programme", "call"):
            if data.get(name):
                params[name] = data[name].pk
        if data.get("district"):
            params["district"] = data["district"]
        return urlencode(params)


def _filter_form(request):
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = str(timezone.localdate().year)
    form = ReportFilterForm(data)
    _scope_committees(form, request.user)
    return form


def _scope_committees(form, user):
    """Management working for some committees only (grants.access.committee_scope) reads the
    report of one of them at a time, the first by name unless another is chosen; with no
    committee at all the form says that a committee is needed."""
    if access.committee_scope(user) is None:
        return
    field = form.fields["committee"]
    field.queryset = field.queryset.filter(access.in_committees(user, "pk"))
    field.required = True
    field.empty_label = None
    field.error_messages["required"] = "Du arbetar inte för någon nämnd och kan därför inte läsa årsrapporten."
    if not form.data.get("committee"):
        first = field.queryset.values_list("pk", flat=True).first()
        if first is not None:
            form.data["committee"] = str(first)


def _valid_form_or_400(request):
    """The form, and for invalid filters a response naming them (exports have no page to
    show the errors on, so they answer with the page itself)."""
    form = _filter_form(request)
    if form.is_valid():
        return form, None
    return form, render(request, "reports/annual.html", {"form": form}, status=400)


@require_GET
@management_only
def annual(request):
    form, invalid = _valid_form_or_400(request)
    if invalid:
        return invalid
    report = reporting.annual_report(form.filters())
    charts = report_charts(report)
    query = form.query()
    return render(
        request,
        "reports/annual.html",
        {
            "form": form,
            "report": report,
            "title": report_exports.report_title(report),
            "selection": form.described(),
            "summary": [
                (label, report_exports.cell_text(value, kind))
                for label, value, kind in report_exports.summary_rows(report)
            ],
            "sections": report_exports.report_sections(report, charts),
            "query": query,
        },
    )


def _export(build):
    """A staff export view: validated filters, the report, then build(request, form, report)."""

    @require_GET
    @management_only
    @wraps(build)
    def view(request):
        form, invalid = _valid_form_or_400(request)
        if invalid:
            return invalid
        return build(request, form, reporting.annual_report(form.filters()))

    return view


@_export
def export_xlsx(request, form, report):
    return file_response(
        report_exports.report_xlsx(report, filters=form.described()),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=report_exports.filename(report, "xlsx"),
    )


@_export
def export_csv(request, form, report):
    """All tables as a zip; ?table=<key> (or summary) gives that one CSV."""
    table_key = request.GET.get("table")
    year = report.filters.year
    if not table_key:
        return file_response(
            report_exports.report_csv_zip(report, filters=form.described()),
            content_type="application/zip",
            filename=report_exports.filename(report, "zip"),
        )
    if table_key == "summary":
        content = report_exports.summary_csv(report, filters=form.described())
    else:
        table = next((table for table in report.tables if table.key == table_key), None)
        if table is None:
            raise Http404("Rapporten har ingen sådan tabell.")
        content = report_exports.table_csv(table)
    return file_response(content, content_type="text/csv; charset=utf-8", filename=f"arsrapport-{year}-{table_key}.csv")


@_export
def export_pdf(request, form, report):
    return file_response(
        report_exports.report_pdf(report, filters=form.described()),
        content_type="application/pdf",
        filename=report_exports.filename(report, "pdf"),
    )


# --- open data (360Giving) -------------------------------------------------------------------


def _json(document):
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


@require_GET
@management_only
def open_data_json(request):
    """The selection's grants as 360Giving JSON (the public file has the whole year)."""
    form, invalid = _valid_form_or_400(request)
    if invalid:
        return invalid
    filters = form.filters()
    return file_response(
        _json(open_data.grants_360(filters)),
        content_type="application/json",
        filename=f"bidrag-{filters.year}-360giving.json",
    )


@require_GET
@management_only
def open_data_csv(request):
    form, invalid = _valid_form_or_400(request)
    if invalid:
        return invalid
    filters = form.filters()
    return file_response(
        open_data.grants_360_csv(filters),
        content_type="text/csv; charset=utf-8",
        filename=f"bidrag-{filters.year}-360giving.csv",
    )


def _public_year(year):
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Http404("Inga öppna data för det året.")
    return ReportFilters(year=year)


def _public(content, *, content_type, filename):
    # Decisions are public records: anyone may fetch and reuse the file, also from a browser script.
    response = file_response(
        content, content_type=content_type, filename=filename, disposition="inline", cache="public, max-age=3600"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def public_json(request, year):
    """/oppna-data/bidrag-<år>.json, without login: the year's granted decisions."""
    filters = _public_year(year)
    return _public(
        _json(open_data.grants_360(filters)), content_type="application/json", filename=f"bidrag-{year}.json"
    )


@require_GET
def public_csv(request, year):
    filters = _public_year(year)
    return _public(
        open_data.grants_360_csv(filters), content_type="text/csv; charset=utf-8", filename=f"bidrag-{year}.csv"
    )
