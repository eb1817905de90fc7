"""Signing in at the test OpenID Connect provider in Chromium (tests/oidc): Anna signs in
with e-legitimation and links it to her password account; Olle signs in by single sign-on
and lands in his queue. The new pages (login, the link page, the settings with
e-legitimation) pass axe-core and do not scroll sideways at 320 px."""

import pytest
from django.contrib.auth.models import Group

from grants.identity.models import Identity, SecurityEvent, StaffRoleMapping
from tests import factories
from tests.oidc import provider_running

from .conftest import checked

pytestmark = pytest.mark.django_db(transaction=True)

NARROW = {"width": 320, "height": 640}


@pytest.fixture
def provider(live_server, settings):
    with provider_running([live_server.url]) as provider:
        provider.settings(settings)
        yield provider


def at_the_provider(page, account):
    """The provider's development login (the account's id as login) and its consent."""
    page.wait_for_url(lambda url: "/interaction/" in url)
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if "/interaction/" in page.url:  # the consent page
        page.locator("button[type=submit]").click()


@pytest.mark.parametrize("width", [NARROW, None], ids=["320px", "desktop"])
def test_anna_signs_in_with_e_legitimation_and_links_her_account(page, provider, width):
    anna = factories.user("anna", first_name="Anna")
    if width:
        page.set_viewport_size(width)
    page.goto("/konto/logga-in/")
    checked(page)
    page.get_by_role("button", name="Logga in med e-legitimation (BankID, Freja eID+)").click()
    at_the_provider(page, "anna")
    page.wait_for_url("**/konto/e-legitimation/koppla/")
    assert "19850312-9283" in page.content()
    checked(page)
    page.get_by_label("E-postadress eller användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill("demo")
    page.get_by_role("button", name="Logga in och koppla").click()
    page.wait_for_load_state()
    assert Identity.objects.get(provider="eid").user == anna
    page.goto("/portal/installningar/")
    assert "19850312-9283" in page.content()  # whole, to her, in her own session
    checked(page)
    assert SecurityEvent.objects.filter(kind="sign_in", user=anna, details__method="eid").exists()


def test_olle_signs_in_by_single_sign_on_and_lands_on_his_work_list(page, provider):
    StaffRoleMapping.objects.create(claim_value="grp-handlaggare", group=Group.objects.get(name="Handläggare"))
    page.goto("/konto/logga-in/")
    page.get_by_role("button", name="Personal: logga in med kommunens konto").click()
    at_the_provider(page, "olle")
    page.wait_for_url("**/staff/arenden/**")
    # His work list, not a login or 403; a mapping without committees gives him none yet, and
    # the page says so rather than showing an empty list without a reason.
    assert page.get_by_role("heading", level=1).inner_text() == "Mitt arbete"
    assert "Du arbetar inte för någon nämnd än" in page.content()


def test_a_staff_member_without_a_role_gets_a_page_that_says_so(page, provider):
    page.set_viewport_size(NARROW)
    page.goto("/konto/logga-in/")
    page.get_by_role("button", name="Personal: logga in med kommunens konto").click()
    at_the_provider(page, "nobody")
    page.wait_for_url("**/konto/personal/tillbaka/**")
    assert "ger ingen roll i bidragssystemet" in page.content()
    checked(page)


def test_anna_signed_in_with_e_legitimation_submits_for_her_verified_association_only(page, provider):
    """The issue's journey: Anna signs in with e-legitimation, links it to her account and
    submits her verified association's application; her unverified one's draft cannot be
    submitted, and the check page says why."""
    from grants.models import Application

    anna = factories.user("anna", first_name="Anna")
    verified = factories.association(members=[anna])
    unverified = factories.unverified_association(members=[anna])
    call = factories.call(factories.programme("inkludering"))
    ready = factories.draft(call, verified, anna, amount="30000", budget="30000", start_in_days=30)
    waiting = factories.draft(call, unverified, anna, amount="30000", budget="30000", start_in_days=30)

    page.goto("/konto/logga-in/")
    page.get_by_role("button", name="Logga in med e-legitimation (BankID, Freja eID+)").click()
    at_the_provider(page, "anna")
    page.wait_for_url("**/konto/e-legitimation/koppla/")
    page.get_by_label("E-postadress eller användarnamn").fill("anna")
    page.get_by_label("Lösenord").fill("demo")
    page.get_by_role("button", name="Logga in och koppla").click()
    page.wait_for_load_state()

    page.goto(f"/portal/ansokningar/{waiting.pk}/steg/granska/")
    assert "Föreningen är inte verifierad av kommunen än." in page.get_by_role("main").inner_text()
    assert page.get_by_role("button", name="Skicka in ansökan").count() == 0
    checked(page)

    page.goto(f"/portal/ansokningar/{ready.pk}/steg/granska/")
    page.get_by_role("button", name="Skicka in ansökan").click()
    page.wait_for_load_state()
    ready.refresh_from_db()
    waiting.refresh_from_db()
    assert ready.status == "submitted" and ready.case_number
    assert waiting.status == Application.Status.DRAFT and not waiting.case_number
    assert Identity.objects.get(provider="eid").user == anna
