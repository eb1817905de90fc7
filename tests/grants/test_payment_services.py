"""Payments at the service level: attest many at once, a payment file, paid or failed, and
the case moving on when nothing is left to pay."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from grants.models import AttestationLimit, CaseEvent, Membership, Organisation, Payment, PaymentBatch
from grants.services import pay
from workflows.process import active_task_names

from .. import factories

pytestmark = pytest.mark.django_db


def in_file(payments, by):
    with transaction.atomic():
        batch, _ = pay.batch_create(by=by, payment_ids=[p.pk for p in payments])
    return batch


@pytest.fixture
def granted(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")


def test_attest_export_and_pay_moves_the_case_on_to_the_follow_up(granted, fia):
    assert active_task_names(granted) == ["await_payment"]
    first = granted.payments.get(status="planned")  # 85 %, the rest withheld until the report
    assert first.amount == Decimal("34000.00")
    pay.payments_attest(payment_ids=[first.pk], by=fia)
    first.refresh_from_db()
    assert (first.status, first.payee_scheme, first.payee_account, first.payee_name) == (
        "attested",
        "bankgiro",
        "50501055",
        "Fisksätra IF",
    )
    batch = in_file([first], fia)
    assert (batch.count, batch.total, batch.status) == (1, Decimal("34000.00"), "exported")
    pay.payments_mark_paid(payment_ids=[first.pk], by=fia)
    first.refresh_from_db()
    batch.refresh_from_db()
    assert (first.status, first.paid_by, batch.status) == ("paid", fia, "settled")
    assert active_task_names(granted) == ["await_report"]


def test_a_failed_payment_is_replaced_by_a_planned_one_with_the_reason(granted, fia):
    first = granted.payments.get(status="planned")
    pay.payments_attest(payment_ids=[first.pk], by=fia)
    in_file([first], fia)
    [replacement] = pay.payments_mark_failed(payment_ids=[first.pk], by=fia, reason="Bankgirot är avslutat.")
    first.refresh_from_db()
    assert first.status == "failed" and first.failure_reason == "Bankgirot är avslutat."
    assert (replacement.status, replacement.sequence, replacement.replaces_id, replacement.failure_reason) == (
        "planned",
        1,
        first.pk,
        "Bankgirot är avslutat.",
    )
    assert active_task_names(granted) == ["await_payment"]
    # Paying the failed one again is refused; the replacement goes its own way.
    with pytest.raises(ValidationError):
        pay.payments_mark_paid(payment_ids=[first.pk], by=fia)
    pay.payments_attest(payment_ids=[replacement.pk], by=fia)
    second_file = in_file([replacement], fia)
    assert second_file.pk != first.batch_id
    pay.payments_mark_paid(payment_ids=[replacement.pk], by=fia)
    assert active_task_names(granted) == ["await_report"]


def test_the_database_refuses_a_second_live_payment_of_a_part(granted):
    first = granted.payments.get(status="planned")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            application=granted,
            sequence=first.sequence,
            percent=85,
            amount=first.amount,
            release="decision",
            decided_by=first.decided_by,
        )


def test_the_database_refuses_a_paid_payment_outside_a_file(granted, fia):
    first = granted.payments.get(status="planned")
    pay.payments_attest(payment_ids=[first.pk], by=fia)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=first.pk).update(status="paid", paid_at="2026-01-01T00:00Z")


def test_one_refused_payment_refuses_the_whole_attestation(granted, fia, olle, anna, inclusion_call):
    other_org = factories.association("Saltsjöbadens SK", org_number="802501-4401", members=[anna])
    other = factories.granted_case(inclusion_call, other_org, anna, olle, amount="20000")
    other_org.bankgiro = ""  # the association removed its account after applying
    other_org.save()
    payments = [granted.payments.get(status="planned"), other.payments.get(status="planned")]
    with pytest.raises(ValidationError) as caught:
        pay.payments_attest(payment_ids=[p.pk for p in payments], by=fia)
    assert any("saknar bankgiro, plusgiro och IBAN" in message for message in caught.value.messages)
    assert not Payment.objects.filter(status="attested").exists()
    assert not CaseEvent.objects.filter(action__contains="attesterad").exists()


def test_an_attester_over_her_amount_limit_is_refused(granted, fia):
    AttestationLimit.objects.create(user=fia, max_amount=Decimal("10000"))
    first = granted.payments.get(status="planned")
    with pytest.raises(ValidationError) as caught:
        pay.payments_attest(payment_ids=[first.pk], by=fia)
    assert "över din attestgräns på 10000" in caught.value.messages[0]


def test_a_file_with_nothing_attested_is_refused(fia):
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        pay.batch_create(by=fia)
    assert "inga attesterade utbetalningar" in caught.value.messages[0]
    assert not PaymentBatch.objects.exists()


def test_a_stored_bankgiro_with_a_wrong_check_digit_stops_the_attestation(granted, fia, fisksatra):
    type(fisksatra).objects.filter(pk=fisksatra.pk).update(bankgiro="5050-1056")  # changed outside the forms
    first = granted.payments.get(status="planned")
    with pytest.raises(ValidationError) as caught:
        pay.payments_attest(payment_ids=[first.pk], by=fia)
    assert caught.value.messages[0] == (
        f"{first}: Fisksätra IF: Bankgironumret 5050-1056 är inte giltigt "
        "(7–8 siffror med rätt kontrollsiffra, t.ex. 5050-1055)."
    )
    first.refresh_from_db()
    assert (first.status, first.payee_account) == ("planned", "")


def test_an_informal_group_is_paid_to_its_sponsors_account(anna, olle, fia, fisksatra, inclusion_call):
    group = Organisation.objects.create(kind="informal_group", name="Nattvandrarna", sponsor=fisksatra)
    Membership.objects.create(user=anna, organisation=group)
    application = factories.granted_case(inclusion_call, group, anna, olle, amount="20000")
    [payment] = pay.payments_attest(payment_ids=[application.payments.get(status="planned").pk], by=fia)
    assert (payment.payee_name, payment.payee_scheme, payment.payee_account) == ("Fisksätra IF", "bankgiro", "50501055")


def test_an_iban_is_checked_and_used_when_there_is_no_giro(anna, olle, fia, inclusion_call):
    with pytest.raises(ValidationError, match="IBAN-numret SE45 5000 0000 0583 9825 7467 är inte giltigt"):
        Organisation(name="Boo FF", org_number="802501-4401", iban="SE45 5000 0000 0583 9825 7467").full_clean()
    club = factories.association("Boo FF", org_number="802501-4401", bankgiro="", members=[anna])
    club.iban = "SE45 5000 0000 0583 9825 7466"
    club.save()
    application = factories.granted_case(inclusion_call, club, anna, olle, amount="20000")
    [payment] = pay.payments_attest(payment_ids=[application.payments.get(status="planned").pk], by=fia)
    assert (payment.payee_scheme, payment.payee_account) == ("iban", "SE4550000000058398257466")


def test_the_assessor_and_the_applicant_may_not_attest_either(granted, olle, anna):
    for person in (olle, anna):
        person = factories.user(person.username, role="Ekonomi")  # in finance too, for every committee
        person = type(person).objects.get(pk=person.pk)
        with pytest.raises(ValidationError, match="tvåpersonsregeln|tillhör den sökande"):
            pay.payments_attest(payment_ids=[granted.payments.get(status="planned").pk], by=person)
