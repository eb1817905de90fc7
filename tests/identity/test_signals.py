"""Every password sign-in, failed sign-in and sign-out leaves an audit row, from the portal's
login and the admin's alike; sign-ins by e-legitimation or single sign-on are recorded by
their own views, not twice here."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client

from grants.identity.models import SecurityEvent
from grants.identity.session import EID_BACKEND, SSO_BACKEND

pytestmark = pytest.mark.django_db

Kind = SecurityEvent.Kind


def test_a_password_sign_in_is_recorded_with_where_from(anna):
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox")
    assert client.post("/konto/logga-in/", {"username": "Anna", "password": "demo"}).status_code == 302
    event = SecurityEvent.objects.get(kind=Kind.SIGN_IN)
    assert (event.user, event.address, event.user_agent, event.details) == (
        anna,
        "198.51.100.7",
        "Firefox",
        {"method": "password"},
    )


def test_a_failed_sign_in_records_what_was_typed_but_never_the_password(anna):
    client = Client(REMOTE_ADDR="198.51.100.8")
    assert client.post("/admin/login/", {"username": "anna@example.se", "password": "hemligt-1"}).status_code == 200
    event = SecurityEvent.objects.get(kind=Kind.SIGN_IN_FAILED)
    assert (event.user, event.identifier, event.address) == (None, "anna@example.se", "198.51.100.8")
    assert "hemligt-1" not in str(SecurityEvent.objects.values_list().get())
    assert not SecurityEvent.objects.filter(kind=Kind.SIGN_IN).exists()


def test_signing_out_is_recorded(client, anna):
    client.force_login(anna)
    client.post("/konto/logga-ut/")
    assert SecurityEvent.objects.filter(kind=Kind.SIGN_OUT, user=anna).count() == 1


@pytest.mark.parametrize(
    ("backend", "rows"), [(EID_BACKEND, 0), (SSO_BACKEND, 0), ("config.auth.EmailOrUsernameBackend", 1)]
)
def test_sign_ins_by_e_legitimation_or_single_sign_on_are_left_to_their_own_views(rf, anna, backend, rows):
    from django.contrib.auth.signals import user_logged_in
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/", REMOTE_ADDR="192.0.2.1")
    request.session = SessionStore()
    request.session[BACKEND_SESSION_KEY] = backend
    user_logged_in.send(sender=type(anna), request=request, user=anna)
    assert SecurityEvent.objects.filter(kind=Kind.SIGN_IN).count() == rows
