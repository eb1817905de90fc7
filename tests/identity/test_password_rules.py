"""The municipality may close password sign-in: for applicants (APPLICANT_PASSWORD_LOGIN,
who then use e-legitimation) and for staff (STAFF_PASSWORD_LOGIN, who then use the
municipality's single sign-on), at the portal's login and the admin's. The OpenID Connect
backends take no password at all."""

import pytest
from django.contrib.auth import authenticate

from grants.identity.backends import EidBackend, StaffSsoBackend

pytestmark = pytest.mark.django_db

LOGIN = "/konto/logga-in/"


def log_in(client, username, url=LOGIN):
    return client.post(url, {"username": username, "password": "demo"})


def test_applicants_may_not_use_passwords_when_closed(client, settings, anna, olle):
    settings.APPLICANT_PASSWORD_LOGIN = False
    assert "Sökande loggar in med e-legitimation" in client.get(LOGIN).content.decode()
    assert log_in(client, "anna").status_code == 200
    assert "_auth_user_id" not in client.session
    assert authenticate(username="anna@example.se", password="demo") is None
    assert log_in(client, "olle").status_code == 302  # staff still may


def test_staff_may_not_use_passwords_when_closed(client, settings, anna, olle):
    settings.STAFF_PASSWORD_LOGIN = False
    assert log_in(client, "olle").status_code == 200
    assert "_auth_user_id" not in client.session
    olle.is_staff = True
    olle.save()
    response = log_in(client, "olle", url="/admin/login/")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert log_in(client, "anna").status_code == 302  # applicants still may


def test_the_admin_flag_alone_counts_as_staff(client, settings, eve):
    settings.STAFF_PASSWORD_LOGIN = False
    eve.is_staff = True
    eve.save()
    assert log_in(client, "eve", url="/admin/login/").status_code == 200


@pytest.mark.parametrize("backend", [EidBackend, StaffSsoBackend])
def test_the_oidc_backends_take_no_password(backend, anna):
    assert backend().authenticate(None, username="anna", password="demo") is None
    assert backend().get_user(anna.pk) == anna


def test_registration_with_a_password_is_closed_when_applicants_use_e_legitimation_only(client, settings):
    """With APPLICANT_PASSWORD_LOGIN off a password account could never sign in: the
    registration page leads to the login page instead, and nothing is created."""
    from django.contrib.auth.models import User

    settings.APPLICANT_PASSWORD_LOGIN = False
    form = {
        "name": "Bo Berg",
        "email": "bo@example.se",
        "password1": "ett långt lösenord 42",
        "password2": "ett långt lösenord 42",
    }
    response = client.post("/konto/registrera/", form, follow=True)
    assert response.redirect_chain[-1][0].endswith("/konto/logga-in/")
    assert "logga in med e-legitimation första gången" in response.content.decode()
    assert not User.objects.filter(email="bo@example.se").exists()
