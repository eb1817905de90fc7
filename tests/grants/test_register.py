"""The register (diarium, OSL 5 kap.; issue 17): every incoming and outgoing document and
message of a case is registered; an officer marks an entry as covered by secrecy; anyone
searches the public register and downloads a case's register extract, which never show a
secret entry's description or counterpart, nor a private person's name."""

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from grants.records.models import RegisterEntry
from grants.services import apply, assess, messages

from .. import factories

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Läkarintyg för deltagare"
PRIVATE_NAME = "Nattvandrarna i Fisksätra"
PRIVATE_FILE = "Intyg Kalle Karlsson.pdf"  # a sender's file name that names a person


def submitted(anna, organisation, call, title="Läxhjälp"):
    draft = factories.draft(call, organisation, anna, title=title)
    return apply.application_submit(application=draft, by=anna)


def test_a_case_registers_what_comes_in_and_goes_out(anna, olle, fisksatra, inclusion_call, in_a_week):
    application = submitted(anna, fisksatra, inclusion_call)
    entries = list(application.register_entries.order_by("pk"))
    directions = [(entry.direction, entry.description) for entry in entries]
    # The application itself, and the receipt sent back (made at once in the tests).
    assert directions[0] == ("in", f"Ansökan om {inclusion_call.programme.name}: Läxhjälp")
    assert ("out", f"Mottagningskvitto: Mottagningskvitto {application.case_number.replace('/', '-')} v1.pdf") in (
        directions
    )
    assert any(d == "out" and text.startswith("E-post till sökande: ") for d, text in directions)
    assert all(entry.counterpart == "Fisksätra IF" and entry.counterpart_kind == "association" for entry in entries)
    # A completion request (out), the answer (in), a message each way (out, in).
    assess.completion_request(application=application, by=olle, message="Skicka budgeten.", due_on=in_a_week)
    messages.message_send(application=application, by=olle, body="Hej, vi har fått er ansökan.")
    messages.message_send(application=application, by=anna, body="Tack!")
    messages.note_add(application=application, by=olle, body="Intern anteckning, registreras inte.")
    latest = list(application.register_entries.order_by("pk").values_list("direction", "description"))[len(entries) :]
    assert ("out", "Begäran om komplettering") in latest
    assert ("out", "Meddelande till sökande") in latest
    assert ("in", "Meddelande från sökande") in latest
    assert not any("anteckning" in text.lower() for _, text in latest)


def test_a_draft_is_registered_only_when_it_comes_in(anna, fisksatra, inclusion_call):
    draft = factories.draft(inclusion_call, fisksatra, anna)
    assert not RegisterEntry.objects.filter(application=draft).exists()


def secret_world(anna, olle, fisksatra, inclusion_call, pdf_bytes):
    """Fisksätra IF's case with one entry marked secret and an attachment whose file name names
    a person, and an informal group's case (its members are private persons)."""
    draft = factories.draft(inclusion_call, fisksatra, anna)
    apply.application_attach(
        application=draft, by=anna, filename=PRIVATE_FILE, content_type="application/pdf", content=pdf_bytes
    )
    application = apply.application_submit(application=draft, by=anna)
    entry = application.register_entries.first()
    from grants.records.register import entry_add, entry_mark_secret

    secret = entry_add(application, direction="in", description=SECRET_TEXT)
    entry_mark_secret(entry=secret, by=olle, ground="OSL 26 kap. 1 §")
    group = factories.informal_group(fisksatra, name=PRIVATE_NAME, members=[anna])
    draft = factories.draft(inclusion_call, group, anna, title="Nattvandring")
    apply.application_ask_sponsor(application=draft, by=anna)
    apply.application_sponsor_confirm(application=draft, by=anna)
    return application, entry, secret


def crawl(client, start):
    """Every page under /diarium/ reachable from start by links (search results, pages, cases, extracts)."""
    seen, queue, pages = set(), [start], {}
    while queue:
        url = queue.pop()
        if url in seen or len(seen) > 200:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response
        if response["Content-Type"].startswith("text/html"):
            for href in re.findall(r'href="([^"]+)"', response.content.decode()):
                href = href.replace("&amp;", "&")
                target = urljoin(url, href)
                if urlsplit(target).path.startswith("/diarium/"):
                    queue.append(
                        urlsplit(target).path + (f"?{urlsplit(target).query}" if urlsplit(target).query else "")
                    )
    return pages


def test_the_public_register_never_shows_a_secret_entry_or_a_private_persons_name(
    client, anna, olle, fisksatra, inclusion_call, pdf_bytes
):
    application, _entry, secret = secret_world(anna, olle, fisksatra, inclusion_call, pdf_bytes)
    assert application.register_entries.filter(description="Bilaga till ansökan").exists()
    client.logout()
    starts = [
        reverse("diarium:search"),
        reverse("diarium:search") + "?q=L%C3%A4karintyg",
        reverse("diarium:search") + "?q=Nattvandrarna",
        reverse("diarium:search") + "?q=" + application.case_number.replace(" ", "+"),
    ]
    pages = {}
    for start in starts:
        pages.update(crawl(client, start))
    assert any(url.endswith("registerutdrag.pdf") for url in pages)
    assert any(f"/diarium/arende/{application.pk}/" == url for url in pages)
    for url, response in pages.items():
        if response["Content-Type"] == "application/pdf":
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        else:
            text = response.content.decode()
        assert SECRET_TEXT not in text, url
        assert PRIVATE_NAME not in text, url
        assert "Kalle Karlsson" not in text, url
    # The secret entry is listed, as secret.
    case_page = pages[f"/diarium/arende/{application.pk}/"].content.decode()
    assert "Sekretessmarkerad handling" in case_page
    # Searching for the secret text or the private name finds nothing by them.
    assert "Inga registreringar matchar" in pages[starts[1]].content.decode()
    assert "Inga registreringar matchar" in pages[starts[2]].content.decode()


def test_an_officer_marks_and_unmarks_secrecy(client, anna, olle, eve, fisksatra, inclusion_call):
    application = submitted(anna, fisksatra, inclusion_call)
    entry = application.register_entries.first()
    url = reverse("records_staff:secrecy", args=[application.pk, entry.pk])
    client.force_login(olle)
    response = client.post(url, {"secrecy_ground": ""}, follow=True)
    assert "Ange vilken sekretessbestämmelse" in response.content.decode()
    client.post(url, {"secrecy_ground": "OSL 26 kap. 1 §"})
    entry.refresh_from_db()
    assert entry.secret and entry.secrecy_ground == "OSL 26 kap. 1 §" and entry.secrecy_marked_by == olle
    assert application.events.filter(action="Sekretessmarkering").exists()
    client.post(url, {"action": "unmark"})
    entry.refresh_from_db()
    assert not entry.secret
    client.force_login(eve)
    assert client.post(url, {"secrecy_ground": "OSL 26 kap. 1 §"}).status_code == 403
    assert client.get(reverse("records_staff:register", args=[application.pk])).status_code == 403


def test_the_register_pages_cost_a_fixed_number_of_queries(client, anna, olle, fisksatra, inclusion_call):
    def counted(url):
        client.get(url)  # warm-up: sessions, caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    first = submitted(anna, fisksatra, inclusion_call, title="Första")
    client.force_login(olle)
    staff_one = counted(reverse("records_staff:register", args=[first.pk]))
    client.logout()
    public_one = counted(reverse("diarium:search"))
    case_one = counted(reverse("diarium:case", args=[first.pk]))
    for index in range(4):
        submitted(anna, fisksatra, inclusion_call, title=f"Fler {index}")
    messages.message_send(application=first, by=olle, body="Hej.")
    assert counted(reverse("diarium:search")) == public_one
    assert counted(reverse("diarium:case", args=[first.pk])) == case_one
    client.force_login(olle)
    assert counted(reverse("records_staff:register", args=[first.pk])) == staff_one
