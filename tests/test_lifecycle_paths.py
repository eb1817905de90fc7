"""The other roads through a case, over HTTP: the activity grant decided by the officer on
delegation, the association grant without a follow-up report, a rejection, a partial
approval, the two-person rule at attestation, a declared conflict of interest (jäv) and a
proposal above the delegation limit."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from viewflow.workflow import STATUS

from grants.models import Application, CaseEvent, ConflictOfInterest, Document, FollowUpReport, Payment
from grants.services import pay
from workflows.flows import GrantFlow
from workflows.models import GrantProcess
from workflows.process import active_task_names

from . import factories
from .staff import BASE, claim, draft, meeting_letters, open_task, pay_out, read_pdf_text, task_page, work

pytestmark = pytest.mark.django_db(transaction=True)

ASSESS_NOTE = "Föreningen har en bred verksamhet för barn och unga i Fisksätra."


# --- small steps of the story ----------------------------------------------------------


def page_text(response):
    """A page's text with thousands separators removed, so '11 000,00' reads '11000,00'."""
    return re.sub(r"(?<=\d)[\s\xa0\u202f](?=\d)", "", response.content.decode())


def applies(client, applicant, call, organisation, **kwargs):
    """The applicant saves a draft and submits it; returns the application."""
    client.force_login(applicant)
    response = draft(client, call, organisation=organisation, **kwargs)
    assert response.status_code == 302, page_text(response)[:3000]
    application = Application.objects.latest("pk")
    response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted", application.status
    return application


def accepted_and_assessed(client, officer, application, *, proposal="approved", amount=None, justification=ASSESS_NOTE):
    client.force_login(officer)
    work(client, application, "check_completeness", {"result": "complete"})
    work(
        client,
        application,
        "assess",
        {
            "conflict": "none",
            "proposal": proposal,
            "proposed_amount": str(application.requested_amount if amount is None else amount),
            "justification": justification,
        },
    )
    application.refresh_from_db()
    assert application.status == "assessed"
    return application


def decided_by_officer(client, officer, application, *, outcome="approved", amount=None, reasons=ASSESS_NOTE):
    client.force_login(officer)
    work(
        client,
        application,
        "decide_by_officer",
        {
            "outcome": outcome,
            "amount": str(application.requested_amount if amount is None else amount),
            "reasons": reasons,
            "conditions": "",
        },
    )
    application.refresh_from_db()
    return application


def attested_and_paid(client, finance, application):
    pay_out(application, finance)
    application.refresh_from_db()
    return application


def letter_text(application):
    letter = application.documents.get(kind=Document.Kind.DECISION_LETTER)
    text, _ = read_pdf_text(default_storage.open(letter.storage_key).read())
    return " ".join(text.split())


def actions(application):
    return list(CaseEvent.objects.filter(application=application).values_list("action", flat=True))


def process_finished(application):
    return GrantProcess.objects.get(application=application).status == STATUS.DONE


# --- 1. activity grant, decided by the officer on delegation ----------------------------


def test_activity_grant_decided_by_officer_on_delegation(client, anna, olle, fia, fisksatra, activity_call):
    # Anna applies for 40 members: 5 000 kr + 40 × 150 kr = 11 000 kr, computed, not stated.
    application = applies(
        client, anna, activity_call, fisksatra, title="Verksamhet 2026", amount="", inputs={"members": 40}
    )
    assert application.requested_amount == Decimal("11000.00")
    assert application.inputs == {"members": 40}
    page = page_text(client.get(reverse("portal:application", args=[application.pk])))
    assert "11000,00 kr" in page and "Inkommen" in page

    # Olle assesses within the delegation limit; the decision task lands on his desk by itself.
    accepted_and_assessed(client, olle, application)
    assert active_task_names(application) == ["decide_by_officer"]
    assert open_task(application, "decide_by_officer").owner == olle
    page = page_text(task_page(client, application, "decide_by_officer"))
    assert "Beloppsregeln ger 11000\xa0kr" in page

    application = decided_by_officer(client, olle, application)
    assert application.status == "approved"
    decision = application.decision
    assert (decision.decided_by, decision.by_committee, decision.delegation_point) == (olle, False, "4.2")
    text = letter_text(application)
    assert application.case_number in text and "beviljar Fisksätra IF" in text
    assert "delegation enligt punkt 4.2" in text and "delegationsordning" in text
    assert "anmäls till nämnden" in text

    # Fia attests and pays the whole amount at once; Anna reports back; Olle approves; closed.
    attested_and_paid(client, fia, application)
    payment = application.payments.get()
    assert (payment.amount, payment.status, payment.attested_by) == (Decimal("11000.00"), "paid", fia)
    assert active_task_names(application) == ["await_report"]

    client.force_login(anna)
    response = client.post(
        reverse("portal:follow_up", args=[application.pk]),
        factories.report_form_data(
            application,
            what_was_done="Träningar två gånger i veckan hela året.",
            outcome="Alla lag fullföljde säsongen.",
        ),
    )
    assert response.status_code == 302
    client.force_login(olle)
    work(client, application, "review_report", {"verdict": "approve", "note": ""})

    application.refresh_from_db()
    assert application.status == "closed"
    assert FollowUpReport.objects.get(application=application).status == "approved"
    assert active_task_names(application) == [] and process_finished(application)
    events = actions(application)
    for step in (
        "Ansökan inkommen",
        "Bedömning klar",
        "Beslut: Beviljas",
        "Beslutsbrev skickat",
        "Utbetalning del 1 attesterad",
        "Utbetalning del 1 utbetald",
        "Återrapport godkänd",
        "Ärendet avslutat",
    ):
        assert step in events, step
    assert CaseEvent.objects.get(application=application, action="Ärendet avslutat").actor is None


# --- 2. association grant (LOK activity support), no follow-up --------------------------


def test_association_grant_by_sessions_and_participants_closes_without_report(
    client, anna, olle, fia, fisksatra, association_call
):
    # 30 sessions × 10 participants × 12 kr = 3 600 kr.
    application = applies(
        client,
        anna,
        association_call,
        fisksatra,
        title="Aktivitetsstöd vt",
        amount="",
        inputs={"sessions": 30, "participants": 10},
    )
    assert application.requested_amount == Decimal("3600.00")
    assert "3600,00 kr" in page_text(client.get(reverse("portal:application", args=[application.pk])))

    accepted_and_assessed(client, olle, application)
    application = decided_by_officer(client, olle, application)
    assert application.status == "approved"
    assert not FollowUpReport.objects.filter(application=application).exists()
    assert "Återrapportering" not in letter_text(application)

    # Once Fia has paid, the case closes at once: the programme asks for no report.
    attested_and_paid(client, fia, application)
    assert application.status == "closed"
    assert active_task_names(application) == [] and process_finished(application)
    assert application.payments.get().status == "paid"
    assert "Återrapport inlämnad" not in actions(application)


def test_association_grant_below_lok_minimum_cannot_be_submitted(client, anna, fisksatra, association_call):
    # Two participants per session is below the LOK minimum of three: the rule gives 0 kr.
    client.force_login(anna)
    response = draft(
        client, association_call, organisation=fisksatra, amount="", inputs={"sessions": 30, "participants": 2}
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.requested_amount == Decimal("0.00")

    response = client.post(reverse("portal:submit", args=[application.pk]), follow=True)
    page = response.content.decode()
    assert "Det sökta beloppet måste vara större än 0 kr." in page
    application.refresh_from_db()
    assert (application.status, application.case_number) == ("draft", "")
    assert not GrantProcess.objects.filter(application=application).exists()
    assert "Ansökan inkommen" not in actions(application)


# --- 3. rejection -----------------------------------------------------------------------


def test_rejection_by_officer_ends_the_case_without_payments(client, anna, olle, fisksatra, activity_call):
    application = applies(client, anna, activity_call, fisksatra, amount="", inputs={"members": 12})
    accepted_and_assessed(
        client,
        olle,
        application,
        proposal="rejected",
        amount="0",
        justification="Föreningen bedriver ingen verksamhet i kommunen.",
    )
    assert active_task_names(application) == ["decide_by_officer"]

    application = decided_by_officer(
        client,
        olle,
        application,
        outcome="rejected",
        amount="0",
        reasons="Föreningen bedriver ingen verksamhet i kommunen.",
    )
    assert application.status == "rejected"
    assert application.decision.amount == Decimal("0.00")
    assert not application.payments.exists()
    assert not FollowUpReport.objects.filter(application=application).exists()
    assert active_task_names(application) == [] and process_finished(application)
    text = letter_text(application)
    assert "avslår ansökan" in text and "ingen verksamhet i kommunen" in text
    assert "Utbetalning" not in text

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Avslagen" in page and "Avslås" in page
    assert "Beslut: Avslås" in actions(application)


# --- 4. partly approved -----------------------------------------------------------------


def test_partly_approved_inclusion_grant_splits_payments_85_15(client, anna, olle, fisksatra, inclusion_call):
    application = applies(client, anna, inclusion_call, fisksatra, amount="60000")
    assert application.requested_amount == Decimal("60000.00")
    accepted_and_assessed(
        client,
        olle,
        application,
        proposal="partly_approved",
        amount="40000",
        justification="Lokalhyran bekostas redan av kommunen.",
    )
    # 40 000 kr is within Olle's delegation (50 000 kr) even though 60 000 kr was not.
    assert active_task_names(application) == ["decide_by_officer"]

    application = decided_by_officer(
        client,
        olle,
        application,
        outcome="partly_approved",
        amount="40000",
        reasons="Lokalhyran bekostas redan av kommunen.",
    )
    assert application.status == "partly_approved"
    payments = list(application.payments.order_by("sequence"))
    assert [(p.percent, p.amount, p.status) for p in payments] == [
        (85, Decimal("34000.00"), "planned"),
        (15, Decimal("6000.00"), "withheld"),
    ]
    assert sum(p.amount for p in payments) == application.decision.amount == Decimal("40000.00")
    text = letter_text(application)
    assert "(delvis bifall)" in text and "efter godkänd återrapport" in text
    assert active_task_names(application) == ["await_payment"]
    assert "Beslut: Beviljas delvis" in actions(application)


# --- 5. the two-person rule -------------------------------------------------------------


def test_decider_who_is_also_finance_cannot_attest(client, anna, olle, kim, fia, fisksatra, inclusion_call):
    kim.groups.add(Group.objects.get(name="Ekonomi"))  # Kim sits on the committee and works in finance
    application = applies(client, anna, inclusion_call, fisksatra, amount="60000")
    accepted_and_assessed(client, olle, application)
    client.force_login(kim)
    work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": ASSESS_NOTE,
            "meeting_date": "2026-03-12",
            "protocol_paragraph": "§ 7",
            "approved_immediately": "on",  # so that it may be paid before the protocol is announced
        },
    )
    payment = Payment.objects.get(application=application, sequence=1)
    assert (payment.status, payment.decided_by) == ("planned", kim)

    # Kim sees the payment in finance's list, but attesting it is refused …
    client.force_login(kim)
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": [payment.pk]}, follow=True)
    assert "tvåpersonsregeln" in response.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.attested_by) == ("planned", None)
    assert active_task_names(application) == ["await_payment"]

    # … and Fia attests it.
    client.force_login(fia)
    response = client.post(reverse("finance:payments"), {"action": "attest", "payments": [payment.pk]}, follow=True)
    payment.refresh_from_db()
    assert (payment.status, payment.attested_by) == ("attested", fia)
    assert active_task_names(application) == ["await_payment"]


def test_two_person_rule_holds_in_the_service_and_in_the_database(
    client, anna, olle, kim, fia, fisksatra, inclusion_call
):
    kim.groups.add(Group.objects.get(name="Ekonomi"))
    application = applies(client, anna, inclusion_call, fisksatra, amount="60000")
    accepted_and_assessed(client, olle, application)
    client.force_login(kim)
    work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": ASSESS_NOTE,
            "meeting_date": "2026-03-12",
            "protocol_paragraph": "§ 7",
            "approved_immediately": "on",  # so that it may be paid before the protocol is announced
        },
    )
    payment = Payment.objects.get(application=application, sequence=1)
    kim = type(kim).objects.get(pk=kim.pk)  # fresh permission cache with the new group

    with pytest.raises(ValidationError, match="tvåpersonsregeln"):
        pay.payments_attest(payment_ids=[payment.pk], by=kim)
    payment.refresh_from_db()
    assert (payment.status, payment.attested_by) == ("planned", None)
    assert not CaseEvent.objects.filter(application=application, action__contains="attesterad").exists()

    # Even code that bypasses the service cannot write it: the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(attested_by=kim)
    payment.refresh_from_db()
    assert payment.attested_by is None

    # Someone else attests fine.
    pay.payments_attest(payment_ids=[payment.pk], by=fia)
    payment.refresh_from_db()
    assert (payment.status, payment.attested_by) == ("attested", fia)


# --- 6. conflict of interest (jäv) ------------------------------------------------------


def test_officer_declares_conflict_and_another_officer_takes_over(client, anna, olle, otto, fisksatra, activity_call):
    application = applies(client, anna, activity_call, fisksatra, amount="", inputs={"members": 40})
    client.force_login(olle)
    work(client, application, "check_completeness", {"result": "complete"})
    work(
        client,
        application,
        "assess",
        {
            "conflict": "conflict",
            "conflict_reason": "Jag sitter i Fisksätra IF:s valberedning.",
        },
    )

    conflict = ConflictOfInterest.objects.get(application=application)
    assert (conflict.user, conflict.reason) == (olle, "Jag sitter i Fisksätra IF:s valberedning.")
    event = CaseEvent.objects.get(application=application, action="Jäv anmält")
    assert event.actor == olle and "valberedning" in event.note
    application.refresh_from_db()
    assert application.status == "in_assessment"
    assert active_task_names(application) == ["assess"]
    task = open_task(application, "assess")
    assert task.owner is None and task.status == STATUS.NEW

    # Olle can no longer take the case: no claim, no assign action, nothing in his queue.
    assert claim(client, application, "assess").status_code == 403
    assert not GrantFlow.assess.can_assign(olle, task)
    response = client.get(f"{BASE}/{task.process_id}/assess/{task.pk}/")  # the task's link leads elsewhere
    assert response.status_code == 302 and "/assign/" not in response["Location"]
    queue = client.get(f"{BASE}/queue/").content.decode()
    assert f"/{task.process_id}/assess/{task.pk}/" not in queue
    task.refresh_from_db()
    assert task.owner is None

    # Otto sees it, takes it and assesses.
    client.force_login(otto)
    queue = client.get(f"{BASE}/queue/").content.decode()
    assert f"/{task.process_id}/assess/{task.pk}/" in queue
    work(
        client,
        application,
        "assess",
        {
            "conflict": "none",
            "proposal": "approved",
            "proposed_amount": "11000",
            "justification": ASSESS_NOTE,
        },
    )
    application.refresh_from_db()
    assert application.status == "assessed"
    assert application.assessment.officer == otto
    assert open_task(application, "decide_by_officer").owner == otto
    page = task_page(client, application, "decide_by_officer").content.decode()
    assert "Jäv anmält" in page and "valberedning" in page


# --- 7. above the delegation limit ------------------------------------------------------


def test_officer_cannot_decide_above_delegation(client, anna, olle, kim, fisksatra, inclusion_call):
    application = applies(client, anna, inclusion_call, fisksatra, amount="60000")
    accepted_and_assessed(client, olle, application)  # 60 000 kr > 50 000 kr delegation
    assert active_task_names(application) == ["decide_by_committee"]
    assert "Beslut fattas av nämnden" in CaseEvent.objects.get(application=application, action="Bedömning klar").note

    client.force_login(olle)
    assert claim(client, application, "decide_by_committee").status_code == 403
    assert open_task(application, "decide_by_committee").owner is None

    client.force_login(kim)
    work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": ASSESS_NOTE,
            "meeting_date": "2026-03-12",
            "protocol_paragraph": "§ 42",
        },
    )
    application.refresh_from_db()
    decision = application.decision
    assert (application.status, decision.decided_by, decision.by_committee) == ("approved", kim, True)
    assert (decision.delegation_point, decision.protocol_paragraph) == ("", "§ 42")
    meeting_letters(client, kim, application)
    assert "sammanträdet 2026-03-12, § 42" in letter_text(application)
