"""When Fia marks payments paid, Fisksätra IF's confirmed members hear of it by e-mail: one
mail per payment, in each person's language, naming the amount, the part, the case number
and the account (only its last four digits). It is news they may turn off, and marking many
paid costs no more queries than marking one."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.payment_files import payment_file_create
from grants.models import ApplicantSettings
from grants.services import pay
from grants.services.pay import masked_account

from .. import factories

pytestmark = pytest.mark.django_db


def exported(*applications, by):
    from documents.payment_files import payment_file_create

    ids = [application.payments.get(status="planned").pk for application in applications]
    pay.payments_attest(payment_ids=ids, by=by)
    payment_file_create(by=by, payment_ids=ids)
    return ids


def body(message):
    """The text, with the thousands separator a plain space."""
    return message.body.replace("\xa0", " ").replace("\u202f", " ")


def mark_paid(ids, by, capture):
    mail.outbox.clear()
    with capture(execute=True):
        return pay.payments_mark_paid(payment_ids=ids, by=by)


@pytest.fixture
def granted(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")


def test_each_member_is_told_in_their_language(anna, fia, fisksatra, granted, django_capture_on_commit_callbacks):
    bo = factories.user("bo", first_name="Bo")
    factories.pending_member(factories.user("cia"), fisksatra)  # not confirmed: not told
    fisksatra.memberships.create(user=bo)
    ApplicantSettings.objects.create(user=bo, language="en")
    ids = exported(granted, by=fia)
    mark_paid(ids, fia, django_capture_on_commit_callbacks)

    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == ["anna@example.se", "bo@example.se"]
    swedish = by_address["anna@example.se"]
    assert swedish.subject == f"{granted.case_number}: Del 1 av bidraget är utbetald"
    assert "34 000 kr, del 1 av bidraget i ärende " + granted.case_number in body(swedish)
    assert "till Fisksätra IF, Bankgiro ****1055." in body(swedish)
    assert "50501055" not in body(swedish) and "5050-1055" not in body(swedish)
    english = by_address["bo@example.se"]
    assert english.subject == f"{granted.case_number}: Part 1 of the grant has been paid"
    assert f"SEK 34,000, part 1 of the grant in case {granted.case_number}, was paid on " in body(english)
    assert "to Fisksätra IF, Bankgiro ****1055." in body(english) and "50501055" not in body(english)


def test_one_mail_per_payment_to_each_organisation(
    anna, olle, fia, fisksatra, inclusion_call, granted, django_capture_on_commit_callbacks
):
    eve = factories.user("eve", first_name="Eve")
    other = factories.association(name="Boo FF", org_number="802400-0006", bankgiro="5402-9681", members=[eve])
    theirs = factories.granted_case(inclusion_call, other, eve, olle, amount="20000", title="Boos fotboll")
    mine = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="10000", title="Sommarläger")
    mark_paid(exported(granted, theirs, mine, by=fia), fia, django_capture_on_commit_callbacks)

    sent = sorted((message.to[0], message.subject.split(":")[0]) for message in mail.outbox)
    assert sent == sorted(
        [
            ("anna@example.se", granted.case_number),
            ("anna@example.se", mine.case_number),
            ("eve@example.se", theirs.case_number),
        ]
    )
    [eves] = [message for message in mail.outbox if message.to == ["eve@example.se"]]
    assert "17 000 kr" in body(eves) and "Boo FF, Bankgiro ****9681" in body(eves)


def test_it_is_optional_news(anna, fia, granted, django_capture_on_commit_callbacks):
    ApplicantSettings.objects.create(user=anna, optional_emails=False)
    mark_paid(exported(granted, by=fia), fia, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_refused_marking_sends_nothing(anna, fia, granted, django_capture_on_commit_callbacks):
    ids = exported(granted, by=fia)
    mark_paid(ids, fia, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):  # already paid: the whole call is refused
        mark_paid(ids, fia, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_marking_many_paid_costs_the_queries_of_one(anna, olle, fia, django_capture_on_commit_callbacks):
    """The bookings, the e-mails and the events of many payments cost what one costs. Each
    case keeps a second part to pay, so no case's flow moves on: that step is each case's own."""
    programme = factories.programme(
        "inkludering", payment_plan=[{"percent": 50, "release": "decision"}, {"percent": 50, "release": "decision"}]
    )
    call = factories.call(programme)
    counts = []
    for count in (1, 4):
        made = [
            factories.granted_case(
                call,
                factories.association(
                    name=f"Förening {count}-{number}", org_number=f"80241{count}-{number:04d}", members=[anna]
                ),
                anna,
                olle,
                amount=str(1000 * (number + 1)),
                title=f"Projekt {count}-{number}",
            )
            for number in range(count)
        ]
        ids = [application.payments.get(sequence=1).pk for application in made]
        pay.payments_attest(payment_ids=ids, by=fia)
        payment_file_create(by=fia, payment_ids=ids)
        mail.outbox.clear()
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            pay.payments_mark_paid(payment_ids=ids, by=fia)
        assert len(mail.outbox) == count
        assert all(application.payments.filter(status="planned").exists() for application in made)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_account_shows_only_its_last_four():
    assert masked_account("50501055") == "****1055"
    assert masked_account("SE45 5000 0000 0583 9825 7466") == "****7466"
    assert masked_account("") == ""
