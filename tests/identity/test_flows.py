"""Signing in through the real redirect flow against the test provider: Django's test client
is our side, requests the browser at the provider. Anna with e-legitimation (known, unknown,
linked to her password account, a new account); Olle by single sign-on with his roles from
the group mapping; a group that gives no role is refused."""

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail

from grants import access
from grants.identity.accounts import personnummer_key
from grants.identity.models import Identity, SecurityEvent, StaffRoleMapping
from grants.identity.session import EID, SSO, signed_in_with
from tests import factories
from tests.oidc import ANNA_PERSONNUMMER, path_of, sign_in_at_provider

Kind = SecurityEvent.Kind


def eid_sign_in(client, account="anna"):
    started = client.post("/konto/e-legitimation/")
    assert started.status_code == 302, started.content
    return client.get(path_of(sign_in_at_provider(started["Location"], account)))


def staff_sign_in(client, account="olle"):
    started = client.post("/konto/personal/")
    assert started.status_code == 302, started.content
    return client.get(path_of(sign_in_at_provider(started["Location"], account)))


def signed_in_user(client):
    return client.session.get("_auth_user_id")


def test_the_login_page_offers_both_when_configured(client, oidc_settings):
    page = client.get("/konto/logga-in/").content.decode()
    assert "Logga in med e-legitimation (BankID, Freja eID+)" in page
    assert "Personal: logga in med kommunens konto" in page


def test_the_login_page_hides_them_when_not_configured(client, db):
    page = client.get("/konto/logga-in/").content.decode()
    assert "e-legitimation" not in page
    assert client.post("/konto/e-legitimation/").status_code == 404


def test_anna_with_a_linked_e_legitimation_is_signed_in(client, oidc_settings, anna):
    Identity.objects.create(user=anna, provider="eid", key=personnummer_key(ANNA_PERSONNUMMER), display="x")
    response = eid_sign_in(client)
    assert response.status_code == 302
    assert signed_in_user(client) == str(anna.pk)
    assert client.session["_auth_user_backend"] == "grants.identity.backends.EidBackend"
    event = SecurityEvent.objects.get(kind=Kind.SIGN_IN)
    assert (event.user, event.details) == (anna, {"method": "eid"})
    # Her settings show her number whole, to her only.
    page = client.get("/portal/installningar/").content.decode()
    assert "19850312-9283" in page


def test_an_unknown_e_legitimation_is_linked_to_the_password_account(client, oidc_settings, anna):
    response = eid_sign_in(client)
    assert response["Location"] == "/konto/e-legitimation/koppla/"
    assert signed_in_user(client) is None
    page = client.get("/konto/e-legitimation/koppla/").content.decode()
    assert "19850312-9283" in page
    response = client.post(
        "/konto/e-legitimation/koppla/",
        {"action": "password", "password-username": "anna", "password-password": "demo"},
    )
    assert response.status_code == 302, response.content.decode()
    identity = Identity.objects.get(provider="eid")
    assert identity.user == anna
    assert identity.key == personnummer_key(ANNA_PERSONNUMMER)
    assert identity.display == "19850312-****"
    assert ANNA_PERSONNUMMER not in str(list(Identity.objects.values()))
    assert signed_in_user(client) == str(anna.pk)
    assert SecurityEvent.objects.filter(kind=Kind.IDENTITY_LINKED, user=anna).count() == 1


def test_a_wrong_password_links_nothing(client, oidc_settings, anna):
    eid_sign_in(client)
    response = client.post(
        "/konto/e-legitimation/koppla/",
        {"action": "password", "password-username": "anna", "password-password": "fel"},
    )
    assert response.status_code == 400
    assert "Fel användarnamn eller lösenord" in response.content.decode()
    assert not Identity.objects.exists()
    assert signed_in_user(client) is None


def test_an_unknown_e_legitimation_makes_a_new_account(client, oidc_settings, django_capture_on_commit_callbacks):
    eid_sign_in(client)
    page = client.get("/konto/e-legitimation/koppla/").content.decode()
    assert 'value="Anna"' in page and 'value="Andersson"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/konto/e-legitimation/koppla/",
            {
                "action": "create",
                "account-first_name": "Anna",
                "account-last_name": "Andersson",
                "account-email": "anna.andersson@example.se",
            },
        )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(email="anna.andersson@example.se")
    # The address typed is hers once she follows the link sent to it (issue 14, accounts).
    assert not access.email_confirmed(user)
    assert [message.to for message in mail.outbox] == [["anna.andersson@example.se"]]
    assert not user.has_usable_password()
    assert user.identities.get().provider == "eid"
    assert signed_in_user(client) == str(user.pk)


def test_the_link_page_waits_ten_minutes_only(client, oidc_settings, anna, monkeypatch):
    eid_sign_in(client)
    session = client.session
    session["identity_eid_pending"]["at"] -= 11 * 60
    session.save()
    response = client.post(
        "/konto/e-legitimation/koppla/",
        {"action": "password", "password-username": "anna", "password-password": "demo"},
    )
    assert response["Location"] == "/konto/logga-in/"
    assert not Identity.objects.exists()


def test_anna_links_e_legitimation_from_her_settings_and_unlinks_it(client, oidc_settings, anna):
    client.force_login(anna, backend="config.auth.EmailOrUsernameBackend")
    assert "Koppla e-legitimation" in client.get("/portal/installningar/").content.decode()
    started = client.post("/konto/e-legitimation/", {"purpose": "link"})
    response = client.get(path_of(sign_in_at_provider(started["Location"], "anna")))
    assert response["Location"] == "/portal/installningar/"
    assert anna.identities.get().display == "19850312-****"
    page = client.get("/portal/installningar/").content.decode()
    # Signed in with a password: the number is shown masked.
    assert "19850312-****" in page and "9283" not in page
    client.post("/konto/e-legitimation/ta-bort/")
    assert not anna.identities.exists()


def test_an_e_legitimation_linked_to_another_account_is_refused(client, oidc_settings, anna, eve):
    Identity.objects.create(user=eve, provider="eid", key=personnummer_key(ANNA_PERSONNUMMER), display="x")
    client.force_login(anna, backend="config.auth.EmailOrUsernameBackend")
    started = client.post("/konto/e-legitimation/", {"purpose": "link"})
    response = client.get(path_of(sign_in_at_provider(started["Location"], "anna")))
    assert response.status_code == 400
    assert "redan kopplad till ett annat konto" in response.content.decode()
    assert 'href="/portal/installningar/"' in response.content.decode()  # the way back
    assert Identity.objects.get().user == eve


def test_a_token_without_a_personnummer_is_refused(client, oidc_settings):
    response = eid_sign_in(client, "nonumber")
    assert response.status_code == 400
    assert "Inloggningen misslyckades" in response.content.decode()
    assert not Identity.objects.exists()
    assert SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).count() == 1


@pytest.fixture
def role_mapping(db):
    StaffRoleMapping.objects.create(claim_value="grp-handlaggare", group=Group.objects.get(name="Handläggare"))


def test_olle_signs_in_by_sso_with_the_mapped_role(client, oidc_settings, role_mapping):
    response = staff_sign_in(client)
    assert response.status_code == 302
    user = User.objects.get(identities__provider="staff", identities__key="olle")
    assert user.username == "olle.sso"
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["Handläggare"]
    assert not user.is_staff
    assert client.session["_auth_user_backend"] == "grants.identity.backends.StaffSsoBackend"
    change = SecurityEvent.objects.get(kind=Kind.ROLE_CHANGE)
    assert change.details["from"] == [] and change.details["to"] == ["Handläggare"]
    assert SecurityEvent.objects.get(kind=Kind.SIGN_IN).details == {"method": "sso"}
    # Staff land in their queue: "/" routes them on.
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith("/staff/")


def test_roles_follow_the_groups_at_every_sign_in(client, oidc_settings, role_mapping):
    staff_sign_in(client)
    user = User.objects.get(identities__provider="staff")
    other = Group.objects.create(name="Nyhetsbrev")
    user.groups.add(Group.objects.get(name="Beslutsfattare"), other)
    client.logout()
    staff_sign_in(client)
    assert sorted(user.groups.values_list("name", flat=True)) == ["Handläggare", "Nyhetsbrev"]
    last = SecurityEvent.objects.filter(kind=Kind.ROLE_CHANGE).first()
    assert last.details["from"] == ["Beslutsfattare", "Handläggare"] and last.details["to"] == ["Handläggare"]


def test_the_administrator_role_opens_the_admin(client, oidc_settings):
    StaffRoleMapping.objects.create(claim_value="grp-handlaggare", group=Group.objects.get(name="Systemförvaltare"))
    staff_sign_in(client)
    assert User.objects.get(identities__provider="staff").is_staff


def test_groups_that_give_no_role_are_refused(client, oidc_settings, role_mapping):
    response = staff_sign_in(client, "nobody")
    assert response.status_code == 403
    assert "ger ingen roll i bidragssystemet" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="nobody").exists()
    assert SecurityEvent.objects.get(kind=Kind.SIGN_IN_FAILED).details["reason"].startswith("no role")


def test_a_local_account_of_the_same_name_is_not_taken_over(client, oidc_settings, role_mapping):
    local = factories.user("olle.sso", first_name="Olle")
    staff_sign_in(client)
    user = User.objects.get(identities__provider="staff")
    assert user != local and user.username == "olle.sso-2"


def test_how_the_session_signed_in(rf, client, oidc_settings, anna, role_mapping):
    Identity.objects.create(user=anna, provider="eid", key=personnummer_key(ANNA_PERSONNUMMER), display="x")
    eid_sign_in(client)
    request = rf.get("/")
    request.session, request.user = client.session, anna
    assert signed_in_with(request) == EID
    client.logout()
    staff_sign_in(client)
    request.session, request.user = client.session, User.objects.get(identities__provider="staff")
    assert signed_in_with(request) == SSO


def test_the_provider_is_asked_with_pkce_state_and_nonce(client, oidc_settings):
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(client.post("/konto/e-legitimation/")["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert query["client_id"] == ["eid"] and query["scope"] == ["openid profile"]


def test_the_start_is_a_post_only(client, oidc_settings):
    """A link cannot start it: the form's CSRF token is needed (no sign-in forced on someone)."""
    assert client.get("/konto/e-legitimation/").status_code == 405
    csrf_client = type(client)(enforce_csrf_checks=True)
    assert csrf_client.post("/konto/e-legitimation/").status_code == 403


@pytest.mark.parametrize(
    "next_, lands",
    [("/staff/foreningar/", "/staff/foreningar/"), ("https://elsewhere.example/", "/"), ("", "/")],
    ids=["a page here", "another site", "none"],
)
def test_the_login_pages_next_is_followed_after_the_provider(client, oidc_settings, role_mapping, next_, lands):
    """Olle followed a link to a staff page and was sent to the login page: after single
    sign-on he lands on that page, not in his queue; a `next` to another site is dropped."""
    started = client.post("/konto/personal/", {"next": next_})
    response = client.get(path_of(sign_in_at_provider(started["Location"], "olle")))
    assert response.status_code == 302 and response["Location"] == lands
