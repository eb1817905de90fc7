"""Verifying associations at a phone's 320 px (WCAG 1.4.10), with axe: Olle's list with a
new association and a claim, and a refusal without a reason; Anna's association page while
it waits and after the refusal; the registration form with its evidence."""

import pytest

from grants.files import Upload
from grants.services import organisations
from tests import factories

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVIDENCE = {
    "statutes": Upload("stadgarna-for-saltsjobadens-sportklubb-antagna-2024.pdf", "application/pdf", PDF),
    "annual_meeting_minutes": Upload("arsmotesprotokoll-2025.pdf", "application/pdf", PDF),
}


def test_olle_verifies_and_refuses_at_320_px(page, anna, olle, fisksatra):
    club = organisations.organisation_create(
        by=anna, kind="association", name="Saltsjöbadens sportklubb", org_number="802420-1231", evidence=EVIDENCE
    )
    organisations.organisation_update(organisation=club, by=anna, board=factories.BOARD)
    bo = factories.user("bo", first_name="Bo")
    organisations.organisation_create(
        by=bo, kind="association", name="Fisksätra IF", org_number=fisksatra.org_number, evidence=EVIDENCE
    )
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, "olle")
    page.goto("/staff/foreningar/")
    main = checked(page).get_by_role("main").inner_text()
    assert "Saltsjöbadens sportklubb" in main and "Anspråk på registrerade föreningar" in main
    page.get_by_role("button", name="Verifiera inte Saltsjöbadens sportklubb").click()
    assert "Skriv skälet" in checked(page).get_by_role("main").inner_text()
    page.locator(f"#id_org-{club.pk}-reason").fill("Protokollet visar inte vem som tecknar firman.")
    page.get_by_role("button", name="Verifiera inte Saltsjöbadens sportklubb").click()
    assert "är inte verifierad" in checked(page).get_by_role("main").inner_text()

    page.context.clear_cookies()
    log_in(page, "anna")
    page.goto(f"/portal/forening/{club.pk}/")
    assert "Protokollet visar inte vem som tecknar firman." in checked(page).get_by_role("main").inner_text()


def test_anna_registers_with_evidence_and_waits_at_320_px(page, anna, tmp_path):
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, "anna")
    page.goto("/portal/forening/ny/")
    page.get_by_role("button", name="Skapa förening").click()
    assert "Ladda upp föreningens stadgar." in checked(page).get_by_role("main").inner_text()
    statutes, minutes = tmp_path / "stadgar.pdf", tmp_path / "arsmote.pdf"
    statutes.write_bytes(PDF)
    minutes.write_bytes(PDF)
    page.get_by_label("Föreningens namn").fill("Saltsjöbadens sportklubb")
    page.get_by_label("Organisationsnummer").fill("802420-1231")
    page.get_by_label("Stadgar (PDF, PNG eller JPEG)").set_input_files(str(statutes))
    page.get_by_label("Senaste årsmötesprotokollet (PDF, PNG eller JPEG)").set_input_files(str(minutes))
    page.get_by_role("button", name="Skapa förening").click()
    main = checked(page).get_by_role("main").inner_text()
    assert "Väntar på att kommunen verifierar föreningen" in main and "stadgar.pdf" in main
