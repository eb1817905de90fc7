"""A decision is executed only when it may be (issue 12): a committee decides only at a meeting
that has been held, and nothing of its decision is attested, paid or published before the
approval of the meeting's protocol has been announced, unless the paragraph was approved at
once (omedelbar justering). A decision under delegation is executed at once. The applicant's
case page says what she waits for. Through HTTP, as Kim, Fia, Anna and a visitor would."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents.open_data import grant_identifier
from grants import access
from grants.models import Application, CommitteeMeeting, Decision, Payment
from grants.services import apply, assess, decide, pay

from .. import factories
from ..staff import claim, task_page, work

pytestmark = pytest.mark.django_db

PAYMENTS = reverse("finance:payments")


def assessed_for_the_committee(anna, olle, fisksatra, call, *, title="Läxhjälp och fotboll", amount=60000):
    """Anna's application of 60 000 kr, above the 50 000 kr delegation: Olle has assessed it
    and it waits for the committee (or, with a smaller amount, for Olle's own decision)."""
    today = dt.date.today()
    application = apply.application_save_draft(
        call=call,
        organisation=fisksatra,
        by=anna,
        title=title,
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=amount,
        budget_lines=[("cost", "Ledararvoden", amount)],
    )
    application = apply.application_submit(application=application, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=amount,
        justification="Når barn utanför föreningslivet.",
    )
    return Application.objects.get(pk=application.pk)


def committee_decides(client, kim, application, *, held_on, **extra):
    client.force_login(kim)
    return work(
        client,
        application,
        "decide_by_committee",
        {
            "outcome": "approved",
            "amount": "60000",
            "reasons": "Stämmer med nämndens mål för inkludering.",
            "meeting_date": held_on.isoformat(),
            "protocol_paragraph": "§ 12",
            **extra,
        },
        expect_done=False,
    )


def open_data(client, year):
    """The year's public 360Giving grants, as a visitor fetches them, by identifier."""
    client.logout()
    response = client.get(reverse("open_data:json", args=[year]))
    assert response.status_code == 200
    return {grant["id"]: grant for grant in json.loads(response.content)["grants"]}


def published(client, application, year):
    return open_data(client, year).get(grant_identifier(application.case_number))


@pytest.fixture
def assessed(anna, olle, fisksatra, inclusion_call):
    return assessed_for_the_committee(anna, olle, fisksatra, inclusion_call)


# --- the meeting must have been held ----------------------------------------------------


def test_kim_cannot_record_a_decision_for_a_meeting_next_week(client, kim, assessed, today):
    next_week = today + dt.timedelta(days=7)
    response = committee_decides(client, kim, assessed, held_on=next_week)
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        f"Sammanträdet den {next_week:%Y-%m-%d} har inte hållits än. Ett beslut i nämnden kan registreras "
        "först när sammanträdet har hållits."
    ) in text
    # The letter's preview is refused with the same words.
    preview = committee_decides(client, kim, assessed, held_on=next_week, preview="1")
    assert "har inte hållits än" in preview.content.decode()
    assessed.refresh_from_db()
    assert assessed.status == "assessed"
    assert not Decision.objects.exists() and not CommitteeMeeting.objects.exists()
    assert not Payment.objects.exists()

    # Today's meeting has been held: Kim records the decision.
    response = committee_decides(client, kim, assessed, held_on=today)
    assert response.status_code == 302
    assert Decision.objects.get().meeting.held_on == today


def test_the_immediate_approval_is_asked_for_committee_decisions_only(
    client, kim, olle, assessed, anna, fisksatra, inclusion_call
):
    client.force_login(kim)
    claim(client, assessed, "decide_by_committee")
    page = task_page(client, assessed, "decide_by_committee").content.decode()
    assert "Paragrafen justerades omedelbart" in page
    within_delegation = assessed_for_the_committee(
        anna, olle, fisksatra, inclusion_call, title="Simskola", amount=20000
    )
    client.force_login(olle)
    claim(client, within_delegation, "decide_by_officer")
    page = task_page(client, within_delegation, "decide_by_officer").content.decode()
    assert "Motivering" in page and "Paragrafen justerades omedelbart" not in page


# --- nothing is executed before the protocol is approved --------------------------------


def test_a_decision_waits_for_the_protocol_then_is_paid_and_published(client, kim, fia, anna, assessed, today):
    """UBN 2026/0004: the meeting was held yesterday, its protocol not yet approved."""
    yesterday = today - dt.timedelta(days=1)
    assert committee_decides(client, kim, assessed, held_on=yesterday).status_code == 302
    application = Application.objects.get(pk=assessed.pk)
    first = application.payments.get(sequence=1)
    assert first.status == "planned"
    refusal = f"Protokollet från sammanträdet den {yesterday:%Y-%m-%d} är inte justerat och anslaget ännu."

    # Fia's queue shows the payment with the reason she cannot attest it, and no checkbox.
    client.force_login(fia)
    listing = client.get(PAYMENTS).content.decode()
    assert application.case_number in listing and refusal in listing
    assert f'name="payments" value="{first.pk}"' not in listing
    # A crafted request is refused too, and changes nothing.
    response = client.post(PAYMENTS, {"action": "attest", "payments": [first.pk]})
    assert response.status_code == 400 and refusal in response.content.decode()
    first.refresh_from_db()
    assert first.status == "planned" and first.attested_by is None
    # The staff case page says why.
    case_page = client.get(reverse("cases:grant:process_detail", args=[application.process.pk])).content.decode()
    assert "verkställs när protokollet är justerat och anslaget" in case_page

    # Not in the public open data.
    assert published(client, application, today.year) is None

    # Anna's case page: the committee has decided, the letter follows; no payment done or coming.
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert f"Nämnden beslutade {yesterday:%Y-%m-%d}. Beslutsbrevet kommer när protokollet har justerats." in page
    assert "Beslutsbrevet kommer här när protokollet från nämndens sammanträde har justerats." in page
    assert "Bidraget betalas ut till" not in page and "delar utbetalda" not in page
    assert "Väntar på attest" not in page and "Utbetald" not in page

    # Kim records the announcement of the protocol's approval on the meeting's page.
    client.force_login(kim)
    meeting = application.decision.meeting
    meeting_page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "Inget av sammanträdets beslut verkställs" in meeting_page
    response = client.post(reverse("meetings:announce", args=[meeting.pk]), {"announced_on": today.isoformat()})
    assert response.status_code == 302

    # Now Fia attests it, and the grant is public, awarded on the day of the meeting.
    client.force_login(fia)
    listing = client.get(PAYMENTS).content.decode()
    assert refusal not in listing and f'name="payments" value="{first.pk}"' in listing
    assert client.post(PAYMENTS, {"action": "attest", "payments": [first.pk]}).status_code == 302
    first.refresh_from_db()
    assert (first.status, first.attested_by) == ("attested", fia)
    grant = published(client, application, today.year)
    assert grant["awardDate"] == yesterday.isoformat() and grant["amountAwarded"] == 60000

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[application.pk])).content.decode()
    assert "Beslutsbrevet kommer när protokollet har justerats" not in page and "0 av 2 delar utbetalda" in page


def test_a_rejection_by_the_committee_tells_anna_the_letter_follows(client, kim, anna, assessed, today):
    yesterday = today - dt.timedelta(days=1)
    response = committee_decides(
        client, kim, assessed, held_on=yesterday, outcome="rejected", amount="0", reasons="Budgeten saknar egen insats."
    )
    assert response.status_code == 302
    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[assessed.pk])).content.decode()
    assert (
        f"Inget just nu. Nämnden har beslutat vid sammanträdet den {yesterday:%Y-%m-%d}. Beslutsbrevet, med "
        "hur man överklagar, kommer här när protokollet från sammanträdet har justerats."
    ) in page


def test_a_paragraph_approved_at_once_is_executed_at_once(client, kim, fia, anna, assessed, today):
    held_on = today - dt.timedelta(days=2)
    response = committee_decides(client, kim, assessed, held_on=held_on, approved_immediately="on")
    assert response.status_code == 302
    decision = Decision.objects.select_related("meeting").get()
    assert decision.approved_immediately and decision.meeting.announced_on is None
    assert "paragrafen omedelbart justerad" in assessed.events.get(action="Beslut: Beviljas").note
    meeting_page = client.get(reverse("meetings:detail", args=[decision.meeting_id])).content.decode()
    assert "§ 12 (omedelbart justerad)" in meeting_page

    first = decision.application.payments.get(sequence=1)
    client.force_login(fia)
    assert client.post(PAYMENTS, {"action": "attest", "payments": [first.pk]}).status_code == 302
    first.refresh_from_db()
    assert first.status == "attested"
    assert published(client, assessed, today.year)["awardDate"] == held_on.isoformat()

    client.force_login(anna)
    page = client.get(reverse("portal:application", args=[assessed.pk])).content.decode()
    assert "Beslutsbrevet kommer när protokollet har justerats" not in page and "0 av 2 delar utbetalda" in page
    # Its letter still waits for the announcement, which starts the time to appeal.
    assert "Beslutsbrevet kommer här när protokollet från nämndens sammanträde har justerats." in page


def test_a_delegation_decision_is_executed_at_once_awarded_on_its_day(
    client, olle, fia, anna, fisksatra, inclusion_call, today
):
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    first = application.payments.get(sequence=1)
    client.force_login(fia)
    assert client.post(PAYMENTS, {"action": "attest", "payments": [first.pk]}).status_code == 302
    assert published(client, application, today.year)["awardDate"] == today.isoformat()


def test_the_rule_is_the_same_in_the_database_and_in_python(kim, anna, olle, fisksatra, inclusion_call, today):
    decisions = []
    for index, (immediately, announced) in enumerate([(False, False), (True, False), (False, True)]):
        application = assessed_for_the_committee(anna, olle, fisksatra, inclusion_call, title=f"Projekt {index}")
        held_on = today - dt.timedelta(days=index + 1)
        decision = decide.decision_make(
            application=application,
            by=kim,
            outcome="approved",
            amount=60000,
            reasons="Bra.",
            meeting_date=held_on,
            protocol_paragraph="§ 1",
            approved_immediately=immediately,
        )
        if announced:
            CommitteeMeeting.objects.filter(pk=decision.meeting_id).update(announced_on=today)
        decisions.append(decision.pk)
    decisions.append(factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="20000").decision.pk)
    in_python = {d.pk for d in Decision.objects.select_related("meeting") if d.may_be_executed}
    in_database = set(Decision.objects.filter(Decision.executable_q()).values_list("pk", flat=True))
    assert in_python == in_database == set(decisions[1:])


def test_attesting_committee_payments_costs_the_same_for_one_and_five(
    kim, fia, anna, olle, fisksatra, inclusion_call, today
):
    def decided(count, offset):
        ids = []
        for index in range(count):
            application = assessed_for_the_committee(
                anna, olle, fisksatra, inclusion_call, title=f"Projekt {offset + index}"
            )
            decide.decision_make(
                application=application,
                by=kim,
                outcome="approved",
                amount=60000,
                reasons="Bra.",
                meeting_date=today,
                protocol_paragraph=f"§ {offset + index}",
                approved_immediately=True,
            )
            ids.append(application.payments.get(sequence=1).pk)
        return ids

    fia.has_perm("grants.attest_payment")  # her permissions, read once and cached on her
    access.committee_scope(fia)  # and her committees, likewise
    counts = []
    for count, offset in ((1, 0), (5, 10)):
        ids = decided(count, offset)
        with CaptureQueriesContext(connection) as queries:
            pay.payments_attest(payment_ids=ids, by=fia)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
