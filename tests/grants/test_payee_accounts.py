"""Payee accounts are controlled (issue 12): changing an association's bank account is a
request that takes effect when someone in finance who did not ask for it approves it. Bengt,
treasurer of Saltsjöbadens scoutkår, asks for a new bankgiro; Sigrid, its signatory, is told;
Fia in finance approves or refuses; attestation refuses an account that another association
also has. Everything is driven over HTTP as the people would."""

import pytest
from django.core import mail
from django.test import Client

from grants.models import AccountChangeRequest, CaseEvent, Membership, Organisation, Payment

from .. import factories

pytestmark = pytest.mark.django_db

FISKSATRA_BG = "5050-1055"
SCOUT_BG = "5123-4771"


@pytest.fixture
def bengt(db):
    return factories.user("bengt", first_name="Bengt")


@pytest.fixture
def sigrid(db):
    return factories.user("sigrid", first_name="Sigrid")


@pytest.fixture
def scout(bengt, sigrid):
    scout = factories.association("Saltsjöbadens scoutkår", org_number="802437-4962", bankgiro=SCOUT_BG)
    Membership.objects.create(user=bengt, organisation=scout, role=Membership.Role.TREASURER)
    Membership.objects.create(user=sigrid, organisation=scout, role=Membership.Role.SIGNATORY)
    return scout


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def ask_for(client, organisation, number, scheme="bankgiro"):
    return client.post(f"/portal/forening/{organisation.pk}/bankkonto/",
                       {"bank-account_scheme": scheme, "bank-account_number": number}, follow=True)


def test_a_member_moving_the_scouts_money_to_fisksatras_bankgiro_is_stopped(
        anna, fisksatra, bengt, sigrid, scout, olle, fia, inclusion_call, django_capture_on_commit_callbacks):
    """The issue's story: a confirmed member changed the association's bankgiro to Fisksätra IF's.
    It used to say "Bankkontot är sparat" at once, with no event, no e-mail, no flag for finance,
    and the next pain.001 paid two organisations into one bankgiro."""
    scout_case = factories.granted_case(inclusion_call, scout, bengt, olle, amount="20000", title="Hajk")
    fisksatra_case = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="30000")

    with django_capture_on_commit_callbacks(execute=True):
        response = ask_for(client_for(bengt), scout, FISKSATRA_BG)
    page = response.content.decode()
    assert "Bankkontot är sparat" not in page
    assert "Ändringen av bankkontot är begärd" in page and "när kommunen har godkänt" in page
    scout.refresh_from_db()
    assert scout.bankgiro == SCOUT_BG  # payments still use the approved account
    request = AccountChangeRequest.objects.get(organisation=scout)
    assert (request.status, request.number, request.old_number, request.requested_by) == (
        "pending", FISKSATRA_BG, SCOUT_BG, bengt)
    # Every confirmed member is told, masked; the case with money still to pay has the event.
    told = {address for message in mail.outbox for address in message.to}
    assert told == {"bengt@example.se", "sigrid@example.se"}
    assert all("****1055" in message.body and FISKSATRA_BG not in message.body for message in mail.outbox)
    assert CaseEvent.objects.filter(application=scout_case, action="Ändring av bankkonto begärd").exists()

    # Fia sees the request, with the warning that the number is Fisksätra IF's, and approves it.
    fia_client = client_for(fia)
    listing = fia_client.get("/staff/utbetalningar/konton/").content.decode()
    assert "Saltsjöbadens scoutkår" in listing and FISKSATRA_BG in listing and SCOUT_BG in listing
    assert "också registrerat för Fisksätra IF" in listing
    response = fia_client.post(f"/staff/utbetalningar/konton/{request.pk}/", {"action": "approve"})
    assert response.status_code == 302
    scout.refresh_from_db()
    assert scout.bankgiro == FISKSATRA_BG and scout.account_approved_at is not None

    # The attestation list shows each payee and account and flags the new one …
    payments = list(Payment.objects.filter(application__in=[scout_case, fisksatra_case], status="planned"))
    listing = fia_client.get("/staff/utbetalningar/").content.decode()
    assert f"Bankgiro {FISKSATRA_BG}" in listing and "Nytt konto" in listing
    # … and refuses to pay two organisations into one bankgiro, naming the other one.
    response = fia_client.post("/staff/utbetalningar/", {"action": "attest",
                                                         "payments": [p.pk for p in payments]})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Bankgiro {FISKSATRA_BG} är också registrerat för Fisksätra IF" in page
    assert f"Bankgiro {FISKSATRA_BG} är också registrerat för Saltsjöbadens scoutkår" in page
    assert not Payment.objects.filter(status="attested").exists()
