"""Letters the municipality sends: receipts, decision letters and repayment claims.

HTML from templates/documents/, rendered by WeasyPrint as tagged PDF/A-2b with the
project's fonts embedded, stored through Django's storage API and registered on the case
with its SHA-256. A stored letter is never changed: a correction is a new version.

WeasyPrint may fetch nothing from outside. The only URLs a letter may name are inline
`data:` URLs and `letter-asset:` URLs for the fonts the project ships; every other URL
(file://, http://, whatever a user typed into a text field) is refused unfetched.
"""

import base64
import logging
from pathlib import Path
from types import SimpleNamespace

import font_lato
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from grants.calculators import split_amount
from grants.files import discarded_on_failure, store_file
from grants.models import Application, Decision, Document
from grants.notifications import lazy_interpolate, notify_applicant
from grants.services.decide import follow_up_due_on
from grants.services.follow_up import report_contents_text
from grants.services.letters import letter_failure_record, letter_register

log = logging.getLogger("grants.documents")

FONT_DIR = Path(font_lato.font_directory)
ASSETS = {
    # letter-asset:<name> → a file the project ships, and its media type.
    "fonts/Lato-Regular.ttf": (FONT_DIR / "Lato-Regular.ttf", "font/ttf"),
    "fonts/Lato-Bold.ttf": (FONT_DIR / "Lato-Bold.ttf", "font/ttf"),
    "fonts/Lato-Italic.ttf": (FONT_DIR / "Lato-Italic.ttf", "font/ttf"),
}


class LetterAssetFetcher(URLFetcher):
    """Serves the project's own letter assets and inline data; refuses everything else."""

    def __init__(self):
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if url.startswith("letter-asset:"):
            name = url.removeprefix("letter-asset:")
            if name not in ASSETS:
                raise ValueError(f"Okänd brevresurs: {name}")
            path, media_type = ASSETS[name]
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})
        return super().fetch(url, headers)  # data: only; anything else raises unfetched


def render_pdf(html):
    """HTML → PDF/A-2b, tagged for screen readers; the language comes from <html lang>.
    Fonts are subset and embedded (PDF/A requires it)."""
    return HTML(string=html, url_fetcher=LetterAssetFetcher(), base_url=None).write_pdf(
        pdf_variant="pdf/a-2b", pdf_tags=True
    )


def logo_data_url(committee):
    """The committee's logo inline, so the letter needs no fetch. Only PNG and JPEG."""
    if not committee.logo:
        return ""
    try:
        with committee.logo.open("rb") as handle:
            content = handle.read()
    except OSError:
        log.warning("Logo of %s could not be read", committee)
        return ""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type = "image/png"
    elif content.startswith(b"\xff\xd8\xff"):
        media_type = "image/jpeg"
    else:
        return ""
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def _render(template, context):
    # Letters are in Swedish whoever triggers them, a worker included.
    with translation.override("sv"):
        return render_to_string(template, context)


def _context(application, **extra):
    committee = application.call.programme.committee
    return {
        "application": application,
        "programme": application.call.programme,
        "committee": committee,
        "organisation": application.organisation,
        "logo": logo_data_url(committee),
        "today": timezone.localdate(),
        **extra,
    }


def _planned_payments(decision):
    """The payment plan an unsaved decision would create: the programme's plan applied to
    the amount, exactly as grants.services.pay.payments_plan will split it."""
    if not decision.is_granted:
        return []
    plan = decision.application.call.programme.payment_plan
    return [
        SimpleNamespace(sequence=index, percent=part["percent"], amount=amount, release=part["release"])
        for index, (part, amount) in enumerate(zip(plan, split_amount(decision.amount, plan)), start=1)
    ]


def _planned_follow_up(decision):
    programme = decision.application.call.programme
    if not (decision.is_granted and programme.follow_up_required):
        return None
    return SimpleNamespace(due_on=follow_up_due_on(decision.application))


def decision_letter_html(decision, *, preview=False):
    """The letter of a decision. An unsaved decision (a preview) has no payments or
    follow-up yet: the letter shows what the decision would create."""
    application = decision.application
    assessment = getattr(application, "assessment", None)
    if decision.pk is None:
        payments, follow_up = _planned_payments(decision), _planned_follow_up(decision)
    else:
        payments = application.payments.order_by("sequence")
        follow_up = getattr(application, "follow_up", None)
    return _render(
        "documents/decision_letter.html",
        _context(
            application,
            decision=decision,
            meeting=decision.meeting,
            officer=assessment.officer if assessment else decision.decided_by,
            payments=payments,
            follow_up=follow_up,
            follow_up_contents=report_contents_text(application.call.programme.follow_up_parts),
            by_delegation=not decision.by_committee,
            preview=preview,
        ),
    )


def decision_letter_preview(decision):
    """The PDF a decision would produce, marked as a draft; nothing is stored."""
    return render_pdf(decision_letter_html(decision, preview=True))


def receipt_html(application):
    # Whoever pressed submit, which need not be whoever started the draft.
    submission = application.events.filter(action="Ansökan inkommen", actor__isnull=False).select_related("actor")
    submitted = submission.order_by("created_at", "pk").first()
    return _render(
        "documents/receipt.html",
        _context(
            application,
            submitted_by=submitted.actor if submitted else application.created_by,
            budget_lines=application.budget_lines.all(),
            attachments=application.documents.filter(kind=Document.Kind.ATTACHMENT),
        ),
    )


def repayment_letter_html(application):
    return _render(
        "documents/repayment_letter.html",
        _context(
            application,
            claim=application.repayment_claim,
            decision=application.decision,
            follow_up=application.follow_up,
            payments=application.payments.filter(status="paid").order_by("sequence"),
            by_delegation=True,  # an officer's claim under the programme's delegation point
            payer_bankgiro=settings.PAYER_BANKGIRO,
        ),
    )


FILENAMES = {
    Document.Kind.RECEIPT: "Mottagningskvitto",
    Document.Kind.DECISION_LETTER: "Beslut",
    Document.Kind.REPAYMENT_LETTER: "Beslut om återkrav",
    Document.Kind.OFFICER_REPORT: "Tjänsteskrivelse",
    Document.Kind.PROTOCOL_EXTRACT: "Protokollsutdrag",
}


def letter_store(*, application, kind, pdf, by, version=None, notice=None):
    """Store and register one letter. Without `version` it becomes the next version; with
    one, a letter that already has that version is returned instead of a second copy.
    notice: a function of the stored filename giving (subject, body) of the e-mail to the
    applicant that goes with the letter; it goes after commit, and only with the copy that
    is registered, so a letter made twice is mailed once."""
    number = version or application.documents.filter(kind=kind).count() + 1
    filename = f"{FILENAMES[kind]} {application.case_number.replace('/', '-')} v{number}.pdf"
    # The upload runs before the transaction, which then only registers the stored file.
    stored = store_file(application=application, folder=kind, filename=filename, content=pdf)
    try:
        with discarded_on_failure(stored), transaction.atomic():
            document = letter_register(
                application=application, kind=kind, filename=filename, pdf=pdf, stored=stored, by=by, version=number
            )
            if notice is not None:
                subject, body = notice(filename)
                notify_applicant(application, subject=subject, body=body)
    except IntegrityError:
        # Someone else stored this version first (two workers on the same letter).
        if version is None:
            raise
        return application.documents.get(kind=kind, version=version)
    return document


def _send(kind, application, render, by, version=None, notice=None):
    """Render and store a letter after the step that caused it has committed. A failure
    (the file store down, say) never undoes that step: it is logged and written into the
    case's history, where staff see that the letter is missing."""
    try:
        return letter_store(
            application=application, kind=kind, pdf=render_pdf(render()), by=by, version=version, notice=notice
        )
    except Exception as exc:  # noqa: BLE001 - any failure is reported the same way
        log.exception("%s for %s failed", kind, application.case_number)
        letter_failure_record(application=application, kind=kind, note=f"{type(exc).__name__}: {exc}"[:500])
        return None


def _decision(decision_pk):
    return Decision.objects.select_related(
        "application__call__programme__committee",
        "application__organisation__sponsor",
        "application__assessment__officer",
        "decided_by",
        "meeting",
    ).get(pk=decision_pk)


def decision_letter_send(decision_pk, *, version=None):
    decision = _decision(decision_pk)
    return _send(
        Document.Kind.DECISION_LETTER,
        decision.application,
        lambda: decision_letter_html(decision),
        decision.decided_by,
        version,
    )


def _receipt_notice(application):
    def notice(filename):
        body = lazy_interpolate(
            gettext_lazy(
                "Kommunen har tagit emot ansökan ”%(title)s” till %(programme)s. Den har diarienummer "
                "%(number)s. Mottagningskvittot (%(filename)s) finns under ärendet i bidragsportalen."
            ),
            title=application.title,
            programme=application.call.programme.name,
            number=application.case_number,
            filename=filename,
        )
        return gettext_lazy("Mottagningskvitto för er ansökan"), body

    return notice


def receipt_send(application_pk):
    """Make the receipt of a submitted application and mail it to the applicant's confirmed
    members (documents.tasks.produce_receipt runs this in the background)."""
    application = Application.objects.select_related("call__programme__committee", "organisation", "created_by").get(
        pk=application_pk
    )
    return _send(
        Document.Kind.RECEIPT,
        application,
        lambda: receipt_html(application),
        None,
        version=1,
        notice=_receipt_notice(application),
    )


def repayment_letter_send(application_pk):
    application = Application.objects.select_related(
        "call__programme__committee",
        "organisation__sponsor",
        "repayment_claim__decided_by",
        "decision",
        "follow_up",
    ).get(pk=application_pk)
    return _send(
        Document.Kind.REPAYMENT_LETTER,
        application,
        lambda: repayment_letter_html(application),
        application.repayment_claim.decided_by,
        version=1,
    )
