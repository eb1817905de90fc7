"""axe-core finds no WCAG 2.1 A/AA violation on the follow-up report page: the participants
table and the financial statement, empty, with errors, and saved; keyboard users reach every
cell by its label."""

import pytest

from grants.models import FollowUpReport

from .. import factories
from .conftest import MOBILE, axe_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_the_report_page_has_no_violations(page, anna, olle, fia, fisksatra, inclusion_call, viewport):
    inclusion_call.programme.follow_up_parts = ["participants_by_age_gender", "sessions", "financial_statement"]
    inclusion_call.programme.save()
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    if viewport:
        page.set_viewport_size(viewport)
    log_in(page, "anna")
    page.goto("/portal/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=f"Återrapport för {application.title}").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Återrapport")
    assert axe_violations(page) == []

    # Every cell of the table is reached by its label.
    page.get_by_label("Deltagare 7–12 år, flickor/kvinnor").fill("12")
    page.get_by_label("Utfall för Ledararvoden (kr)").fill("-5")
    page.get_by_role("button", name="Skicka in återrapporten").click()
    page.get_by_role("heading", name="Återrapporten är inte inskickad").wait_for()
    assert axe_violations(page) == []

    page.get_by_label("Utfall för Ledararvoden (kr)").fill("45000")
    page.get_by_label("Vad genomfördes?").fill("Läxhjälp varje vecka.")
    page.get_by_role("button", name="Spara och fortsätt senare").click()
    page.get_by_text("Återrapporten är sparad men inte inskickad").wait_for()
    assert page.get_by_label("Utfall för Ledararvoden (kr)").input_value() == "45 000"
    assert FollowUpReport.objects.get(application=application).status == "due"
    # Coming back later (the saved page, without the flash message above it).
    page.reload()
    assert page.get_by_label("Vad genomfördes?").input_value() == "Läxhjälp varje vecka."
    assert axe_violations(page) == []
