"""Payee accounts are controlled (issue 12): changing an association's bank account is a
request that takes effect when someone in finance who did not ask for it approves it. Bengt,
treasurer of Saltsjöbadens scoutkår, asks for a new bankgiro; Sigrid, its signatory, is told;
Fia in finance approves or refuses; attestation refuses an account that another association
also has. Everything is driven over HTTP as the people would."""

import pytest
from django.core import mail
from django.test import Client

from grants.models import AccountChangeRequest, CaseEvent, Membership, Payment

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
    return client.post(
        f"/portal/forening/{organisation.pk}/bankkonto/",
        {"bank-account_scheme": scheme, "bank-account_number": number},
        follow=True,
    )


def test_a_member_moving_the_scouts_money_to_fisksatras_bankgiro_is_stopped(
    anna, fisksatra, bengt, sigrid, scout, olle, fia, inclusion_call, django_capture_on_commit_callbacks
):
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
        "pending",
        FISKSATRA_BG,
        SCOUT_BG,
        bengt,
    )
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
    response = fia_client.post("/staff/utbetalningar/", {"action": "attest", "payments": [p.pk for p in payments]})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Bankgiro {FISKSATRA_BG} är också registrerat för Fisksätra IF" in page
    assert f"Bankgiro {FISKSATRA_BG} är också registrerat för Saltsjöbadens scoutkår" in page
    assert not Payment.objects.filter(status="attested").exists()


# --- who may ask ------------------------------------------------------------------------------------


def test_a_board_member_without_a_money_role_is_refused(fisksatra, scout):
    bo = factories.user("bo", first_name="Bo")
    Membership.objects.create(user=bo, organisation=scout, role=Membership.Role.MEMBER)
    client = client_for(bo)
    page = client.get(f"/portal/forening/{scout.pk}/").content.decode()
    assert "Begär ändringen" not in page and "Bara föreningens firmatecknare eller kassör" in page
    response = client.post(
        f"/portal/forening/{scout.pk}/bankkonto/",
        {"bank-account_scheme": "bankgiro", "bank-account_number": FISKSATRA_BG},
    )
    assert response.status_code == 400
    assert "Bara föreningens firmatecknare eller kassör kan begära ett nytt bankkonto" in response.content.decode()
    assert not AccountChangeRequest.objects.exists() and not mail.outbox


def test_members_read_the_request_in_their_language_and_see_accounts_masked(
    scout, bengt, sigrid, django_capture_on_commit_callbacks
):
    from grants.models import ApplicantSettings

    ApplicantSettings.objects.create(user=sigrid, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        page = ask_for(client_for(bengt), scout, "4711-8", scheme="plusgiro").content.decode()
    english = next(message for message in mail.outbox if message.to == ["sigrid@example.se"])
    swedish = next(message for message in mail.outbox if message.to == ["bengt@example.se"])
    assert "New bank account requested" in english.subject and "Plusgiro ****7118" in english.body
    assert "Nytt bankkonto begärt" in swedish.subject and "Bankgiro ****4771" in swedish.body
    # The association's page shows the approved and the requested account by their last four digits.
    assert "Bankgiro ****4771" in page and "Plusgiro ****7118" in page
    assert SCOUT_BG not in page and "4711-8" not in page


def test_a_new_request_replaces_the_pending_one(scout, bengt, sigrid):
    ask_for(client_for(bengt), scout, "4711-8", scheme="plusgiro")
    ask_for(client_for(sigrid), scout, FISKSATRA_BG)
    first, second = AccountChangeRequest.objects.order_by("pk")
    assert (first.status, first.decided_at is not None) == ("replaced", True)
    assert (second.status, second.requested_by) == ("pending", sigrid)


# --- who may decide ---------------------------------------------------------------------------------


def test_finance_never_approves_their_own_request(scout, fia):
    """Fia is also the scouts' treasurer: she may ask, but another attester must decide."""
    Membership.objects.create(user=fia, organisation=scout, role=Membership.Role.TREASURER)
    ask_for(client_for(fia), scout, "4711-8", scheme="plusgiro")
    request = AccountChangeRequest.objects.get()
    client = client_for(fia)
    assert "Du begärde ändringen själv" in client.get("/staff/utbetalningar/konton/").content.decode()
    response = client.post(f"/staff/utbetalningar/konton/{request.pk}/", {"action": "approve"})
    assert response.status_code == 400 and "tvåpersonsregeln" in response.content.decode()
    request.refresh_from_db()
    scout.refresh_from_db()
    assert request.status == "pending" and scout.plusgiro == ""
    # … and the database itself refuses it, whatever the code does.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AccountChangeRequest.objects.filter(pk=request.pk).update(
            status="approved", decided_by=fia, decided_at=request.requested_at
        )


def test_a_member_in_finance_does_not_decide_for_their_association(scout, bengt, fia):
    Membership.objects.create(user=fia, organisation=scout, role=Membership.Role.MEMBER)
    ask_for(client_for(bengt), scout, "4711-8", scheme="plusgiro")
    request = AccountChangeRequest.objects.get()
    response = client_for(fia).post(f"/staff/utbetalningar/konton/{request.pk}/", {"action": "approve"})
    assert response.status_code == 400 and "Du tillhör Saltsjöbadens scoutkår" in response.content.decode()


def test_only_finance_sees_the_requests(client, anna, fisksatra, olle):
    for person in (anna, olle):
        client.force_login(person)
        assert client.get("/staff/utbetalningar/konton/").status_code == 403


def test_a_refusal_needs_a_reason_keeps_the_account_and_tells_the_members(
    scout, bengt, sigrid, fia, django_capture_on_commit_callbacks
):
    ask_for(client_for(bengt), scout, FISKSATRA_BG)
    request = AccountChangeRequest.objects.get()
    client = client_for(fia)
    response = client.post(f"/staff/utbetalningar/konton/{request.pk}/", {"action": "refuse"})
    assert response.status_code == 400 and "Skriv varför kontot inte godkänns" in response.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/utbetalningar/konton/{request.pk}/",
            {"action": "refuse", f"refuse-{request.pk}-reason": "Bankgirot står på Fisksätra IF."},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    scout.refresh_from_db()
    assert (request.status, request.decided_by, request.refusal_reason) == (
        "refused",
        fia,
        "Bankgirot står på Fisksätra IF.",
    )
    assert scout.bankgiro == SCOUT_BG
    assert {message.to[0] for message in mail.outbox} == {"bengt@example.se", "sigrid@example.se"}
    assert all("Bankgirot står på Fisksätra IF." in message.body for message in mail.outbox)
    # The trail on the association's page, and finance's latest decisions.
    page = client_for(sigrid).get(f"/portal/forening/{scout.pk}/").content.decode()
    assert "Avslagen" in page and "Bankgirot står på Fisksätra IF." in page
    assert "Avslagen</strong> av Fia" in client.get("/staff/utbetalningar/konton/").content.decode()


def test_finance_reads_the_associations_documents_from_the_request(scout, bengt, fia, pdf_bytes):
    from grants.files import Upload
    from grants.services import organisations

    organisations.organisation_file_add(
        organisation=scout, by=bengt, kind="statutes", upload=Upload("stadgar.pdf", "application/pdf", pdf_bytes)
    )
    ask_for(client_for(bengt), scout, "4711-8", scheme="plusgiro")
    client = client_for(fia)
    page = client.get("/staff/utbetalningar/konton/").content.decode()
    assert "Stadgar: stadgar.pdf" in page and "Saknas:</strong> årsmötesprotokoll" in page
    statutes = scout.files.get()
    response = client.get(f"/portal/forening/dokument/{statutes.pk}/")
    assert (
        response.status_code == 200
        and b"".join(response.streaming_content if response.streaming else [response.content]) == pdf_bytes
    )


def test_the_requests_page_costs_the_same_queries_for_one_or_many(scout, bengt, fia):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(fia)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/staff/utbetalningar/konton/").status_code == 200
        return len(captured)

    ask_for(client_for(bengt), scout, "4711-8", scheme="plusgiro")
    one = queries()
    for number in range(5):
        person = factories.user(f"kassor{number}")
        other = factories.association(
            f"Förening {number}",
            org_number=ORGNRS[number],
            bankgiro="",
            members=[person],
            role=Membership.Role.TREASURER,
        )
        ask_for(client_for(person), other, FISKSATRA_BG)
    assert queries() == one


ORGNRS = ["802000-0009", "802000-0017", "802000-0025", "802000-0033", "802000-0041"]


# --- attestation --------------------------------------------------------------------------------------


def test_an_informal_group_paid_through_its_sponsor_is_no_collision(anna, fisksatra, olle, fia, inclusion_call):
    group = factories.informal_group(fisksatra, members=[anna])
    factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="30000")
    factories.granted_case(inclusion_call, group, anna, olle, amount="10000", title="Nattvandring")
    ids = list(Payment.objects.filter(status="planned").values_list("pk", flat=True))
    response = client_for(fia).post("/staff/utbetalningar/", {"action": "attest", "payments": ids})
    assert response.status_code == 302
    assert set(Payment.objects.filter(pk__in=ids).values_list("payee_account", flat=True)) == {"50501055"}


def test_a_payment_waits_for_the_approved_account(anna, fisksatra, olle, fia, inclusion_call):
    """Until finance approves, the payment is attested to the approved account, not the requested one."""
    case = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="30000")
    ask_for(client_for(anna), fisksatra, "4711-8", scheme="plusgiro")
    payment = case.payments.get(status="planned")
    listing = client_for(fia).get("/staff/utbetalningar/").content.decode()
    assert f"Bankgiro {FISKSATRA_BG}" in listing and "Nytt konto" not in listing
    assert (
        client_for(fia).post("/staff/utbetalningar/", {"action": "attest", "payments": [payment.pk]}).status_code == 302
    )
    payment.refresh_from_db()
    assert (payment.payee_scheme, payment.payee_account) == ("bankgiro", "50501055")
