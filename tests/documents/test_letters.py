"""Decision letters: a real PDF on the case, and a failed letter never undoes a decision."""

import pytest
from django.core.files.storage import FileSystemStorage, default_storage

from documents.letters import decision_letter_send, render_pdf
from grants.models import CaseEvent, Document
from grants.services import apply, assess, decide

from ..staff import read_pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(anna, olle, fisksatra, activity_call):
    """Fisksätra IF's activity grant, decided by Olle on delegation (letter not yet made)."""
    application = apply.application_save_draft(
        call=activity_call,
        organisation=fisksatra,
        by=anna,
        title="Verksamhet 2026",
        description="Fotboll.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        inputs={"members": 40},
    )
    application = apply.application_submit(application=application, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=application.requested_amount,
        justification="Aktiv förening.",
    )
    return decide.decision_make(
        application=application,
        by=olle,
        outcome="approved",
        amount=application.requested_amount,
        reasons="Föreningen uppfyller reglerna.",
    )


def test_the_letter_is_a_pdf_with_case_number_amount_reasons_and_delegation(decided):
    document = decision_letter_send(decided.pk)
    assert document.kind == Document.Kind.DECISION_LETTER and document.version == 1
    content = default_storage.open(document.storage_key).read()
    import hashlib

    assert hashlib.sha256(content).hexdigest() == document.sha256
    text, _ = read_pdf_text(content)
    flat = " ".join(text.split())
    assert decided.application.case_number in flat
    assert "11 000,00" in flat.replace("\xa0", " ")
    assert "Föreningen uppfyller reglerna." in flat
    assert "delegation" in flat and "punkt 4.2" in flat
    assert "laglighetsprövning" in flat


def test_a_second_letter_is_a_new_version_and_the_first_stays(decided):
    first = decision_letter_send(decided.pk)
    second = decision_letter_send(decided.pk)
    assert (first.version, second.version) == (1, 2)
    assert first.storage_key != second.storage_key
    assert default_storage.exists(first.storage_key) and default_storage.exists(second.storage_key)


def test_a_failing_file_store_leaves_the_decision_and_says_the_letter_is_missing(decided, monkeypatch):
    def store_down(*args, **kwargs):
        raise OSError("fillagringen svarar inte")

    monkeypatch.setattr(FileSystemStorage, "save", store_down)
    assert decision_letter_send(decided.pk) is None
    decided.refresh_from_db()
    assert decided.application.status == "approved"
    assert not Document.objects.filter(kind=Document.Kind.DECISION_LETTER).exists()
    assert CaseEvent.objects.filter(application=decided.application, action="Beslutsbrev kunde inte skapas").exists()


def test_letters_fetch_nothing_from_outside(tmp_path):
    """User text in a letter can never make WeasyPrint fetch a URL: a local server counts."""
    import http.server
    import threading

    hits = []

    class Counter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        html = (
            f'<html lang="sv"><head><link rel="stylesheet" href="{url}/style.css">'
            f'<style>@import url("{url}/import.css");</style></head>'
            f'<body><img src="{url}/logo.png"><img src="file://{tmp_path}/x.png">Hej</body></html>'
        )
        pdf = render_pdf(html)
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF")
    assert hits == []
