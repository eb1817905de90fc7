"""No text anyone types can make a letter fetch anything: it is escaped by the templates, and
the renderer's fetcher serves only the project's own fonts and inline data."""

import datetime as dt
import http.server
import re
import threading
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from documents.letters import (
    LetterAssetFetcher,
    decision_letter_html,
    decision_letter_send,
    receipt_html,
    receipt_send,
    render_pdf,
)
from documents.templatetags.letter_tags import css_string
from grants.models import Document
from grants.services import apply, assess, decide

from ..staff import read_pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def counting_server():
    """A local HTTP server that counts every request it gets."""
    hits = []

    class Counter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.hits = hits
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


def hostile(url, tmp_path, where):
    """Text that would fetch from the server (or the disk) if it ever became markup or CSS."""
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    return (
        f'{where}: <img src="{url}/{where}-img.png">'
        f'<link rel=stylesheet href="file://{secret}">'
        f'<link rel="stylesheet" href="{url}/{where}-link.css">'
        f'<style>@import url("{url}/{where}-import.css"); body {{ background: url({url}/{where}-bg.png) }}</style>'
        f"<p style=\"background-image: url('{url}/{where}-style.png')\">x</p>"
        f'<object data="{url}/{where}-object"></object><iframe src="{url}/{where}-iframe"></iframe>'
        f'<svg><image href="{url}/{where}-svg.png"/></svg>'
        f'"; content: url({url}/{where}-css-string.png); x: "'
    )


def test_user_text_is_escaped_and_nothing_is_fetched(anna, olle, fisksatra, inclusion_call, counting_server, tmp_path):
    url = counting_server.url
    # Anna's own text: the title, the description, a budget line and an attachment's name.
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title=hostile(url, tmp_path, "title")[:200],
        description=hostile(url, tmp_path, "description"),
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=Decimal("40000"),
        budget_lines=[("cost", hostile(url, tmp_path, "budget")[:200], Decimal("50000"))],
    )
    apply.application_attach(
        application=application,
        by=anna,
        content_type="application/pdf",
        filename=f'<img src="{url}/filename.png">.pdf',
        content=b"%PDF-1.4\n%%EOF\n",
    )
    application = apply.application_submit(application=application, by=anna)
    # Olle's text: the reasons and conditions of his decision.
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal("40000"),
        justification="Bra.",
    )
    decision = decide.decision_make(
        application=application,
        by=olle,
        outcome="approved",
        amount=Decimal("40000"),
        reasons=hostile(url, tmp_path, "reasons"),
        conditions=hostile(url, tmp_path, "conditions"),
    )

    # The templates escape it all: no tag the user typed reaches the HTML.
    html = decision_letter_html(decision) + receipt_html(application)
    assert "<img" not in html and "<link" not in html and "<iframe" not in html and "<object" not in html
    assert "&lt;img src=" in html

    receipt_send(application.pk)
    decision_letter_send(decision.pk)
    assert counting_server.hits == []

    # The text arrives in the letter as text, for the recipient to read.
    letter = application.documents.get(kind=Document.Kind.DECISION_LETTER)
    text, _ = read_pdf_text(default_storage.open(letter.storage_key).read())
    flat = "".join(text.split())
    assert f'reasons:<imgsrc="{url}/reasons-img.png">'.replace(" ", "") in flat


def test_even_raw_markup_fetches_nothing(counting_server, tmp_path):
    """Were text ever to reach the renderer unescaped, the fetcher still refuses it."""
    url = counting_server.url
    html = (
        f'<html lang="sv"><head><style>@font-face {{ font-family: X; src: url("{url}/font.ttf") }}</style>'
        f"</head><body>{hostile(url, tmp_path, 'raw')}"
        f'<img src="letter-asset:../../config/settings.py"><img src="file:///etc/passwd"></body></html>'
    )
    pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert counting_server.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "letter-asset:../../config/settings.py",
        "letter-asset:../../settings.py",
        "letter-asset:/etc/passwd",
        "letter-asset:fonts/../fonts/Lato-Regular.ttf",
        "letter-asset:fonts/Lato-Black.ttf",
        "letter-asset:",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "http://127.0.0.1:9/x.png",
        "https://example.org/logo.png",
        "ftp://example.org/x",
        "/etc/passwd",
        "fonts/Lato-Regular.ttf",
    ],
)
def test_the_fetcher_refuses_everything_but_its_assets_and_data(url):
    with pytest.raises(ValueError):
        LetterAssetFetcher()(url)


def test_the_fetcher_serves_the_shipped_fonts_and_inline_data():
    fetcher = LetterAssetFetcher()
    font = fetcher("letter-asset:fonts/Lato-Regular.ttf")
    assert font.content_type == "font/ttf" and font.read(4) == b"\x00\x01\x00\x00"
    assert fetcher("data:text/plain;base64,SGVq").read() == b"Hej"


def test_the_fetcher_never_contacts_a_server(counting_server):
    with pytest.raises(ValueError):
        LetterAssetFetcher()(f"{counting_server.url}/x")
    assert counting_server.hits == []


@pytest.mark.parametrize(
    "value",
    [
        'Nämnd"; } body { background: url(http://x/) } x { content: "',
        'a\\"b',
        "</style><img src=x>",
        "rad1\nrad2",
        "O'Hara & Co",
    ],
)
def test_css_strings_in_the_page_margins_cannot_be_escaped_from(value):
    quoted = css_string(value)
    assert quoted.startswith('"') and quoted.endswith('"')
    # Inside the quotes: ordinary characters, and backslashes only as hex escapes ("\22 ").
    assert re.fullmatch(r'(?:\\[0-9a-f]+ |[^"\'\\<>&\x00-\x1f])*', quoted[1:-1]), quoted


def test_a_committee_name_with_quotes_is_printed_as_written_in_the_page_footer(
    anna, fisksatra, inclusion_call, counting_server
):
    committee = inclusion_call.programme.committee
    committee.name = f'Kultur- & "fritids"nämnden\\"; }} @page {{ background: url({counting_server.url}/x) }}'
    committee.save()
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=Decimal("40000"),
        budget_lines=[("cost", "Ledare", Decimal("50000"))],
    )
    application = apply.application_submit(application=application, by=anna)
    receipt = receipt_send(application.pk)
    text, reader = read_pdf_text(default_storage.open(receipt.storage_key).read())
    footer = reader.pages[0].extract_text().splitlines()
    assert any(line.startswith('Nacka kommun · Kultur- & "fritids"nämnden\\";') for line in footer), footer
    assert counting_server.hits == []
