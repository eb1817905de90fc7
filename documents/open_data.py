"""The year's grants as open data in the 360Giving standard: JSON ({"grants": […]}) and the
flat CSV of 360Giving's spreadsheet template.

A grant decision is a public record (allmän handling), so the files are public. They carry
only what the decision says about the grant and who received it: no contact persons, no
e-mail addresses, no bank accounts, no reasons or conditions.

Identifiers follow org-id.guide: an organisation by its Swedish organisationsnummer under
the scheme SE-ON ("SE-ON-802412-1231"). The funder is the committee that decided, as part
of the municipality, so its identifier is the municipality's (settings.PAYER_ORGNR). A
grant is "360G-" + settings.OPEN_DATA_PREFIX + "-" + its case number.

Informal groups (no organisationsnummer, applying with a sponsor association) are
people, not organisations: their name and their own description may name private persons.
Such a grant is published with the sponsor association, which received the money, as the
recipient organisation, and with a neutral description instead of the group's own. Its
title, the project's name, is kept.

The selection is the annual report's: granted decisions (approved or partly approved) on
calls of the year (Call.year), narrowed by committee, programme, call and district, of
those only decisions that may be executed (Decision.executable_q): a committee's decision
is published once the approval of its protocol has been announced, or at once when the
paragraph was approved at the meeting. The award date is the meeting's date for a
committee's decision and the decision's day for a decision under delegation.
"""

import csv
import io
import re
from decimal import Decimal

from django.conf import settings

from grants.models import Application, Decision, Organisation

from .report_exports import FORMULA_STARTS

CSV_COLUMNS = [
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Code",
    "Grant Programme:Title",
    "Beneficiary Location:Name",
]


def org_identifier(org_number):
    return f"SE-ON-{org_number}"


def grant_identifier(case_number):
    # "KFN 2026/0012" → "KFN-2026-0012": identifiers carry no spaces or slashes.
    return f"360G-{settings.OPEN_DATA_PREFIX}-{re.sub(r'[^A-Za-z0-9]+', '-', case_number).strip('-')}"


def granted_decisions(filters):
    """The year's granted decisions that may be executed, under the report's filters, in
    case-number order, in one query."""
    decisions = (
        Decision.objects.filter(
            Decision.executable_q(), outcome__in=Application.GRANTED, application__call__year=filters.year
        )
        .select_related("application__organisation__sponsor", "application__call__programme__committee", "meeting")
        .order_by("application__case_number", "pk")
    )
    if filters.committee_id:
        decisions = decisions.filter(application__call__programme__committee_id=filters.committee_id)
    if filters.programme_id:
        decisions = decisions.filter(application__call__programme_id=filters.programme_id)
    if filters.call_id:
        decisions = decisions.filter(application__call_id=filters.call_id)
    if filters.district:
        decisions = decisions.filter(application__organisation__district=filters.district)
    return decisions


def _amount(value):
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _grant(decision):
    application = decision.application
    organisation = application.organisation
    programme = application.call.programme
    committee = programme.committee
    if organisation.kind == Organisation.Kind.INFORMAL_GROUP:
        recipient = organisation.sponsor
        description = (
            f"{programme.name}: bidrag till en grupp utan organisationsnummer, som sökte "
            f"tillsammans med {recipient.name} (medsökare)."
        )
    else:
        recipient = organisation
        description = application.description
    grant = {
        "id": grant_identifier(application.case_number),
        "title": application.title,
        "description": description,
        "currency": "SEK",
        "amountAwarded": _amount(decision.amount),
        "awardDate": decision.award_date.isoformat(),
        "plannedDates": [
            {"startDate": application.period_start.isoformat(), "endDate": application.period_end.isoformat()}
        ],
        "recipientOrganization": [{"id": org_identifier(recipient.org_number), "name": recipient.name}],
        "fundingOrganization": [
            {"id": org_identifier(settings.PAYER_ORGNR), "name": f"{committee.name}, {committee.municipality}"}
        ],
        "grantProgramme": [{"code": programme.slug, "title": programme.name}],
    }
    if organisation.district:
        grant["beneficiaryLocation"] = [{"name": organisation.district}]
    return grant


def grants_360(filters):
    """The 360Giving JSON document for the selection."""
    return {"grants": [_grant(decision) for decision in granted_decisions(filters)]}


def _flat(grant):
    return [
        grant["id"],
        grant["title"],
        grant["description"],
        grant["currency"],
        grant["amountAwarded"],
        grant["awardDate"],
        grant["plannedDates"][0]["startDate"],
        grant["plannedDates"][0]["endDate"],
        grant["recipientOrganization"][0]["id"],
        grant["recipientOrganization"][0]["name"],
        grant["fundingOrganization"][0]["id"],
        grant["fundingOrganization"][0]["name"],
        grant["grantProgramme"][0]["code"],
        grant["grantProgramme"][0]["title"],
        grant.get("beneficiaryLocation", [{"name": ""}])[0]["name"],
    ]


def _csv_text(value):
    # Text from applicants must not run as a formula when the file is opened in a spreadsheet.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def grants_360_csv(filters):
    """The same grants as 360Giving's flat CSV: UTF-8 without a byte order mark (read by
    programs first), comma-separated, decimal point, one grant a row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for grant in grants_360(filters)["grants"]:
        writer.writerow([_csv_text(value) for value in _flat(grant)])
    return buffer.getvalue().encode("utf-8")
