"""What Anna and the others in Fisksätra IF are told by e-mail: each in the language they
chose, and only the mails they want beyond the required ones."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy

from grants.models import ApplicantSettings, Application, Membership
from grants.notifications import lazy_amount, lazy_interpolate, notify_applicant
from grants.services import apply, assess, decide, follow_up

from .. import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _assessed(anna, olle, fisksatra, call, amount):
    application = apply.application_save_draft(
        call=call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp och fotboll.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=amount,
        budget_lines=[("cost", "Ledare", amount)],
    )
    application = apply.application_submit(application=application, by=anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="approved",
        proposed_amount=amount,
        justification="Bra projekt.",
    )
    mail.outbox.clear()
    return application


def test_a_decision_on_delegation_says_the_letter_is_in_the_portal(anna, olle, fisksatra, inclusion_call):
    application = _assessed(anna, olle, fisksatra, inclusion_call, 20000)
    decide.decision_make(application=application, by=olle, outcome="approved", amount=20000, reasons="Bra projekt.")
    [message] = [m for m in mail.outbox if "Beslut i ditt ärende" in m.subject]
    assert "Beslutsbrevet finns i portalen." in message.body


def test_a_committee_decision_says_the_letter_comes_when_the_protocol_is_approved(
    anna, olle, kim, fisksatra, inclusion_call
):
    application = _assessed(anna, olle, fisksatra, inclusion_call, 60000)
    decide.decision_make(
        application=application,
        by=kim,
        outcome="approved",
        amount=60000,
        reasons="Bra projekt.",
        meeting_date=dt.date(2026, 3, 12),
        protocol_paragraph="§ 4",
    )
    [message] = [m for m in mail.outbox if "Beslut i ditt ärende" in m.subject]
    assert "när nämndens protokoll har justerats" in message.body
    assert "finns i portalen" not in message.body


# --- each member's language, and the e-mails they may turn off ------------------------------


def _member(organisation, username, **settings):
    person = factories.user(username, first_name=username.title())
    Membership.objects.create(user=person, organisation=organisation)
    if settings:
        ApplicantSettings.objects.create(user=person, **settings)
    return person


def _by_recipient():
    return {message.to[0]: message for message in mail.outbox}


def test_each_member_reads_the_decision_in_their_own_language(anna, olle, fisksatra, inclusion_call):
    bo = _member(fisksatra, "bo", language="en")
    application = _assessed(anna, olle, fisksatra, inclusion_call, 20000)
    decide.decision_make(application=application, by=olle, outcome="approved", amount=20000, reasons="Bra projekt.")
    mails = _by_recipient()
    assert mails[anna.email].subject == f"{application.case_number}: Beslut i ditt ärende"
    assert mails[anna.email].body == (
        "Beslut: Beviljad, 20\xa0000 kr. Beslutsbrevet finns i portalen.\n\n"
        "Logga in i bidragsportalen för att se ärendet.\n"
    )
    assert mails[bo.email].subject == f"{application.case_number}: Decision in your case"
    assert mails[bo.email].body == (
        "Decision: Granted, SEK 20,000. The decision letter is in the portal.\n\n"
        "Log in to the grants portal to see the case.\n"
    )


def test_the_language_of_whoever_takes_the_step_does_not_matter(anna, olle, fisksatra, inclusion_call):
    """Olle works in English; Anna, who chose nothing, still reads Swedish."""
    application = _assessed(anna, olle, fisksatra, inclusion_call, 20000)
    with translation.override("en"):
        decide.decision_make(application=application, by=olle, outcome="approved", amount=20000, reasons="Bra projekt.")
    [message] = mail.outbox
    assert "Beslut i ditt ärende" in message.subject and "Beslutsbrevet finns i portalen." in message.body


def _draft(anna, fisksatra, call):
    return apply.application_save_draft(
        call=call,
        organisation=fisksatra,
        by=anna,
        title="Laxhjalp",
        description="Läxhjälp.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=1000,
        budget_lines=[("cost", "Ledare", 1000)],
    )


def test_optional_mail_skips_those_who_turned_it_off_required_mail_does_not(
    anna, fisksatra, inclusion_call, django_capture_on_commit_callbacks
):
    quiet = _member(fisksatra, "quiet", optional_emails=False)
    _member(fisksatra, "pending").memberships.update(status=Membership.Status.PENDING)  # not confirmed: no mail
    application = _draft(anna, fisksatra, inclusion_call)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_applicant(application, subject=gettext_lazy("Återrapporten är godkänd"), body="Bra.", required=False)
    assert sorted(message.to[0] for message in mail.outbox) == [anna.email]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_applicant(application, subject=gettext_lazy("Påminnelse om återrapport"), body="Lämna den.")
    assert sorted(message.to[0] for message in mail.outbox) == sorted([anna.email, quiet.email])


def test_recipients_and_their_settings_cost_one_query(
    anna, fisksatra, inclusion_call, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for index in range(5):
        _member(fisksatra, f"member{index}", language="en" if index % 2 else "sv", optional_emails=bool(index % 3))
    application = _draft(anna, fisksatra, inclusion_call)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(1):
        notify_applicant(
            application,
            subject=gettext_lazy("Återrapporten är godkänd"),
            body=gettext_lazy("Återrapporten är godkänd"),
            required=False,
        )
    assert len(mail.outbox) == 4  # Anna and the three who keep the optional mail
    subjects = {message.subject.split(": ", 1)[1] for message in mail.outbox}
    assert subjects == {"Återrapporten är godkänd", "The follow-up report has been approved"}


def test_nothing_is_sent_when_the_step_rolls_back(anna, fisksatra, inclusion_call):
    application = _draft(anna, fisksatra, inclusion_call)
    mail.outbox.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_applicant(application, subject="Beslut", body="Beslut.")
        raise RuntimeError
    assert mail.outbox == []


def test_plain_text_goes_out_as_it_is(anna, fisksatra, inclusion_call, django_capture_on_commit_callbacks):
    _member(fisksatra, "bo", language="en")
    application = _draft(anna, fisksatra, inclusion_call)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_applicant(application, subject="Ett ämne", body="En text.")
    assert {message.subject for message in mail.outbox} == {"Laxhjalp: Ett ämne"}
    # Only the portal's own closing line follows the language.
    assert {message.body.splitlines()[-1] for message in mail.outbox} == {
        "Logga in i bidragsportalen för att se ärendet.",
        "Log in to the grants portal to see the case.",
    }


def test_lazy_interpolate_translates_when_read():
    text = lazy_interpolate(
        gettext_lazy("Beslut: %(outcome)s, %(amount)s kr. %(letter)s"),
        outcome=Application.Status.PARTLY_APPROVED.label,
        amount=lazy_amount(Decimal("1500.50")),
        letter=gettext_lazy("Beslutsbrevet finns i portalen."),
    )
    with translation.override("en"):
        assert str(text) == "Decision: Partly granted, SEK 1,500.50. The decision letter is in the portal."
    with translation.override("sv"):
        assert str(text) == "Beslut: Delvis beviljad, 1\xa0500,50 kr. Beslutsbrevet finns i portalen."


# --- which mails each step sends, and whether they are required -----------------------------


def test_a_completion_request_is_required_and_in_english_for_those_who_chose_it(anna, olle, fisksatra, inclusion_call):
    bo = _member(fisksatra, "bo", language="en", optional_emails=False)
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=1000,
        budget_lines=[("cost", "Ledare", 1000)],
    )
    application = apply.application_submit(application=application, by=anna)
    mail.outbox.clear()
    due = dt.date.today() + dt.timedelta(days=10)
    assess.completion_request(application=application, by=olle, message="Skicka stadgarna.", due_on=due)
    mails = _by_recipient()
    assert mails[anna.email].subject.endswith(": Komplettering begärd")
    assert mails[bo.email].subject.endswith(": Additional information requested")
    assert mails[bo.email].body.startswith(
        f"The case officer needs more information by {due:%Y-%m-%d}:\n\nSkicka stadgarna."
    )


def test_an_approved_report_is_optional_news_a_rejected_one_with_its_claim_is_required(
    anna, olle, fia, fisksatra, inclusion_call
):
    quiet = _member(fisksatra, "quiet", language="en", optional_emails=False)
    report = dict(
        what_was_done="Träning.",
        outcome="Bra.",
        own_contribution=Decimal("0"),
        cost_lines=[("Ledararvoden", Decimal("50000"), Decimal("40000"))],
    )

    def reviewed(verdict, **extra):
        application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia, title=f"Case {verdict}")
        follow_up.follow_up_submit(report=application.follow_up, by=anna, **report)
        mail.outbox.clear()
        follow_up.follow_up_review(report=application.follow_up, by=olle, verdict=verdict, **extra)
        return _by_recipient()

    approved = reviewed("approve")
    assert approved[anna.email].subject.endswith(": Återrapporten är godkänd") and quiet.email not in approved

    rejected = reviewed("reject", note="Verksamheten upphörde.", reclaim_amount=Decimal("10000"))
    assert rejected[anna.email].subject.endswith(": Återrapporten är underkänd")
    assert "Kommunen kräver tillbaka 10\xa0000 kr" in rejected[anna.email].body
    assert rejected[quiet.email].subject.endswith(": The follow-up report has not been approved")
    assert rejected[quiet.email].body.startswith(
        "Verksamheten upphörde.\n\nThe municipality claims back SEK 10,000, to be paid by "
    )
