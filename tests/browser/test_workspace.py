"""Olle's work list (/staff/arenden/): he lands there after signing in; no axe violation,
no sideways scrolling at 1280 and 320 px, <html lang="sv">, with results, searched and empty."""

import pytest

from tests.workflows.test_workspace import submitted

from .conftest import DESKTOP, checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [DESKTOP["width"], 320])
def test_olles_work_list(page, anna, olle, fisksatra, inclusion_call, width):
    case = submitted(inclusion_call, fisksatra, anna, title="Läxhjälp för barn", amount=45000)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "olle")
    page.wait_for_url("**/staff/arenden/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("link", name=case.case_number).count() == 1
    checked(page)
    page.get_by_label("Sök ärende").fill("802412-1231")
    page.get_by_role("button", name="Visa").click()
    assert page.get_by_role("link", name=case.case_number).count() == 1
    checked(page)
    page.get_by_label("Sök ärende").fill("finns inte")
    page.get_by_role("button", name="Visa").click()
    assert "Inga ärenden i urvalet" in page.content()
    checked(page)
