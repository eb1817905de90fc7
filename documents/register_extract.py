"""The public register extract of one case as PDF/A (grants.records.diarium has the pages)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from grants.records.diarium import public_case
from grants.web import file_response

from .letters import logo_data_url, render_pdf

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


@require_GET
def register_extract_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's register extract as PDF/A, as the public may see it."""
    application = public_case(pk)
    committee = application.call.programme.committee
    with translation.override("sv"):
        html = render_to_string(
            "documents/register_extract.html",
            {
                "application": application,
                "committee": committee,
                "logo": logo_data_url(committee),
                "entries": list(application.register_entries.order_by("registered_at", "pk")),
                "today": timezone.localdate(),
                "now": timezone.localtime(),
            },
        )
    filename = f"Registerutdrag {application.case_number.replace('/', '-')} {dt.date.today():%Y-%m-%d}.pdf"
    return file_response(render_pdf(html), filename=filename, content_type="application/pdf")
