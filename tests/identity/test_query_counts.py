"""The new pages cost a fixed number of queries: the login page with both sign-ins, the
page that links an e-legitimation to an account, and the settings with e-legitimation."""

import time

import pytest

from grants.identity.accounts import personnummer_key
from grants.identity.models import Identity
from grants.identity.session import EID_BACKEND
from grants.identity.views import PENDING, PERSONNUMMER
from tests.oidc import ANNA_PERSONNUMMER


@pytest.fixture
def configured(settings, db):
    settings.OIDC_EID_ISSUER, settings.OIDC_EID_CLIENT_ID, settings.OIDC_EID_CLIENT_SECRET = "http://x", "eid", "s"
    settings.OIDC_STAFF_ISSUER, settings.OIDC_STAFF_CLIENT_ID, settings.OIDC_STAFF_CLIENT_SECRET = "http://x", "s", "s"


def test_the_login_page(client, configured, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/konto/logga-in/").status_code == 200


def test_the_link_page(client, configured, django_assert_num_queries):
    session = client.session
    session[PENDING] = {"personnummer": ANNA_PERSONNUMMER, "given_name": "A", "family_name": "B", "at": time.time()}
    session.save()
    with django_assert_num_queries(1):  # the session
        assert client.get("/konto/e-legitimation/koppla/").status_code == 200


def test_the_settings_with_e_legitimation(client, configured, anna, django_assert_num_queries):
    Identity.objects.create(user=anna, provider="eid", key=personnummer_key(ANNA_PERSONNUMMER), display="x")
    client.force_login(anna, backend=EID_BACKEND)
    session = client.session
    session[PERSONNUMMER] = ANNA_PERSONNUMMER
    session.save()
    with django_assert_num_queries(4):  # session, user, settings, the link
        page = client.get("/portal/installningar/").content.decode()
    assert "19850312-9283" in page


def test_the_refusal_page(client, oidc_settings, django_assert_num_queries):
    with django_assert_num_queries(1):  # the audit row
        response = client.get("/konto/e-legitimation/tillbaka/?code=x&state=never-issued")
    assert response.status_code == 400
