"""The committee's papers as PDF/A: the officer's reports (tjänsteskrivelser), the agenda
(föredragningslista) with the reports and the delegation report, the delegation report on
its own (PDF and Excel), and the protocol extracts (protokollsutdrag) of each case.

Rendered like the letters (documents.letters: no fetch, fonts shipped, PDF/A-2b). The
officer's reports and extracts belong to their cases (Document rows, version 1, so that a
second run makes none twice); the agenda and the delegation report to the meeting
(MeetingDocument).
"""

import io
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from grants.files import discarded_on_failure, store_file
from grants.models import AgendaItem, Application, CommitteeMeeting, Decision, Document, MeetingDocument
from grants.notifications import lazy_interpolate
from grants.services.history import record_event

from . import letters

log = logging.getLogger("grants.documents")


def _meeting(meeting_pk):
    return CommitteeMeeting.objects.select_related("committee", "secretary").get(pk=meeting_pk)


def _items(meeting):
    return list(
        meeting.items.select_related(
            "application__organisation",
            "application__call__programme",
            "application__officer_report__author",
            "application__decision",
        ).order_by("position")
    )


def delegation_decisions(meeting):
    return list(
        Decision.objects.filter(reported_item__meeting=meeting)
        .select_related("application__organisation", "decided_by")
        .order_by("decided_at", "pk")
    )


def _committee_context(meeting, **extra):
    return {
        "meeting": meeting,
        "committee": meeting.committee,
        "logo": letters.logo_data_url(meeting.committee),
        "today": timezone.localdate(),
        **extra,
    }


def officer_report_html(report):
    application = report.application
    return letters._render(
        "documents/officer_report.html",
        {**letters._context(application), "report": report},
    )


def agenda_html(meeting):
    return letters._render(
        "documents/agenda.html",
        _committee_context(meeting, items=_items(meeting), delegation_decisions=delegation_decisions(meeting)),
    )


def delegation_report_html(meeting):
    return letters._render(
        "documents/delegation_report.html",
        _committee_context(meeting, delegation_decisions=delegation_decisions(meeting)),
    )


def delegation_report_xlsx(meeting):
    """The delegation report as a spreadsheet, one decision a row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Delegationsbeslut"
    sheet.append(
        [
            "Diarienummer",
            "Sökande",
            "Bidragsform",
            "Beslut",
            "Belopp (kr)",
            "Beslutsdatum",
            "Delegat",
            "Delegationspunkt",
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for decision in delegation_decisions(meeting):
        application = decision.application
        sheet.append(
            [
                application.case_number,
                application.organisation.name,
                application.call.programme.name,
                str(decision.get_outcome_display()),
                decision.amount,
                timezone.localdate(decision.decided_at),
                decision.decided_by.get_full_name() or decision.decided_by.username,
                decision.delegation_point,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def protocol_extract_html(item):
    application = item.application
    meeting = item.meeting
    return letters._render(
        "documents/protocol_extract.html",
        {
            **letters._context(application),
            "meeting": meeting,
            "item": item,
            "decision": application.decision,
            "present": list(meeting.present.order_by("name")),
            "conflicted": list(item.conflicted.order_by("name")),
        },
    )


def _meeting_document_store(meeting, kind, filename, content, content_type, by):
    stored = store_file(folder=f"meeting-{meeting.pk}", filename=filename, content=content, under="meetings")
    with discarded_on_failure(stored), transaction.atomic():
        version = meeting.documents.filter(kind=kind).count() + 1
        return MeetingDocument.objects.create(
            meeting=meeting,
            kind=kind,
            filename=filename,
            content_type=content_type,
            size=len(content),
            sha256=stored[1],
            storage_key=stored[0],
            version=version,
            author=by,
        )


def agenda_papers_make(meeting_pk):
    """The papers of a sent agenda: each case's officer's report (on the case), the agenda with
    every report and the delegation report, the delegation report as PDF and Excel; then the
    agenda is mailed to the members who have an e-mail address."""
    meeting = _meeting(meeting_pk)
    by = meeting.secretary
    for item in _items(meeting):
        if item.application is None:
            continue
        report = item.application.officer_report
        if not item.application.documents.filter(kind=Document.Kind.OFFICER_REPORT).exists():
            # Version 1: a second run finds it (letter_store returns the one already stored).
            letters.letter_store(
                application=item.application,
                kind=Document.Kind.OFFICER_REPORT,
                pdf=letters.render_pdf(officer_report_html(report)),
                by=by,
                version=1,
            )
    day = f"{meeting.held_on:%Y-%m-%d}"
    agenda = letters.render_pdf(agenda_html(meeting))
    document = _meeting_document_store(
        meeting,
        MeetingDocument.Kind.AGENDA,
        f"Föredragningslista {meeting.committee.code} {day}.pdf",
        agenda,
        "application/pdf",
        by,
    )
    if meeting.items.filter(kind=AgendaItem.Kind.DELEGATION_REPORT).exists():
        _meeting_document_store(
            meeting,
            MeetingDocument.Kind.DELEGATION_REPORT,
            f"Delegationsrapport {meeting.committee.code} {day}.pdf",
            letters.render_pdf(delegation_report_html(meeting)),
            "application/pdf",
            by,
        )
    recipients = list(meeting.committee.members.filter(active=True).exclude(email="").values_list("email", flat=True))
    if recipients:
        mail = EmailMessage(
            subject=f"Föredragningslista {meeting.committee.name} {day}",
            body=(
                f"Föredragningslistan till {meeting.committee.name}s sammanträde {day}"
                f"{', ' + meeting.place if meeting.place else ''} med tjänsteskrivelser finns bifogad."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            bcc=recipients,
        )
        mail.attach(document.filename, agenda, "application/pdf")
        mail.send(fail_silently=True)
    return document


def _extract_notice(application, item):
    def notice(filename):
        body = lazy_interpolate(
            "Utdrag ur protokollet från %(committee)s sammanträde %(day)s %(paragraph)s om er ansökan "
            "”%(title)s” finns under ärendet i bidragsportalen (%(filename)s).",
            committee=item.meeting.committee.name,
            day=f"{item.meeting.held_on:%Y-%m-%d}",
            paragraph=item.paragraph_label,
            title=application.title,
            filename=filename,
        )
        return "Protokollsutdrag", body

    return notice


def protocol_extracts_make(meeting_pk):
    """A protocol extract for each case decided at the meeting, once the protocol's approval
    has been announced; mailed to the applicant. Made once (version 1)."""
    meeting = _meeting(meeting_pk)
    made = []
    for item in _items(meeting):
        application = item.application
        if application is None or item.paragraph is None:
            continue
        if application.documents.filter(kind=Document.Kind.PROTOCOL_EXTRACT).exists():
            continue
        try:
            made.append(
                letters.letter_store(
                    application=application,
                    kind=Document.Kind.PROTOCOL_EXTRACT,
                    pdf=letters.render_pdf(protocol_extract_html(item)),
                    by=meeting.secretary,
                    version=1,
                    notice=_extract_notice(application, item),
                )
            )
        except Exception as exc:  # noqa: BLE001 - reported on the case like a letter's failure
            log.exception("Protocol extract for %s failed", application.case_number)
            record_event(
                application,
                by=None,
                action="Protokollsutdrag kunde inte skapas",
                note=f"{type(exc).__name__}: {exc}"[:500],
            )
    return made


def officer_report_preview(application: Application) -> bytes:
    return letters.render_pdf(officer_report_html(application.officer_report))
