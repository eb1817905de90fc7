"""Anna invited the wrong address, or Bo should not join after all: she withdraws the
invitation on Fisksätra IF's page and its link stops working. Eve cannot, nor can a
pending member, and an invitation already taken up stays."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from grants.models import Invitation, Membership
from grants.services import organisations as services

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def bo(db):
    return factories.user("bo", first_name="Bo")


@pytest.fixture
def invitation(anna, fisksatra):
    return services.invitation_create(
        organisation=fisksatra, by=anna, email="bo@example.se", site_url="http://testserver"
    )


def withdraw_url(invitation):
    return f"/portal/forening/inbjudningar/{invitation.pk}/dra-tillbaka/"


def test_anna_withdraws_an_invitation_and_its_link_stops_working(client, anna, bo, fisksatra, invitation):
    client.force_login(anna)
    page = client.get(f"/portal/forening/{fisksatra.pk}/").content.decode()
    form = re.search(
        rf'<form method="post" action="{re.escape(withdraw_url(invitation))}"[^>]*>(.*?)</form>', page, re.S
    )
    assert form and "csrfmiddlewaretoken" in form.group(1)
    assert re.sub(r"<[^>]+>", "", form.group(1)).split() == ["Dra", "tillbaka", "inbjudan", "bo@example.se"]

    response = client.post(withdraw_url(invitation), follow=True)
    page = response.content.decode()
    assert "Inbjudan till bo@example.se är tillbakadragen." in page
    assert withdraw_url(invitation) not in page
    assert not Invitation.objects.filter(pk=invitation.pk).exists()

    link = f"/konto/inbjudan/{invitation.token}/"
    visitor = Client()
    visitor.force_login(bo)
    assert visitor.get(link).status_code == 404
    assert visitor.post(link).status_code == 404
    with pytest.raises(ValidationError):
        services.invitation_accept(token=invitation.token, by=bo)
    assert not Membership.objects.filter(user=bo).exists()


def test_eve_cannot_withdraw_fisksatras_invitation(client, eve, invitation):
    client.force_login(eve)
    assert client.post(withdraw_url(invitation)).status_code == 404
    with pytest.raises(PermissionDenied):
        services.invitation_withdraw(invitation, by=eve)
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_a_pending_member_cannot_withdraw(client, eve, fisksatra, invitation):
    factories.pending_member(eve, fisksatra)
    client.force_login(eve)
    assert client.post(withdraw_url(invitation)).status_code == 404
    with pytest.raises(PermissionDenied):
        services.invitation_withdraw(invitation, by=eve)
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_an_accepted_invitation_is_not_withdrawn(client, anna, bo, fisksatra, invitation):
    services.invitation_accept(token=invitation.token, by=bo)
    client.force_login(anna)
    response = client.post(withdraw_url(invitation), follow=True)
    assert "har redan tackat ja till inbjudan" in response.content.decode()
    assert Invitation.objects.filter(pk=invitation.pk, accepted_by=bo).exists()
    assert Membership.objects.filter(user=bo, status="pending").exists()


def test_withdrawing_twice_says_it_is_gone(client, anna, invitation):
    client.force_login(anna)
    client.post(withdraw_url(invitation))
    assert client.post(withdraw_url(invitation)).status_code == 404
    with pytest.raises(ValidationError, match="finns inte längre"):
        services.invitation_withdraw(invitation, by=anna)


def test_withdrawing_needs_a_post(client, anna, invitation):
    client.force_login(anna)
    assert client.get(withdraw_url(invitation)).status_code == 405
    assert Invitation.objects.filter(pk=invitation.pk).exists()
