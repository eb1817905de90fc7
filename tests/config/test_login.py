"""Logging in: people who registered with their e-mail address type it as they remember it,
in any case; the login page says what to type and leads to registration and the catalogue.
(The backend is config/auth.py.)"""

import pytest
from django.contrib.auth import authenticate
from django.urls import reverse

from grants.services import organisations
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/konto/logga-in/"


def log_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_a_registered_person_logs_in_with_their_address_in_any_case(client):
    sara = organisations.account_register(
        name="Sara Lind",
        email="Sara.Lind@Example.se",
        password="ett långt lösen",
        language="sv",
        site_url="http://testserver",
    )
    assert sara.username == "sara.lind@example.se"
    response = log_in(client, "  SARA.LIND@example.SE ", "ett långt lösen")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(sara.pk)


def test_an_older_account_logs_in_with_its_username_in_any_case_or_its_address(client, anna):
    assert authenticate(username="ANNA", password="demo") == anna
    assert authenticate(username="Anna@Example.SE", password="demo") == anna  # anna@example.se


def test_an_address_two_accounts_share_logs_in_neither_by_address(client, anna):
    factories.user("anna2", email="anna@example.se")
    assert authenticate(username="anna@example.se", password="demo") is None
    assert authenticate(username="anna", password="demo") == anna


def test_an_inactive_account_does_not_log_in(anna):
    anna.is_active = False
    anna.save()
    assert authenticate(username="ANNA", password="demo") is None


def test_a_wrong_password_fails_with_the_swedish_message(client, anna):
    response = log_in(client, "Anna", "fel")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Fel användarnamn eller lösenord. Försök igen." in page
    assert 'value="Anna"' in page  # what she typed stays in the field


def test_the_page_asks_for_the_address_and_links_to_registration_and_the_catalogue(client):
    page = client.get(LOGIN + "?next=/portal/forening/").content.decode()
    assert '<label for="id_username">E-postadress eller användarnamn</label>' in page
    assert f'<a href="{reverse("accounts:register")}?next=/portal/forening/">Skapa konto</a>' in page
    assert f'<a href="{reverse("catalogue:list")}">Bidrag att söka</a>' in page


def test_the_english_page_says_email_address_or_username(client):
    client.cookies["django_language"] = "en"
    page = client.get(LOGIN).content.decode()
    assert '<html lang="en">' in page
    assert "Email address or username" in page
    assert "Create account" in page


@pytest.mark.real_hashers
def test_passwords_are_hashed_with_argon2_and_an_old_pbkdf2_hash_is_upgraded_at_sign_in(client):
    from django.contrib.auth.hashers import make_password

    new = factories.user("ny")
    assert new.password.startswith("argon2$argon2id$")
    old = factories.user("gammal")
    old.password = make_password("demo", hasher="pbkdf2_sha256")
    old.save(update_fields=["password"])

    assert log_in(client, "gammal", "fel lösenord").status_code == 200
    old.refresh_from_db()
    assert old.password.startswith("pbkdf2_sha256$")  # a failed sign-in changes nothing
    assert log_in(client, "gammal", "demo").status_code == 302
    old.refresh_from_db()
    assert old.password.startswith("argon2$argon2id$")
    client.logout()
    assert log_in(client, "gammal", "demo").status_code == 302  # and still signs in
