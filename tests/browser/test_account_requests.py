"""Finance's pages on the associations' bank accounts at a phone's 320 px (WCAG 1.4.10):
no axe violation and nothing wider than the screen, with a pending request that another
association's account collides with, a refusal without a reason, and the attestation list
that shows each payee's new account."""

import pytest

from grants.models import Membership
from grants.services import payee_accounts
from tests import factories

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_reviews_a_requested_account_at_320_px(page, anna, fisksatra, olle, fia, inclusion_call):
    factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    bengt = factories.user("bengt", first_name="Bengt")
    scout = factories.association(
        "Saltsjöbadens scoutkår",
        org_number="802437-4962",
        bankgiro="5123-4771",
        members=[bengt],
        role=Membership.Role.TREASURER,
    )
    # Fisksätra IF's new plusgiro is approved; the scouts then ask for the same one.
    payee_accounts.account_change_approve(
        request=payee_accounts.account_change_request(
            organisation=fisksatra, by=anna, bank_account=("plusgiro", "4711-8")
        ),
        by=fia,
    )
    payee_accounts.account_change_request(organisation=scout, by=bengt, bank_account=("plusgiro", "4711-8"))
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, "fia")
    page.goto("/staff/utbetalningar/konton/")
    assert "också registrerat för Fisksätra IF" in checked(page).get_by_role("main").inner_text()
    page.get_by_role("button", name="Avslå begäran för Saltsjöbadens scoutkår").click()
    assert "Skriv varför kontot inte godkänns" in checked(page).get_by_role("main").inner_text()
    page.goto("/staff/utbetalningar/")
    assert "Nytt konto" in checked(page).get_by_role("main").inner_text()
