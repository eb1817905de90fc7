"""The issue's whole story in one go, in Chromium, as a visitor with no account lives it:
the catalogue, the programme's page, the eligibility check, registration and the link that
confirms the address, the association with its statutes and minutes (verified by the
officer), its profile (address, board, bankgiro), the application's steps with the
programme's own question and a file, "check your answers", and the receipt. axe-core finds
no WCAG 2.1 A/AA violation on any page on the way, and no page is wider than the screen, at
desktop and mobile widths."""

import re

import pytest

from grants.models import Application, Document, Organisation
from grants.services import organisations

from .conftest import DESKTOP, MOBILE, checked
from .test_registration import confirmation_link, register

pytestmark = pytest.mark.django_db(transaction=True)


def status(page):
    return page.get_by_role("status").first.inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
def test_a_visitor_goes_from_the_catalogue_to_a_receipt(
    browser, live_server, viewport, inclusion_call, pdf_bytes, olle
):
    programme = inclusion_call.programme
    programme.min_members = 10
    programme.eligibility_questions = [
        {
            "question": "Bedriver ni verksamhet i kommunen?",
            "answer": "ja",
            "otherwise": "Bidraget går bara till verksamhet i kommunen.",
        }
    ]
    programme.application_questions = [{"key": "meeting_place", "label": "Var träffas ni?", "type": "text"}]
    programme.save()
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="sv-SE")
    page = context.new_page()

    # The catalogue and the programme's page, without logging in.
    page.goto("/bidrag/")
    checked(page).get_by_role("link", name="Projektbidrag för inkludering").click()
    checked(page).get_by_role("link", name="Testa om ni kan söka").click()

    # The eligibility check: a registered association of 25 members, active in the municipality.
    checked(page)
    page.locator("fieldset", has_text="registrerad förening").get_by_label("Ja").check()
    page.get_by_label("Hur många medlemmar har föreningen?").fill("25")
    page.locator("fieldset", has_text="Bedriver ni verksamhet i kommunen?").get_by_label("Ja").check()
    page.get_by_role("button", name="Visa svaret").click()
    assert "Ja, ni kan söka" in status(page)
    checked(page).get_by_role("link", name="Skapa konto").click()

    # Registration, then the association's profile.
    checked(page)
    register(page, "Anna Andersson", "Anna@Fisksatraif.se")
    assert page.get_by_role("heading", level=1).inner_text() == "Kolla din e-post"
    page.goto(confirmation_link("Anna@fisksatraif.se"))  # the domain in lower case, as it is kept
    checked(page).get_by_role("button", name="Bekräfta e-postadressen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Min förening"
    checked(page).get_by_role("link", name="Skapa förening").click()
    checked(page)
    page.get_by_label("Föreningens namn").fill("Fisksätra IF")
    page.get_by_label("Organisationsnummer").fill("802412-1231")
    page.get_by_label("Stadgar (PDF, PNG eller JPEG)").set_input_files(
        {"name": "stadgar.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}
    )
    page.get_by_label("Senaste årsmötesprotokollet (PDF, PNG eller JPEG)").set_input_files(
        {"name": "arsmote.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}
    )
    page.get_by_role("button", name="Skapa förening").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Fisksätra IF"
    checked(page)
    page.get_by_label("Utdelningsadress").fill("Fisksätravägen 1")
    page.get_by_label("Postnummer").fill("133 41")
    page.get_by_label("Postort").fill("Saltsjöbaden")
    page.get_by_role("button", name="Spara uppgifterna").click()
    assert "Uppgifterna är sparade." in status(page)
    for row, (name, role) in enumerate(
        [("Anna Andersson", "ordförande"), ("Bo Berg", "kassör"), ("Cia Ek", "sekreterare")], start=1
    ):
        page.get_by_label(f"Namn, rad {row}").fill(name)
        page.get_by_label(f"Roll, rad {row}").fill(role)
    page.get_by_role("button", name="Spara styrelsen").click()
    assert "Styrelsen är sparad." in status(page)
    page.get_by_label("Bankgiro", exact=True).check()
    page.get_by_label("Kontonummer").fill("5050-1055")
    page.get_by_role("button", name="Begär ändringen").click()
    assert "Ändringen av bankkontot är begärd" in status(page)
    checked(page)
    # The officer verifies the association from its statutes and minutes (the staff list's work).
    organisations.association_verify(organisation=Organisation.objects.get(org_number="802412-1231"), by=olle)

    # Back to the programme, now logged in: to the application.
    page.goto("/bidrag/")
    page.get_by_role("link", name="Projektbidrag för inkludering").click()
    page.get_by_role("link", name="Logga in och ansök").click()
    checked(page).get_by_role("link", name="Ansök om projektbidrag för inkludering").click()

    # 1. Sökande och projekt.
    checked(page)
    page.get_by_label("Projektnamn eller rubrik").fill("Läxhjälp och fotboll")
    page.get_by_label("Beskrivning: vad vill ni göra, för vilka och varför?").fill(
        "Läxhjälp en timme, sedan fotboll, två kvällar i veckan."
    )
    page.get_by_label("Periodens början").fill("2026-08-25")
    page.get_by_label("Periodens slut").fill("2026-12-20")
    page.get_by_role("button", name="Spara och fortsätt").click()

    # 2. Frågor: the programme's own question, first left empty.
    assert page.locator('[aria-current="step"]').inner_text() == "2. Frågor"
    checked(page).get_by_role("button", name="Spara och fortsätt").click()
    assert "Var träffas ni?" in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("Var träffas ni?").fill("Fisksätra sporthall")
    page.get_by_role("button", name="Spara och fortsätt").click()

    # 3. Belopp.
    assert page.locator('[aria-current="step"]').inner_text() == "3. Belopp"
    checked(page)
    page.get_by_label("Sökt belopp (kr)").fill("30000")
    page.get_by_label("Post, rad 1").fill("Ledararvoden")
    page.get_by_label("Belopp (kr), rad 1").fill("35000")
    page.get_by_role("button", name="Spara och fortsätt").click()

    # 4. Bilagor: the profile's statutes and minutes come along; she adds the budget.
    assert page.locator('[aria-current="step"]').inner_text() == "4. Bilagor"
    main = checked(page).get_by_role("main").inner_text()
    assert "stadgar.pdf" in main and "arsmote.pdf" in main
    page.get_by_label("Lägg till en bilaga").set_input_files(
        files=[{"name": "budget.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}]
    )
    page.get_by_role("button", name="Spara och fortsätt").click()

    # 5. Granska och skicka in: every answer, then the receipt.
    assert page.locator('[aria-current="step"]').inner_text() == "5. Granska och skicka in"
    main = checked(page).get_by_role("main").inner_text()
    for answer in ("Läxhjälp och fotboll", "Fisksätra sporthall", "Ledararvoden", "budget.pdf"):
        assert answer in main, answer
    page.get_by_role("button", name="Skicka in ansökan").click()

    application = Application.objects.get()
    assert application.status == "submitted" and application.case_number
    assert application.answers == {"meeting_place": "Fisksätra sporthall"}
    assert f"har fått diarienummer {application.case_number}" in status(page)
    receipt = page.get_by_role("link", name=re.compile(r"^Mottagningskvitto"))
    assert receipt.is_visible()
    assert Document.objects.filter(application=application, kind="receipt").exists()
    checked(page)
    context.close()
