"""Anna's follow-up report, through the services: saved half-done and picked up again,
refused while a part the programme asks for is missing, and Olle's verdict on it —
approval releases the withheld last payment, rejection decides a repayment claim and
its letter."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from grants.files import read_verified
from grants.models import AGE_BANDS, CaseEvent, Document, FollowUpReport, Payment, RepaymentClaim
from grants.services import follow_up
from workflows.process import active_task_names

from .. import factories
from ..staff import pay_out, read_pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(anna, olle, fia, fisksatra, inclusion_call):
    """Fisksätra IF's project grant of 40 000 kr: 34 000 paid, 6 000 withheld until the report."""
    return factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)


def report_of(application):
    return FollowUpReport.objects.get(application=application)


COMPLETE = dict(
    what_was_done="Trettio träffar med läxhjälp.",
    outcome="Fler flickor deltog än vi hoppats.",
    own_contribution=Decimal("3000"),
    cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("47500")), ("Buss", None, Decimal("1200"))],
)


def submit(application, anna, **fields):
    return follow_up.follow_up_submit(report=application.follow_up, by=anna, **fields)


def review(application, officer, verdict, note="", reclaim_amount=None):
    follow_up.follow_up_review(
        report=report_of(application), by=officer, verdict=verdict, note=note, reclaim_amount=reclaim_amount
    )


# --- drafts ----------------------------------------------------------------------------


def test_a_draft_keeps_what_is_filled_in_and_the_status(owed, anna):
    report = follow_up.follow_up_save_draft(
        report=report_of(owed),
        by=anna,
        what_was_done="Halva terminen klar.",
        cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("20000"))],
    )
    report = report_of(owed)
    assert report.status == "due" and report.saved_at is not None and report.submitted_at is None
    assert report.what_was_done == "Halva terminen klar." and report.outcome == ""
    assert [(line.label, line.budgeted, line.actual) for line in report.cost_lines.all()] == [
        ("Ledararvoden", Decimal("50000.00"), Decimal("20000.00"))
    ]
    assert report.actual_costs == Decimal("20000")
    assert active_task_names(owed) == ["await_report"]

    # She comes back: the cost lines are replaced, what she leaves out stays as saved.
    follow_up.follow_up_save_draft(
        report=report,
        by=anna,
        outcome="Vi nådde målet.",
        cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("48000")), ("Buss", None, Decimal("1200"))],
    )
    report = report_of(owed)
    assert (report.what_was_done, report.outcome) == ("Halva terminen klar.", "Vi nådde målet.")
    assert report.cost_lines.count() == 2 and report.actual_costs == Decimal("49200")
    # The history notes the first save, not every one.
    assert CaseEvent.objects.filter(application=owed, action="Återrapport sparad som utkast").count() == 1


def test_only_the_grantee_saves_a_draft_and_only_while_it_is_owed(owed, anna, olle, eve):
    with pytest.raises(PermissionDenied):
        follow_up.follow_up_save_draft(report=report_of(owed), by=eve, what_was_done="x")
    with pytest.raises(PermissionDenied):
        follow_up.follow_up_save_draft(report=report_of(owed), by=olle, what_was_done="x")
    submit(owed, anna, **COMPLETE)
    with pytest.raises(ValidationError, match="Inlämnad"):
        follow_up.follow_up_save_draft(report=report_of(owed), by=anna, what_was_done="Ändrat i efterhand.")
    assert report_of(owed).what_was_done == COMPLETE["what_was_done"]


def test_a_negative_cost_is_refused(owed, anna):
    with pytest.raises(ValidationError, match="negativa"):
        follow_up.follow_up_save_draft(
            report=report_of(owed), by=anna, cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("-1"))]
        )


# --- submission ----------------------------------------------------------------------------


def test_a_report_missing_parts_is_refused_in_swedish_and_nothing_changes(owed, anna):
    follow_up.follow_up_save_draft(report=report_of(owed), by=anna, what_was_done="Träffar varje vecka.")
    events = CaseEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        submit(owed, anna, outcome="", cost_lines=[])
    assert refused.value.message_dict == {
        "outcome": ["Beskriv resultatet jämfört med målen i ansökan."],
        "cost_lines": ["Fyll i den ekonomiska redovisningen: vad kostnaderna blev (utfall), minst en kostnadspost."],
        "own_contribution": ["Ange föreningens egna insats i kronor (0 om ingen)."],
    }
    report = report_of(owed)
    assert report.status == "due" and report.submitted_at is None
    assert report.what_was_done == "Träffar varje vecka."
    assert CaseEvent.objects.count() == events
    assert active_task_names(owed) == ["await_report"]


def test_a_saved_draft_is_submitted_as_it_stands(owed, anna):
    follow_up.follow_up_save_draft(report=report_of(owed), by=anna, **COMPLETE)
    submit(owed, anna)
    report = report_of(owed)
    assert report.status == "submitted" and report.actual_costs == Decimal("48700")
    assert active_task_names(owed) == ["review_report"]


def test_participants_by_age_and_gender_are_required_and_summed(anna, olle, fia, fisksatra, inclusion_call):
    inclusion_call.programme.follow_up_parts = ["participants_by_age_gender"]
    inclusion_call.programme.save()
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    text = dict(what_was_done="Läxhjälp.", outcome="Bra.")
    with pytest.raises(ValidationError, match="minst en deltagare"):
        submit(application, anna, **text, participants_by_group={"7–12": {"girls": 0}})
    with pytest.raises(ValidationError, match="heltal"):
        submit(application, anna, **text, participants_by_group={"7–12": {"girls": -2}})
    with pytest.raises(ValidationError, match="åldersgrupp"):
        submit(application, anna, **text, participants_by_group={"99–100": {"girls": 2}})

    submit(
        application,
        anna,
        **text,
        participants_by_group={"7–12": {"girls": 12, "boys": 9}, "13–16": {"girls": 5, "other": 1}},
    )
    report = report_of(application)
    assert report.participants == 27
    assert set(report.participants_by_group) == set(AGE_BANDS)  # every cell stored, empty ones as 0
    assert report.participants_by_group["7–12"] == {"girls": 12, "boys": 9, "other": 0}
    assert report.participants_by_group["65–"] == {"girls": 0, "boys": 0, "other": 0}


def test_sessions_are_required_when_the_programme_counts_them(anna, olle, fia, fisksatra, inclusion_call):
    inclusion_call.programme.follow_up_parts = ["sessions"]
    inclusion_call.programme.save()
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    with pytest.raises(ValidationError, match="Ange antalet sammankomster"):
        submit(application, anna, what_was_done="Träningar.", outcome="Bra.", sessions=0)
    submit(application, anna, what_was_done="Träningar.", outcome="Bra.", sessions=42)
    assert report_of(application).sessions == 42


# --- review ----------------------------------------------------------------------------------


def test_approval_releases_the_withheld_last_payment_to_finance(owed, anna, olle, fia):
    withheld = owed.payments.get(status=Payment.Status.WITHHELD)
    assert withheld.amount == Decimal("6000.00")
    submit(owed, anna, **COMPLETE)
    review(owed, olle, "approve")

    assert report_of(owed).status == "approved"
    withheld.refresh_from_db()
    assert withheld.status == Payment.Status.PLANNED
    assert active_task_names(owed) == ["await_payment"]  # finance attests and pays the last part
    assert CaseEvent.objects.filter(application=owed, action="Innehållen utbetalning släppt").exists()

    pay_out(owed, fia)
    owed.refresh_from_db()
    assert owed.status == "closed" and active_task_names(owed) == []


def test_rejection_decides_a_repayment_claim_and_its_letter(owed, anna, olle, django_capture_on_commit_callbacks):
    submit(owed, anna, **COMPLETE)
    reasons = "Pengarna användes till en resa som inte fanns i ansökan."
    with django_capture_on_commit_callbacks(execute=True):
        review(owed, olle, "reject", note=reasons, reclaim_amount=Decimal("12500"))

    claim = RepaymentClaim.objects.get(application=owed)
    assert (claim.amount, claim.status, claim.reasons, claim.decided_by) == (Decimal("12500.00"), "open", reasons, olle)
    assert claim.outstanding == Decimal("12500.00")
    letter = Document.objects.get(application=owed, kind=Document.Kind.REPAYMENT_LETTER)
    text, _reader = read_pdf_text(read_verified(letter))
    text = " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())
    assert "12 500,00 kronor" in text and reasons in text
    owed.refresh_from_db()
    assert owed.status == "closed"
    assert owed.payments.get(sequence=2).status == Payment.Status.WITHHELD  # never paid out


def test_a_claim_larger_than_what_was_paid_is_refused(owed, anna, olle):
    submit(owed, anna, **COMPLETE)
    with pytest.raises(ValidationError, match="högst det som har betalats ut, 34 000,00 kr"):
        review(owed, olle, "reject", note="Fel användning.", reclaim_amount=Decimal("40000"))
    assert not RepaymentClaim.objects.exists()
    assert report_of(owed).status == "submitted"


def test_a_completion_request_lets_anna_change_and_resubmit(owed, anna, olle):
    submit(owed, anna, **COMPLETE)
    review(owed, olle, "completion", note="Bifoga kvittona för bussresan.")
    report = report_of(owed)
    assert report.status == "completion_requested" and active_task_names(owed) == ["await_report"]

    follow_up.follow_up_save_draft(report=report, by=anna, outcome="Fler flickor deltog; kvitton bifogade.")
    submit(owed, anna)
    report = report_of(owed)
    assert report.status == "submitted" and report.outcome.endswith("kvitton bifogade.")
    assert active_task_names(owed) == ["review_report"]
    # Each round's first save is noted once.
    assert CaseEvent.objects.filter(application=owed, action="Återrapport sparad som utkast").count() == 1
