"""A closed case as an archive package for the e-archive (arkivpaket, e-arkivleverans).

The package follows FGS Paketstruktur 2.0, which is E-ARK CSIP 2.1.0 with E-ARK SIP 2.1.0: one
root folder named by the package's OBJID, with

    METS.xml                          the package's METS document (METS 1.12, CSIP/SIP profile)
    schemas/                          the XML schemas the package's documents use
    representations/rep1/data/        the content: the case's ERMS document and its files

The case's metadata is an ERMS document (FGS Ärendehantering 2.0, which is CITS ERMS 2.1; the
schema shipped is ERMS 2.1.2). CITS ERMS places the ERMS document with the files it describes,
as the representation's data (section 3.2 of the specification), not among the package's
metadata; the METS document lists every file of the package with its size, creation time and
SHA-256.

Every stored document of the case is included, read back through grants.files and checked
against its SHA-256 (so the package can be built from any storage, S3 as well as the disk); a
culled document (gallrad) is left out and named nowhere. The package is built in memory."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import get_valid_filename
from lxml import etree

from grants.files import read_verified
from grants.models import Application, Document
from grants.services.archive import archive_export_check, archive_export_record

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from grants.models import Decision

SCHEMA_DIR = Path(__file__).resolve().parent / "archive_schemas"

METS = "http://www.loc.gov/METS/"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ERMS = "https://DILCIS.eu/XML/ERMS"

# The schemas shipped in the package's schemas/ folder, by the namespace they define.
SCHEMAS = {
    METS: "mets.xsd",
    XLINK: "xlink.xsd",
    CSIP: "DILCISExtensionMETS.xsd",
    ERMS: "ERMS.xsd",
}

SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CONTENT_INFORMATION_TYPE = "citserms_v2_1"
CONTENT_CATEGORY = "Datasets"
SOFTWARE = "Bidragsportal"
SOFTWARE_VERSION = "1.0"

DATA = "representations/rep1/data"
ERMS_NAME = "erms.xml"

CLOSED = (Application.Status.CLOSED, Application.Status.REJECTED, Application.Status.WITHDRAWN)
OPEN_CASE = "Endast avslutade ärenden kan levereras till e-arkivet."

# A document's direction in the register (ERMS record/direction/@directionDefinition).
INCOMING = "incoming"
OUTGOING = "outgoing"
INTERNAL = "internal_memo_without_follow-up"


@dataclass(frozen=True)
class PackageFile:
    """One file of the package: its path under the package root, its bytes and what METS says of it."""

    path: str
    content: bytes
    mimetype: str
    created: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def package_id(application: Application) -> str:
    """The package's OBJID and root folder: the case number as a file name ("KFN-2026-0001")."""
    return "-".join(get_valid_filename(part) for part in application.case_number.replace("/", " ").split())


def package_filename(application: Application) -> str:
    return f"arkivpaket-{package_id(application)}.zip"


def ensure_closed(application: Application) -> None:
    if application.status not in CLOSED or application.closed_at is None:
        raise ValidationError(OPEN_CASE, code="case_open")


def archive_package(application: Application) -> bytes:
    """The closed case's archive package as a ZIP file's bytes. Refuses an open case."""
    ensure_closed(application)
    application = (
        Application.objects.select_related("call__programme__committee", "organisation")
        .prefetch_related("documents__message", "documents__register_entries")
        .get(pk=application.pk)
    )
    decision = _decision(application)
    now = timezone.now()
    documents = [document for document in application.documents.all() if document.culled_at is None]
    names = _file_names(documents)
    files = [
        PackageFile(f"{DATA}/{names[document.pk]}", read_verified(document), document.content_type, document.created_at)
        for document in documents
    ]
    erms = _xml(ermsdocument(application, decision, documents, names, now))
    content = [PackageFile(f"{DATA}/{ERMS_NAME}", erms, "application/xml", now), *files]
    schemas = [
        PackageFile(f"schemas/{name}", (SCHEMA_DIR / name).read_bytes(), "application/xml", now)
        for name in SCHEMAS.values()
    ]
    documentation = [
        PackageFile(
            "documentation/arkivpaket.txt", about_package(application, content, now).encode(), "text/plain", now
        )
    ]
    mets = _xml(mets_document(application, documentation=documentation, schemas=schemas, content=content, created=now))

    root = package_id(application)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/METS.xml", mets)
        for item in (*documentation, *schemas, *content):
            archive.writestr(f"{root}/{item.path}", item.content)
    return buffer.getvalue()


def archive_export(application: Application, *, by: User | None) -> tuple[str, bytes]:
    """The package with its file name, for `by` (None: the system, as the management command),
    and the line "Arkivpaket framtaget" in the case's history."""
    archive_export_check(application=application, by=by)
    content = archive_package(application)
    filename = package_filename(application)
    archive_export_record(application=application, by=by, filename=filename, sha256=hashlib.sha256(content).hexdigest())
    return filename, content


def _decision(application: Application) -> Decision | None:
    from grants.models import Decision

    return Decision.objects.select_related("decided_by", "meeting").filter(application=application).first()


def _file_names(documents: Iterable[Document]) -> dict[int, str]:
    """Each document's file name in the package: its id first, so two files of one name never meet."""
    return {document.pk: f"{document.pk}-{get_valid_filename(document.filename) or 'fil'}" for document in documents}


def _xml(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _sub(parent: etree._Element, namespace: str, tag: str, text: str | None = None, **attributes: str):
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


# --- the ERMS document ----------------------------------------------------------------------


def _e(parent: etree._Element, tag: str, text: str | None = None, **attributes: str):
    return _sub(parent, ERMS, tag, text, **attributes)


def _agent(parent: etree._Element, agent_type: str, name: str, *, organisation: str = "", role: str = "") -> None:
    agent = _e(parent, "agent", agentType=agent_type)
    _e(agent, "name", name)
    if organisation:
        _e(agent, "organisation", organisation)
    if role:
        _e(agent, "role", role)


def _own_elements(parent: etree._Element, description: str, values: Iterable[tuple[str, str, str]]) -> None:
    """ERMS's way to carry what it has no element for: named values (name, data type, value)."""
    wrapper = _e(parent, "ownElement")
    _e(wrapper, "ownElementDescription", description)
    for name, data_type, value in values:
        own = _e(wrapper, "ownElement", name=name, dataType=data_type)
        _e(own, "value", value)


def _registration(document: Document):
    """The document's entry in the register (diarium), if it has one."""
    entries = list(document.register_entries.all())
    return entries[0] if entries else None


def direction(document: Document) -> str:
    """Whether a document came in, went out or was drawn up in the municipality: as the
    register has it, else by the kind of document."""
    entry = _registration(document)
    if entry is not None:
        return {"in": INCOMING, "out": OUTGOING}.get(entry.direction, INTERNAL)
    if document.kind in Document.SENT_BY_MUNICIPALITY:
        return OUTGOING
    if document.kind in Document.DRAWN_UP:
        return INTERNAL
    if document.kind == Document.Kind.MESSAGE and document.message is not None and document.message.from_staff:
        return OUTGOING
    return INCOMING


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def ermsdocument(
    application: Application,
    decision: Decision | None,
    documents: list[Document],
    names: dict[int, str],
    created: datetime,
) -> etree._Element:
    """The case as one ERMS aggregation (an ärendeakt) with one record per document."""
    committee = application.call.programme.committee
    erms = etree.Element(f"{{{ERMS}}}erms", nsmap={None: ERMS})

    control = _e(erms, "control")
    _e(control, "identification", package_id(application), identificationType="arkivpaket")
    maintenance = _e(control, "maintenanceInformation")
    _e(maintenance, "maintenanceStatus", value="new")
    agency = _e(maintenance, "maintenanceAgency")
    _e(agency, "agencyName", f"{committee.municipality}, {committee.name}")
    history = _e(maintenance, "maintenanceHistory")
    event = _e(history, "maintenanceEvent")
    _e(event, "eventType", value="created")
    _e(event, "eventDateTime", _when(created))
    _agent(event, "creator", SOFTWARE, organisation=committee.municipality)

    aggregations = _e(erms, "aggregations")
    case = _e(aggregations, "aggregation", systemIdentifier=str(application.pk), aggregationType="caseFile")
    _e(case, "objectId", application.case_number)
    _e(case, "title", application.title)
    _e(case, "subject", application.call.programme.name)
    _e(case, "status", value="closed")
    if decision is not None:
        info = _e(case, "additionalInformation")
        _own_elements(info, "Beslutet i ärendet", _decision_values(decision))
    agents = _e(case, "agents")
    _agent(agents, "creator", committee.name, organisation=committee.municipality, role="Arkivbildare")
    _agent(agents, "counterpart", application.organisation.name, role="Sökande")
    if application.description:
        _e(case, "description", application.description)
    dates = _e(case, "dates")
    if application.submitted_at:
        _e(dates, "date", _when(application.submitted_at), dateType="received")
    if decision is not None:
        _e(dates, "date", _when(decision.decided_at), dateType="decision")
    _e(dates, "date", _when(application.closed_at or created), dateType="closed")
    if decision is not None:
        _decision_action(case, decision, committee.name)
    notes = _e(case, "notes")
    _e(notes, "note", f"Status: {application.get_status_display()}", noteType="status")

    for document in documents:
        _record(case, application, document, names[document.pk])
    return erms


def _decision_values(decision: Decision) -> list[tuple[str, str, str]]:
    values = [
        ("beslut", "string", decision.get_outcome_display()),
        ("belopp", "decimal", f"{decision.amount:.2f}"),
        ("beslutsdatum", "dateTime", _when(decision.decided_at)),
        ("beslutsfattare", "string", _person(decision.decided_by)),
    ]
    if decision.by_committee and decision.meeting is not None:  # a committee decision has its meeting
        values += [
            ("sammanträde", "date", decision.meeting.held_on.isoformat()),
            ("paragraf", "string", decision.protocol_paragraph),
        ]
    elif decision.delegation_point:
        values.append(("delegationspunkt", "string", decision.delegation_point))
    return values


def _decision_action(case: etree._Element, decision: Decision, committee: str) -> None:
    action = _e(case, "action")
    text = f"Beslut: {decision.get_outcome_display()}, {decision.amount:.2f} kr"
    if decision.by_committee and decision.meeting is not None:
        text += f", {committee} {decision.meeting.held_on.isoformat()} {decision.protocol_paragraph}"
    elif decision.delegation_point:
        text += f", på delegation (punkt {decision.delegation_point})"
    _e(action, "actionText", text)
    _e(action, "actionMotivation", decision.reasons)
    _e(action, "actionType", "beslut")
    dates = _e(action, "dates")
    _e(dates, "actionDate", _when(decision.decided_at), dateType="decision")
    agents = _e(action, "agents")
    if decision.by_committee:
        _agent(agents, "authorising_person", committee, role="Nämnd")
    else:
        _agent(agents, "authorising_person", _person(decision.decided_by), role="Beslutsfattare på delegation")


def _record(case: etree._Element, application: Application, document: Document, name: str) -> None:
    record = _e(case, "record", systemIdentifier=str(document.pk), recordType=document.kind)
    _e(record, "objectId", f"{application.case_number}-{document.pk}")
    _e(record, "title", f"{document.get_kind_display()}: {document.filename}")
    entry = _registration(document)
    if entry is not None and entry.secret:
        restriction = _e(record, "restriction", restrictionType="confidential")
        _e(restriction, "explanatoryText", "Handlingen är sekretessmarkerad i diariet.")
        _e(restriction, "regulation", entry.secrecy_ground)
    way = direction(document)
    _e(record, "direction", directionDefinition=way)
    dates = _e(record, "dates")
    _e(dates, "date", _when(document.created_at), dateType={INCOMING: "received", OUTGOING: "sent"}.get(way, "created"))
    info = _e(record, "additionalInformation")
    _e(
        info,
        "appendix",
        name=document.filename,
        path=name,
        fileFormat=document.content_type,
        description=document.get_kind_display(),
    )
    _own_elements(
        info,
        "Filens kontrollsumma och storlek",
        [
            ("sha256", "string", document.sha256),
            ("storlek", "integer", str(document.size)),
            ("version", "integer", str(document.version)),
        ],
    )


# --- the documentation ---------------------------------------------------------------------


def about_package(application: Application, content: list[PackageFile], created: datetime) -> str:
    """The package described for a person who opens it (its documentation folder)."""
    committee = application.call.programme.committee
    lines = [
        f"Arkivpaket {package_id(application)}",
        "",
        f"Ärende: {application.case_number} {application.title}",
        f"Arkivbildare: {committee.municipality}, {committee.name}",
        f"Status: {application.get_status_display()}, avslutat {_when(application.closed_at or created)}",
        f"Framtaget: {_when(created)} av {SOFTWARE} {SOFTWARE_VERSION}",
        "",
        "Paketet följer FGS Paketstruktur 2.0 (E-ARK CSIP 2.1.0 och E-ARK SIP 2.1.0). Ärendets",
        "metadata finns i representations/rep1/data/erms.xml enligt FGS Ärendehantering 2.0",
        "(CITS ERMS 2.1, schemat ERMS 2.1.2). METS.xml förtecknar varje fil med storlek och",
        "SHA-256. Scheman finns i mappen schemas.",
        "",
        "Ärendets handlingar:",
    ]
    lines += [f"  {item.path.rsplit('/', 1)[-1]}" for item in content if not item.path.endswith(ERMS_NAME)]
    lines.append("Gallrade handlingar ingår inte.")
    return "\n".join(lines) + "\n"


# --- the METS document ----------------------------------------------------------------------


def _m(parent: etree._Element, tag: str, text: str | None = None, **attributes: str):
    return _sub(parent, METS, tag, text, **attributes)


def _file(group: etree._Element, item: PackageFile, file_id: str) -> None:
    element = _m(
        group,
        "file",
        ID=file_id,
        MIMETYPE=item.mimetype,
        SIZE=str(len(item.content)),
        CREATED=_when(item.created),
        CHECKSUM=item.sha256,
        CHECKSUMTYPE="SHA-256",
    )
    _m(element, "FLocat", LOCTYPE="URL", **{f"{{{XLINK}}}type": "simple", f"{{{XLINK}}}href": item.path})


def mets_document(
    application: Application,
    *,
    documentation: list[PackageFile],
    schemas: list[PackageFile],
    content: list[PackageFile],
    created: datetime,
) -> etree._Element:
    """The package's METS document: the CSIP header and agents, every file with its checksum,
    and the CSIP structural map."""
    committee = application.call.programme.committee
    objid = package_id(application)
    mets = etree.Element(
        f"{{{METS}}}mets",
        {
            f"{{{XSI}}}schemaLocation": " ".join(f"{ns} schemas/{name}" for ns, name in SCHEMAS.items() if ns != ERMS),
            "OBJID": objid,
            "LABEL": f"Ärende {application.case_number}: {application.title}"[:250],
            "TYPE": CONTENT_CATEGORY,
            f"{{{CSIP}}}CONTENTINFORMATIONTYPE": CONTENT_INFORMATION_TYPE,
            "PROFILE": SIP_PROFILE,
        },
        nsmap={None: METS, "csip": CSIP, "xlink": XLINK, "xsi": XSI},
    )

    header = _m(mets, "metsHdr", CREATEDATE=_when(created), RECORDSTATUS="NEW", **{f"{{{CSIP}}}OAISPACKAGETYPE": "SIP"})
    software = _m(header, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _m(software, "name", SOFTWARE)
    _m(software, "note", SOFTWARE_VERSION, **{f"{{{CSIP}}}NOTETYPE": "SOFTWARE VERSION"})
    archivist = _m(header, "agent", ROLE="ARCHIVIST", TYPE="ORGANIZATION")
    _m(archivist, "name", f"{committee.municipality}, {committee.name}")
    submitter = _m(header, "agent", ROLE="CREATOR", TYPE="ORGANIZATION")
    _m(submitter, "name", committee.municipality)

    file_section = _m(mets, "fileSec", ID="ID-fileSec")
    documentation_group = _m(file_section, "fileGrp", ID="ID-fileGrp-documentation", USE="Documentation")
    for index, item in enumerate(documentation, start=1):
        _file(documentation_group, item, f"ID-documentation-{index}")
    schema_group = _m(file_section, "fileGrp", ID="ID-fileGrp-schemas", USE="Schemas")
    for index, item in enumerate(schemas, start=1):
        _file(schema_group, item, f"ID-schema-{index}")
    data_group = _m(
        file_section,
        "fileGrp",
        ID="ID-fileGrp-rep1",
        USE="Representations/rep1/data",
        **{f"{{{CSIP}}}CONTENTINFORMATIONTYPE": CONTENT_INFORMATION_TYPE},
    )
    for index, item in enumerate(content, start=1):
        _file(data_group, item, f"ID-rep1-file-{index}")

    structure = _m(mets, "structMap", ID="ID-structMap", TYPE="PHYSICAL", LABEL="CSIP")
    package = _m(structure, "div", ID="ID-div-package", LABEL=objid)
    _m(package, "div", ID="ID-div-metadata", LABEL="Metadata")
    documentation_div = _m(package, "div", ID="ID-div-documentation", LABEL="Documentation")
    _m(documentation_div, "fptr", FILEID="ID-fileGrp-documentation")
    schema_div = _m(package, "div", ID="ID-div-schemas", LABEL="Schemas")
    _m(schema_div, "fptr", FILEID="ID-fileGrp-schemas")
    representations = _m(package, "div", ID="ID-div-representations", LABEL="Representations")
    _m(representations, "fptr", FILEID="ID-fileGrp-rep1")
    return mets
