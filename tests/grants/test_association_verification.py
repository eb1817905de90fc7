"""Who acts for an association: a new one is unverified until Olle the officer verifies it,
and cannot submit until then; a person who types a registered organisationsnummer makes a
claim that Olle decides; the roles in an association decide who invites, confirms,
withdraws and changes roles. Every such change is a row in the audit trail."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from grants.files import Upload
from grants.identity.models import SecurityEvent
from grants.models import Application, Membership, Organisation, OrganisationFile
from grants.services import apply
from grants.services import organisations as services

from .. import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE = {
    OrganisationFile.Kind.STATUTES: Upload(filename="stadgar.pdf", content_type="application/pdf", content=PDF),
    OrganisationFile.Kind.MINUTES: Upload(filename="arsmote.pdf", content_type="application/pdf", content=PDF),
}
NOT_VERIFIED = "Föreningen är inte verifierad av kommunen än."


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def bo(db):
    return factories.user("bo", first_name="Bo")


def register(by, *, org_number="802420-1231", name="Saltsjöbadens SK", role="signatory"):
    return services.organisation_create(
        by=by, kind="association", name=name, org_number=org_number, role=role, evidence=EVIDENCE
    )


def events(kind):
    return list(SecurityEvent.objects.filter(kind=kind).order_by("pk"))


# --- the first observed problem: whoever types a number first --------------------------------


def test_eve_who_registers_an_association_first_cannot_submit_for_it(eve, inclusion_call):
    """Eve registers an organisationsnummer that is not hers before the real board does: she
    may prepare a draft, but nothing reaches the officer until the officer has verified the
    association from its statutes and minutes."""
    squatted = register(eve, org_number="802412-1231", name="Fisksätra IF")
    application = factories.draft(inclusion_call, squatted, eve)
    with pytest.raises(PermissionDenied) as refusal:
        apply.application_submit(application=application, by=eve)
    assert refusal.value.args[0] == NOT_VERIFIED
    application.refresh_from_db()
    assert (application.status, application.case_number) == (Application.Status.DRAFT, "")


def test_a_verified_association_submits(anna, olle, inclusion_call):
    club = register(anna)
    Organisation.objects.filter(pk=club.pk).update(bankgiro="5050-1055")  # as finance would have approved it
    services.association_verify(organisation=club, by=olle)
    submitted = apply.application_submit(application=factories.draft(inclusion_call, club, anna), by=anna)
    assert submitted.status == Application.Status.SUBMITTED


def test_a_refused_association_cannot_submit_either(anna, olle, inclusion_call):
    club = register(anna)
    services.association_refuse(organisation=club, by=olle, reason="Protokollet saknar firmatecknare.")
    with pytest.raises(PermissionDenied, match=NOT_VERIFIED):
        apply.application_submit(application=factories.draft(inclusion_call, club, anna), by=anna)


def test_an_informal_group_submits_only_with_a_verified_sponsor(anna, eve, inclusion_call):
    sponsor = factories.unverified_association(members=[anna])
    group = factories.informal_group(sponsor, members=[eve])
    application = factories.draft(inclusion_call, group, eve)
    with pytest.raises(PermissionDenied, match=NOT_VERIFIED):
        apply.application_ask_sponsor(application=application, by=eve)
    with pytest.raises(PermissionDenied, match=NOT_VERIFIED):
        apply.application_submit(application=application, by=anna)


def test_the_check_page_says_why_and_offers_no_submit_button(client, anna, inclusion_call):
    club = factories.unverified_association(members=[anna])
    application = factories.draft(inclusion_call, club, anna)
    client.force_login(anna)
    page = client.get(f"/portal/ansokningar/{application.pk}/steg/granska/").content.decode()
    assert NOT_VERIFIED in page
    assert f'action="/portal/ansokningar/{application.pk}/skicka-in/"' not in page
    response = client.post(f"/portal/ansokningar/{application.pk}/skicka-in/")
    assert response.status_code == 400 and NOT_VERIFIED in response.content.decode()


def test_no_one_can_ask_to_join_an_unverified_association(anna, bo):
    club = factories.unverified_association(members=[anna])
    with pytest.raises(ValidationError) as refusal:
        services.membership_request(by=bo, org_number=club.org_number)
    assert "inte verifierad" in refusal.value.message_dict["org_number"][0]
    assert not Membership.objects.filter(user=bo).exists()


# --- verifying -----------------------------------------------------------------------------------


def test_olle_verifies_the_association_its_members_are_told_and_it_is_audited(anna, olle, commit):
    club = register(anna)
    with commit():
        services.association_verify(organisation=club, by=olle)
    club.refresh_from_db()
    assert (club.verification, club.verified_by) == ("verified", olle)
    assert club.verified_at is not None
    [event] = events(SecurityEvent.Kind.ASSOCIATION_VERIFIED)
    assert (event.actor, event.details["organisation"]) == (olle, "802420-1231")
    assert [message.to for message in mail.outbox] == [[anna.email]]
    assert "verifierad" in mail.outbox[0].subject


def test_a_refusal_needs_a_reason_and_is_told_with_it(anna, olle, commit):
    club = register(anna)
    with pytest.raises(ValidationError) as refusal:
        services.association_refuse(organisation=club, by=olle, reason="  ")
    assert "reason" in refusal.value.message_dict
    with commit():
        services.association_refuse(organisation=club, by=olle, reason="Stadgarna gäller en annan förening.")
    club.refresh_from_db()
    assert (club.verification, club.refusal_reason) == ("refused", "Stadgarna gäller en annan förening.")
    [event] = events(SecurityEvent.Kind.ASSOCIATION_REFUSED)
    assert (event.actor, event.details["reason"]) == (olle, "Stadgarna gäller en annan förening.")
    assert "Stadgarna gäller en annan förening." in mail.outbox[0].body


def test_new_evidence_after_a_refusal_puts_the_association_back_in_the_list(client, anna, olle):
    club = register(anna)
    services.association_refuse(organisation=club, by=olle, reason="Protokollet är inte justerat.")
    client.force_login(anna)
    page = client.get(f"/portal/forening/{club.pk}/").content.decode()
    assert "Protokollet är inte justerat." in page and "Ladda upp nya stadgar" in page
    services.organisation_file_add(
        organisation=club, by=anna, kind="annual_meeting_minutes", upload=EVIDENCE["annual_meeting_minutes"]
    )
    club.refresh_from_db()
    assert club.verification == "unverified"
    assert "Väntar på att kommunen verifierar föreningen" in client.get(f"/portal/forening/{club.pk}/").content.decode()


def test_only_officers_and_administrators_verify(anna, eve, fia):
    club = register(anna)
    for person in (eve, fia, anna):
        with pytest.raises(PermissionDenied):
            services.association_verify(organisation=club, by=person)
    admin = factories.user("sara", role="Systemförvaltare")
    services.association_verify(organisation=club, by=admin)


def test_an_officer_who_belongs_to_the_association_does_not_verify_it(olle):
    club = register(olle)
    with pytest.raises(PermissionDenied, match="tillhör"):
        services.association_verify(organisation=club, by=olle)


def test_a_verified_association_is_not_verified_again(anna, olle):
    club = register(anna)
    services.association_verify(organisation=club, by=olle)
    with pytest.raises(ValidationError, match="redan verifierad"):
        services.association_refuse(organisation=club, by=olle, reason="Fel.")


# --- claims ---------------------------------------------------------------------------------------


def test_an_accepted_claim_makes_the_claimant_a_confirmed_signatory(anna, bo, olle, fisksatra, commit):
    claim = register(bo, org_number=fisksatra.org_number)
    with commit():
        membership = services.claim_accept(claim=claim, by=olle)
    assert (membership.user, membership.role, membership.status) == (bo, "signatory", "confirmed")
    assert fisksatra.memberships.filter(user=anna).exists()  # the others stay unless the officer says
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by) == ("accepted", olle)
    assert fisksatra.files.filter(uploaded_by=bo).count() == 2
    assert mail.outbox[-1].to == [bo.email]
    [event] = [e for e in events(SecurityEvent.Kind.MEMBERSHIP_CHANGE) if e.user == bo]
    assert event.actor == olle and event.details["to"] == "confirmed:signatory"


def test_an_accepted_claim_can_remove_the_squatter(anna, bo, olle, fisksatra):
    claim = register(bo, org_number=fisksatra.org_number)
    services.claim_accept(claim=claim, by=olle, remove_others=True)
    assert list(fisksatra.memberships.values_list("user", flat=True)) == [bo.pk]
    removed = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MEMBERSHIP_CHANGE, user=anna)
    assert removed.details == {
        "organisation": "802412-1231",
        "change": "removed",
        "from": "confirmed:signatory",
        "to": "removed",
    }


def test_a_refused_claim_changes_nothing_but_the_claim(anna, bo, olle, fisksatra, commit):
    claim = register(bo, org_number=fisksatra.org_number)
    with commit():
        services.claim_refuse(claim=claim, by=olle, reason="Protokollet visar en annan styrelse.")
    claim.refresh_from_db()
    assert (claim.status, claim.reason) == ("refused", "Protokollet visar en annan styrelse.")
    assert not Membership.objects.filter(user=bo).exists()
    assert "Protokollet visar en annan styrelse." in mail.outbox[-1].body
    with pytest.raises(ValidationError, match="redan avslaget"):
        services.claim_accept(claim=claim, by=olle)


def test_a_claim_is_decided_by_neither_the_claimant_nor_a_member(anna, olle, fisksatra):
    otto = factories.user("otto", role="Handläggare")
    claim = register(otto, org_number=fisksatra.org_number)
    with pytest.raises(PermissionDenied):
        services.claim_accept(claim=claim, by=otto)
    with pytest.raises(PermissionDenied):
        services.claim_accept(claim=claim, by=anna)


# --- roles -------------------------------------------------------------------------------------------


def test_a_board_member_may_not_invite(anna, bo, fisksatra):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    with pytest.raises(PermissionDenied, match="firmatecknare eller kontaktperson"):
        services.invitation_create(organisation=fisksatra, by=bo, email="cia@example.se", site_url="http://x")


def test_a_treasurer_may_not_invite_but_a_contact_may(anna, bo, eve, fisksatra):
    Membership.objects.create(user=bo, organisation=fisksatra, role="treasurer")
    Membership.objects.create(user=eve, organisation=fisksatra, role="contact")
    with pytest.raises(PermissionDenied):
        services.invitation_create(organisation=fisksatra, by=bo, email="cia@example.se", site_url="http://x")
    services.invitation_create(organisation=fisksatra, by=eve, email="cia@example.se", site_url="http://x")


def test_a_board_member_may_not_confirm_or_decline(anna, bo, eve, fisksatra):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    waiting = factories.pending_member(eve, fisksatra)
    for action in (services.membership_confirm, services.membership_decline):
        with pytest.raises(PermissionDenied, match="firmatecknare eller kontaktperson"):
            action(membership=waiting, by=bo)
    waiting.refresh_from_db()
    assert waiting.status == "pending"


def test_confirm_and_decline_are_audited(anna, bo, eve, fisksatra):
    services.membership_confirm(membership=factories.pending_member(bo, fisksatra), by=anna)
    services.membership_decline(membership=factories.pending_member(eve, fisksatra), by=anna)
    rows = [
        (e.user, e.actor, e.details["change"], e.details["from"], e.details["to"]) for e in events("membership_change")
    ]
    assert rows == [
        (bo, anna, "confirmed", "pending:member", "confirmed:member"),
        (eve, anna, "declined", "pending:member", "removed"),
    ]


def test_a_board_member_prepares_and_submits_but_may_not_withdraw(anna, bo, fisksatra, inclusion_call):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    submitted = apply.application_submit(application=factories.draft(inclusion_call, fisksatra, bo), by=bo)
    with pytest.raises(PermissionDenied, match="Bara föreningens firmatecknare eller kontaktperson kan återta"):
        apply.application_withdraw(application=submitted, by=bo)
    assert apply.application_withdraw(application=submitted, by=anna).status == Application.Status.WITHDRAWN


def test_the_case_page_offers_withdrawal_to_the_signatory_only(client, anna, bo, fisksatra, inclusion_call):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    submitted = apply.application_submit(application=factories.draft(inclusion_call, fisksatra, bo), by=bo)
    link = f'href="/portal/ansokningar/{submitted.pk}/ata-tillbaka/"'
    client.force_login(bo)
    assert link not in client.get(f"/portal/ansokningar/{submitted.pk}/").content.decode()
    client.force_login(anna)
    assert link in client.get(f"/portal/ansokningar/{submitted.pk}/").content.decode()


def test_a_board_member_may_not_ask_for_a_bank_account(anna, bo, fisksatra):
    from grants.services import payee_accounts

    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    with pytest.raises(PermissionDenied, match="firmatecknare eller kassör"):
        payee_accounts.account_change_request(organisation=fisksatra, by=bo, bank_account=("plusgiro", "4711-8"))


def test_a_signatory_changes_another_members_role_audited(anna, bo, fisksatra):
    membership = Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    services.membership_role_change(membership=membership, by=anna, role="treasurer")
    membership.refresh_from_db()
    assert membership.role == "treasurer"
    [event] = events(SecurityEvent.Kind.MEMBERSHIP_CHANGE)
    assert (event.user, event.actor, event.details["from"], event.details["to"]) == (
        bo,
        anna,
        "confirmed:member",
        "confirmed:treasurer",
    )


def test_only_a_signatory_changes_roles_and_not_their_own(anna, bo, eve, fisksatra):
    contact = Membership.objects.create(user=bo, organisation=fisksatra, role="contact")
    other = Membership.objects.create(user=eve, organisation=fisksatra, role="member")
    with pytest.raises(PermissionDenied, match="Bara föreningens firmatecknare kan ändra"):
        services.membership_role_change(membership=other, by=bo, role="signatory")
    with pytest.raises(PermissionDenied, match="din egen roll"):
        services.membership_role_change(membership=Membership.objects.get(user=anna), by=anna, role="member")
    contact.refresh_from_db()
    other.refresh_from_db()
    assert (contact.role, other.role) == ("contact", "member")
    assert not events(SecurityEvent.Kind.MEMBERSHIP_CHANGE)


def test_the_organisation_page_offers_each_role_what_it_may_do(client, anna, bo, fisksatra):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member")
    client.force_login(bo)
    page = client.get(f"/portal/forening/{fisksatra.pk}/").content.decode()
    assert "Bara föreningens firmatecknare eller kontaktperson kan bjuda in" in page
    assert "/bjud-in/" not in page and "Ändra roll" not in page
    client.force_login(anna)
    page = client.get(f"/portal/forening/{fisksatra.pk}/").content.decode()
    assert "/bjud-in/" in page and "Ändra roll" in page
    response = client.post(
        f"/portal/forening/personer/{Membership.objects.get(user=bo).pk}/roll/", {"role": "treasurer"}, follow=True
    )
    assert "Bo är nu kassör." in response.content.decode()
