"""The association's profile as the services keep it: Anna creates Fisksätra IF's profile,
fills in its board, bank account and files, another board member joins and is confirmed;
an informal group names its sponsor. One short test per refusal."""

import datetime as dt
import hashlib
import threading

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from grants.files import Upload
from grants.identity.models import SecurityEvent
from grants.models import ApplicantSettings, Invitation, Membership, Organisation, OrganisationClaim, OrganisationFile
from grants.services import organisations as services
from grants.services import payee_accounts

from .. import factories

pytestmark = pytest.mark.django_db

OTHER_ORGNR = "802420-1231"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """E-mail leaves after commit, which a test's transaction never does: `with commit():`
    runs what the block left for after commit, at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def pdf(pdf_bytes, name="stadgar.pdf"):
    return Upload(filename=name, content_type="application/pdf", content=pdf_bytes)


@pytest.fixture
def bo(db):
    return factories.user("bo", first_name="Bo")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE = {
    OrganisationFile.Kind.STATUTES: Upload(filename="stadgar.pdf", content_type="application/pdf", content=PDF),
    OrganisationFile.Kind.MINUTES: Upload(filename="arsmote.pdf", content_type="application/pdf", content=PDF),
}


def create_association(by, *, name="Saltsjöbadens SK", org_number=OTHER_ORGNR, evidence=EVIDENCE):
    return services.organisation_create(
        by=by, kind=Organisation.Kind.ASSOCIATION, name=name, org_number=org_number, evidence=evidence
    )


# --- creating --------------------------------------------------------------------------------


def test_the_creator_of_an_association_is_its_confirmed_contact(anna):
    organisation = create_association(anna, org_number="8024201231")
    assert organisation.org_number == OTHER_ORGNR  # written the usual way
    membership = Membership.objects.get(organisation=organisation)
    assert (membership.user, membership.role, membership.status) == (anna, "contact", "confirmed")


@pytest.mark.parametrize(
    "number, message",
    [
        ("802420-1232", "är inte giltigt"),
        ("", "Skriv organisationsnumret"),
        ("850101-1234", "inte giltigt"),
    ],
)
def test_an_invalid_organisationsnummer_is_refused(anna, number, message):
    with pytest.raises(ValidationError) as refusal:
        create_association(anna, org_number=number)
    assert message in " ".join(refusal.value.message_dict["org_number"])
    assert not Organisation.objects.exists()


def test_a_personal_identity_number_is_not_an_organisationsnummer(anna):
    with pytest.raises(ValidationError) as refusal:
        create_association(anna, org_number="811218-9876")
    assert "org_number" in refusal.value.message_dict


@pytest.mark.parametrize("number", ["802412-1231", "8024121231"])
def test_a_registered_organisationsnummer_is_a_claim_and_the_claimant_is_not_let_in(eve, fisksatra, number):
    claim = create_association(eve, name="Fisksätra IF igen", org_number=number)
    assert isinstance(claim, OrganisationClaim)
    assert (claim.organisation, claim.claimant, claim.status) == (fisksatra, eve, "pending")
    assert sorted(claim.files.values_list("kind", flat=True)) == ["annual_meeting_minutes", "statutes"]
    assert Organisation.objects.count() == 1
    assert not Membership.objects.filter(user=eve).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ASSOCIATION_CLAIMED)
    assert (event.user, event.details["organisation"]) == (eve, "802412-1231")


def test_a_second_registration_of_the_same_claim_adds_nothing(eve, fisksatra):
    first = create_association(eve, org_number=fisksatra.org_number)
    assert create_association(eve, org_number=fisksatra.org_number) == first
    assert OrganisationClaim.objects.count() == 1


def test_a_claim_needs_evidence_too(eve, fisksatra):
    with pytest.raises(ValidationError) as refusal:
        create_association(eve, org_number=fisksatra.org_number, evidence={})
    assert set(refusal.value.message_dict) == {"statutes", "annual_meeting_minutes"}
    assert not OrganisationClaim.objects.exists()


def test_a_new_association_needs_its_statutes_and_minutes(anna):
    with pytest.raises(ValidationError) as refusal:
        create_association(anna, evidence={OrganisationFile.Kind.STATUTES: EVIDENCE["statutes"]})
    assert refusal.value.message_dict["annual_meeting_minutes"] == [
        "Ladda upp det senaste årsmötesprotokollet, där styrelsen och firmatecknarna står."
    ]
    assert not Organisation.objects.exists()


def test_evidence_that_is_not_a_document_is_refused(anna):
    fake = Upload(filename="stadgar.pdf", content_type="application/pdf", content=b"MZ\x90\x00 not a pdf")
    with pytest.raises(ValidationError) as refusal:
        create_association(anna, evidence={**EVIDENCE, OrganisationFile.Kind.STATUTES: fake})
    assert "statutes" in refusal.value.message_dict
    assert not Organisation.objects.exists() and not default_storage.exists("organisations")


def test_a_new_association_is_unverified_with_its_evidence_stored(anna):
    organisation = create_association(anna, org_number="8024201231")
    assert organisation.verification == Organisation.Verification.UNVERIFIED
    assert sorted(organisation.files.values_list("kind", flat=True)) == ["annual_meeting_minutes", "statutes"]
    assert organisation.files.get(kind="statutes").sha256 == hashlib.sha256(PDF).hexdigest()


def test_the_registrant_is_signatory_or_contact(anna):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_create(
            by=anna, kind="association", name="SSK", org_number=OTHER_ORGNR, role="member", evidence=EVIDENCE
        )
    assert "firmatecknare eller kontaktperson" in refusal.value.message_dict["role"][0]


def test_an_informal_group_names_a_registered_sponsor_who_is_told(anna, eve, fisksatra, commit):
    with commit():
        group = services.organisation_create(
            by=eve, kind=Organisation.Kind.INFORMAL_GROUP, name="Nattvandrarna", sponsor_org_number="8024121231"
        )
    assert (group.kind, group.sponsor, group.org_number) == ("informal_group", fisksatra, "")
    assert Membership.objects.get(organisation=group).user == eve
    assert [message.to for message in mail.outbox] == [[anna.email]]
    assert "medsökare" in mail.outbox[0].subject


def test_an_informal_group_needs_a_sponsor_in_the_portal(eve):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_create(
            by=eve, kind=Organisation.Kind.INFORMAL_GROUP, name="Nattvandrarna", sponsor_org_number=OTHER_ORGNR
        )
    assert "ingen registrerad förening" in refusal.value.message_dict["sponsor_org_number"][0]


def test_a_group_is_no_sponsor(anna, eve, fisksatra):
    factories.informal_group(fisksatra, members=[anna])
    # A group has no organisationsnummer to be found by; only associations are sponsors.
    with pytest.raises(ValidationError):
        services.organisation_create(by=eve, kind=Organisation.Kind.INFORMAL_GROUP, name="Grupp", sponsor_org_number="")


# --- the profile -------------------------------------------------------------------------------


def test_the_profile_is_saved_and_complete_with_board_account_and_files(anna, fia, pdf_bytes):
    fisksatra = factories.association(members=[anna], bankgiro="")
    assert services.profile_gaps(fisksatra)
    services.organisation_update(
        organisation=fisksatra,
        by=anna,
        email="info@fisksatraif.se",
        phone="08-123",
        street_address="Fisksätra torg 1",
        postal_code="13150",
        city="Saltsjöbaden",
        district="Fisksätra",
        board=factories.BOARD + [{"name": "", "role": ""}],
    )
    request = payee_accounts.account_change_request(
        organisation=fisksatra, by=anna, bank_account=("bankgiro", "50501055")
    )
    payee_accounts.account_change_approve(request=request, by=fia)
    services.organisation_file_add(organisation=fisksatra, by=anna, kind="statutes", upload=pdf(pdf_bytes))
    services.organisation_file_add(
        organisation=fisksatra, by=anna, kind="annual_meeting_minutes", upload=pdf(pdf_bytes, "protokoll.pdf")
    )
    fisksatra.refresh_from_db()
    assert fisksatra.postal_code == "131 50"
    assert fisksatra.bankgiro == "5050-1055"
    assert fisksatra.board == factories.BOARD
    assert services.profile_gaps(fisksatra) == []


def test_a_partial_update_leaves_the_rest(anna, fisksatra):
    services.organisation_update(organisation=fisksatra, by=anna, board=factories.BOARD)
    services.organisation_update(organisation=fisksatra, by=anna, city="Nacka")
    fisksatra.refresh_from_db()
    assert (fisksatra.city, fisksatra.board, fisksatra.bankgiro) == ("Nacka", factories.BOARD, "5050-1055")


def test_an_association_needs_a_board_of_three(anna, fisksatra):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_update(organisation=fisksatra, by=anna, board=factories.BOARD[:2])
    assert "minst 3" in refusal.value.message_dict["board"][0]
    fisksatra.refresh_from_db()
    assert fisksatra.board == []


def test_a_board_member_needs_a_role(anna, fisksatra):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_update(
            organisation=fisksatra, by=anna, board=factories.BOARD + [{"name": "Dan", "role": ""}]
        )
    assert "Rad 4" in refusal.value.message_dict["board"][0]


def test_an_informal_group_may_have_fewer_responsible(anna, fisksatra, eve):
    group = factories.informal_group(fisksatra, members=[eve])
    services.organisation_update(organisation=group, by=eve, board=[{"name": "Eve", "role": "samordnare"}])
    group.refresh_from_db()
    assert group.board == [{"name": "Eve", "role": "samordnare"}]


@pytest.mark.parametrize(
    "account, message",
    [
        (("bankgiro", "5050-1056"), "Bankgironumret"),
        (("plusgiro", "4711-9"), "Plusgironumret"),
        (("iban", "SE45 5000 0000 0583 9825 7467"), "IBAN"),
        (("bankgiro", ""), "Skriv kontonumret"),
        (("swish", "1234"), "Välj bankgiro"),
        (("bankgiro", "50501055"), "redan föreningens godkända konto"),
    ],
)
def test_an_invalid_bank_account_is_refused(anna, fisksatra, account, message):
    with pytest.raises(ValidationError) as refusal:
        payee_accounts.account_change_request(organisation=fisksatra, by=anna, bank_account=account)
    assert message in " ".join(sum(refusal.value.message_dict.values(), []))
    fisksatra.refresh_from_db()
    assert fisksatra.bankgiro == "5050-1055"
    assert not fisksatra.account_requests.exists()


@pytest.mark.parametrize(
    "account, field, stored",
    [
        (("plusgiro", "47118"), "plusgiro", "4711-8"),
        (("iban", "se4550000000058398257466"), "iban", "SE45 5000 0000 0583 9825 7466"),
    ],
)
def test_a_new_account_replaces_the_old_once_approved(anna, fisksatra, fia, account, field, stored):
    request = payee_accounts.account_change_request(organisation=fisksatra, by=anna, bank_account=account)
    fisksatra.refresh_from_db()
    assert fisksatra.account()[1] == "5050-1055"  # the approved one, until finance approves
    payee_accounts.account_change_approve(request=request, by=fia)
    fisksatra.refresh_from_db()
    assert getattr(fisksatra, field) == stored
    assert fisksatra.bankgiro == ""
    assert fisksatra.account()[1] == stored


def test_an_informal_group_has_no_account_of_its_own(anna, fisksatra, eve):
    group = factories.informal_group(fisksatra, members=[eve])
    with pytest.raises(ValidationError) as refusal:
        payee_accounts.account_change_request(organisation=group, by=eve, bank_account=("bankgiro", "5050-1055"))
    assert "medsökarens konto" in refusal.value.message_dict["account_number"][0]


def test_only_confirmed_members_edit_the_profile(anna, fisksatra, eve, bo):
    factories.pending_member(bo, fisksatra)
    for person in (eve, bo):
        with pytest.raises(PermissionDenied):
            services.organisation_update(organisation=fisksatra, by=person, city="Stockholm")
    fisksatra.refresh_from_db()
    assert fisksatra.city == ""


def test_a_bad_postal_code_or_email_is_refused_at_its_field(anna, fisksatra):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_update(organisation=fisksatra, by=anna, postal_code="1315", email="inte-en-adress")
    assert set(refusal.value.message_dict) == {"postal_code", "email"}


# --- files ---------------------------------------------------------------------------------------


def test_a_file_is_stored_with_its_checksum_and_the_newest_is_current(anna, fisksatra, pdf_bytes):
    first = services.organisation_file_add(organisation=fisksatra, by=anna, kind="statutes", upload=pdf(pdf_bytes))
    newer = pdf_bytes + b"% 2024\n"
    second = services.organisation_file_add(
        organisation=fisksatra, by=anna, kind="statutes", upload=pdf(newer, "stadgar-2024.pdf")
    )
    assert first.storage_key != second.storage_key
    assert second.sha256 == hashlib.sha256(newer).hexdigest()
    assert first.storage_key.startswith(f"organisations/{fisksatra.pk}/statutes/")
    with default_storage.open(second.storage_key, "rb") as handle:
        assert handle.read() == newer
    assert services.current_files(fisksatra) == {"statutes": second}
    assert OrganisationFile.objects.count() == 2  # the earlier one stays


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("stadgar.exe", b"MZ\x90\x00", "filtyp som inte tas emot"),
        ("stadgar.pdf", b"<html>not a pdf</html>", "inte en riktig PDF-fil"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_and_not_stored(anna, fisksatra, media_root, name, content, message):
    with pytest.raises(ValidationError) as refusal:
        services.organisation_file_add(
            organisation=fisksatra,
            by=anna,
            kind="statutes",
            upload=Upload(filename=name, content_type="application/pdf", content=content),
        )
    assert message in refusal.value.message_dict["file"][0]
    assert not OrganisationFile.objects.exists()
    assert not default_storage.exists("organisations")


def test_a_file_of_an_unknown_kind_is_refused(anna, fisksatra, pdf_bytes):
    with pytest.raises(ValidationError):
        services.organisation_file_add(organisation=fisksatra, by=anna, kind="budget", upload=pdf(pdf_bytes))


def test_only_confirmed_members_add_files(fisksatra, bo, eve, pdf_bytes):
    factories.pending_member(bo, fisksatra)
    for person in (eve, bo):
        with pytest.raises(PermissionDenied):
            services.organisation_file_add(organisation=fisksatra, by=person, kind="statutes", upload=pdf(pdf_bytes))
    assert not default_storage.exists("organisations")


# --- joining -----------------------------------------------------------------------------------------


def test_a_join_request_is_pending_until_a_member_confirms_it(anna, fisksatra, bo, commit):
    with commit():
        membership = services.membership_request(by=bo, org_number="802412-1231")
    assert (membership.status, membership.role) == ("pending", "member")
    assert [message.to for message in mail.outbox] == [[anna.email]]
    assert "Bo" in mail.outbox[0].subject
    mail.outbox.clear()

    with commit():
        services.membership_confirm(membership=membership, by=anna)
    membership.refresh_from_db()
    assert (membership.status, membership.confirmed_by) == ("confirmed", anna)
    assert membership.confirmed_at is not None
    assert [message.to for message in mail.outbox] == [[bo.email]]


def test_a_pending_member_cannot_confirm_themself(fisksatra, bo):
    membership = services.membership_request(by=bo, org_number="802412-1231")
    with pytest.raises(PermissionDenied):
        services.membership_confirm(membership=membership, by=bo)
    membership.refresh_from_db()
    assert membership.status == "pending"


def test_an_outsider_or_another_pending_member_cannot_confirm(fisksatra, bo, eve, olle):
    membership = services.membership_request(by=bo, org_number="802412-1231")
    factories.pending_member(eve, fisksatra)
    for person in (eve, olle):
        with pytest.raises(PermissionDenied):
            services.membership_confirm(membership=membership, by=person)
        with pytest.raises(PermissionDenied):
            services.membership_decline(membership=membership, by=person)


def test_a_member_of_another_organisation_cannot_confirm(fisksatra, bo, eve):
    create_association(eve)
    membership = services.membership_request(by=bo, org_number="802412-1231")
    with pytest.raises(PermissionDenied):
        services.membership_confirm(membership=membership, by=eve)


def test_a_confirmed_membership_is_not_confirmed_twice(anna, fisksatra, bo):
    membership = services.membership_request(by=bo, org_number="802412-1231")
    services.membership_confirm(membership=membership, by=anna)
    with pytest.raises(ValidationError, match="redan bekräftad"):
        services.membership_confirm(membership=membership, by=anna)


def test_a_declined_request_is_removed_and_the_person_told(anna, fisksatra, bo, commit):
    membership = services.membership_request(by=bo, org_number="802412-1231")
    with commit():
        services.membership_decline(membership=membership, by=anna)
    assert not Membership.objects.filter(user=bo).exists()
    assert "avböjdes" in mail.outbox[0].subject
    with pytest.raises(ValidationError, match="finns inte längre"):
        services.membership_confirm(membership=membership, by=anna)


def test_asking_twice_or_for_an_unknown_association_is_refused(anna, fisksatra, bo):
    services.membership_request(by=bo, org_number="802412-1231")
    with pytest.raises(ValidationError, match="redan bett"):
        services.membership_request(by=bo, org_number="802412-1231")
    with pytest.raises(ValidationError, match="redan med"):
        services.membership_request(by=anna, org_number="802412-1231")
    with pytest.raises(ValidationError) as refusal:
        services.membership_request(by=bo, org_number=OTHER_ORGNR)
    assert "Skapa förening" in refusal.value.message_dict["org_number"][0]


# --- invitations ---------------------------------------------------------------------------------------


def invite(organisation, by, email="bo@example.se"):
    return services.invitation_create(organisation=organisation, by=by, email=email, site_url="https://bidrag.test/")


def test_an_invitation_mails_a_single_use_link(anna, fisksatra, bo, commit):
    with commit():
        invitation = invite(fisksatra, anna)
    assert len(invitation.token) >= 40
    (message,) = mail.outbox
    assert message.to == ["bo@example.se"]
    assert f"https://bidrag.test/konto/inbjudan/{invitation.token}/" in message.body
    mail.outbox.clear()

    with commit():
        membership = services.invitation_accept(token=invitation.token, by=bo)
    assert (membership.status, membership.role, membership.organisation) == ("pending", "member", fisksatra)
    invitation.refresh_from_db()
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (bo, True)
    assert [m.to for m in mail.outbox] == [[anna.email]]  # the confirmed members are told

    with pytest.raises(ValidationError, match="redan använts"):
        services.invitation_accept(token=invitation.token, by=bo)


def test_an_invitation_is_used_once_whoever_comes_second(anna, fisksatra, bo, eve):
    invitation = invite(fisksatra, anna)
    services.invitation_accept(token=invitation.token, by=bo)
    with pytest.raises(ValidationError, match="redan använts"):
        services.invitation_accept(token=invitation.token, by=eve)
    assert not Membership.objects.filter(user=eve).exists()


def test_an_invitation_expires_after_fourteen_days(anna, fisksatra, bo):
    invitation = invite(fisksatra, anna)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=timezone.now() - dt.timedelta(days=14, minutes=1))
    with pytest.raises(ValidationError, match="gick ut"):
        services.invitation_accept(token=invitation.token, by=bo)
    assert not Membership.objects.filter(user=bo).exists()


def test_an_invitation_on_day_fourteen_still_works(anna, fisksatra, bo):
    invitation = invite(fisksatra, anna)
    Invitation.objects.filter(pk=invitation.pk).update(created_at=timezone.now() - dt.timedelta(days=13, hours=23))
    assert services.invitation_accept(token=invitation.token, by=bo).status == "pending"


def test_an_unknown_token_is_refused(bo):
    with pytest.raises(ValidationError, match="finns inte"):
        services.invitation_accept(token="gissat", by=bo)


def test_only_confirmed_members_invite(fisksatra, bo, eve):
    factories.pending_member(bo, fisksatra)
    for person in (bo, eve):
        with pytest.raises(PermissionDenied):
            invite(fisksatra, person, email="ny@example.se")
    assert not Invitation.objects.exists() and not mail.outbox


def test_a_member_is_not_invited_again(anna, fisksatra):
    with pytest.raises(ValidationError) as refusal:
        invite(fisksatra, anna, email="ANNA@example.se")
    assert "redan med" in refusal.value.message_dict["email"][0]


def test_a_confirmed_member_following_an_invitation_is_told_so(anna, fisksatra):
    invitation = invite(fisksatra, anna, email="ny@example.se")
    with pytest.raises(ValidationError, match="redan med"):
        services.invitation_accept(token=invitation.token, by=anna)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- what a pending member sees --------------------------------------------------------------------------


def test_a_pending_member_sees_none_of_the_cases(client, anna, fisksatra, bo, inclusion_call, pdf_bytes):
    from grants.models import Document
    from grants.selectors import applications_for_user, organisations_of
    from grants.services import apply

    today = timezone.localdate()
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=30),
        stated_amount=10000,
        attachment=Upload("budget.pdf", "application/pdf", pdf_bytes),
    )
    document = Document.objects.get(application=application)
    services.membership_request(by=bo, org_number=fisksatra.org_number)

    assert not applications_for_user(bo).exists() and not organisations_of(bo).exists()
    client.force_login(bo)
    page = client.get("/portal/")
    assert "Läxhjälp" not in page.content.decode()
    assert client.get(f"/portal/ansokningar/{application.pk}/").status_code == 404
    assert client.get(f"/dokument/{document.pk}/").status_code == 404

    services.membership_confirm(membership=Membership.objects.get(user=bo), by=anna)
    assert "Läxhjälp" in client.get("/portal/").content.decode()
    assert client.get(f"/dokument/{document.pk}/").status_code == 200


# --- accounts --------------------------------------------------------------------------------------------


def test_an_account_is_the_email_address_with_the_language(db):
    user = services.account_register(
        name="Anna-Karin von Essen", email="AK@Example.se", password="x", language="en", site_url="http://testserver"
    )
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "ak@example.se",
        "AK@example.se",
        "Anna-Karin",
        "von Essen",
    )
    assert ApplicantSettings.objects.get(user=user).language == "en"


def test_an_email_address_has_one_account_whatever_its_case(anna, django_capture_on_commit_callbacks):
    # No error tells the registering person; the owner is told by e-mail instead.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.account_register(
            name="Anna", email="ANNA@example.se", password="x", language="sv", site_url="http://testserver"
        )
    assert again is None
    assert User.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["anna@example.se"]]


# --- races (PostgreSQL) -------------------------------------------------------------------------------------


def run_together(count, work):
    barrier = threading.Barrier(count)
    outcomes = []

    def run(index):
        try:
            barrier.wait(timeout=30)
            work(index)
            outcomes.append("ok")
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(type(exc).__name__)
        except Exception as exc:  # reported by the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_token_accepted_at_once_by_many_works_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    anna = factories.user("anna")
    fisksatra = factories.association(members=[anna])
    people = [factories.user(f"person{index}") for index in range(8)]
    invitation = invite(fisksatra, anna)
    outcomes = run_together(8, lambda index: services.invitation_accept(token=invitation.token, by=people[index]))
    assert sorted(outcomes) == ["ValidationError"] * 7 + ["ok"]
    assert Membership.objects.filter(status="pending").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_confirming_one_request_at_once_confirm_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL")
    board = [factories.user(f"member{index}") for index in range(6)]
    fisksatra = factories.association(members=board)
    bo = factories.user("bo")
    pending = factories.pending_member(bo, fisksatra)
    mail.outbox.clear()
    outcomes = run_together(6, lambda index: services.membership_confirm(membership=pending, by=board[index]))
    assert sorted(outcomes) == ["ValidationError"] * 5 + ["ok"]
    assert len([m for m in mail.outbox if m.to == [bo.email]]) == 1
