"""Bo registers with an address and must show it is his before he acts for an association:
the link sent to it works once, for EMAIL_CONFIRMATION_DAYS days, only for that address.
Until then every page that acts for an association sends him to "Bekräfta din e-postadress",
and the services refuse too. Staff count as confirmed."""

import re
import time
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import reverse

from grants import access
from grants.identity.models import ConfirmedEmail, SecurityEvent
from grants.models import Membership
from grants.services import apply
from grants.services import organisations as services

from .test_bad_input import make_draft

pytestmark = pytest.mark.django_db

PASSWORD = "Gr0na-Blad-i-Fisksatra"
NEEDED = "/konto/bekrafta-e-post/"


@pytest.fixture
def bo(db, django_capture_on_commit_callbacks):
    """Bo has registered but not yet followed the link."""
    with django_capture_on_commit_callbacks(execute=True):
        services.account_register(
            name="Bo Berg", email="bo@example.se", password=PASSWORD, language="sv", site_url="http://testserver"
        )
    return User.objects.get(username="bo@example.se")


def link_in(message):
    return re.search(r"http://testserver(/konto/bekrafta-e-post/\S+)", message.body).group(1)


def bo_client(bo):
    client = Client()
    client.force_login(bo)
    return client


def test_a_new_account_is_not_confirmed_and_the_cast_is(bo, anna, olle):
    assert not access.email_confirmed(bo)
    assert access.email_confirmed(anna)
    ConfirmedEmail.objects.filter(user=olle).delete()
    assert access.email_confirmed(User.objects.get(pk=olle.pk))  # staff count as confirmed


@pytest.mark.parametrize("url", ["/portal/forening/ny/", "/portal/forening/ny-grupp/", "/portal/forening/ga-med/"])
def test_acting_for_an_association_waits_for_the_confirmation(bo, url):
    response = bo_client(bo).get(url)
    assert response.status_code == 302 and response.url == f"{NEEDED}?next={url.replace('/', '%2F')}"


def test_every_application_page_waits_for_the_confirmation(bo, fisksatra, anna, inclusion_call):
    Membership.objects.create(user=bo, organisation=fisksatra, role="member", status="confirmed")
    draft = make_draft(inclusion_call, fisksatra, anna)
    client = bo_client(bo)
    for url in (
        f"/portal/utlysningar/{inclusion_call.pk}/ansok/",
        f"/portal/ansokningar/{draft.pk}/andra/",
        f"/portal/ansokningar/{draft.pk}/steg/granska/",
        f"/portal/ansokningar/{draft.pk}/ata-tillbaka/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(NEEDED), url
    response = client.post(f"/portal/ansokningar/{draft.pk}/skicka-in/")
    assert response.status_code == 302 and response.url.startswith(NEEDED)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_services_refuse_too(bo, anna, fisksatra, inclusion_call):
    with pytest.raises(PermissionDenied, match="Bekräfta din e-postadress"):
        services.organisation_create(by=bo, kind="association", name="Bos IF", org_number="802412-1249")
    with pytest.raises(PermissionDenied, match="Bekräfta din e-postadress"):
        services.membership_request(by=bo, org_number=fisksatra.org_number)
    invitation = services.invitation_create(
        organisation=fisksatra, by=anna, email="bo@example.se", site_url="http://testserver"
    )
    with pytest.raises(PermissionDenied, match="Bekräfta din e-postadress"):
        services.invitation_accept(token=invitation.token, by=bo)
    Membership.objects.create(user=bo, organisation=fisksatra, role="signatory", status="confirmed")
    draft = make_draft(inclusion_call, fisksatra, anna)
    with pytest.raises(PermissionDenied, match="Bekräfta din e-postadress"):
        apply.application_submit(application=draft, by=bo)
    assert not Membership.objects.filter(user=bo).exclude(organisation=fisksatra).exists()


def test_accepting_an_invitation_waits_for_the_confirmation(bo, anna, fisksatra):
    invitation = services.invitation_create(
        organisation=fisksatra, by=anna, email="bo@example.se", site_url="http://testserver"
    )
    response = bo_client(bo).post(f"/konto/inbjudan/{invitation.token}/")
    assert response.status_code == 302 and response.url.startswith(NEEDED)
    assert not Membership.objects.filter(user=bo).exists()


def test_the_link_confirms_signs_in_and_works_once(bo):
    link = link_in(mail.outbox[0])
    client = Client()
    response = client.post(link)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == bo.pk
    assert access.email_confirmed(User.objects.get(pk=bo.pk))
    assert SecurityEvent.objects.filter(kind="email_confirmed", user=bo).count() == 1
    again = Client().post(link)
    assert again.status_code == 400 and "Länken är redan använd" in again.content.decode()
    assert "_auth_user_id" not in again.wsgi_request.session


def test_the_link_does_not_switch_who_is_signed_in(bo, eve):
    client = Client()
    client.force_login(eve)
    client.post(link_in(mail.outbox[0]))
    assert int(client.session["_auth_user_id"]) == eve.pk
    assert access.email_confirmed(User.objects.get(pk=bo.pk))


@override_settings(EMAIL_CONFIRMATION_DAYS=3)
def test_the_link_expires(bo):
    link = link_in(mail.outbox[0])
    later = time.time() + 3 * 24 * 3600 + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = Client().post(link)
    assert response.status_code == 400 and "Länken har gått ut" in response.content.decode()
    assert not ConfirmedEmail.objects.filter(user=bo).exists()


def test_a_changed_address_is_unconfirmed_until_its_own_link(anna, django_capture_on_commit_callbacks):
    anna.email = "anna.ny@example.se"
    anna.save()
    anna = User.objects.get(pk=anna.pk)
    assert not access.email_confirmed(anna)
    client = Client()
    client.force_login(anna)
    assert client.get("/portal/forening/ny/").url.startswith(NEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEEDED, {"next": "/portal/forening/ny/"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["anna.ny@example.se"]
    assert client.post(link_in(message)).url == "/portal/forening/ny/"
    assert access.email_confirmed(User.objects.get(pk=anna.pk))


def test_a_link_to_an_older_address_does_not_confirm_the_new_one(bo):
    link = link_in(mail.outbox[0])
    User.objects.filter(pk=bo.pk).update(email="bo.ny@example.se")
    response = Client().post(link)
    assert response.status_code == 400
    assert not access.email_confirmed(User.objects.get(pk=bo.pk))


def test_a_tampered_link_is_refused(bo):
    link = link_in(mail.outbox[0])
    response = Client().post(link[:-3] + "xyz/")
    assert response.status_code == 400 and "Länken fungerar inte" in response.content.decode()


@override_settings(RATE_LIMIT_CONFIRMATION_EMAIL="2/h")
def test_the_page_sends_the_link_again_within_a_limit(bo, django_capture_on_commit_callbacks):
    client = bo_client(bo)
    page = client.get(NEEDED).content.decode()
    assert "Bekräfta din e-postadress" in page and "Skicka länken igen" in page
    for _attempt in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(NEEDED).status_code == 302
    assert client.post(NEEDED).status_code == 429
    assert len(mail.outbox) == 3  # the first, and two sent again
    # Each of the links sent works (the first one used makes the others used).
    assert client.post(link_in(mail.outbox[2])).status_code == 302


def test_a_confirmed_person_is_sent_on_from_the_page(client, anna):
    client.force_login(anna)
    response = client.get(f"{NEEDED}?next=/portal/forening/ny/")
    assert response.url == "/portal/forening/ny/"
    assert reverse("accounts:email_needed") == NEEDED


@pytest.mark.parametrize(
    ("who", "url", "queries"),
    [
        (None, "/konto/registrera/kolla-din-e-post/", 0),
        ("bo", NEEDED, 5),
        (None, "link", 0),
    ],
)
def test_the_confirmation_pages_cost_a_fixed_number_of_queries(
    client, bo, who, url, queries, django_assert_num_queries
):
    if who:
        client.force_login(bo)
    url = link_in(mail.outbox[0]) if url == "link" else url
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
