"""Someone hammers the public forms: registration, invitations, the accessibility barrier
report, and the login with guessed passwords. Past the limit they get 429 and a page telling
them to wait, and nothing is sent or created. The limits are settings, set low here."""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, override_settings

from grants.models import Invitation

from .. import factories
from .test_settings import assert_refused, start

pytestmark = pytest.mark.django_db

TOO_MANY = "För många försök. Vänta en stund och försök igen."
PASSWORD = "Gr0na-Blad-i-Fisksatra"


def registration(email):
    return {"name": "Bo Berg", "email": email, "password1": PASSWORD, "password2": PASSWORD, "consent": "on"}


def assert_too_many(response):
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert int(response["Retry-After"]) > 0


@override_settings(RATE_LIMIT_REGISTRATION="2/h")
def test_the_third_registration_from_one_address_is_refused():
    for number in (1, 2):
        assert Client().post("/konto/registrera/", registration(f"bo{number}@example.se")).status_code == 302
    assert_too_many(Client().post("/konto/registrera/", registration("bo3@example.se")))
    assert not User.objects.filter(email="bo3@example.se").exists()
    # Another address still may; looking at the form is never counted.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.get("/konto/registrera/").status_code == 200
    assert other.post("/konto/registrera/", registration("bo4@example.se")).status_code == 302
    assert Client().get("/konto/registrera/").status_code == 200


@override_settings(RATE_LIMIT_REGISTRATION="1/h")
def test_the_refusal_page_is_in_the_language_chosen(settings):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post("/konto/registrera/", registration("bo1@example.se"))
    response = client.post("/konto/registrera/", registration("bo2@example.se"))
    assert response.status_code == 429
    page = response.content.decode()
    assert '<html lang="en">' in page and "Too many attempts. Please wait a moment and try again." in page


@override_settings(RATE_LIMIT_REGISTRATION="2/h", RATE_LIMIT_CLIENT_IP_HEADER="X-Forwarded-For")
def test_behind_a_proxy_each_visitor_counts_on_their_own():
    def via_proxy(visitor, email):
        return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {visitor}").post(
            "/konto/registrera/", registration(email)
        )

    assert via_proxy("198.51.100.1", "a1@example.se").status_code == 302
    assert via_proxy("198.51.100.1", "a2@example.se").status_code == 302
    assert via_proxy("198.51.100.1", "a3@example.se").status_code == 429
    assert via_proxy("198.51.100.2", "b1@example.se").status_code == 302


@override_settings(RATE_LIMIT_INVITATIONS="2/h")
def test_the_third_invitation_in_an_hour_is_refused_and_not_sent(
    client, anna, fisksatra, django_capture_on_commit_callbacks
):
    client.force_login(anna)
    url = f"/portal/forening/{fisksatra.pk}/bjud-in/"
    with django_capture_on_commit_callbacks(execute=True):
        for number in (1, 2):
            assert (
                client.post(url, {"invite-email": f"bo{number}@example.se", "invite-role": "member"}).status_code == 302
            )
        assert_too_many(client.post(url, {"invite-email": "bo3@example.se", "invite-role": "member"}))
    assert [message.to for message in mail.outbox] == [["bo1@example.se"], ["bo2@example.se"]]
    assert Invitation.objects.count() == 2
    # The limit is Anna's own: Bo, from the same address, still may.
    bo = factories.user("bo")
    fisksatra.memberships.create(user=bo)
    client.force_login(bo)
    assert client.post(url, {"invite-email": "cia@example.se", "invite-role": "member"}).status_code == 302


@override_settings(RATE_LIMIT_BARRIER_REPORTS="1/h")
def test_the_second_barrier_report_is_refused_and_not_sent(client):
    report = {"page": "Registrera konto", "description": "Knappen går inte att nå med tangentbordet."}
    assert client.post("/tillganglighet/", report).status_code == 302
    assert_too_many(client.post("/tillganglighet/", report))
    assert len(mail.outbox) == 1
    assert client.get("/tillganglighet/").status_code == 200


@override_settings(RATE_LIMIT_LOGIN_FAILURES="2/15m")
def test_after_two_failed_logins_the_third_attempt_is_refused(client, anna):
    url = "/konto/logga-in/"
    assert client.post(url, {"username": "anna", "password": "demo"}).status_code == 302  # success: not counted
    client.logout()
    for _attempt in (1, 2):
        assert client.post(url, {"username": "anna", "password": "gissat"}).status_code == 200
    # Now even the right password is not tried, from this address.
    assert_too_many(client.post(url, {"username": "anna", "password": "demo"}))
    assert "_auth_user_id" not in client.session
    assert client.get(url).status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").post(url, {"username": "anna", "password": "demo"}).status_code == 302


@override_settings(RATE_LIMIT_REGISTRATION="")
def test_off_means_no_limit():
    for number in range(5):
        assert Client().post("/konto/registrera/", registration(f"bo{number}@example.se")).status_code == 302


class BrokenCache(LocMemCache):
    """A cache server that does not answer."""

    def add(self, *args, **kwargs):
        raise ConnectionError("the cache is down")

    def incr(self, *args, **kwargs):
        raise ConnectionError("the cache is down")


@override_settings(
    RATE_LIMIT_REGISTRATION="1/h", CACHES={"default": {"BACKEND": f"{__name__}.BrokenCache", "LOCATION": "broken"}}
)
def test_a_cache_that_is_down_leaves_the_forms_open(caplog):
    for number in (1, 2):
        assert Client().post("/konto/registrera/", registration(f"bo{number}@example.se")).status_code == 302
    assert "could not be counted" in caplog.text


@pytest.mark.parametrize("value", ["many", "10", "0/h", "10/w"])
def test_a_malformed_limit_stops_start_up(tmp_path, value):
    assert_refused(start(tmp_path, RATE_LIMIT_REGISTRATION=value), "RATE_LIMIT_REGISTRATION")


def test_a_cache_url_that_is_not_redis_stops_start_up(tmp_path):
    assert_refused(start(tmp_path, CACHE_URL="memcached://cache:11211"), "CACHE_URL")


@override_settings(RATE_LIMIT_LOGIN_FAILURES="2/15m")
def test_the_admins_login_counts_failures_too(client):
    User.objects.create_superuser("admin", "admin@example.org", "demo")
    for _attempt in (1, 2):
        assert client.post("/admin/login/", {"username": "admin", "password": "gissat"}).status_code == 200
    assert_too_many(client.post("/admin/login/", {"username": "admin", "password": "demo"}))
    assert "_auth_user_id" not in client.session
    # The portal's login shares the count: it is the same address guessing.
    assert_too_many(client.post("/konto/logga-in/", {"username": "admin", "password": "demo"}))


@override_settings(RATE_LIMIT_LOGIN_FAILURES="2/15m", RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS="100/15m")
def test_one_person_failing_at_the_office_does_not_lock_out_a_colleague_there(anna, eve):
    office = "198.51.100.20"
    guesser = Client(REMOTE_ADDR=office)
    for _attempt in range(3):
        guesser.post("/konto/logga-in/", {"username": "eve", "password": "glomt"})
    assert_too_many(guesser.post("/konto/logga-in/", {"username": "eve", "password": "demo"}))
    colleague = Client(REMOTE_ADDR=office)
    assert colleague.post("/konto/logga-in/", {"username": "anna", "password": "demo"}).status_code == 302
    assert Client(REMOTE_ADDR=office).post("/admin/login/", {"username": "Anna ", "password": "x"}).status_code == 200


@override_settings(RATE_LIMIT_LOGIN_FAILURES="5/15m", RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT="3/h")
def test_one_account_guessed_from_many_addresses_is_stopped(anna):
    for number in range(3):
        client = Client(REMOTE_ADDR=f"203.0.113.{number + 1}")
        assert client.post("/konto/logga-in/", {"username": "ANNA", "password": "gissat"}).status_code == 200
    # A fourth address, even with the right password: the account waits, whatever the case typed.
    assert_too_many(
        Client(REMOTE_ADDR="203.0.113.99").post("/konto/logga-in/", {"username": "anna", "password": "demo"})
    )
    # It counts for addresses that have no account as well, so guessing tells nothing.
    for number in range(3):
        Client(REMOTE_ADDR=f"203.0.113.{number + 1}").post(
            "/admin/login/", {"username": "nobody@example.se", "password": "x"}
        )
    assert_too_many(
        Client(REMOTE_ADDR="203.0.113.50").post("/konto/logga-in/", {"username": "nobody@example.se", "password": "x"})
    )


@override_settings(RATE_LIMIT_LOGIN_FAILURES="5/15m", RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS="3/15m")
def test_the_ceiling_per_address_still_holds(anna):
    client = Client(REMOTE_ADDR="192.0.2.44")
    for number in range(3):
        assert client.post("/konto/logga-in/", {"username": f"person{number}", "password": "x"}).status_code == 200
    assert_too_many(client.post("/konto/logga-in/", {"username": "anna", "password": "demo"}))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "name, value", [("EMAIL_CONFIRMATION_DAYS", "0"), ("PASSWORD_RESET_TIMEOUT", "5"), ("EMAIL_CONFIRMATION_DAYS", "x")]
)
def test_a_link_lifetime_that_makes_no_sense_stops_start_up(tmp_path, name, value):
    assert_refused(start(tmp_path, **{name: value}), name)


@pytest.mark.parametrize("value", ["many", "0/h"])
def test_a_malformed_login_limit_stops_start_up(tmp_path, value):
    assert_refused(
        start(tmp_path, RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT=value), "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT"
    )
