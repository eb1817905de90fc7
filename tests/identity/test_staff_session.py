"""A staff member's session ends after STAFF_SESSION_IDLE_MINUTES without a request and
STAFF_SESSION_MAX_HOURS after sign-in, with a message and an audit row; an applicant's does not."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from grants.identity.middleware import SESSION_KEY
from grants.identity.models import SecurityEvent

pytestmark = pytest.mark.django_db

QUEUE = "/staff/cases/grant/queue/"


def later(**delta):
    """timezone.now() moved forward, as the middleware sees it."""
    return mock.patch("grants.identity.middleware.timezone.now", return_value=timezone.now() + dt.timedelta(**delta))


def expired_rows(user):
    return SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSION_EXPIRED, user=user)


def test_idle_staff_session_ends(client, olle):
    client.force_login(olle)
    assert client.get(QUEUE).status_code == 200
    with later(minutes=29):
        assert client.get(QUEUE).status_code == 200  # activity: the idle clock starts again
    with later(minutes=29 + 29):
        assert client.get(QUEUE).status_code == 200
    with later(minutes=29 + 29 + 31):
        response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"] == "/konto/logga-in/?next=/staff/cases/grant/queue/"
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Du har loggats ut efter 30 minuter utan aktivitet. Logga in igen."
    ]
    assert "_auth_user_id" not in client.session
    row = expired_rows(olle).get()
    assert row.details["reason"] == "idle"
    after = client.get(QUEUE)
    assert after.status_code != 200, after.status_code


def test_staff_session_ends_after_the_absolute_time_however_active(client, olle, settings):
    settings.STAFF_SESSION_MAX_HOURS = 10
    client.force_login(olle)
    for minutes in range(20, 10 * 60, 20):
        with later(minutes=minutes):
            assert client.get(QUEUE).status_code == 200, minutes
    with later(hours=10, minutes=1):
        response = client.get(QUEUE)
    assert response["Location"].startswith("/konto/logga-in/")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Du har loggats ut efter 10 timmar. Logga in igen."
    ]
    assert expired_rows(olle).get().details["reason"] == "absolute"


def test_limits_are_settings(client, olle, settings):
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    client.force_login(olle)
    with later(minutes=6):
        assert client.get(QUEUE)["Location"].startswith("/konto/logga-in/")


def test_an_applicants_session_is_left_alone(client, anna):
    client.force_login(anna)
    with later(hours=48):
        assert client.get("/portal/").status_code == 200
    assert not expired_rows(anna).exists()


def test_activity_is_written_at_most_once_a_minute(client, olle):
    """A request within the minute leaves the session as it was (no save on every request)."""
    client.force_login(olle)
    client.get(QUEUE)
    seen = client.session[SESSION_KEY]["seen"]
    with later(seconds=30):
        client.get(QUEUE)
    assert client.session[SESSION_KEY]["seen"] == seen
    with later(seconds=90):
        client.get(QUEUE)
    assert client.session[SESSION_KEY]["seen"] > seen


def test_a_session_from_before_the_limits_gets_them(client, olle):
    client.force_login(olle)
    session = client.session
    del session[SESSION_KEY]
    session.save()
    client.get(QUEUE)
    assert client.session[SESSION_KEY]["staff"] is True
    with later(minutes=31):
        assert client.get(QUEUE)["Location"].startswith("/konto/logga-in/")
