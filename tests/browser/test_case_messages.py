"""Messages in the browser, with axe and at 1280 and 320 px (WCAG 1.4.10): Anna reads Olle's
message with its file on her case page and answers with a file of her own (an empty message is
refused with the error summary); Olle's internal note is nowhere on her page. Olle chooses the
daily digest on his settings page."""

import pytest

from grants.files import Upload
from grants.services import apply, assess
from grants.services import messages as service
from tests import factories

from .conftest import DESKTOP, checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_anna_reads_and_answers_at_1280_and_320_px(page, anna, olle, fisksatra, inclusion_call, tmp_path):
    case = apply.application_submit(application=factories.draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completeness_confirm(application=case, by=olle)
    service.message_send(
        application=case,
        by=olle,
        body="Hej! Kan ni skicka deltagarlistan från höstterminen? Den behövs för bedömningen.",
        files=[Upload("mall-for-deltagarlista-hostterminen-2026-fisksatra.pdf", "application/pdf", PDF)],
    )
    service.note_add(application=case, by=olle, body="Ringde ordföranden, hon skickar listan i veckan.")
    log_in(page, "anna")
    page.goto(f"/portal/ansokningar/{case.pk}/")
    assert page.evaluate("document.documentElement.lang") == "sv"
    main = checked(page).get_by_role("main").inner_text()
    assert "deltagarlistan från höstterminen" in main and "Nytt" in main
    assert "Ringde ordföranden" not in main and "Intern anteckning" not in main

    page.set_viewport_size({"width": 320, "height": 740})
    page.get_by_role("button", name="Skicka meddelandet").click()
    assert "Något behöver rättas" in checked(page).get_by_role("main").inner_text()

    answer = tmp_path / "deltagarlista.pdf"
    answer.write_bytes(PDF)
    page.get_by_label("Meddelande", exact=True).fill("Här är listan.")
    page.get_by_label("Bifoga filer (valfritt)").set_input_files(str(answer))
    page.get_by_role("button", name="Skicka meddelandet").click()
    main = checked(page).get_by_role("main").inner_text()
    assert "Meddelandet är skickat" in main and "deltagarlista.pdf" in main
    page.set_viewport_size(DESKTOP)
    checked(page)


def test_olle_chooses_the_daily_digest_at_1280_and_320_px(page, olle):
    log_in(page, "olle")
    page.goto("/staff/installningar/")
    assert page.evaluate("document.documentElement.lang") == "sv"
    checked(page)
    page.set_viewport_size({"width": 320, "height": 740})
    page.get_by_label("En sammanfattning per dag").check()
    page.get_by_role("button", name="Spara inställningarna").click()
    assert "Dina inställningar är sparade" in checked(page).get_by_role("main").inner_text()
    assert page.get_by_label("En sammanfattning per dag").is_checked()
