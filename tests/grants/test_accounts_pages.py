"""The account and association pages as people use them: a visitor registers, Anna keeps
Fisksätra IF's profile, Bo asks to join or is invited and Anna confirms him; Eve the
outsider gets 404s. Errors show at the field and in the summary at the top."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from grants.models import ApplicantSettings, Invitation, Membership, Organisation, OrganisationFile
from grants.services import organisations as services

from .. import factories

pytestmark = pytest.mark.django_db

PASSWORD = "Gr0na-Blad-i-Fisksatra"


@pytest.fixture
def bo(db):
    return factories.user("bo", first_name="Bo")


def registration(**overrides):
    data = {
        "name": "Bo Berg",
        "email": "bo.berg@example.se",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "consent": "on",
    }
    data.update(overrides)
    return data


def text(response):
    return response.content.decode()


# --- registration ------------------------------------------------------------------------------------------


def confirmation_link(message):
    return re.search(r"http://testserver(/konto/bekrafta-e-post/\S+)", message.body).group(1)


def test_a_visitor_registers_confirms_the_address_and_lands_in_min_forening(client, django_capture_on_commit_callbacks):
    page = client.get("/konto/registrera/")
    assert page.status_code == 200
    assert "Så behandlar kommunen dina uppgifter" in text(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/konto/registrera/", registration(email="Bo.Berg@Example.se"))
    assert response.status_code == 302 and response.url == "/konto/registrera/kolla-din-e-post/"
    assert "Kolla din e-post" in text(client.get(response.url))
    assert "_auth_user_id" not in client.session  # not signed in until the address is shown to be his
    user = User.objects.get()
    assert (user.username, user.get_full_name()) == ("bo.berg@example.se", "Bo Berg")
    assert ApplicantSettings.objects.get(user=user).language == "sv"
    (message,) = mail.outbox
    assert message.to == ["Bo.Berg@example.se"]
    link = confirmation_link(message)
    assert "Bekräfta e-postadressen" in text(client.get(link))  # opening the link changes nothing
    response = client.post(link)
    assert response.status_code == 302 and response.url == "/portal/forening/"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "Dina föreningar" not in text(client.get("/portal/forening/"))  # logged in, no organisation yet
    assert client.login(username="bo.berg@example.se", password=PASSWORD)


def test_registration_keeps_the_chosen_language(client):
    client.cookies["django_language"] = "en"
    client.post("/konto/registrera/", registration())
    assert ApplicantSettings.objects.get().language == "en"


def test_registration_follows_a_safe_next_only(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/konto/registrera/?next=/konto/inbjudan/abc/", registration())
    assert client.post(confirmation_link(mail.outbox[0])).url == "/konto/inbjudan/abc/"
    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        other.post("/konto/registrera/", registration(email="c@example.se", next="https://evil.example/"))
    assert other.post(confirmation_link(mail.outbox[1])).url == "/portal/forening/"


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"password2": "Annat-Losenord-123"}, "password2", "De två lösenordsfälten stämmer inte överens."),
        ({"password1": "password", "password2": "password"}, "password2", "alldeles för vanligt"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password2", "enbart numeriskt"),
        ({"consent": ""}, "consent", "Du behöver godkänna"),
        ({"email": "inte-en-adress"}, "email", "giltig e-postadress"),
        ({"name": ""}, "name", "Detta fält måste fyllas i."),
    ],
)
def test_registration_errors_show_at_the_field_and_in_the_summary(client, overrides, field, message):
    response = client.post("/konto/registrera/", registration(**overrides))
    assert response.status_code == 400
    html = text(response)
    assert f'id="id_{field}_error"' in html
    assert (
        f'aria-describedby="id_{field}_error"' in html
        or f'aria-describedby="id_{field}_helptext id_{field}_error"' in html
    )
    summary = html[html.index('class="error-summary"') :]
    assert f'href="#id_{field}"' in summary and message in summary
    assert not User.objects.exists()


def test_registration_does_not_tell_whether_an_address_has_an_account(client, anna, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post("/konto/registrera/", registration(email="ANNA@example.se"))
    with django_capture_on_commit_callbacks(execute=True):
        free = Client().post("/konto/registrera/", registration(email="new@example.se"))
    assert (
        (taken.status_code, taken.url) == (free.status_code, free.url) == (302, "/konto/registrera/kolla-din-e-post/")
    )
    assert "Det finns redan ett konto" not in text(client.get(taken.url))
    assert User.objects.filter(email__iexact="anna@example.se").count() == 1
    assert "_auth_user_id" not in client.session
    # Anna is told by e-mail, with the ways in; the password she did not type is unchanged.
    told = next(message for message in mail.outbox if message.to == ["anna@example.se"])
    assert told.subject == "Någon försökte skapa ett konto med din e-postadress"
    assert "http://testserver/konto/logga-in/" in told.body and "http://testserver/konto/losenord/glomt/" in told.body
    assert Client().login(username="anna", password="demo")


def test_the_demo_accounts_still_log_in_with_their_usernames(client, anna):
    response = client.post("/konto/logga-in/", {"username": "anna", "password": "demo"})
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200


def test_the_portal_links_to_min_forening(client, anna, fisksatra):
    client.force_login(anna)
    assert 'href="/portal/forening/"' in text(client.get("/portal/"))


def test_every_form_needs_its_csrf_token(anna, fisksatra):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/konto/registrera/", registration()).status_code == 403
    client.force_login(anna)
    assert client.post(f"/portal/forening/{fisksatra.pk}/uppgifter/", {"profile-name": "X"}).status_code == 403
    page = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert page.count("csrfmiddlewaretoken") == page.count('method="post"')


# --- Min förening ---------------------------------------------------------------------------------------------


def test_min_forening_lists_organisations_with_role_and_status(client, anna, fisksatra, bo):
    other = factories.association(name="Saltsjöbadens SK", org_number="802420-1231")
    factories.pending_member(anna, other)
    client.force_login(anna)
    html = text(client.get("/portal/forening/"))
    assert "Fisksätra IF" in html and "Saltsjöbadens SK" in html
    assert "Firmatecknare" in html and "Bekräftad" in html and "Väntar på bekräftelse" in html


def evidence(pdf_bytes):
    return {
        "statutes": SimpleUploadedFile("stadgar.pdf", pdf_bytes, content_type="application/pdf"),
        "annual_meeting_minutes": SimpleUploadedFile("arsmote.pdf", pdf_bytes, content_type="application/pdf"),
    }


def test_anna_creates_an_association(client, anna, pdf_bytes):
    client.force_login(anna)
    assert client.get("/portal/forening/ny/").status_code == 200
    response = client.post(
        "/portal/forening/ny/",
        {"name": "Fisksätra IF", "org_number": "802412-1231", "role": "signatory", **evidence(pdf_bytes)},
    )
    organisation = Organisation.objects.get()
    assert response.url == f"/portal/forening/{organisation.pk}/"
    assert organisation.memberships.get().role == "signatory"  # she may ask for its bank account
    assert organisation.verification == "unverified"
    page = text(client.get(response.url))
    assert "Det här saknas i profilen" in page and "Styrelsen: minst 3 personer." in page
    assert "Väntar på att kommunen verifierar föreningen" in page and "stadgar.pdf" in page


def test_an_association_is_not_created_without_its_evidence(client, anna):
    client.force_login(anna)
    response = client.post(
        "/portal/forening/ny/", {"name": "Fisksätra IF", "org_number": "802412-1231", "role": "contact"}
    )
    assert response.status_code == 400
    html = text(response)
    assert "Ladda upp föreningens stadgar." in html and 'id="id_annual_meeting_minutes_error"' in html
    assert not Organisation.objects.exists()


def test_claiming_a_taken_organisationsnummer_lets_no_one_in(client, eve, anna, fisksatra, pdf_bytes):
    """Bad input: Eve types Fisksätra IF's number. She is told the municipality has her
    claim, gets no membership and sees nothing of the association."""
    client.force_login(eve)
    response = client.post(
        "/portal/forening/ny/",
        {"name": "Fisksätra IF", "org_number": "802412-1231", "role": "signatory", **evidence(pdf_bytes)},
        follow=True,
    )
    html = text(response)
    assert "Föreningen är redan registrerad. Kommunen har fått ditt anspråk och hör av sig." in html
    assert Organisation.objects.count() == 1
    assert list(Membership.objects.filter(organisation=fisksatra).values_list("user", flat=True)) == [anna.pk]
    assert client.get(f"/portal/forening/{fisksatra.pk}/").status_code == 404
    assert fisksatra.claims.get().claimant == eve


def test_an_informal_group_is_created_with_its_sponsor(client, eve, fisksatra):
    client.force_login(eve)
    response = client.post("/portal/forening/ny-grupp/", {"name": "Nattvandrarna", "sponsor_org_number": "802412-1231"})
    group = Organisation.objects.get(kind="informal_group")
    assert response.url == f"/portal/forening/{group.pk}/"
    page = text(client.get(response.url))
    assert "Medsökare: Fisksätra IF" in page
    assert 'name="bank-account_number"' not in page  # the money goes to the sponsor's account


def test_an_unknown_sponsor_is_refused_at_its_field(client, eve):
    client.force_login(eve)
    response = client.post("/portal/forening/ny-grupp/", {"name": "Nattvandrarna", "sponsor_org_number": "802420-1231"})
    assert response.status_code == 400
    assert 'id="id_sponsor_org_number_error"' in text(response)


def test_bo_asks_to_join_and_waits_without_seeing_anything(client, anna, fisksatra, bo):
    fisksatra.board = factories.BOARD
    fisksatra.save()
    client.force_login(bo)
    response = client.post("/portal/forening/ga-med/", {"org_number": "8024121231", "role": "member"})
    assert response.url == "/portal/forening/"
    membership = Membership.objects.get(user=bo)
    assert membership.status == "pending"
    page = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert "Väntar på bekräftelse" in page
    assert "Anna Andersson" not in page and "5050-1055" not in page
    # and nothing he may do yet
    assert client.post(f"/portal/forening/{fisksatra.pk}/uppgifter/", {"profile-name": "X"}).status_code == 404
    assert client.post(f"/portal/forening/{fisksatra.pk}/bjud-in/", {"invite-email": "x@example.se"}).status_code == 404


def test_joining_an_unknown_association_is_refused_at_the_field(client, bo):
    client.force_login(bo)
    response = client.post("/portal/forening/ga-med/", {"org_number": "802420-1231", "role": "member"})
    assert response.status_code == 400
    assert 'id="id_org_number_error"' in text(response)


# --- the organisation's page ---------------------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_organisation_page(client, anna, fisksatra, eve, pdf_bytes):
    row = services.organisation_file_add(
        organisation=fisksatra,
        by=anna,
        kind="statutes",
        upload=services.Upload("stadgar.pdf", "application/pdf", pdf_bytes),
    )
    pending = factories.pending_member(factories.user("bo"), fisksatra)
    client.force_login(eve)
    pk = fisksatra.pk
    assert client.get(f"/portal/forening/{pk}/").status_code == 404
    for path in ("uppgifter", "styrelse", "bankkonto", "dokument", "bjud-in"):
        assert client.post(f"/portal/forening/{pk}/{path}/", {}).status_code == 404
    assert client.get(f"/portal/forening/dokument/{row.pk}/").status_code == 404
    assert client.post(f"/portal/forening/personer/{pending.pk}/bekrafta/").status_code == 404
    assert client.post(f"/portal/forening/personer/{pending.pk}/avboj/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_the_pages_need_a_login(client, fisksatra):
    for path in ("/portal/forening/", f"/portal/forening/{fisksatra.pk}/", "/portal/forening/ny/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/konto/logga-in/")


def test_anna_saves_the_profile(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/uppgifter/",
        {
            "profile-name": "Fisksätra IF",
            "profile-email": "info@fisksatraif.se",
            "profile-phone": "08-123 45",
            "profile-street_address": "Fisksätra torg 1",
            "profile-postal_code": "13150",
            "profile-city": "Saltsjöbaden",
            "profile-district": "Fisksätra",
        },
    )
    assert response.status_code == 302
    fisksatra.refresh_from_db()
    assert (fisksatra.postal_code, fisksatra.city) == ("131 50", "Saltsjöbaden")


def test_a_bad_postal_code_is_shown_at_its_field(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/uppgifter/", {"profile-name": "Fisksätra IF", "profile-postal_code": "1315"}
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="id_profile-postal_code_error"' in html
    assert 'aria-describedby="id_profile-postal_code_error"' in html
    assert 'href="#id_profile-postal_code"' in html


def board_data(rows, extra=3):
    data = {
        "board-TOTAL_FORMS": str(len(rows) + extra),
        "board-INITIAL_FORMS": "0",
        "board-MIN_NUM_FORMS": "0",
        "board-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data[f"board-{index}-name"], data[f"board-{index}-role"] = row
    return data


def test_anna_saves_the_board_of_three(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/styrelse/",
        board_data([(row["name"], row["role"]) for row in factories.BOARD]),
    )
    assert response.status_code == 302
    fisksatra.refresh_from_db()
    assert fisksatra.board == factories.BOARD
    # the page shows it back, with three empty rows for more
    html = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert 'value="Cia Ek"' in html and 'name="board-5-name"' in html


def test_a_board_of_two_is_refused_with_the_rule(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/styrelse/",
        board_data([("Anna Andersson", "ordförande"), ("Bo Berg", "kassör")]),
    )
    assert response.status_code == 400
    html = text(response)
    assert "minst 3 personer. Ni har angett 2." in html
    assert 'href="#id_board-0-name"' in html
    fisksatra.refresh_from_db()
    assert fisksatra.board == []


def test_a_board_row_without_a_role_is_shown_at_the_row(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/styrelse/",
        board_data([(row["name"], row["role"]) for row in factories.BOARD] + [("Dan", "")]),
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="id_board-3-role_error"' in html and 'href="#id_board-3-role"' in html


def test_a_bad_bankgiro_is_shown_at_its_field(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/bankkonto/",
        {"bank-account_scheme": "bankgiro", "bank-account_number": "5050-1056"},
    )
    assert response.status_code == 400
    html = text(response)
    assert 'id="id_bank-account_number_error"' in html and "Bankgironumret 5050-1056 är inte giltigt" in html
    assert not fisksatra.account_requests.exists()
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/bankkonto/",
        {"bank-account_scheme": "plusgiro", "bank-account_number": "47118"},
    )
    assert response.status_code == 302
    fisksatra.refresh_from_db()
    assert (fisksatra.bankgiro, fisksatra.plusgiro) == ("5050-1055", "")  # until finance approves
    assert fisksatra.account_requests.get().number == "4711-8"


def upload(client, organisation, content, name="stadgar.pdf", kind="statutes"):
    return client.post(
        f"/portal/forening/{organisation.pk}/dokument/",
        {"file-kind": kind, "file-file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_anna_uploads_the_statutes_and_members_download_them(client, anna, fisksatra, bo, pdf_bytes):
    client.force_login(anna)
    assert upload(client, fisksatra, pdf_bytes).status_code == 302
    row = OrganisationFile.objects.get()
    html = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert f'href="/portal/forening/dokument/{row.pk}/"' in html
    response = client.get(f"/portal/forening/dokument/{row.pk}/")
    assert response.status_code == 200 and response.content == pdf_bytes
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]

    factories.pending_member(bo, fisksatra)
    client.force_login(bo)
    assert client.get(f"/portal/forening/dokument/{row.pk}/").status_code == 404


def test_the_officer_may_read_the_statutes(client, anna, fisksatra, olle, pdf_bytes):
    client.force_login(anna)
    upload(client, fisksatra, pdf_bytes)
    client.force_login(olle)
    assert client.get(f"/portal/forening/dokument/{OrganisationFile.objects.get().pk}/").status_code == 200


def test_a_changed_stored_file_is_not_handed_out(client, anna, fisksatra, pdf_bytes):
    client.force_login(anna)
    upload(client, fisksatra, pdf_bytes)
    row = OrganisationFile.objects.get()
    default_storage.delete(row.storage_key)
    default_storage.save(row.storage_key, SimpleUploadedFile("x", b"%PDF-1.4 changed"))
    response = client.get(f"/portal/forening/dokument/{row.pk}/")
    assert response.status_code == 409
    assert "kontrollsumma" in text(response)


def test_a_file_of_the_wrong_type_is_refused_at_the_field(client, anna, fisksatra):
    client.force_login(anna)
    response = upload(client, fisksatra, b"MZ\x90\x00", name="stadgar.exe")
    assert response.status_code == 400
    html = text(response)
    assert 'id="id_file-file_error"' in html and "filtyp som inte tas emot" in html
    assert not OrganisationFile.objects.exists()


def test_invite_accept_and_confirm(client, anna, fisksatra, django_capture_on_commit_callbacks):
    client.force_login(anna)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/portal/forening/{fisksatra.pk}/bjud-in/", {"invite-email": "bo@example.se", "invite-role": "signatory"}
        )
    assert response.status_code == 302
    link = re.search(r"http://testserver(/konto/inbjudan/[\w-]+/)", mail.outbox[0].body).group(1)
    assert "bo@example.se" in text(client.get(f"/portal/forening/{fisksatra.pk}/"))  # open invitations

    visitor = Client()
    page = text(visitor.get(link))
    assert "Fisksätra IF" in page and f"/konto/registrera/?next={link}" in page
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post(f"/konto/registrera/?next={link}", registration(email="bo@example.se"))
    response = visitor.post(confirmation_link(mail.outbox[1]))
    assert response.url == link
    response = visitor.post(link)
    assert response.status_code == 302
    bo = User.objects.get(username="bo@example.se")
    membership = Membership.objects.get(user=bo)
    assert (membership.status, membership.role) == ("pending", "signatory")
    assert visitor.post(link).status_code == 302  # he again: to the organisation, nothing new
    assert Membership.objects.filter(user=bo).count() == 1

    page = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert f'action="/portal/forening/personer/{membership.pk}/bekrafta/"' in page
    response = client.post(f"/portal/forening/personer/{membership.pk}/bekrafta/")
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "confirmed"
    assert "Bekräftad" in text(visitor.get("/portal/forening/"))


def test_a_used_or_expired_invitation_says_so(client, anna, fisksatra, eve, bo):
    invitation = services.invitation_create(
        organisation=fisksatra, by=anna, email="bo@example.se", site_url="http://testserver"
    )
    services.invitation_accept(token=invitation.token, by=bo)
    client.force_login(eve)
    response = client.get(f"/konto/inbjudan/{invitation.token}/")
    assert response.status_code == 410 and "redan använts" in text(response)

    later = services.invitation_create(
        organisation=fisksatra, by=anna, email="eve@example.se", site_url="http://testserver"
    )
    Invitation.objects.filter(pk=later.pk).update(created_at=timezone.now() - dt.timedelta(days=15))
    response = client.post(f"/konto/inbjudan/{later.token}/")
    assert response.status_code == 410 and "gick ut" in text(response)
    assert not Membership.objects.filter(user=eve).exists()
    assert client.get("/konto/inbjudan/gissat/").status_code == 404


def test_bo_cannot_confirm_himself(client, anna, fisksatra, bo):
    membership = factories.pending_member(bo, fisksatra)
    client.force_login(bo)
    assert client.post(f"/portal/forening/personer/{membership.pk}/bekrafta/").status_code == 404
    membership.refresh_from_db()
    assert membership.status == "pending"


def test_anna_declines_a_request(client, anna, fisksatra, bo):
    membership = factories.pending_member(bo, fisksatra)
    client.force_login(anna)
    page = text(client.get(f"/portal/forening/{fisksatra.pk}/"))
    assert "Avböj" in page
    assert client.get(f"/portal/forening/personer/{membership.pk}/avboj/").status_code == 405
    response = client.post(f"/portal/forening/personer/{membership.pk}/avboj/", follow=True)
    assert "Bo är avböjd." in text(response)
    assert not Membership.objects.filter(user=bo).exists()


def test_an_invitation_to_a_member_is_refused_at_the_field(client, anna, fisksatra):
    client.force_login(anna)
    response = client.post(
        f"/portal/forening/{fisksatra.pk}/bjud-in/", {"invite-email": "anna@example.se", "invite-role": "member"}
    )
    assert response.status_code == 400
    assert 'id="id_invite-email_error"' in text(response)
    assert not Invitation.objects.exists()


def test_the_organisation_page_costs_a_fixed_number_of_queries(
    client, anna, fisksatra, pdf_bytes, django_assert_max_num_queries
):
    for index in range(5):
        factories.pending_member(factories.user(f"person{index}"), fisksatra)
        services.organisation_file_add(
            organisation=fisksatra,
            by=anna,
            kind="statutes",
            upload=services.Upload("s.pdf", "application/pdf", pdf_bytes),
        )
    client.force_login(anna)
    with django_assert_max_num_queries(12):
        assert client.get(f"/portal/forening/{fisksatra.pk}/").status_code == 200


def test_the_administrator_sees_memberships_invitations_files_and_settings(client, anna, fisksatra, pdf_bytes):
    admin = User.objects.create_superuser("admin", "admin@kommun.example", "x")
    pending = factories.pending_member(factories.user("bo"), fisksatra)
    invitation = services.invitation_create(
        organisation=fisksatra, by=anna, email="cia@example.se", site_url="http://testserver"
    )
    services.organisation_file_add(
        organisation=fisksatra,
        by=anna,
        kind="statutes",
        upload=services.Upload("stadgar.pdf", "application/pdf", pdf_bytes),
    )
    ApplicantSettings.objects.create(user=anna)
    client.force_login(admin)
    for path in ("membership", "invitation", "applicantsettings"):
        assert client.get(f"/admin/grants/{path}/").status_code == 200
    assert client.get("/admin/grants/membership/?status__exact=pending").status_code == 200
    page = text(client.get(f"/admin/grants/invitation/{invitation.pk}/change/"))
    assert invitation.token not in page
    assert "stadgar.pdf" in text(client.get(f"/admin/grants/organisation/{fisksatra.pk}/change/"))
    response = client.post(
        f"/admin/grants/membership/{pending.pk}/change/",
        {"user": pending.user_id, "organisation": fisksatra.pk, "role": "member", "status": "confirmed"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_by) == ("confirmed", admin)


def test_someone_already_in_the_organisation_is_not_offered_to_join_it_again(client, anna, fisksatra, bo):
    invitation = services.invitation_create(
        organisation=fisksatra, by=anna, email="bo@example.se", site_url="http://testserver"
    )
    client.force_login(anna)  # the inviter opens her own link
    page = text(client.get(f"/konto/inbjudan/{invitation.token}/"))
    assert "Du är redan med i Fisksätra IF." in page and "Gå med i Fisksätra IF" not in page
    assert f'href="/portal/forening/{fisksatra.pk}/"' in page

    factories.pending_member(bo, fisksatra)
    client.force_login(bo)
    page = text(client.get(f"/konto/inbjudan/{invitation.token}/"))
    assert "väntar på bekräftelse" in page and "Gå med i Fisksätra IF" not in page
