"""The demo data: loads only on the embedded default, once, with every case state present
and each case's open tasks agreeing with its state (it was walked through the real flow)."""

from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from documents import ledger_files, open_data
from grants.annual_report import ReportFilters
from grants.models import (
    AccountChangeRequest,
    Application,
    CommitteeMeeting,
    CompletionRequest,
    Decision,
    Document,
    FollowUpReport,
    LedgerFile,
    Organisation,
    OrganisationClaim,
    Payment,
    Programme,
    RepaymentClaim,
    Voucher,
)
from grants.services import pay
from workflows.models import GrantProcess
from workflows.process import active_task_names

from .. import sie

ACCOUNTS = {
    "anna": None,
    "olle": "Handläggare",
    "kim": "Beslutsfattare",
    "fia": "Ekonomi",
    "lena": "Ledning",
    "admin": "Systemförvaltare",
}


def expected_tasks(application):
    """The open tasks a case in this state must have, read from the domain alone."""
    status = application.status
    if status in (Application.Status.REJECTED, Application.Status.CLOSED):
        return []
    if status == Application.Status.ASSESSED:
        return ["decide_by_committee" if application.assessment.needs_committee else "decide_by_officer"]
    if status in Application.GRANTED:
        payments = set(application.payments.values_list("status", flat=True))
        if payments & set(Payment.OPEN):
            return ["await_payment"]
        if application.follow_up.status == FollowUpReport.Status.SUBMITTED:
            return ["review_report"]
        return ["await_report"]
    return {
        Application.Status.SUBMITTED: ["check_completeness"],
        Application.Status.AWAITING_COMPLETION: ["await_completion"],
        Application.Status.IN_ASSESSMENT: ["assess"],
    }[status]


@pytest.mark.django_db(transaction=True)
def test_load_demo_fills_every_state_consistently_and_only_once():
    if not django_settings.EMBEDDED_DATABASE:
        pytest.skip("load_demo refuses to run outside the embedded SQLite default")
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "demo" in out.getvalue() and "http://127.0.0.1:8000/" in out.getvalue()

    for username, group in ACCOUNTS.items():
        user = authenticate(username=username, password="demo")
        assert user is not None, username
        if group:
            assert user.groups.filter(name=group).exists(), username
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="admin").is_staff
    assert User.objects.get(username="anna").memberships.filter(organisation__name="Fisksätra IF").exists()
    # Every association's account was approved by finance; one new account waits for it.
    fisksatra = Organisation.objects.get(name="Fisksätra IF")
    assert fisksatra.account_requests.get().decided_by.username == "fia" and fisksatra.account_approved_at
    pending = AccountChangeRequest.objects.get(status="pending")
    assert (pending.organisation.name, pending.requested_by.username) == ("Sickla dansförening", "sara")
    # The demo's associations are verified; Olle has one new association and one claim to look at.
    unverified = Organisation.objects.exclude(verification="verified")
    assert [(org.name, org.verification, org.files.count()) for org in unverified] == [
        ("Fisksätra kvinnoförening", "unverified", 2)
    ]
    assert [(claim.organisation, claim.claimant.username) for claim in OrganisationClaim.objects.all()] == [
        (fisksatra, "nadia")
    ]

    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == set(Application.Status.values)
    assert 25 <= Application.objects.count() <= 40

    for application in Application.objects.all():
        if application.status in (Application.Status.DRAFT, Application.Status.AWAITING_SPONSOR) or (
            application.status == Application.Status.WITHDRAWN and not application.case_number
        ):
            assert not GrantProcess.objects.filter(application=application).exists(), application
            continue
        if application.status == Application.Status.WITHDRAWN:
            # Withdrawn after submission: its process was cancelled with every open task.
            process = GrantProcess.objects.get(application=application)
            assert process.status == "CANCELED" and active_task_names(application) == [], application
            continue
        assert active_task_names(application) == expected_tasks(application), (application, application.status)
        if hasattr(application, "decision"):
            # A committee's letters wait until its protocol is announced (one demo meeting is not yet).
            decision = application.decision
            expected = 0 if decision.by_committee and decision.meeting.announced_on is None else 1
            assert application.documents.filter(kind=Document.Kind.DECISION_LETTER).count() == expected, application

    for organisation in Organisation.objects.all():
        organisation.full_clean()  # valid organisationsnummer, bankgiro / plusgiro, group with sponsor
    assert Organisation.objects.filter(kind=Organisation.Kind.INFORMAL_GROUP, sponsor__isnull=False).exists()
    # The informal group's application waits for its sponsor, Fisksätra IF, where Anna confirms it.
    waiting = Application.objects.get(status=Application.Status.AWAITING_SPONSOR)
    assert waiting.organisation.sponsor.name == "Fisksätra IF" and waiting.case_number == ""
    assert Application.objects.filter(status=Application.Status.WITHDRAWN).exclude(case_number="").exists()
    confirmed = Application.objects.filter(
        organisation__kind=Organisation.Kind.INFORMAL_GROUP, sponsor_confirmed_by__username="anna"
    )
    assert confirmed.exclude(case_number="").exists()

    # Anna's association has an open completion request and a follow-up report to send.
    fisksatra = Organisation.objects.get(name="Fisksätra IF")
    assert CompletionRequest.objects.filter(application__organisation=fisksatra, answered_at__isnull=True).exists()
    assert FollowUpReport.objects.filter(application__organisation=fisksatra, status=FollowUpReport.Status.DUE).exists()

    # The demo's payment files and the bank's reports were booked, and sent in one ledger file
    # that a strict SIE reader takes: per case, the bank account shows what was paid less what
    # came back, the expense what was paid less what was claimed.
    [ledger_file] = LedgerFile.objects.all()
    books = sie.read(ledger_files.ledger_file_read(ledger_file)[2])
    assert len(books.vouchers) == ledger_file.count == Voucher.objects.count() > 0
    bank, expense = sie.booked_per_case(books, "1930"), {}
    for account in set(Programme.objects.values_list("expense_account", flat=True)):
        for case, amount in sie.booked_per_case(books, account).items():
            expense[case] = expense.get(case, 0) + amount
    paid_cases = Application.objects.filter(payments__status="paid").distinct()
    assert paid_cases.exists() and set(bank) == set(expense) == {case.case_number for case in paid_cases}
    for application in paid_cases:
        paid = sum(application.payments.filter(status="paid").values_list("amount", flat=True))
        claim = RepaymentClaim.objects.filter(application=application).first()
        claimed, repaid = (claim.amount, claim.repaid_amount) if claim else (0, 0)
        assert bank[application.case_number] == -(paid - repaid), application
        assert expense[application.case_number] == paid - claimed, application
    assert Payment.objects.filter(status="paid", paid_on__isnull=True).count() == 0

    # A second run changes nothing and only prints the accounts.
    count = Application.objects.count()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert Application.objects.count() == count
    assert "anna" in out.getvalue()


@pytest.mark.django_db
def test_load_demo_refuses_outside_the_embedded_default(settings):
    settings.EMBEDDED_DATABASE = False
    with pytest.raises(CommandError, match="embedded default"):
        call_command("load_demo", stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_demo_leaves_kim_a_meeting_whose_letters_he_can_make():
    if not django_settings.EMBEDDED_DATABASE:
        pytest.skip("load_demo runs only on the embedded default (SQLite)")
    call_command("load_demo", stdout=StringIO())
    waiting = CommitteeMeeting.objects.filter(announced_on__isnull=True, decisions__by_committee=True).distinct()
    assert waiting.count() == 1
    assert not Document.objects.filter(
        application__decision__meeting=waiting.get(), kind=Document.Kind.DECISION_LETTER
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_executes_decisions_only_when_they_may_be():
    """Committee decisions only for meetings held; nothing of one attested before the approval
    of its protocol was announced (by the cases' own history); the waiting meeting's payment is
    one Fia cannot attest yet, and it is not in the open data."""
    if not django_settings.EMBEDDED_DATABASE:
        pytest.skip("load_demo runs only on the embedded default (SQLite)")
    call_command("load_demo", stdout=StringIO())
    today = timezone.localdate()
    # No decision at a meeting not yet held (next week's meetings have only their agendas).
    assert not CommitteeMeeting.objects.filter(held_on__gt=today, decisions__isnull=False).exists()
    assert (
        not Payment.objects.exclude(status__in=["withheld", "planned"])
        .exclude(Decision.executable_q("application__decision__"))
        .exists()
    )
    for decision in Decision.objects.filter(
        by_committee=True, approved_immediately=False, application__payments__attested_at__isnull=False
    ).distinct():
        events = decision.application.events
        announced = events.get(action="Protokollet tillkännagivet").created_at
        assert announced <= events.filter(action__endswith="attesterad").earliest("created_at").created_at, decision

    waiting = Decision.objects.get(meeting__announced_on__isnull=True, by_committee=True)
    planned = list(
        waiting.application.payments.filter(status="planned").select_related(
            "application__organisation__sponsor", "application__assessment", "application__decision__meeting"
        )
    )
    refusals = pay.attest_refusals(planned, User.objects.get(username="fia"))
    assert refusals and all("är inte justerat och anslaget ännu" in reason for reason in refusals.values())
    published = open_data.grants_360(ReportFilters(year=today.year))["grants"]
    assert open_data.grant_identifier(waiting.application.case_number) not in {grant["id"] for grant in published}
