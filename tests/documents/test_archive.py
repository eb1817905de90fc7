"""The archive package of a closed case (documents/archive.py): a ZIP in the E-ARK CSIP/SIP
structure (FGS Paketstruktur 2.0) whose METS.xml validates against METS 1.12 with the CSIP
extension, whose ERMS document validates against the CITS ERMS 2.1 schema (FGS
Ärendehantering 2.0), whose checksums are the files' own and the stored documents', and which
names no culled document. The schemas are the published ones, in tests/data/archive/."""

import datetime as dt
import hashlib
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from lxml import etree, isoschematron
from pypdf import PdfReader

from documents.archive import SCHEMA_DIR, archive_export, archive_package, package_id
from documents.letters import render_pdf
from grants.files import discard_file
from grants.models import Application, CaseEvent, Document
from grants.services import apply, assess, decide
from tests import factories
from tests.staff import BASE
from workflows.flows import GrantFlow

from .test_storage_s3 import S3Store, no_proxy, s3_endpoint  # noqa: F401 - fixtures

DATA = Path(__file__).resolve().parent.parent / "data" / "archive"
NS = {
    "mets": "http://www.loc.gov/METS/",
    "xlink": "http://www.w3.org/1999/xlink",
    "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS",
    "erms": "https://DILCIS.eu/XML/ERMS",
}


class PublishedSchemas(etree.Resolver):
    """Every schema a schema imports, by its file name, from tests/data/archive/ (mets.xsd
    imports XLink from the Library of Congress by URL): nothing is fetched from the network."""

    def resolve(self, url, pubid, context):
        local = DATA / url.rsplit("/", 1)[-1]
        if local.is_file():
            return self.resolve_filename(str(local), context)
        raise AssertionError(f"A schema asked for {url}, which tests/data/archive/ does not hold.")


def schema(**imports):
    """One XMLSchema importing each namespace from its published schema file."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(PublishedSchemas())
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        + "".join(f'<xs:import namespace="{NS[ns]}" schemaLocation="{name}"/>' for ns, name in imports.items())
        + "</xs:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=str(DATA / "wrapper.xsd")))


METS_SCHEMA = schema(mets="mets.xsd", csip="DILCISExtensionMETS.xsd")
ERMS_SCHEMA = schema(erms="ERMS.xsd")


def erms_rules():
    """The ERMS Schematron's co-occurrence rules. Published with queryBinding "xslt2", but every
    test in it is an XPath 1.0 expression, so lxml's XSLT 1 Schematron runs it unchanged
    otherwise."""
    rules = etree.parse(str(DATA / "erms.sch"))
    rules.getroot().set("queryBinding", "xslt")
    return isoschematron.Schematron(rules)


ERMS_RULES = erms_rules()


def valid(xml_schema, content):
    document = etree.fromstring(content)
    ok = xml_schema.validate(document)
    return ok, [str(error) for error in xml_schema.error_log]


def pdf(text):
    return render_pdf(f"<html><body><p>{text}</p></body></html>")


@pytest.fixture
def systemforvaltare(db):
    return factories.user("sara", role="Systemförvaltare", first_name="Sara")


@pytest.fixture
def rejected_case(anna, olle, otto, fisksatra, inclusion_call, django_capture_on_commit_callbacks):
    return make_rejected_case(anna, olle, otto, fisksatra, inclusion_call, django_capture_on_commit_callbacks)


def make_rejected_case(anna, olle, otto, fisksatra, inclusion_call, django_capture_on_commit_callbacks):
    """A case as the demo has them: applied for with two PDF attachments, received (its receipt
    letter), assessed and rejected on delegation by Otto (his decision letter), which closes it."""
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Sommarläger i Fisksätra",
        description="Ett läger för barn som inte annars kommer iväg.",
        period_start=today,
        period_end=today + dt.timedelta(days=60),
        stated_amount=Decimal("30000"),
        budget_lines=[("cost", "Lägerhyra", Decimal("30000"))],
    )
    for name, text in (("budget.pdf", "Budget för lägret"), ("verksamhetsplan.pdf", "Verksamhetsplan")):
        apply.application_attach(
            application=draft, by=anna, filename=name, content_type="application/pdf", content=pdf(text)
        )
    application = apply.application_submit(application=draft, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="rejected",
        proposed_amount=Decimal("0"),
        justification="Projektet ligger utanför bidragets syfte.",
    )
    factories.hand_task_to(application, GrantFlow.decide_by_officer, otto)
    with django_capture_on_commit_callbacks(execute=True):  # the decision letter is made after the commit
        decide.decision_make(
            application=application,
            by=otto,
            outcome="rejected",
            amount=Decimal("0"),
            reasons="Projektet ligger utanför bidragets syfte.",
        )
    application = Application.objects.get(pk=application.pk)
    assert application.status == "rejected" and application.closed_at is not None
    return application


@pytest.fixture
def culled(rejected_case):
    """The attachment "verksamhetsplan.pdf", culled under the document management plan: its file
    is gone, its row stays with culled_at set."""
    document = rejected_case.documents.get(filename="verksamhetsplan.pdf")
    discard_file(document.storage_key)
    Document.objects.filter(pk=document.pk).update(culled_at=timezone.now())
    return document


def case_url(application):
    return f"{BASE}/{application.process.pk}/"


def unpack(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_validates_and_its_checksums_are_the_documents(rejected_case, culled):
    content = archive_package(rejected_case)
    files = unpack(content)
    root = package_id(rejected_case)
    assert root == rejected_case.case_number.replace(" ", "-").replace("/", "-")
    assert all(name.startswith(f"{root}/") for name in files)

    mets_xml = files[f"{root}/METS.xml"]
    assert valid(METS_SCHEMA, mets_xml) == (True, [])
    mets = etree.fromstring(mets_xml)
    assert mets.get("OBJID") == root
    assert mets.get("TYPE") == "Datasets"
    assert mets.get(f"{{{NS['csip']}}}CONTENTINFORMATIONTYPE") == "citserms_v2_1"
    assert mets.get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
    header = mets.find("mets:metsHdr", NS)
    assert header.get(f"{{{NS['csip']}}}OAISPACKAGETYPE") == "SIP"
    software = header.find("mets:agent[@ROLE='CREATOR'][@TYPE='OTHER'][@OTHERTYPE='SOFTWARE']", NS)
    assert software.findtext("mets:name", namespaces=NS) == "Bidragsportal"
    assert software.find("mets:note", NS).get(f"{{{NS['csip']}}}NOTETYPE") == "SOFTWARE VERSION"
    assert (
        header.find("mets:agent[@ROLE='ARCHIVIST']", NS)
        .findtext("mets:name", namespaces=NS)
        .endswith("Kultur- och fritidsnämnden")
    )

    # Every file of the package is in the fileSec once, with its size and SHA-256, and no other.
    listed = {}
    for element in mets.iterfind(".//mets:file", NS):
        href = element.find("mets:FLocat", NS).get(f"{{{NS['xlink']}}}href")
        assert element.get("CHECKSUMTYPE") == "SHA-256" and element.get("CREATED") and element.get("MIMETYPE")
        listed[href] = element
    assert set(listed) == {name.removeprefix(f"{root}/") for name in files} - {"METS.xml"}
    for href, element in listed.items():
        data = files[f"{root}/{href}"]
        assert element.get("CHECKSUM") == hashlib.sha256(data).hexdigest()
        assert element.get("SIZE") == str(len(data))

    # The stored documents, culled excepted, are the representation's data, byte for byte.
    kept = rejected_case.documents.filter(culled_at=None).order_by("pk")
    assert {d.kind for d in kept} == {"attachment", "receipt", "decision_letter"}
    data_files = {href: element for href, element in listed.items() if href.startswith("representations/rep1/data/")}
    for document in kept:
        href = f"representations/rep1/data/{document.pk}-{get_valid_filename(document.filename)}"
        assert listed[href].get("CHECKSUM") == document.sha256
        assert hashlib.sha256(files[f"{root}/{href}"]).hexdigest() == document.sha256
        assert PdfReader(io.BytesIO(files[f"{root}/{href}"])).pages
    assert set(data_files) == {f"representations/rep1/data/{d.pk}-{get_valid_filename(d.filename)}" for d in kept} | {
        "representations/rep1/data/erms.xml"
    }
    # The culled document is named nowhere.
    assert not any(b"verksamhetsplan" in data for name, data in files.items() if not name.endswith(".pdf"))
    assert not any("verksamhetsplan" in name for name in files)

    # The schemas the package ships are the published ones the tests validate with.
    for name in ("mets.xsd", "xlink.xsd", "DILCISExtensionMETS.xsd", "ERMS.xsd"):
        assert files[f"{root}/schemas/{name}"] == (DATA / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()

    # CSIP's structural map: one PHYSICAL/CSIP map, the package's div labelled with its OBJID.
    structure = mets.find("mets:structMap", NS)
    assert (structure.get("TYPE"), structure.get("LABEL")) == ("PHYSICAL", "CSIP")
    package = structure.find("mets:div", NS)
    assert package.get("LABEL") == root
    labels = [div.get("LABEL") for div in package.findall("mets:div", NS)]
    assert labels == ["Metadata", "Documentation", "Schemas", "Representations"]
    groups = {group.get("ID"): group.get("USE") for group in mets.iterfind(".//mets:fileGrp", NS)}
    pointers = [fptr.get("FILEID") for fptr in package.iterfind(".//mets:fptr", NS)]
    assert [groups[p] for p in pointers] == ["Documentation", "Schemas", "Representations/rep1/data"]
    about = files[f"{root}/documentation/arkivpaket.txt"].decode()
    assert rejected_case.case_number in about and "FGS Ärendehantering 2.0" in about


def test_the_erms_document_describes_the_case_its_decision_and_documents(rejected_case, culled):
    files = unpack(archive_package(rejected_case))
    erms_xml = files[f"{package_id(rejected_case)}/representations/rep1/data/erms.xml"]
    assert valid(ERMS_SCHEMA, erms_xml) == (True, [])
    assert valid(ERMS_RULES, erms_xml) == (True, [])
    erms = etree.fromstring(erms_xml)
    case = erms.find("erms:aggregations/erms:aggregation", NS)
    assert case.get("aggregationType") == "caseFile"
    assert case.findtext("erms:objectId", namespaces=NS) == rejected_case.case_number
    assert case.findtext("erms:title", namespaces=NS) == "Sommarläger i Fisksätra"
    assert case.find("erms:status", NS).get("value") == "closed"
    dates = {d.get("dateType"): d.text for d in case.findall("erms:dates/erms:date", NS)}
    assert dates["received"] == timezone.localtime(rejected_case.submitted_at).isoformat(timespec="seconds")
    assert dates["closed"] == timezone.localtime(rejected_case.closed_at).isoformat(timespec="seconds")
    agents = {a.get("agentType"): a.findtext("erms:name", namespaces=NS) for a in case.findall("erms:agents/*", NS)}
    assert agents == {"creator": "Kultur- och fritidsnämnden", "counterpart": rejected_case.organisation.name}
    decision = {
        own.get("name"): own.findtext("erms:value", namespaces=NS)
        for own in case.iterfind("erms:additionalInformation/erms:ownElement/erms:ownElement", NS)
    }
    assert decision["beslut"] == "Avslås" and decision["belopp"] == "0.00"
    assert decision["beslutsfattare"] == "Otto"
    assert "utanför bidragets syfte" in case.findtext("erms:action/erms:actionMotivation", namespaces=NS)

    records = case.findall("erms:record", NS)
    kept = {d.pk: d for d in rejected_case.documents.filter(culled_at=None)}
    assert {int(r.get("systemIdentifier")) for r in records} == set(kept)
    for record in records:
        document = kept[int(record.get("systemIdentifier"))]
        assert record.get("recordType") == document.kind
        appendix = record.find("erms:additionalInformation/erms:appendix", NS)
        assert appendix.get("name") == document.filename
        own = {
            o.get("name"): o.findtext("erms:value", namespaces=NS)
            for o in record.iterfind("erms:additionalInformation/erms:ownElement/erms:ownElement", NS)
        }
        assert own["sha256"] == document.sha256
        expected = "incoming" if document.kind == "attachment" else "outgoing"
        assert record.find("erms:direction", NS).get("directionDefinition") == expected


def test_a_broken_package_fails_the_schemas(rejected_case):
    """The validation can fail: a METS without its header's agent, an ERMS record without objectId."""
    files = unpack(archive_package(rejected_case))
    root = package_id(rejected_case)
    mets = etree.fromstring(files[f"{root}/METS.xml"])
    mets.find("mets:metsHdr", NS).set(f"{{{NS['csip']}}}OAISPACKAGETYPE", "PACKAGE")
    assert not valid(METS_SCHEMA, etree.tostring(mets))[0]
    erms = etree.fromstring(files[f"{root}/representations/rep1/data/erms.xml"])
    record = erms.find(".//erms:record", NS)
    record.remove(record.find("erms:objectId", NS))
    assert not valid(ERMS_SCHEMA, etree.tostring(erms))[0]
    record.find("erms:direction", NS).set("directionDefinition", "other")
    assert not valid(ERMS_RULES, etree.tostring(erms))[0]


def test_an_open_case_is_refused(anna, olle, fisksatra, inclusion_call):
    granted = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    with pytest.raises(ValidationError, match="Endast avslutade ärenden kan levereras till e-arkivet."):
        archive_package(granted)
    with pytest.raises(CommandError, match="Endast avslutade ärenden"):
        call_command("archive_export", granted.case_number, "--out", "/tmp")
    assert not CaseEvent.objects.filter(application=granted, action="Arkivpaket framtaget").exists()


def test_only_the_records_administrator_exports(rejected_case, olle, systemforvaltare):
    with pytest.raises(PermissionDenied):
        archive_export(rejected_case, by=olle)
    filename, content = archive_export(rejected_case, by=systemforvaltare)
    event = CaseEvent.objects.get(application=rejected_case, action="Arkivpaket framtaget")
    assert event.actor == systemforvaltare
    assert filename in event.note and hashlib.sha256(content).hexdigest() in event.note


def test_the_staff_download(client, rejected_case, olle, systemforvaltare):
    url = reverse("archive_package", args=[rejected_case.pk])
    client.force_login(olle)
    assert client.get(url).status_code == 403
    client.force_login(systemforvaltare)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="arkivpaket-{package_id(rejected_case)}.zip"' in response["Content-Disposition"]
    assert f"{package_id(rejected_case)}/METS.xml" in unpack(response.content)
    assert CaseEvent.objects.filter(application=rejected_case, action="Arkivpaket framtaget").count() == 1


def test_the_download_is_refused_outside_the_administrators_committees(client, rejected_case):
    elsewhere = factories.committee("SN", "Socialnämnden")
    outsider = factories.user("stina", role="Systemförvaltare", committees=[elsewhere])
    client.force_login(outsider)
    assert client.get(reverse("archive_package", args=[rejected_case.pk])).status_code == 403


def test_the_download_of_an_open_case_is_refused(client, anna, olle, fisksatra, inclusion_call, systemforvaltare):
    granted = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    client.force_login(systemforvaltare)
    response = client.get(reverse("archive_package", args=[granted.pk]))
    assert response.status_code == 409
    assert "Endast avslutade ärenden" in response.content.decode()


def test_the_download_makes_a_fixed_number_of_queries(client, rejected_case, systemforvaltare):
    url = reverse("archive_package", args=[rejected_case.pk])
    client.force_login(systemforvaltare)
    assert client.get(url).status_code == 200  # warm-up
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert len(captured) == QUERIES


QUERIES = 11


def test_the_management_command_writes_the_zip(rejected_case, tmp_path, capsys):
    call_command("archive_export", rejected_case.case_number, "--out", str(tmp_path))
    written = tmp_path / f"arkivpaket-{package_id(rejected_case)}.zip"
    files = unpack(written.read_bytes())
    assert valid(METS_SCHEMA, files[f"{package_id(rejected_case)}/METS.xml"])[0]
    event = CaseEvent.objects.get(application=rejected_case, action="Arkivpaket framtaget")
    assert event.actor is None
    assert str(written) in capsys.readouterr().out


def test_the_management_command_names_an_unknown_case(db, tmp_path):
    with pytest.raises(CommandError, match="KFN 1999/0001"):
        call_command("archive_export", "KFN 1999/0001", "--out", str(tmp_path))


def test_the_case_page_links_the_package_for_a_closed_case(client, rejected_case, olle):
    """On the staff case page: the link for an officer who is also the records administrator,
    none for an officer alone."""
    both = factories.user("sara", role="Handläggare", first_name="Sara")
    factories.user("sara", role="Systemförvaltare")
    link = reverse("archive_package", args=[rejected_case.pk])
    client.force_login(both)
    page = client.get(case_url(rejected_case))
    assert page.status_code == 200 and link in page.content.decode()
    client.force_login(olle)
    page = client.get(case_url(rejected_case))
    assert page.status_code == 200 and link not in page.content.decode()


def test_an_open_case_page_has_no_package_link(client, anna, olle, fisksatra, inclusion_call):
    granted = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    factories.user("olle", role="Systemförvaltare")
    client.force_login(olle)
    page = client.get(case_url(granted))
    assert page.status_code == 200
    assert reverse("archive_package", args=[granted.pk]) not in page.content.decode()


def test_a_committee_decision_names_its_meeting_and_paragraph(rejected_case, kim):
    """A decision taken by the committee: its meeting's day and the protocol's paragraph are in
    the ERMS document, which still validates."""
    from documents.archive import ermsdocument
    from grants.models import CommitteeMeeting, Decision

    meeting = CommitteeMeeting(committee=rejected_case.call.programme.committee, held_on=dt.date(2026, 3, 12))
    decision = Decision(
        application=rejected_case,
        outcome="rejected",
        amount=Decimal("0"),
        reasons="Nämnden avslår.",
        decided_by=kim,
        decided_at=timezone.now(),
        by_committee=True,
        meeting=meeting,
        protocol_paragraph="§ 14",
    )
    erms_xml = etree.tostring(ermsdocument(rejected_case, decision, [], {}, timezone.now()))
    assert valid(ERMS_SCHEMA, erms_xml) == (True, [])
    case = etree.fromstring(erms_xml).find("erms:aggregations/erms:aggregation", NS)
    values = {
        own.get("name"): own.findtext("erms:value", namespaces=NS)
        for own in case.iterfind("erms:additionalInformation/erms:ownElement/erms:ownElement", NS)
    }
    assert values["sammanträde"] == "2026-03-12" and values["paragraf"] == "§ 14"
    assert "Kultur- och fritidsnämnden 2026-03-12 § 14" in case.findtext("erms:action/erms:actionText", namespaces=NS)
    agent = case.find("erms:action/erms:agents/erms:agent", NS)
    assert agent.findtext("erms:name", namespaces=NS) == "Kultur- och fritidsnämnden"


def test_the_package_is_built_from_s3(
    s3_endpoint, no_proxy, settings, anna, olle, otto, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    """With the documents in an S3 bucket (moto's server on 127.0.0.1), the package holds their
    bytes, read back from the bucket and checked against their SHA-256."""
    store = S3Store(settings, s3_endpoint)
    application = make_rejected_case(anna, olle, otto, fisksatra, inclusion_call, django_capture_on_commit_callbacks)
    documents = list(application.documents.all())
    assert {d.storage_key for d in documents} <= set(store.keys())
    files = unpack(archive_package(application))
    root = package_id(application)
    for document in documents:
        data = files[f"{root}/representations/rep1/data/{document.pk}-{get_valid_filename(document.filename)}"]
        assert data == store.read(document.storage_key)
        assert hashlib.sha256(data).hexdigest() == document.sha256
    assert valid(METS_SCHEMA, files[f"{root}/METS.xml"]) == (True, [])
