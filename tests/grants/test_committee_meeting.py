"""The committee's work (issue 17): Olle makes cases ready for the committee with their
officer's reports; Siv, the committee's secretary, builds the meeting's agenda with the
delegation report, sends it, records attendance, jäv and every decision in one step; the
announcement of the approved protocol releases protocol extracts, letters and payments, and
the delegation decisions are reported. Through HTTP, as the people would."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from grants.files import read_verified
from grants.models import (
    AgendaItem,
    Application,
    CaseEvent,
    CommitteeMeeting,
    CommitteeMember,
    Decision,
    Document,
    MeetingDocument,
    OfficerReport,
)

from .. import factories
from .test_decision_execution import assessed_for_the_committee

pytestmark = pytest.mark.django_db

MEMBERS = [
    ("Maria Ordförande", CommitteeMember.Role.CHAIR),
    ("Per Vice", CommitteeMember.Role.VICE_CHAIR),
    ("Lena Ledamot", CommitteeMember.Role.MEMBER),
    ("Omar Ledamot", CommitteeMember.Role.MEMBER),
    ("Eva Ledamot", CommitteeMember.Role.MEMBER),
    ("Sten Ersättare", CommitteeMember.Role.SUBSTITUTE),
]


def pdf_text(content):
    """The PDF's text, its whitespace (table cells wrap) made single spaces."""
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def siv(db):
    return factories.user("siv", role="Nämndsekreterare", first_name="Siv")


@pytest.fixture
def members(inclusion_call):
    committee = inclusion_call.programme.committee
    return [
        CommitteeMember.objects.create(
            committee=committee, name=name, role=role, email=f"{name.split()[0].lower()}@politik.example"
        )
        for name, role in MEMBERS
    ]


def four_cases(anna, olle, inclusion_call):
    """Four associations' applications above the delegation limit, assessed by Olle."""
    organisations = [
        factories.association(members=[anna]),
        factories.association("Saltsjöbadens SK", "802400-0006", members=[anna]),
        factories.association("Boo Kulturförening", "802437-4962", members=[anna]),
        factories.association("Älta Schack", "802433-1236", members=[anna]),
    ]
    amounts = [60000, 70000, 55000, 80000]
    return [
        assessed_for_the_committee(anna, olle, org, inclusion_call, title=f"Projekt {index}", amount=amount)
        for index, (org, amount) in enumerate(zip(organisations, amounts), start=1)
    ]


def mark_ready(client, olle, application):
    client.force_login(olle)
    response = client.post(reverse("committee:officer_report", args=[application.pk]))
    assert response.status_code == 302
    return OfficerReport.objects.get(application=application)


def plan_meeting(client, siv, committee, held_on):
    client.force_login(siv)
    response = client.post(
        reverse("committee:list"), {"committee": committee.pk, "held_on": held_on.isoformat(), "place": "Stadshuset"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return CommitteeMeeting.objects.get(committee=committee, held_on=held_on)


def agenda_with(client, meeting, cases, *, delegation_report=True):
    for application in cases:
        response = client.post(reverse("committee:agenda_add", args=[meeting.pk]), {"application": application.pk})
        assert response.status_code == 302
    if delegation_report:
        client.post(reverse("committee:agenda_delegation_report", args=[meeting.pk]))


def protocol_data(meeting, present, decisions):
    data = {"present": [member.pk for member in present]}
    for item in meeting.items.filter(kind=AgendaItem.Kind.CASE):
        outcome, amount, conflicted = decisions[item.application_id]
        prefix = f"item-{item.pk}-"
        data[prefix + "outcome"] = outcome
        data[prefix + "amount"] = str(amount)
        data[prefix + "reasons"] = "Enligt tjänsteskrivelsen."
        data[prefix + "conflicted"] = [member.pk for member in conflicted]
    return data


def test_a_meeting_with_five_items_from_agenda_to_letters_and_payments(
    client, anna, olle, otto, siv, inclusion_call, members, today
):
    committee = inclusion_call.programme.committee
    cases = four_cases(anna, olle, inclusion_call)
    # Two decisions under delegation in the period, to be reported to the committee.
    delegated = [
        factories.granted_case(
            inclusion_call, factories.association("Fisksätra Musik", "802000-0001", members=[anna]), anna, olle
        ),
    ]
    delegated.append(factories.granted_case(inclusion_call, delegated[0].organisation, anna, olle, title="Sommarläger"))

    # Olle makes the four ready: each gets its officer's report, written from the assessment.
    reports = [mark_ready(client, olle, application) for application in cases]
    assert "60\xa0000 kr" in reports[0].proposal and reports[0].reasons == "Når barn utanför föreningslivet."
    assert "Projekt 1" in reports[0].background and "kr" in reports[0].budget_effect
    response = client.post(
        reverse("committee:officer_report", args=[cases[1].pk]),
        {
            "background": "Saltsjöbadens SK vill nå fler flickor.",
            "proposal": "Nämnden beslutar att bevilja 70 000 kr.",
            "reasons": "Prioriterat område.",
            "budget_effect": "Ryms i årets budget.",
        },
    )
    assert response.status_code == 302
    assert OfficerReport.objects.get(application=cases[1]).background == "Saltsjöbadens SK vill nå fler flickor."

    # Siv plans the meeting and builds the agenda: four cases and the delegation report.
    meeting = plan_meeting(client, siv, committee, today)
    page = client.get(reverse("committee:agenda", args=[meeting.pk]))
    assert page.status_code == 200
    for application in cases:
        assert application.case_number in page.content.decode()
    agenda_with(client, meeting, cases)
    items = list(meeting.items.order_by("position"))
    assert len(items) == 5 and items[-1].kind == AgendaItem.Kind.DELEGATION_REPORT
    assert set(Decision.objects.filter(reported_item=items[-1])) == {app.decision for app in delegated}
    # Case 4 is moved up before case 3.
    client.post(reverse("committee:agenda_item", args=[meeting.pk, items[3].pk]), {"action": "up"})
    order = list(meeting.items.order_by("position").values_list("application_id", flat=True))
    assert order == [cases[0].pk, cases[1].pk, cases[3].pk, cases[2].pk, None]

    response = client.post(reverse("committee:agenda_send", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.agenda_sent_at is not None
    # The papers: the agenda with the officer's reports (PDF/A), the delegation report, and a
    # report on each case; mailed to the members.
    agenda = MeetingDocument.objects.get(meeting=meeting, kind=MeetingDocument.Kind.AGENDA)
    agenda_pdf = client.get(reverse("committee:document", args=[meeting.pk, agenda.pk]))
    assert agenda_pdf.status_code == 200
    text = pdf_text(agenda_pdf.content)
    assert "Föredragningslista" in text and "Saltsjöbadens SK vill nå fler flickor." in text
    for application in [*cases, *delegated]:
        assert application.case_number in text, (application.case_number, text)
    xmp = PdfReader(io.BytesIO(read_verified(agenda))).xmp_metadata
    assert (str(xmp.pdfaid_part), xmp.pdfaid_conformance) == ("2", "B")  # PDF/A-2b
    assert MeetingDocument.objects.filter(meeting=meeting, kind=MeetingDocument.Kind.DELEGATION_REPORT).exists()
    for application in cases:
        document = Document.objects.get(application=application, kind=Document.Kind.OFFICER_REPORT)
        assert application.case_number in pdf_text(read_verified(document))
    assert len(mail.outbox) >= 1
    agenda_mail = [m for m in mail.outbox if m.subject.startswith("Föredragningslista")][0]
    assert set(agenda_mail.bcc) == {member.email for member in members}
    assert agenda_mail.attachments[0][2] == "application/pdf"
    # The agenda is fixed now: no report can change.
    client.force_login(olle)
    response = client.post(
        reverse("committee:officer_report", args=[cases[0].pk]),
        {"background": "x", "proposal": "x", "reasons": "x", "budget_effect": "x"},
    )
    assert response.status_code == 400 and "kan inte ändras längre" in response.content.decode()
    assert OfficerReport.objects.get(application=cases[0]).background != "x"

    # At the meeting: five of six present (Eva absent, the substitute Sten serves); Omar
    # declares jäv on Saltsjöbadens SK's case. One step records every decision.
    client.force_login(siv)
    present = [m for m in members if m.name != "Eva Ledamot"]
    omar = next(m for m in members if m.name == "Omar Ledamot")
    data = protocol_data(
        meeting,
        present,
        {
            cases[0].pk: ("approved", Decimal(60000), []),
            cases[1].pk: ("partly_approved", Decimal(50000), [omar]),
            cases[2].pk: ("approved", Decimal(55000), []),
            cases[3].pk: ("rejected", Decimal(0), []),
        },
    )
    response = client.post(reverse("committee:protocol", args=[meeting.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    meeting.refresh_from_db()
    assert meeting.is_held and set(meeting.present.all()) == set(present)
    paragraphs = {item.application_id: item.paragraph for item in meeting.items.filter(kind=AgendaItem.Kind.CASE)}
    first = meeting.first_paragraph
    assert paragraphs == {cases[0].pk: first, cases[1].pk: first + 1, cases[3].pk: first + 2, cases[2].pk: first + 3}
    decisions = {d.application_id: d for d in Decision.objects.filter(application__in=cases)}
    assert decisions[cases[1].pk].outcome == "partly_approved" and decisions[cases[1].pk].amount == 50000
    assert decisions[cases[3].pk].outcome == "rejected"
    assert decisions[cases[0].pk].protocol_paragraph == f"§ {first}"
    assert all(d.by_committee and d.meeting_id == meeting.pk and d.decided_by == siv for d in decisions.values())
    assert list(meeting.items.get(application=cases[1]).conflicted.all()) == [omar]
    assert CaseEvent.objects.filter(application=cases[1], action="Jäv i nämnden", note__contains="Omar").exists()
    # Nothing is executed before the protocol's approval is announced.
    assert not Decision.objects.filter(Decision.executable_q(), application__in=cases).exists()
    assert not Document.objects.filter(application__in=cases, kind=Document.Kind.PROTOCOL_EXTRACT).exists()
    # The delegation decisions are reported with the meeting.
    for application in delegated:
        assert CaseEvent.objects.filter(
            application=application, action="Delegationsbeslutet anmält till nämnden"
        ).exists()

    # The protocol is approved and announced: the extracts go out, then the letters.
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": today.isoformat()})
    assert response.status_code == 302, response.content.decode()[-2000:]
    for application in cases:
        extract = Document.objects.get(application=application, kind=Document.Kind.PROTOCOL_EXTRACT)
        text = pdf_text(read_verified(extract))
        assert "Protokollsutdrag" in text and f"§ {paragraphs[application.pk]}" in text
        assert "Maria Ordförande" in text and "Eva Ledamot" not in text
    conflicted_extract = Document.objects.get(application=cases[1], kind=Document.Kind.PROTOCOL_EXTRACT)
    assert "Omar Ledamot anmälde jäv" in pdf_text(read_verified(conflicted_extract))
    assert set(Decision.objects.filter(Decision.executable_q(), application__in=cases)) == set(decisions.values())
    for application in delegated:
        event = CaseEvent.objects.filter(application=application, action="Protokollet tillkännagivet").get()
        assert f"{today:%Y-%m-%d}" in event.note and "tiden för överklagande" in event.note
    response = client.post(reverse("meetings:start", args=[meeting.pk]))
    assert response.status_code == 302
    for application in cases:
        assert Document.objects.filter(application=application, kind=Document.Kind.DECISION_LETTER).exists()
    # The granted cases' first payments may now be attested by finance.
    fia = factories.user("fia", role="Ekonomi", first_name="Fia")
    client.force_login(fia)
    page = client.get(reverse("finance:payments")).content.decode()
    for application in (cases[0], cases[1], cases[2]):
        assert application.case_number in page
    assert Application.objects.get(pk=cases[3].pk).status == "rejected"


def test_the_decisions_of_a_meeting_are_refused_together_when_the_budget_does_not_hold_them(
    client, anna, olle, siv, inclusion_call, members, today
):
    call = inclusion_call
    call.budget = Decimal(150000)
    call.save(update_fields=["budget"])
    cases = four_cases(anna, olle, call)[:3]  # 60 000 + 70 000 + 55 000 > 150 000
    for application in cases:
        mark_ready(client, olle, application)
    meeting = plan_meeting(client, siv, call.programme.committee, today)
    agenda_with(client, meeting, cases, delegation_report=False)
    client.post(reverse("committee:agenda_send", args=[meeting.pk]))
    data = protocol_data(
        meeting,
        members[:5],
        {application.pk: ("approved", application.assessment.proposed_amount, []) for application in cases},
    )
    response = client.post(reverse("committee:protocol", args=[meeting.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "ryms inte i budgeten tillsammans" in page and "Inga beslut har sparats" in page
    assert not Decision.objects.filter(application__in=cases).exists()
    meeting.refresh_from_db()
    assert not meeting.is_held and not meeting.present.exists()
    assert set(Application.objects.filter(pk__in=[a.pk for a in cases]).values_list("status", flat=True)) == {
        "assessed"
    }


def test_jav_that_leaves_too_few_members_is_refused(client, anna, olle, siv, inclusion_call, members, today):
    application = four_cases(anna, olle, inclusion_call)[0]
    mark_ready(client, olle, application)
    meeting = plan_meeting(client, siv, inclusion_call.programme.committee, today)
    agenda_with(client, meeting, [application], delegation_report=False)
    client.post(reverse("committee:agenda_send", args=[meeting.pk]))
    present = members[:3]  # three of five: beslutför
    data = protocol_data(meeting, present, {application.pk: ("approved", Decimal(60000), members[:1])})
    response = client.post(reverse("committee:protocol", args=[meeting.pk]), data)
    assert response.status_code == 400
    assert "för få ledamöter" in response.content.decode()
    assert not Decision.objects.filter(application=application).exists()
    # Without jäv the three decide.
    data = protocol_data(meeting, present, {application.pk: ("approved", Decimal(60000), [])})
    assert client.post(reverse("committee:protocol", args=[meeting.pk]), data).status_code == 302
    assert Decision.objects.get(application=application).protocol_paragraph == f"§ {meeting.first_paragraph}"


def test_only_the_secretary_keeps_the_agenda_and_protocol(client, anna, olle, kim, siv, inclusion_call, members, today):
    application = four_cases(anna, olle, inclusion_call)[0]
    mark_ready(client, olle, application)
    meeting = plan_meeting(client, siv, inclusion_call.programme.committee, today)
    client.force_login(olle)
    assert client.get(reverse("committee:agenda", args=[meeting.pk])).status_code == 403
    client.force_login(kim)  # a decision maker reads, but does not keep the agenda
    assert client.get(reverse("committee:agenda", args=[meeting.pk])).status_code == 200
    response = client.post(reverse("committee:agenda_add", args=[meeting.pk]), {"application": application.pk})
    assert response.status_code == 403
    assert not meeting.items.exists()


def test_paragraphs_continue_through_the_year(client, anna, olle, siv, inclusion_call, members, today):
    cases = four_cases(anna, olle, inclusion_call)[:2]
    for application in cases:
        mark_ready(client, olle, application)
    committee = inclusion_call.programme.committee
    first = plan_meeting(client, siv, committee, today - dt.timedelta(days=1))
    agenda_with(client, first, cases[:1])
    client.post(reverse("committee:agenda_send", args=[first.pk]))
    data = protocol_data(first, members[:5], {cases[0].pk: ("approved", Decimal(60000), [])})
    assert client.post(reverse("committee:protocol", args=[first.pk]), data).status_code == 302
    second = plan_meeting(client, siv, committee, today)
    assert second.first_paragraph == first.first_paragraph + 2  # the case and the delegation report
    agenda_with(client, second, cases[1:], delegation_report=False)
    client.post(reverse("committee:agenda_send", args=[second.pk]))
    data = protocol_data(second, members[:5], {cases[1].pk: ("approved", Decimal(70000), [])})
    assert client.post(reverse("committee:protocol", args=[second.pk]), data).status_code == 302
    assert re.fullmatch(r"§ \d+", Decision.objects.get(application=cases[1]).protocol_paragraph)
    assert Decision.objects.get(application=cases[1]).protocol_paragraph == f"§ {first.first_paragraph + 2}"


def test_a_delegation_report_on_one_agenda_hides_no_case_from_another(
    client, anna, olle, siv, inclusion_call, members, today
):
    """The delegation report's item has no case: it must not make every case look as if it
    were on an agenda (a NULL among the cases on agendas)."""
    application = four_cases(anna, olle, inclusion_call)[0]
    mark_ready(client, olle, application)
    other = factories.committee("SN", "Socialnämnden")
    meeting = plan_meeting(client, siv, inclusion_call.programme.committee, today)
    elsewhere = plan_meeting(client, siv, other, today)
    client.post(reverse("committee:agenda_delegation_report", args=[elsewhere.pk]))
    assert elsewhere.items.filter(kind=AgendaItem.Kind.DELEGATION_REPORT).exists()
    page = client.get(reverse("committee:agenda", args=[meeting.pk])).content.decode()
    assert application.case_number in page
    agenda_with(client, meeting, [application], delegation_report=False)
    assert meeting.items.filter(application=application).exists()


def test_the_committee_pages_cost_a_fixed_number_of_queries(client, anna, olle, siv, inclusion_call, members, today):
    """The agenda, the protocol form, the recorded protocol and the meeting list cost the same
    with one case as with three."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counted(url):
        client.get(url)  # warm-up: sessions, caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def meeting_with(cases, held_on):
        for application in cases:
            mark_ready(client, olle, application)
        meeting = plan_meeting(client, siv, inclusion_call.programme.committee, held_on)
        before = {"agenda": counted(reverse("committee:agenda", args=[meeting.pk]))}
        agenda_with(client, meeting, cases)
        before["agenda, built"] = counted(reverse("committee:agenda", args=[meeting.pk]))
        client.post(reverse("committee:agenda_send", args=[meeting.pk]))
        before["protocol form"] = counted(reverse("committee:protocol", args=[meeting.pk]))
        data = protocol_data(
            meeting, members[:5], {a.pk: ("approved", a.assessment.proposed_amount, members[:1]) for a in cases}
        )
        assert client.post(reverse("committee:protocol", args=[meeting.pk]), data).status_code == 302
        before["protocol"] = counted(reverse("committee:protocol", args=[meeting.pk]))
        before["list"] = counted(reverse("committee:list"))
        return before

    cases = four_cases(anna, olle, inclusion_call)
    one = meeting_with(cases[:1], today - dt.timedelta(days=1))
    three = meeting_with(cases[1:], today)
    assert one == three
