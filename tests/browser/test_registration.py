"""The issue's story in Chromium: a visitor registers, creates her association's profile with
a board and a bankgiro (after confirming her e-mail address by the link sent to it), uploads
the statutes and invites a board member; he registers from the link in the e-mail, confirms
his address and is confirmed. axe-core finds no WCAG 2.1 A/AA violation on any
page on the way, with errors showing or not, at desktop and mobile widths."""

import re

import pytest
from django.core import mail

from grants.models import Membership, Organisation, OrganisationFile

from .conftest import DESKTOP, MOBILE, checked

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Gr0na-Blad-i-Fisksatra"


def register(page, name, email):
    page.get_by_label("Namn", exact=True).fill(name)
    page.get_by_label("E-postadress", exact=True).fill(email)
    page.get_by_label("Lösenord", exact=True).fill(PASSWORD)
    page.get_by_label("Upprepa lösenordet", exact=True).fill(PASSWORD)
    page.get_by_label("Jag har läst hur kommunen behandlar mina uppgifter och godkänner det.").check()
    page.get_by_role("button", name="Skapa konto").click()


def confirmation_link(email):
    (message,) = [m for m in mail.outbox if m.to == [email] and "Bekräfta" in m.subject]
    return re.search(r"https?://\S+/konto/bekrafta-e-post/\S+", message.body).group(0)


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
def test_register_create_the_association_and_invite_a_board_member(browser, live_server, viewport, pdf_bytes):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="sv-SE")
    page = context.new_page()

    # Anna registers; the empty form first shows its errors at the fields and in the summary.
    page.goto("/konto/registrera/")
    checked(page)
    page.get_by_role("button", name="Skapa konto").click()
    assert "Något behöver rättas" in page.get_by_role("alert").inner_text()
    checked(page)
    register(page, "Anna Andersson", "anna@fisksatraif.se")
    assert page.get_by_role("heading", level=1).inner_text() == "Kolla din e-post"
    checked(page)
    # The link in the e-mail confirms her address and signs her in.
    page.goto(confirmation_link("anna@fisksatraif.se"))
    checked(page)
    page.get_by_role("button", name="Bekräfta e-postadressen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Min förening"
    checked(page)

    # She creates Fisksätra IF with its statutes and annual meeting minutes; it waits to be verified.
    page.get_by_role("link", name="Skapa förening").click()
    checked(page)
    page.get_by_label("Föreningens namn").fill("Fisksätra IF")
    page.get_by_label("Organisationsnummer").fill("802412-1231")
    page.get_by_label("Stadgar (PDF, PNG eller JPEG)").set_input_files(
        {"name": "stadgar-2020.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}
    )
    page.get_by_label("Senaste årsmötesprotokollet (PDF, PNG eller JPEG)").set_input_files(
        {"name": "arsmote.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}
    )
    page.get_by_role("button", name="Skapa förening").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Fisksätra IF"
    assert "Väntar på att kommunen verifierar föreningen" in page.locator("main").inner_text()
    checked(page)

    # A board of two is refused with the rule; a board of three is kept.
    page.get_by_label("Namn, rad 1").fill("Anna Andersson")
    page.get_by_label("Roll, rad 1").fill("ordförande")
    page.get_by_label("Namn, rad 2").fill("Bo Berg")
    page.get_by_label("Roll, rad 2").fill("kassör")
    page.get_by_role("button", name="Spara styrelsen").click()
    assert "minst 3 personer" in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("Namn, rad 3").fill("Cia Ek")
    page.get_by_label("Roll, rad 3").fill("sekreterare")
    page.get_by_role("button", name="Spara styrelsen").click()
    assert "Styrelsen är sparad." in page.get_by_role("status").inner_text()
    checked(page)

    # The bankgiro, first mistyped.
    page.get_by_label("Bankgiro", exact=True).check()
    page.get_by_label("Kontonummer").fill("5050-1056")
    page.get_by_role("button", name="Begär ändringen").click()
    assert "Bankgironumret 5050-1056 är inte giltigt" in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("Kontonummer").fill("5050-1055")
    page.get_by_role("button", name="Begär ändringen").click()
    # A request: it takes effect when the municipality's finance has approved it.
    assert "Ändringen av bankkontot är begärd" in page.get_by_role("status").inner_text()
    assert "Bankgiro ****1055" in page.locator("#begart-konto").inner_text()
    checked(page)

    # The statutes, as a PDF.
    page.get_by_label("Vad är det för dokument?").select_option("statutes")
    page.get_by_label("Fil (PDF, PNG eller JPEG)").set_input_files(
        {"name": "stadgar.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes}
    )
    page.get_by_role("button", name="Ladda upp").click()
    assert "Dokumentet stadgar.pdf är uppladdat." in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="stadgar.pdf").is_visible()
    checked(page)

    # She invites Bo.
    page.get_by_label("E-postadress till den du bjuder in").fill("bo@example.se")
    page.get_by_role("button", name="Skicka inbjudan").click()
    assert "Inbjudan är skickad till bo@example.se" in page.get_by_role("status").inner_text()
    checked(page)
    (message,) = [m for m in mail.outbox if m.to == ["bo@example.se"]]
    link = re.search(r"https?://\S+/konto/inbjudan/\S+/", message.body).group(0)

    # Bo opens the link, registers from it and comes back to accept.
    bo_context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="sv-SE")
    bo = bo_context.new_page()
    bo.goto(link)
    assert bo.get_by_role("heading", level=1).inner_text() == "Inbjudan till Fisksätra IF"
    checked(bo)
    bo.get_by_role("link", name="Skapa konto").click()
    checked(bo)
    register(bo, "Bo Berg", "bo@example.se")
    assert bo.get_by_role("heading", level=1).inner_text() == "Kolla din e-post"
    bo.goto(confirmation_link("bo@example.se"))
    bo.get_by_role("button", name="Bekräfta e-postadressen").click()
    bo.get_by_role("button", name="Gå med i Fisksätra IF").click()
    assert "Väntar på bekräftelse" in bo.locator("main").inner_text()
    checked(bo)

    # Anna confirms him; now he acts for the association.
    page.reload()
    checked(page)
    page.get_by_role("button", name="Bekräfta Bo Berg").click()
    assert "Bo Berg är bekräftad" in page.get_by_role("status").inner_text()
    checked(page)
    bo.goto("/portal/forening/")
    assert "Bekräftad" in bo.locator("main").inner_text()
    checked(bo)
    bo.get_by_role("link", name="Fisksätra IF").click()
    assert bo.get_by_role("heading", name="Styrelse", exact=True).is_visible()
    checked(bo)

    organisation = Organisation.objects.get()
    assert organisation.bankgiro == "" and len(organisation.board) == 3
    assert organisation.account_requests.get().number == "5050-1055"
    assert organisation.verification == "unverified"
    assert sorted(OrganisationFile.objects.values_list("kind", "filename")) == [
        ("annual_meeting_minutes", "arsmote.pdf"),
        ("statutes", "stadgar-2020.pdf"),
        ("statutes", "stadgar.pdf"),
    ]
    assert sorted(Membership.objects.values_list("user__email", "status")) == [
        ("anna@fisksatraif.se", "confirmed"),
        ("bo@example.se", "confirmed"),
    ]
    bo_context.close()
    context.close()
