"""What the letters say, read back from the PDFs as a recipient's reader would: every letter
names the case, the amounts in Swedish format, the reasons in the officer's own words, who
decided and how to appeal; and every one is tagged PDF/A-2b in Swedish with Lato embedded."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from documents.letters import decision_letter_send, receipt_send, repayment_letter_send
from grants.models import CommitteeMeeting, Document
from grants.services import apply, assess, decide, follow_up

from ..staff import pay_out, read_pdf_text

pytestmark = pytest.mark.django_db

REASONS = {
    "approved": "Föreningen har en bred verksamhet för barn och unga i Fisksätra.",
    "partly_approved": "Lokalhyran bekostas redan av kommunen, så den delen av budgeten beviljas inte.",
    "rejected": "Föreningen bedriver ingen verksamhet i kommunen.",
    "committee": "Projektet når barn som annars inte deltar i föreningslivet.",
}


# --- reading a letter back ---------------------------------------------------------------


class Letter:
    """A stored letter as its recipient's PDF reader sees it."""

    def __init__(self, document):
        from pypdf import PdfReader

        self.document = document
        self.content = default_storage.open(document.storage_key).read()
        self.reader = PdfReader(io.BytesIO(self.content))
        text, _ = read_pdf_text(self.content)
        # One line, ordinary spaces: amounts read "11 000,00" however they were set.
        self.text = " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())

    @property
    def catalog(self):
        return self.reader.trailer["/Root"]

    def fonts(self):
        """Every font the pages use, with its descriptor, also inside form XObjects."""
        found, seen = [], set()

        def walk(resources):
            resources = resources.get_object() if resources is not None else {}
            for font in (resources.get("/Font") or {}).values():
                font = font.get_object()
                if id(font) in seen:
                    continue
                seen.add(id(font))
                for descendant in font.get("/DescendantFonts", []):
                    descendant = descendant.get_object()
                    found.append((font["/BaseFont"], descendant["/FontDescriptor"].get_object()))
                if "/FontDescriptor" in font:
                    found.append((font["/BaseFont"], font["/FontDescriptor"].get_object()))
            for xobject in (resources.get("/XObject") or {}).values():
                xobject = xobject.get_object()
                if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                    walk(xobject["/Resources"])

        for page in self.reader.pages:
            walk(page.get("/Resources"))
        return found

    def images(self):
        images = []
        for page in self.reader.pages:

            def walk(resources):
                resources = resources.get_object() if resources is not None else {}
                for xobject in (resources.get("/XObject") or {}).values():
                    xobject = xobject.get_object()
                    if xobject.get("/Subtype") == "/Image":
                        images.append(xobject)
                    elif xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                        walk(xobject["/Resources"])

            walk(page.get("/Resources"))
        return images


def letter(application, kind):
    return Letter(application.documents.get(kind=kind))


def assert_is_an_accessible_archivable_letter(letter_, case_number, court="Förvaltningsrätten i Stockholm"):
    """What every letter must have, whatever it decides."""
    text = letter_.text
    assert case_number in text
    assert "Sida 1 av " in text
    assert "FÖRHANDSGRANSKNING" not in text  # only previews say they are drafts
    pages = len(letter_.reader.pages)
    assert f"Sida {pages} av {pages}" in text
    # Swedish, tagged, PDF/A-2b.
    assert letter_.catalog["/Lang"] == "sv"
    assert letter_.catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a pypdf BooleanObject
    assert "/StructTreeRoot" in letter_.catalog
    xmp = letter_.reader.xmp_metadata
    assert (str(xmp.pdfaid_part), xmp.pdfaid_conformance) == ("2", "B")
    raw = letter_.catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in raw and 'pdfaid:conformance="B"' in raw
    # PDF/A: the document information and the XMP metadata say the same.
    assert xmp.dc_title["x-default"] == letter_.reader.metadata.title
    assert xmp.dc_creator == [letter_.reader.metadata.author]
    # Every font is Lato, shipped with the project, and embedded.
    fonts = letter_.fonts()
    assert fonts
    for name, descriptor in fonts:
        assert "Lato" in str(name), name
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, name


def assert_appeal_instructions(text, court="Förvaltningsrätten i Stockholm"):
    assert "laglighetsprövning" in text and "13 kap. kommunallagen" in text
    assert court in text
    assert "Varje medlem av Nacka kommun" in text
    assert "skriftligt" in text and "tre veckor" in text
    assert "anslagstavla" in text


def swedish_date(day):
    months = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ]
    return f"{day.day} {months[day.month - 1]} {day.year}"


# --- cases at the point of their letters ------------------------------------------------


def submitted(
    anna, organisation, call, *, title="Verksamhet 2026", amount=None, inputs=None, budget=(), attachments=()
):
    application = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=anna,
        title=title,
        description="Fotboll och läxhjälp.",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=Decimal(amount) if amount else None,
        inputs=inputs or {},
        budget_lines=budget,
    )
    for name, content in attachments:
        apply.application_attach(
            application=application, by=anna, filename=name, content_type="application/pdf", content=content
        )
    return apply.application_submit(application=application, by=anna)


def assessed(application, officer, *, proposal, amount):
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal=proposal,
        proposed_amount=Decimal(amount),
        justification="Bedömd enligt reglerna.",
    )
    application.refresh_from_db()
    return application


def decided_by_officer(application, officer, *, outcome, amount, reasons, conditions=""):
    return decide.decision_make(
        application=application,
        by=officer,
        outcome=outcome,
        amount=Decimal(amount),
        reasons=reasons,
        conditions=conditions,
    )


def decided_by_committee(application, member, *, held_on, paragraph, amount):
    return decide.decision_make(
        application=application,
        by=member,
        outcome="approved",
        amount=Decimal(amount),
        reasons=REASONS["committee"],
        meeting_date=held_on,
        protocol_paragraph=paragraph,
    )


@pytest.fixture
def approved_on_delegation(anna, olle, fisksatra, activity_call):
    """Activity grant: 5 000 kr + 40 × 150 kr = 11 000 kr, decided by Olle on delegation 4.2."""
    application = assessed(
        submitted(anna, fisksatra, activity_call, inputs={"members": 40}), olle, proposal="approved", amount="11000"
    )
    decision = decided_by_officer(
        application,
        olle,
        outcome="approved",
        amount="11000",
        reasons=REASONS["approved"],
        conditions="Bidraget får bara användas till verksamhet i kommunen.",
    )
    decision_letter_send(decision.pk)
    return decision


@pytest.fixture
def committee_decision(anna, olle, kim, fisksatra, inclusion_call):
    """Inclusion project over the 50 000 kr delegation limit: Kim's committee decides 60 000 kr."""
    application = submitted(
        anna,
        fisksatra,
        inclusion_call,
        title="Nattvandring och läxhjälp",
        amount="60000",
        budget=[
            ("cost", "Ledararvoden", Decimal("50000")),
            ("cost", "Lokalhyra", Decimal("20000")),
            ("income", "Egen insats", Decimal("5000")),
        ],
    )
    application = assessed(application, olle, proposal="approved", amount="60000")
    return decided_by_committee(application, kim, held_on=dt.date(2026, 3, 5), paragraph="§ 42", amount="60000")


# --- decisions on delegation ------------------------------------------------------------


def test_approved_on_delegation(approved_on_delegation, olle):
    application = approved_on_delegation.application
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    # Header: municipality, committee, recipient and organisationsnummer, programme and call.
    assert "Nacka kommun" in text and "Kultur- och fritidsnämnden" in text
    assert "Fisksätra IF" in text and "802412-1231" in text
    assert "Verksamhetsbidrag" in text and application.call.title.lower() in text
    # The decision, amount, conditions and reasons.
    assert "beviljar Fisksätra IF 11 000,00 kronor" in text
    assert "Bidraget får bara användas till verksamhet i kommunen." in text
    assert REASONS["approved"] in text
    # Payment plan and follow-up with its deadline.
    assert "Bankgiro 5050-1055" in text and "100 %" in text
    assert "Återrapportering" in text and "2027-03-01" in text
    # Who decided, under which delegation point; the decision is reported to the committee.
    assert "delegation" in text and "punkt 4.2" in text and "anmäls till nämnden" in text
    assert "Olle" in text and "olle@example.se" in text
    # The appeal: a delegation decision's period runs from the announcement of the protocol
    # of the meeting where it was reported.
    assert_appeal_instructions(text)
    assert "anmäldes" in text


def test_partly_approved(anna, olle, fisksatra, inclusion_call):
    application = submitted(
        anna,
        fisksatra,
        inclusion_call,
        amount="60000",
        budget=[("cost", "Ledararvoden", Decimal("50000")), ("cost", "Lokalhyra", Decimal("20000"))],
    )
    application = assessed(application, olle, proposal="partly_approved", amount="40000")
    decision = decided_by_officer(
        application, olle, outcome="partly_approved", amount="40000", reasons=REASONS["partly_approved"]
    )
    decision_letter_send(decision.pk)
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "beviljar Fisksätra IF 40 000,00 kronor" in text and "delvis bifall" in text
    assert "I övrigt avslås ansökan" in text
    assert "60 000,00" in text  # what was applied for
    assert REASONS["partly_approved"] in text
    # 85 % now, 15 % after an approved follow-up report.
    assert "34 000,00 kr" in text and "6 000,00 kr" in text and "efter godkänd återrapport" in text
    assert "punkt 4.2" in text
    assert_appeal_instructions(text)


def test_rejected(anna, olle, fisksatra, activity_call):
    application = assessed(
        submitted(anna, fisksatra, activity_call, inputs={"members": 12}), olle, proposal="rejected", amount="0"
    )
    decision = decided_by_officer(application, olle, outcome="rejected", amount="0", reasons=REASONS["rejected"])
    decision_letter_send(decision.pk)
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "avslår ansökan" in text and REASONS["rejected"] in text
    assert "6 800,00" in text  # the amount applied for: 5 000 kr + 12 × 150 kr
    assert "Utbetalning" not in text and "Återrapportering" not in text
    assert "punkt 4.2" in text and "anmäls till nämnden" in text
    assert_appeal_instructions(text)


# --- committee decisions ----------------------------------------------------------------


def test_committee_decision_with_announced_protocol(committee_decision):
    meeting = committee_decision.meeting
    meeting.announced_on = dt.date(2026, 3, 12)
    meeting.save()
    decision_letter_send(committee_decision.pk)
    application = committee_decision.application
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "beviljar Fisksätra IF 60 000,00 kronor" in text and REASONS["committee"] in text
    assert "sammanträdet 2026-03-05, § 42" in text
    assert "delegation" not in text
    assert_appeal_instructions(text)
    # The announcement and the last day, three weeks later, as Swedish dates.
    assert "12 mars 2026" in text and "2 april 2026" in text
    assert swedish_date(meeting.appeal_deadline) == "2 april 2026"


def test_committee_decision_before_the_announcement_says_how_to_find_it(committee_decision):
    decision_letter_send(committee_decision.pk)
    application = committee_decision.application
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "sammanträdet 2026-03-05, § 42" in text
    assert_appeal_instructions(text)
    # No date yet: the letter tells where the date is published and whom to ask.
    assert "tillkännagavs" in text and "kommunens digitala anslagstavla" in text
    assert "bidrag@kommun.example" in text or "registrator" in text


def test_committee_letter_uses_the_committees_own_texts_and_logo(committee_decision, tmp_path):
    from PIL import Image

    committee = committee_decision.application.call.programme.committee
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 80, 122)).save(buffer, "PNG")
    committee.logo.save("logo.png", io.BytesIO(buffer.getvalue()), save=False)
    committee.court = "Förvaltningsrätten i Uppsala"
    committee.appeal_text = "Detta beslut kan överklagas genom laglighetsprövning hos Förvaltningsrätten i Uppsala."
    committee.address = "Granitvägen 15\n131 81 Nacka"
    committee.save()
    decision_letter_send(committee_decision.pk)
    application = committee_decision.application
    read = letter(application, Document.Kind.DECISION_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    assert committee.appeal_text in read.text
    assert "Förvaltningsrätten i Stockholm" not in read.text
    assert "Granitvägen 15" in read.text and "131 81 Nacka" in read.text
    assert read.images(), "the committee's logo is in the letter"


# --- repayment and receipt --------------------------------------------------------------


def test_repayment_letter(approved_on_delegation, anna, olle, fia):
    application = approved_on_delegation.application
    pay_out(application, fia)
    follow_up.follow_up_submit(
        report=application.follow_up,
        by=anna,
        what_was_done="Lite träning.",
        outcome="Laget lades ned i mars.",
        own_contribution=Decimal("0"),
        cost_lines=[("Ledararvoden", Decimal("12000"), Decimal("2500"))],
    )
    note = "Verksamheten upphörde i mars och bidraget användes bara till en liten del."
    follow_up.follow_up_review(
        report=application.follow_up, by=olle, verdict="reject", note=note, reclaim_amount=Decimal("8500")
    )
    repayment_letter_send(application.pk)
    application.refresh_from_db()
    read = letter(application, Document.Kind.REPAYMENT_LETTER)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "8 500,00 kronor" in text and note in text
    assert application.repayment_claim.due_on.strftime("%Y-%m-%d") in text
    assert "11 000,00" in text  # what was granted and paid
    assert "punkt 4.2" in text and "Olle" in text
    assert_appeal_instructions(text)


def test_receipt_lists_what_was_sent(anna, fisksatra, inclusion_call):
    application = submitted(
        anna,
        fisksatra,
        inclusion_call,
        title="Nattvandring och läxhjälp",
        amount="60000",
        budget=[
            ("cost", "Ledararvoden", Decimal("50000")),
            ("cost", "Lokalhyra", Decimal("20000")),
            ("income", "Egen insats", Decimal("5000")),
        ],
        attachments=[("budget 2026.pdf", b"%PDF-1.4\n%%EOF\n"), ("stadgar.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    receipt_send(application.pk)
    read = letter(application, Document.Kind.RECEIPT)
    assert_is_an_accessible_archivable_letter(read, application.case_number)
    text = read.text
    assert "Mottagningskvitto" in text
    assert "Nattvandring och läxhjälp" in text and "60 000,00 kr" in text
    for line in ("Ledararvoden", "50 000,00 kr", "Lokalhyra", "20 000,00 kr", "Egen insats", "5 000,00 kr"):
        assert line in text, line
    assert "budget 2026.pdf" in text and "stadgar.pdf" in text
    assert "Inskickad av Anna" in text
    assert "Fisksätra IF" in text and "802412-1231" in text


def test_swedish_dates_in_letters_use_swedish_month_names(committee_decision):
    meeting = CommitteeMeeting.objects.get(pk=committee_decision.meeting_id)
    meeting.announced_on = dt.date(2026, 12, 28)  # the period runs into the next year
    meeting.save()
    decision_letter_send(committee_decision.pk)
    text = letter(committee_decision.application, Document.Kind.DECISION_LETTER).text
    assert "28 december 2026" in text and "18 januari 2027" in text
    assert not re.search(r"\b(January|March|April|December)\b", text)
