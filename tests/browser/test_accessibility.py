"""axe-core finds no WCAG 2.1 A/AA violation on the portal's pages, logged out and in,
at desktop and mobile widths."""

import pytest

from .conftest import MOBILE, axe_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_page_has_no_violations(page):
    page.goto("/konto/logga-in/")
    assert page.get_by_role("heading", level=1).count() == 1
    assert axe_violations(page) == []


def test_login_errors_are_announced_and_accessible(page):
    page.goto("/konto/logga-in/")
    page.get_by_label("Användarnamn").fill("nobody")
    page.get_by_label("Lösenord").fill("wrong")
    page.get_by_role("button", name="Logga in").click()
    assert "Fel användarnamn eller lösenord" in page.get_by_role("alert").inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_applicant_pages_have_no_violations(page, anna, fisksatra, inclusion_call, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    log_in(page, "anna")
    page.goto("/portal/")
    assert page.get_by_role("heading", name="Mina ansökningar").is_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Ansök om projektbidrag för inkludering").click()
    assert axe_violations(page) == []
    # Submitting the empty form shows the errors at the fields: still no violations.
    page.get_by_role("button", name="Spara och fortsätt").click()
    assert axe_violations(page) == []


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_public_pages_have_no_violations(page, viewport):
    from tests import factories

    programme = factories.programme("inkludering", what_to_attach="Stadgar", priority_areas=["Barn och unga"])
    factories.call(programme)
    if viewport:
        page.set_viewport_size(viewport)
    page.goto("/bidrag/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Projektbidrag för inkludering").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Projektbidrag för inkludering"
    assert axe_violations(page) == []
    page.get_by_role("link", name="Testa om ni kan söka").click()
    page.get_by_role("button", name="Visa svaret").click()  # nothing answered: errors
    assert page.get_by_role("alert").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("Nej").check()
    page.get_by_role("button", name="Visa svaret").click()
    assert "medsökande förening" in page.get_by_role("status").inner_text()
    assert axe_violations(page) == []
    page.goto("/tillganglighet/")
    assert axe_violations(page) == []


def test_annual_report_page_has_no_violations(page, anna, olle, kim, fisksatra, inclusion_call):
    from tests import factories

    factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    factories.user("lena", role="Ledning")
    log_in(page, "lena")
    page.goto("/staff/arsrapport/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Årsrapport")
    assert page.locator("svg.chart").count() >= 3
    assert axe_violations(page) == []
    page.goto("/staff/arsrapport/?year=abc")  # a bad filter: the errors are accessible too
    assert axe_violations(page) == []


def _to_english(page):
    page.get_by_role("button", name="In English").click()
    assert page.locator('html[lang="en"]').count() == 1


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_public_pages_in_english_have_no_violations(page, viewport):
    from tests import factories

    programme = factories.programme("inkludering", what_to_attach="Stadgar", priority_areas=["Barn och unga"])
    factories.call(programme)
    if viewport:
        page.set_viewport_size(viewport)
    page.goto("/bidrag/")
    _to_english(page)  # the switcher brings her back to the page she was on, in English
    assert page.get_by_role("heading", level=1).inner_text() == "Grants to apply for"
    assert axe_violations(page) == []
    page.get_by_role("link", name="Projektbidrag för inkludering").click()
    assert page.locator('html[lang="en"]').count() == 1
    assert axe_violations(page) == []
    page.get_by_role("link", name="Check whether you can apply").click()
    page.get_by_role("button", name="Show the answer").click()  # nothing answered: errors
    assert page.get_by_role("alert").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("No").check()
    page.get_by_role("button", name="Show the answer").click()
    assert "co-applicant association" in page.get_by_role("status").inner_text()
    assert axe_violations(page) == []
    page.goto("/tillganglighet/")
    assert page.get_by_role("heading", level=1).inner_text() == "Accessibility statement"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send").click()  # nothing filled in: errors
    assert axe_violations(page) == []


def test_login_page_in_english_has_no_violations(page):
    page.goto("/konto/logga-in/")
    _to_english(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    assert axe_violations(page) == []
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert "Wrong username or password" in page.get_by_role("alert").inner_text()
    assert page.locator('html[lang="en"]').count() == 1
    assert axe_violations(page) == []


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_settings_page_has_no_violations_in_either_language(page, anna, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    log_in(page, "anna")
    page.goto("/portal/installningar/")
    assert page.get_by_role("heading", level=1).inner_text() == "Inställningar"
    assert axe_violations(page) == []
    page.get_by_label("English").check()
    page.get_by_role("button", name="Spara inställningarna").click()
    assert page.locator('html[lang="en"]').count() == 1
    assert page.get_by_role("heading", level=1).inner_text() == "Settings"
    assert "Your settings have been saved." in page.get_by_role("status").inner_text()
    assert axe_violations(page) == []
