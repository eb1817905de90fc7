"""Decision letters: HTML from templates/documents/, rendered to PDF by WeasyPrint,
stored through Django's storage API and registered on the case with their SHA-256.

WeasyPrint may fetch nothing from outside: the letter is self-contained, and the URL
fetcher refuses every URL that is not inline data.
"""

import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from grants.models import Document
from grants.services._base import document_register, record_event

log = logging.getLogger("grants.documents")


# Only inline data: URLs; a letter that names a file:// or http:// URL gets nothing.
OFFLINE_FETCHER = URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)


def render_pdf(html):
    return HTML(string=html, url_fetcher=OFFLINE_FETCHER, base_url=None).write_pdf(
        pdf_variant="pdf/a-2b", pdf_tags=True
    )


def decision_letter_html(decision):
    application = decision.application
    return render_to_string("documents/decision_letter.html", {
        "decision": decision,
        "application": application,
        "programme": application.call.programme,
        "committee": application.call.programme.committee,
        "organisation": application.organisation,
        "payments": application.payments.order_by("sequence"),
        "follow_up": getattr(application, "follow_up", None),
        "today": timezone.localdate(),
    })


def decision_letter_produce(*, decision):
    """Render, store and register the decision letter. A new call makes a new version;
    earlier versions stay as they were sent."""
    application = decision.application
    pdf = render_pdf(decision_letter_html(decision))
    with transaction.atomic():
        version = application.documents.filter(kind=Document.Kind.DECISION_LETTER).count() + 1
        document = document_register(
            application=application, kind=Document.Kind.DECISION_LETTER,
            filename=f"Beslut {application.case_number.replace('/', '-')} v{version}.pdf",
            content_type="application/pdf", content=pdf, by=decision.decided_by, version=version,
        )
        record_event(application, by=decision.decided_by, action="Beslutsbrev skickat", note=document.filename)
    return document


def decision_letter_send(decision_pk):
    """Produce the letter after the decision has committed. A failure here (the file
    store down, say) must not undo or hide the decision: it is logged and written into
    the case's history, where the officer sees that the letter is missing."""
    from grants.models import Decision

    decision = Decision.objects.select_related("application__call__programme__committee",
                                               "application__organisation__sponsor", "decided_by").get(pk=decision_pk)
    try:
        return decision_letter_produce(decision=decision)
    except Exception as exc:  # noqa: BLE001 - any failure is reported the same way
        log.exception("Decision letter for %s failed", decision.application.case_number)
        record_event(decision.application, by=None, action="Beslutsbrevet kunde inte skapas",
                     note=f"{type(exc).__name__}: {exc}"[:500])
        return None
