"""The password account's own pages in Chromium, at the narrowest screen (320 px) and with
axe-core: Anna forgets her password and sets a new one by the e-mailed link, changes it in
her settings; Bo, who has not confirmed his address, is asked to before he acts for an
association; a used link says so."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail

from grants.services import organisations as services

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

NARROW = {"width": 320, "height": 640}
NEW = "Nytt-Losenord-i-Fisksatra-7"


@pytest.fixture
def narrow(browser, live_server):
    context = browser.new_context(viewport=NARROW, base_url=live_server.url, locale="sv-SE")
    yield context.new_page()
    context.close()


def test_anna_resets_and_changes_her_password(narrow, anna):
    page = narrow
    page.goto("/konto/logga-in/")
    page.get_by_role("link", name="Glömt lösenordet?").click()
    checked(page)
    page.get_by_role("button", name="Skicka länken").click()  # empty: the error at the field
    assert "Något behöver rättas" in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("E-postadress").fill("anna@example.se")
    page.get_by_role("button", name="Skicka länken").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kolla din e-post"
    checked(page)
    link = re.search(r"https?://\S+/konto/losenord/nytt/\S+", mail.outbox[0].body).group(0)
    page.goto(link)
    checked(page)
    page.get_by_label("Nytt lösenord", exact=True).fill(NEW)
    page.get_by_label("Bekräfta nytt lösenord").fill(NEW)
    page.get_by_role("button", name="Spara det nya lösenordet").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Lösenordet är bytt"
    checked(page)
    page.goto(link)  # used up
    assert "Länken fungerar inte längre" in page.get_by_role("alert").inner_text()
    checked(page)

    log_in(page, "anna", NEW)
    page.goto("/portal/installningar/")
    checked(page)
    page.get_by_role("link", name="Byt lösenord").click()
    checked(page)
    page.get_by_label("Gammalt lösenord").fill("fel")
    page.get_by_role("button", name="Byt lösenord").click()
    assert "Något behöver rättas" in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("Gammalt lösenord").fill(NEW)
    page.get_by_label("Nytt lösenord", exact=True).fill("Tredje-Losenordet-9")
    page.get_by_label("Bekräfta nytt lösenord").fill("Tredje-Losenordet-9")
    page.get_by_role("button", name="Byt lösenord").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Lösenordet är bytt"
    checked(page)
    assert User.objects.get(pk=anna.pk).check_password("Tredje-Losenordet-9")


def test_bo_confirms_his_address_before_acting_for_an_association(narrow, live_server):
    services.account_register(
        name="Bo Berg", email="bo@example.se", password=NEW, language="sv", site_url=live_server.url
    )
    page = narrow
    log_in(page, "bo@example.se", NEW)
    page.goto("/portal/forening/ny/")
    assert page.get_by_role("heading", level=1).inner_text() == "Bekräfta din e-postadress"
    checked(page)
    page.get_by_role("button", name="Skicka länken igen").click()
    assert "Vi har skickat en ny länk till bo@example.se" in page.get_by_role("status").inner_text()
    checked(page)
    links = [re.search(r"https?://\S+/konto/bekrafta-e-post/\S+", m.body).group(0) for m in mail.outbox]
    page.goto(links[-1])
    checked(page)
    page.get_by_role("button", name="Bekräfta e-postadressen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Skapa förening"
    checked(page)
    page.goto(links[0])
    page.get_by_role("button", name="Bekräfta e-postadressen").click()
    assert "Länken är redan använd" in page.get_by_role("alert").inner_text()
    checked(page)
