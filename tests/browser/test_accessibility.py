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
    page.get_by_role("button", name="Spara utkast").click()
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
