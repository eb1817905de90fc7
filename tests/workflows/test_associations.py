"""Olle's list of associations to verify (/staff/foreningar/): what it shows, what it costs
in queries however long it is, who may see it, and its decisions through real requests."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import luhn

from grants.files import Upload
from grants.identity.models import SecurityEvent
from grants.models import Membership, OrganisationClaim, OrganisationFile
from grants.services import organisations as services
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/staff/foreningar/"


def evidence(pdf_bytes):
    return {
        OrganisationFile.Kind.STATUTES: Upload("stadgar.pdf", "application/pdf", pdf_bytes),
        OrganisationFile.Kind.MINUTES: Upload("arsmote.pdf", "application/pdf", pdf_bytes),
    }


def registered(count, pdf_bytes, *, start=0):
    """`count` associations registered in the portal, each by its own person, with evidence."""
    made = []
    for index in range(start, start + count):
        person = factories.user(f"reg{index}", first_name=f"Person {index}")
        number = f"80{2000 + index:04d}-000"
        number += luhn.calc_check_digit(number.replace("-", ""))
        made.append(
            services.organisation_create(
                by=person,
                kind="association",
                name=f"Förening {index}",
                org_number=number,
                role="signatory",
                evidence=evidence(pdf_bytes),
            )
        )
    return made


def claim_on(organisation, person, pdf_bytes):
    return services.organisation_create(
        by=person,
        kind="association",
        name=organisation.name,
        org_number=organisation.org_number,
        role="signatory",
        evidence=evidence(pdf_bytes),
    )


def _queries(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_list_shows_each_association_with_its_evidence_board_and_registrant(client, olle, fisksatra, pdf_bytes):
    [club] = registered(1, pdf_bytes)
    claim_on(fisksatra, factories.user("bo", first_name="Bo"), pdf_bytes)
    client.force_login(olle)
    _count, html = _queries(client)
    assert "Förening 0" in html and "Person 0" in html and "stadgar.pdf" in html and "arsmote.pdf" in html
    assert f'action="/staff/foreningar/{club.pk}/"' in html
    assert "Anspråk på registrerade föreningar" in html and "Fisksätra IF" in html and "Bo" in html


def test_the_list_costs_the_same_for_2_and_20_associations_and_claims(client, olle, anna, fisksatra, pdf_bytes):
    client.force_login(olle)
    registered(2, pdf_bytes)
    claim_on(fisksatra, factories.user("c0"), pdf_bytes)
    few, _html = _queries(client)
    registered(18, pdf_bytes, start=2)
    for index in range(1, 8):
        claim_on(fisksatra, factories.user(f"c{index}"), pdf_bytes)
    many, html = _queries(client)
    assert many == few and many <= 20, (few, many)
    assert html.count("Verifiera<span") == 20


def test_applicants_and_finance_are_refused(client, anna, fia):
    for person in (anna, fia):
        client.force_login(person)
        assert client.get(URL).status_code == 403


def test_an_administrator_sees_the_list_and_the_staff_menu_offers_it(client, olle):
    client.force_login(factories.user("sara", role="Systemförvaltare"))
    assert client.get(URL).status_code == 200
    client.force_login(olle)
    menu = client.get("/staff/", follow=True).content.decode()
    assert "Föreningar att verifiera" in menu and 'href="/staff/verifiering/' in menu
    response = client.get("/staff/verifiering/", follow=True)
    assert response.redirect_chain[-1][0] == URL and response.status_code == 200


def test_olle_verifies_through_the_page(client, olle, pdf_bytes):
    [club] = registered(1, pdf_bytes)
    client.force_login(olle)
    response = client.post(f"{URL}{club.pk}/", {"action": "verify"}, follow=True)
    assert "Förening 0 är verifierad." in response.content.decode()
    club.refresh_from_db()
    assert club.verification == "verified"
    assert SecurityEvent.objects.filter(kind="association_verified", actor=olle).exists()


def test_a_refusal_without_a_reason_is_shown_at_the_field_and_changes_nothing(client, olle, pdf_bytes):
    [club] = registered(1, pdf_bytes)
    client.force_login(olle)
    response = client.post(f"{URL}{club.pk}/", {"action": "refuse", f"org-{club.pk}-reason": ""})
    assert response.status_code == 400
    assert "Skriv skälet. Den sökande får se det." in response.content.decode()
    club.refresh_from_db()
    assert club.verification == "unverified"
    response = client.post(f"{URL}{club.pk}/", {"action": "refuse", f"org-{club.pk}-reason": "Fel stadgar."})
    club.refresh_from_db()
    assert (response.status_code, club.verification, club.refusal_reason) == (302, "refused", "Fel stadgar.")


def test_olle_accepts_a_claim_removing_the_squatter(client, olle, anna, fisksatra, pdf_bytes):
    bo = factories.user("bo", first_name="Bo")
    claim = claim_on(fisksatra, bo, pdf_bytes)
    client.force_login(olle)
    html = client.get(URL).content.decode()
    claim_file = claim.files.get(kind="statutes")
    assert f"/staff/foreningar/ansprak/fil/{claim_file.pk}/" in html
    assert client.get(f"/staff/foreningar/ansprak/fil/{claim_file.pk}/").content == pdf_bytes
    client.post(f"{URL}ansprak/{claim.pk}/", {"action": "accept", f"accept-{claim.pk}-remove_others": "on"})
    assert list(Membership.objects.filter(organisation=fisksatra).values_list("user__username", "role")) == [
        ("bo", "signatory")
    ]
    claim.refresh_from_db()
    assert claim.status == OrganisationClaim.Status.ACCEPTED


def test_a_claims_evidence_is_for_the_officer_only(client, anna, fisksatra, pdf_bytes):
    claim = claim_on(fisksatra, factories.user("bo"), pdf_bytes)
    client.force_login(anna)
    assert client.get(f"/staff/foreningar/ansprak/fil/{claim.files.first().pk}/").status_code == 403


def test_the_registration_form_sends_the_evidence(client, anna, pdf_bytes):
    client.force_login(anna)
    client.post(
        "/portal/forening/ny/",
        {
            "name": "Saltsjöbadens SK",
            "org_number": "802420-1231",
            "role": "contact",
            "statutes": SimpleUploadedFile("stadgar.pdf", pdf_bytes, content_type="application/pdf"),
            "annual_meeting_minutes": SimpleUploadedFile("arsmote.pdf", pdf_bytes, content_type="application/pdf"),
        },
    )
    client.force_login(factories.user("olle", role="Handläggare"))
    html = client.get(URL).content.decode()
    assert "Saltsjöbadens SK" in html and "Anna" in html and "kontaktperson" in html
