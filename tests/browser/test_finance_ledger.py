"""Fia's Bokföring page and the claims found by OCR: no axe violation and no horizontal
scrolling at 320 px."""

import pytest

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_ledger_page_and_a_claim_found_by_ocr(page, anna, olle, fia, fisksatra, inclusion_call):
    from grants.models import RepaymentClaim
    from tests.workflows.test_repayment_claims import rejected

    claim = rejected(inclusion_call, fisksatra, anna, olle, fia)
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, "fia")
    page.goto("/staff/utbetalningar/bokforingsfiler/")
    checked(page)
    page.get_by_role("button", name="Skapa bokföringsfil").click()
    assert page.get_by_role("link", name="Hämta BOK-").count() == 1
    checked(page)
    page.goto("/staff/utbetalningar/aterkrav/")
    page.get_by_label("Sök OCR-nummer eller diarienummer").fill(RepaymentClaim.objects.get(pk=claim.pk).ocr)
    page.get_by_role("button", name="Visa").click()
    assert page.locator(f"#claim-{claim.pk}").is_visible()
    checked(page)
