"""A membership changed in the admin is in the audit trail like one changed in the portal:
the person, the administrator who did it, and what it was before and after."""

import pytest

from grants.identity.models import SecurityEvent
from grants.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def membership_events():
    return list(SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MEMBERSHIP_CHANGE).order_by("pk"))


def test_a_role_changed_on_the_membership_page_is_audited(admin_client, admin_user, anna, fisksatra):
    membership = Membership.objects.get(user=anna, organisation=fisksatra)
    before = f"{membership.status}:{membership.role}"
    response = admin_client.post(
        f"/admin/grants/membership/{membership.pk}/change/",
        {"user": anna.pk, "organisation": fisksatra.pk, "role": "treasurer", "status": "confirmed"},
    )
    assert response.status_code == 302, response.content
    (event,) = membership_events()
    assert event.user == anna and event.actor == admin_user
    assert event.details["from"] == before and event.details["to"] == "confirmed:treasurer"
    assert event.details["change"] == "admin: changed"


def test_a_membership_deleted_in_the_admin_is_audited(admin_client, admin_user, anna, fisksatra):
    membership = Membership.objects.get(user=anna, organisation=fisksatra)
    response = admin_client.post(f"/admin/grants/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    (event,) = membership_events()
    assert event.user == anna and event.actor == admin_user and event.details["to"] == "removed"


def test_a_member_added_on_the_association_page_is_audited(admin_client, admin_user, anna, fisksatra):
    bo = factories.user("bo")
    membership = Membership.objects.get(user=anna, organisation=fisksatra)
    page = admin_client.get(f"/admin/grants/organisation/{fisksatra.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-organisation": fisksatra.pk,
            "memberships-0-user": anna.pk,
            "memberships-0-role": membership.role,
            "memberships-0-status": membership.status,
            "memberships-1-organisation": fisksatra.pk,
            "memberships-1-user": bo.pk,
            "memberships-1-role": "member",
            "memberships-1-status": "confirmed",
            "files-TOTAL_FORMS": "0",
            "files-INITIAL_FORMS": "0",
        }
    )
    data["board"] = "[]"
    registered = data.pop("registered_at")  # the admin's split date and time inputs
    data.update({"registered_at_0": f"{registered:%Y-%m-%d}", "registered_at_1": f"{registered:%H:%M:%S}"})
    response = admin_client.post(f"/admin/grants/organisation/{fisksatra.pk}/change/", data)
    assert response.status_code == 302, page.context and response.context["adminform"].form.errors
    (event,) = membership_events()
    assert event.user == bo and event.actor == admin_user
    assert event.details["change"] == "admin: created" and event.details["to"] == "confirmed:member"
