"""Anna forgot her password: the reset link, sent by e-mail, works once and for an hour, and
the page answers the same whether or not an address has an account. Anna and Olle change
their passwords and stay signed in. Each new password leaves an audit row."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, override_settings

from grants.identity.models import SecurityEvent

pytestmark = pytest.mark.django_db

NEW = "Nytt-Losenord-i-Fisksatra-7"
RESET = "/konto/losenord/glomt/"


def reset_link(message):
    return re.search(r"http://testserver(/konto/losenord/nytt/\S+)", message.body).group(1)


def test_the_login_page_links_to_the_reset(client):
    assert f'href="{RESET}"' in client.get("/konto/logga-in/").content.decode()
    assert "Glömt lösenordet?" in client.get("/konto/logga-in/").content.decode()


def test_anna_resets_her_password_with_a_link_that_works_once(client, anna):
    response = client.post(RESET, {"email": "Anna@Example.se"})
    assert response.status_code == 302 and response.url == "/konto/losenord/glomt/skickat/"
    (message,) = mail.outbox
    assert message.to == ["anna@example.se"] and "nytt lösenord" in message.subject
    link = reset_link(message)
    form = client.get(link, follow=True)
    assert "Välj ett nytt lösenord" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response.url == "/konto/losenord/nytt/klart/"
    assert Client().login(username="anna", password=NEW)
    assert SecurityEvent.objects.filter(kind="password_reset", user=anna).count() == 1
    # The link is used up.
    again = Client().get(link, follow=True)
    assert "Länken fungerar inte längre" in again.content.decode()


def test_the_answer_is_the_same_for_an_address_without_an_account(client, anna):
    known = client.post(RESET, {"email": "anna@example.se"})
    unknown = Client().post(RESET, {"email": "nobody@example.se"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert [message.to for message in mail.outbox] == [["anna@example.se"]]


@override_settings(PASSWORD_RESET_TIMEOUT=3600)
def test_the_link_expires_after_an_hour(client, anna):
    client.post(RESET, {"email": "anna@example.se"})
    link = reset_link(mail.outbox[0])
    with mock.patch("django.contrib.auth.tokens.PasswordResetTokenGenerator._now") as now:
        now.return_value = dt.datetime.now() + dt.timedelta(hours=1, minutes=1)
        page = client.get(link, follow=True)
    assert "Länken fungerar inte längre" in page.content.decode()


@override_settings(RATE_LIMIT_PASSWORD_RESET="2/h")
def test_the_reset_is_limited_per_address_typed(anna):
    for number in range(2):
        assert (
            Client(REMOTE_ADDR=f"203.0.113.{number + 1}").post(RESET, {"email": "anna@example.se"}).status_code == 302
        )
    assert Client(REMOTE_ADDR="203.0.113.9").post(RESET, {"email": " ANNA@example.se"}).status_code == 429
    assert len(mail.outbox) == 2
    assert Client().post(RESET, {"email": "eve@example.se"}).status_code == 302  # another address still may


@pytest.mark.parametrize("who", ["anna", "olle"])
def test_a_password_is_changed_and_the_session_kept(client, who, request):
    person = request.getfixturevalue(who)
    client.force_login(person)
    if who == "anna":
        assert 'href="/konto/losenord/byt/"' in client.get("/portal/installningar/").content.decode()
    page = client.get("/konto/losenord/byt/")
    assert page.status_code == 200 and "Byt lösenord" in page.content.decode()
    response = client.post("/konto/losenord/byt/", {"old_password": "demo", "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response.url == "/konto/losenord/byt/klart/"
    assert client.get("/konto/losenord/byt/klart/").status_code == 200  # still signed in
    assert User.objects.get(pk=person.pk).check_password(NEW)
    assert SecurityEvent.objects.filter(kind="password_changed", user=person).count() == 1


def test_a_wrong_old_password_changes_nothing(client, anna):
    client.force_login(anna)
    response = client.post("/konto/losenord/byt/", {"old_password": "fel", "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 200
    assert 'class="error-summary"' in response.content.decode()
    assert User.objects.get(pk=anna.pk).check_password("demo")
    assert not SecurityEvent.objects.filter(kind="password_changed").exists()


def test_changing_the_password_needs_a_login(client):
    response = client.get("/konto/losenord/byt/")
    assert response.status_code == 302 and response.url.startswith("/konto/logga-in/")


@pytest.mark.parametrize(
    ("who", "url", "queries"),
    [
        (None, "/konto/logga-in/", 0),
        (None, RESET, 0),
        (None, "/konto/losenord/glomt/skickat/", 0),
        (None, "/konto/losenord/nytt/klart/", 0),
        ("anna", "/konto/losenord/byt/", 2),
        ("anna", "/konto/losenord/byt/klart/", 2),
        ("olle", "/konto/losenord/byt/", 2),
    ],
)
def test_the_password_pages_cost_a_fixed_number_of_queries(
    client, who, url, queries, request, django_assert_num_queries
):
    if who:
        client.force_login(request.getfixturevalue(who))
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_the_reset_link_page_costs_a_fixed_number_of_queries(client, anna, django_assert_num_queries):
    client.post(RESET, {"email": "anna@example.se"})
    form = client.get(reset_link(mail.outbox[0]))  # Django moves the token into the session
    with django_assert_num_queries(2):
        assert client.get(form.url).status_code == 200
