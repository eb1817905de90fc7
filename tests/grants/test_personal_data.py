"""Anna asks for everything the municipality holds about her (GDPR article 15): Sara the
administrator finds her at /staff/registerutdrag/, sees what is held, and downloads it as a
PDF/A letter and a JSON file. Eve's data is never in Anna's extract; Olle the officer may not
produce one; every extract produced is in the audit trail; the collection costs the same
number of queries however many cases Anna has. Someone without an account is found by the
e-mail address their association gives."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grants.identity import audit
from grants.identity.models import Identity, SecurityEvent
from grants.models import Application
from grants.records.models import RegisterEntry
from grants.records.personal_data import (
    EXTRACT_EVENT,
    TITLE,
    personal_data_collect,
    personal_data_collect_by_email,
)
from grants.services import apply
from grants.services import messages as case_messages

from .. import factories
from ..staff import read_pdf_text

pytestmark = pytest.mark.django_db

ANNAS_MESSAGE = "Vi har bytt lokal till Fisksätra skola"
EVES_MESSAGE = "Eves hemliga fråga om bidraget"


@pytest.fixture
def sara(db):
    return factories.user("sara", role="Systemförvaltare", first_name="Sara")


@pytest.fixture
def annas_case(anna, fisksatra, inclusion_call, olle):
    """Anna, with a granted case of Fisksätra IF, a message she wrote in it, an e-legitimation
    and a sign-in in the audit trail."""
    anna.last_name = "Andersson"
    anna.save(update_fields=["last_name"])
    case = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    case_messages.message_send(application=case, by=anna, body=ANNAS_MESSAGE)
    Identity.objects.create(user=anna, provider=Identity.Provider.EID, key="a1b2c3hash", display="19850312-****")
    audit.record(SecurityEvent.Kind.SIGN_IN, user=anna, details={"method": "password"})
    return case


@pytest.fixture
def eves_case(eve, inclusion_call, olle):
    eve.last_name = "Eriksson"
    eve.save(update_fields=["last_name"])
    club = factories.association(name="Eves Schackklubb", org_number="802420-1231", members=[eve])
    case = apply.application_submit(
        application=factories.draft(inclusion_call, club, eve, title="Schack i parken"), by=eve
    )
    case_messages.message_send(application=case, by=eve, body=EVES_MESSAGE)
    audit.record(SecurityEvent.Kind.SIGN_IN, user=eve, details={"method": "password"})
    return case


def download(client, person, file_format):
    return client.post(reverse("personal_data:person_file", args=[person.pk, file_format]))


# --- what the extract holds --------------------------------------------------------------------


def test_the_json_holds_annas_account_membership_case_decision_message_and_audit_rows(
    client, sara, anna, annas_case, eves_case
):
    client.force_login(sara)
    response = download(client, anna, "json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content.decode("utf-8"))

    assert data["extract"]["title"] == TITLE
    assert data["account"]["username"] == "anna"
    assert data["account"]["last_name"] == "Andersson"
    assert data["account"]["email"] == "anna@example.se"
    assert data["account"]["date_joined"]
    assert data["identities"][0]["display"] == "19850312-****"
    assert data["identities"][0]["key"] == "a1b2c3hash"
    assert [m["organisation"] for m in data["memberships"]] == ["Fisksätra IF"]
    assert data["memberships"][0]["role"] == "Firmatecknare"
    [case] = data["applications"]
    assert case["case_number"] == annas_case.case_number
    assert case["title"] == annas_case.title
    assert case["programme"] == "Projektbidrag för inkludering"
    assert case["status"] == "Beviljad"
    assert case["decision"]["outcome"] == "Beviljas"
    assert case["decision"]["amount"] == "40000.00"
    assert [m["body"] for m in data["messages"]] == [ANNAS_MESSAGE]
    # Her message's registration names her as its author.
    assert "Meddelande från sökande" in [e["description"] for e in data["register_entries"]]
    assert {e["case_number"] for e in data["register_entries"]} == {annas_case.case_number}
    assert "Inloggning" in [e["kind"] for e in data["security_events"]]
    assert {"Utkast skapat", "Ansökan inkommen"} <= {e["action"] for e in data["case_events"]}
    assert data["account_change_requests"] == [] and data["api_tokens"] == []


def test_eves_data_is_not_in_annas_extract(client, sara, anna, annas_case, eves_case):
    client.force_login(sara)
    raw = download(client, anna, "json").content.decode("utf-8")
    text, _ = read_pdf_text(download(client, anna, "pdf").content)
    for extract in (raw, text):
        assert eves_case.case_number not in extract
        assert EVES_MESSAGE not in extract
        assert "Eriksson" not in extract
        assert "Eves Schackklubb" not in extract


def test_the_pdf_is_a_pdf_a_letter_naming_anna_and_her_case(client, sara, anna, annas_case):
    client.force_login(sara)
    response = download(client, anna, "pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text, reader = read_pdf_text(response.content)
    assert "Registerutdrag enligt artikel 15 i dataskyddsförordningen (GDPR)" in text
    assert "Anna Andersson" in text
    assert annas_case.case_number in text
    assert ANNAS_MESSAGE in text
    assert "Kultur- och fritidsnämnden" in text
    assert "dokumenthanteringsplan" in text
    assert "19850312-****" in text
    assert "a1b2c3hash" not in text  # the identity's hash is for the machine-readable file
    # Archivable and readable: PDF/A-2b, tagged, in Swedish.
    xmp = reader.xmp_metadata
    assert (str(xmp.pdfaid_part), xmp.pdfaid_conformance) == ("2", "B")
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_every_extract_produced_is_in_the_audit_trail_with_who_for_whom(client, sara, anna, annas_case):
    client.force_login(sara)
    download(client, anna, "pdf")
    download(client, anna, "json")
    events = SecurityEvent.objects.filter(kind=EXTRACT_EVENT).order_by("pk")
    assert [(e.user, e.actor, e.details["format"]) for e in events] == [(anna, sara, "pdf"), (anna, sara, "json")]


# --- the staff pages ----------------------------------------------------------------------------


def test_sara_finds_anna_by_e_mail_and_sees_what_is_held(client, sara, anna, annas_case):
    client.force_login(sara)
    response = client.get(reverse("personal_data:search"), {"q": "ANNA@example.se"})
    assert response.status_code == 302
    assert response["Location"] == reverse("personal_data:person", args=[anna.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Registerutdrag: Anna Andersson" in page
    assert annas_case.case_number in page
    assert "Ladda ner PDF" in page and "Ladda ner JSON" in page
    # Looking is not producing an extract: nothing is logged until a file is downloaded.
    assert not SecurityEvent.objects.filter(kind=EXTRACT_EVENT).exists()


def test_an_unknown_user_name_is_an_error_on_the_form(client, sara):
    client.force_login(sara)
    response = client.get(reverse("personal_data:search"), {"q": "ingen-sadan"})
    assert response.status_code == 200
    assert "Ingen person har det användarnamnet" in response.content.decode()


def test_the_menu_leads_sara_to_the_extracts(client, sara):
    client.force_login(sara)
    response = client.get("/staff/registerutdrag/")
    assert response.status_code == 200
    assert "E-postadress eller användarnamn" in response.content.decode()


@pytest.mark.parametrize(
    "method, name, args",
    [
        ("get", "personal_data:search", []),
        ("get", "personal_data:person", ["anna"]),
        ("post", "personal_data:person_file", ["anna", "pdf"]),
        ("post", "personal_data:person_file", ["anna", "json"]),
        ("get", "personal_data:email", []),
        ("post", "personal_data:email_file", ["json"]),
    ],
)
def test_olle_the_officer_may_not_produce_an_extract(client, olle, anna, method, name, args):
    client.force_login(olle)
    url = reverse(name, args=[anna.pk if arg == "anna" else arg for arg in args])
    assert getattr(client, method)(url).status_code == 403
    assert not SecurityEvent.objects.filter(kind=EXTRACT_EVENT).exists()


def test_an_applicant_may_not_produce_her_own_extract(client, anna):
    client.force_login(anna)
    assert download(client, anna, "json").status_code == 403


# --- a fixed number of queries --------------------------------------------------------------------


def test_the_collection_costs_the_same_queries_for_one_case_and_five(
    anna, fisksatra, inclusion_call, annas_case, sara, client
):
    def collected():
        with CaptureQueriesContext(connection) as captured:
            data = personal_data_collect(person=anna)
        return len(captured), data

    def page():
        client.get(reverse("personal_data:person", args=[anna.pk]))  # warm-up
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("personal_data:person", args=[anna.pk])).status_code == 200
        return len(captured)

    client.force_login(sara)
    one, data = collected()
    one_page = page()
    assert one_page == 19, one_page  # the collection's 14, the session, Sara and her permissions
    assert len(data["applications"]) == 1
    for index in range(4):
        case = apply.application_submit(
            application=factories.draft(inclusion_call, fisksatra, anna, title=f"Läxhjälp {index}"), by=anna
        )
        case_messages.message_send(application=case, by=anna, body=f"Fråga {index}")
        audit.record(SecurityEvent.Kind.SIGN_IN, user=anna)
    five, data = collected()
    assert len(data["applications"]) == 5 and len(data["messages"]) == 5
    assert five == one == 14
    assert page() == one_page


# --- someone without an account ---------------------------------------------------------------------


def test_an_e_mail_without_an_account_finds_the_association_and_its_register_entries(
    client, sara, fisksatra, annas_case, eves_case
):
    fisksatra.email = "kansliet@fisksatra.example"
    fisksatra.save(update_fields=["email"])
    client.force_login(sara)
    response = client.get(reverse("personal_data:search"), {"q": "kansliet@fisksatra.example"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("personal_data:email"))
    page = client.get(response["Location"]).content.decode()
    assert "Inget konto i portalen" in page

    data = personal_data_collect_by_email(email="Kansliet@Fisksatra.example")
    assert data["account"] is None
    assert [o["name"] for o in data["organisations_by_email"]] == ["Fisksätra IF"]
    entries = data["register_entries"]
    assert entries and {e["case_number"] for e in entries} == {annas_case.case_number}
    assert RegisterEntry.objects.filter(application=eves_case).exists()  # Eve's are there, not in it

    response = client.post(reverse("personal_data:email_file", args=["json"]), {"epost": "kansliet@fisksatra.example"})
    assert json.loads(response.content)["organisations_by_email"][0]["email"] == "kansliet@fisksatra.example"
    text, _ = read_pdf_text(
        client.post(reverse("personal_data:email_file", args=["pdf"]), {"epost": "kansliet@fisksatra.example"}).content
    )
    assert "kansliet@fisksatra.example" in text and annas_case.case_number in text, text
    event = SecurityEvent.objects.filter(kind=EXTRACT_EVENT).latest("pk")
    assert event.user is None and event.actor == sara and event.identifier == "kansliet@fisksatra.example"


def test_a_draft_application_of_annas_is_in_her_extract(anna, fisksatra, inclusion_call):
    draft = factories.draft(inclusion_call, fisksatra, anna, title="Halvfärdig idé")
    data = personal_data_collect(person=anna)
    assert [a["title"] for a in data["applications"]] == [draft.title]
    assert Application.objects.get(pk=draft.pk).case_number == ""


def test_the_administrator_finds_the_extracts_in_the_staff_menu_and_the_admin(client, sara):
    sara.is_staff = sara.is_superuser = True  # as the demo's administrator
    sara.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(sara)
    assert 'href="/staff/registerutdrag/"' in client.get("/admin/").content.decode()
    menu = client.get("/staff/cases/grant/queue/").content.decode()
    assert 'href="/staff/personuppgifter/"' in menu
    assert client.get("/staff/personuppgifter/").url == "/staff/registerutdrag/"


def test_a_whole_personal_identity_number_shows_only_its_last_four_digits_in_the_pdf(client, sara, anna):
    """The number is stored masked today; should a provider's display ever hold it whole, the
    letter still hides all but the last four digits (the JSON gives what is stored)."""
    Identity.objects.create(user=anna, provider=Identity.Provider.EID, key="k", display="19850312-1234")
    client.force_login(sara)
    text, _ = read_pdf_text(download(client, anna, "pdf").content)
    assert "*********1234" in text and "19850312" not in text
    assert json.loads(download(client, anna, "json").content)["identities"][0]["display"] == "19850312-1234"
