"""The access rules (grants.access), each asked directly: who is allowed, who is refused and
why. Then the rules the services must ask themselves, called as the services are: jäv and
both clauses of the two-person rule, without the staff pages in front."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from grants import access
from grants.models import AccountChangeRequest, Application, ConflictOfInterest, Membership, Payment
from grants.roles import roles_ensure
from grants.services import apply, assess, decide, pay
from workflows.flows import GrantFlow

from .. import factories

pytestmark = pytest.mark.django_db

NO_PERMISSION = "Du har inte behörighet att göra detta."


def with_role(person, role):
    roles_ensure()
    person.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=person.pk)  # a fresh object: permissions are cached per object


def submitted_case(call, organisation, applicant, *, amount="40000"):
    today = timezone.localdate()
    return apply.application_submit(
        application=apply.application_save_draft(
            call=call,
            organisation=organisation,
            by=applicant,
            title="Fisksätras läxhjälp",
            description="Läxhjälp.",
            period_start=today,
            period_end=today + dt.timedelta(days=180),
            stated_amount=Decimal(amount),
            budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 10000)],
        ),
        by=applicant,
    )


def case_in_assessment(call, organisation, applicant, officer, *, amount="40000"):
    application = submitted_case(call, organisation, applicant, amount=amount)
    assess.completeness_confirm(application=application, by=officer)
    return Application.objects.get(pk=application.pk)


def assessed_case(call, organisation, applicant, officer, *, amount="40000"):
    application = case_in_assessment(call, organisation, applicant, officer, amount=amount)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal(amount),
        justification="Bra projekt.",
    )
    return Application.objects.get(pk=application.pk)


def declare_conflict(application, person):
    """Jäv as the assessment step records it (assess.conflict_declare); past that step no action
    records jäv, so the row is written as the step writes it."""
    if application.status == Application.Status.IN_ASSESSMENT:
        assess.conflict_declare(application=application, by=person, reason="Min bror är kassör.")
    else:
        ConflictOfInterest.objects.create(application=application, user=person, reason="Min bror är kassör.")
        access.forget_conflicts(person)  # as the step does: the rules read jäv once per request


# --- the answer and its helpers --------------------------------------------------------------


def test_an_answer_is_truthy_only_when_it_allows():
    assert access.Answer(True) and access.ALLOWED.reason == ""
    refusal = access.refused("Nej.")
    assert not refusal and (refusal.allowed, refusal.reason) == (False, "Nej.")


def test_require_raises_the_rules_reason_or_the_callers_words():
    access.require(access.ALLOWED)
    with pytest.raises(PermissionDenied, match="^Nej.$"):
        access.require(access.refused("Nej."))
    with pytest.raises(PermissionDenied, match="^Inte här.$"):
        access.require(access.refused("Nej."), "Inte här.")


def test_the_view_decorator_sends_visitors_to_log_in_and_refuses_others_with_the_reason(olle, fia):
    @access.required(access.is_finance, "Bara ekonomi.")
    def page(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/staff/utbetalningar/")
    request.user = AnonymousUser()
    assert page(request).status_code == 302
    request.user = olle
    with pytest.raises(PermissionDenied, match="^Bara ekonomi.$"):
        page(request)
    request.user = fia
    assert page(request).content == b"ok"


def test_the_view_decorator_gives_the_rules_own_reason_when_given_none(olle):
    page = access.required(access.may_see_annual_report)(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/staff/arsrapport/")
    request.user = olle
    with pytest.raises(PermissionDenied, match="^Årsrapporten om bidrag är till för ledningen.$"):
        page(request)


# --- staff roles -----------------------------------------------------------------------------


def test_each_role_allows_its_people_and_refuses_others(olle, kim, fia, anna):
    for rule, allowed, refused in (
        (access.is_officer, olle, kim),
        (access.is_decision_maker, kim, olle),
        (access.is_finance, fia, olle),
        (access.is_case_handler, kim, fia),
        (access.is_staff_member, fia, anna),
    ):
        assert rule(allowed), rule.__name__
        assert rule(refused) == access.refused(NO_PERMISSION), rule.__name__
        assert not rule(AnonymousUser()), rule.__name__


def test_the_staff_interface_is_for_staff_and_administrators(olle, anna):
    admin = User.objects.create_superuser("admin", "admin@example.se", "demo")
    assert access.works_in_staff_interface(olle) and access.works_in_staff_interface(admin)
    assert access.works_in_staff_interface(anna) == access.refused(NO_PERMISSION)


def test_finance_without_a_case_role_starts_at_the_attestation_queue(fia, olle):
    assert access.finance_only_role(fia)
    assert not access.finance_only_role(with_role(fia, "Handläggare"))
    assert not access.finance_only_role(olle)


def test_management_sees_the_annual_report_and_starts_there_unless_also_staff(olle, eve):
    lena = factories.user("lena", role="Ledning")
    assert access.may_see_annual_report(lena) and access.management_only_role(lena)
    assert access.may_see_annual_report(olle) == access.refused("Årsrapporten om bidrag är till för ledningen.")
    assert not access.may_see_annual_report(AnonymousUser())
    assert access.may_see_annual_report(with_role(olle, "Ledning"))
    assert not access.management_only_role(with_role(olle, "Ledning"))
    assert not access.management_only_role(eve)


# --- applicants and their organisations ------------------------------------------------------


def test_an_applicant_is_a_confirmed_member_of_the_applying_organisation(anna, eve, fisksatra, inclusion_call):
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + dt.timedelta(days=90),
        stated_amount=Decimal("10000"),
        budget_lines=[],
    )
    assert access.is_applicant(anna, application)
    assert access.is_applicant(eve, application) == access.refused(NO_PERMISSION)
    assert not access.is_applicant(AnonymousUser(), application)
    factories.pending_member(eve, fisksatra)
    assert not access.is_applicant(eve, application)
    visible = Application.objects.filter(access.confirmed_member(eve, via="organisation"))
    assert list(visible) == []
    assert list(Application.objects.filter(access.confirmed_member(anna, via="organisation"))) == [application]


def test_a_sponsor_contact_is_a_confirmed_member_of_the_groups_sponsor(anna, eve, fisksatra, inclusion_call):
    group = factories.informal_group(fisksatra, members=[eve])
    application = Application(organisation=group, call=inclusion_call)
    assert access.is_sponsor_contact(anna, application)
    assert access.is_sponsor_contact(eve, application) == access.refused(NO_PERMISSION)
    assert not access.is_sponsor_contact(anna, Application(organisation=fisksatra, call=inclusion_call))


def test_only_a_confirmed_signatory_or_treasurer_acts_for_the_associations_money(anna, eve, fisksatra):
    assert access.may_act_for_money(Membership.objects.get(user=anna, organisation=fisksatra))
    not_confirmed = "Bara bekräftade medlemmar i föreningen kan begära ett nytt bankkonto."
    assert access.may_act_for_money(None) == access.refused(not_confirmed)
    assert access.may_act_for_money(factories.pending_member(eve, fisksatra, role="treasurer")) == access.refused(
        not_confirmed
    )
    member = Membership.objects.filter(user=eve).update(status=Membership.Status.CONFIRMED, role="member")
    assert member == 1
    answer = access.may_act_for_money(Membership.objects.get(user=eve))
    assert not answer and answer.reason.startswith("Bara föreningens firmatecknare eller kassör")


# --- jäv -------------------------------------------------------------------------------------


def test_staff_who_declared_jav_or_belong_to_the_applicant_take_no_part(anna, olle, otto, fisksatra, inclusion_call):
    application = case_in_assessment(inclusion_call, fisksatra, anna, olle)
    assert access.may_take_part(olle, application)
    declare_conflict(application, olle)
    assert access.may_take_part(olle, application) == access.refused(
        "Du har anmält jäv i ärendet och får inte delta i handläggningen."
    )
    Membership.objects.create(user=otto, organisation=fisksatra, role="member")
    assert access.may_take_part(otto, application) == access.refused(
        "Du tillhör den sökande föreningen och får inte handlägga ärendet (jäv)."
    )


def test_only_officers_and_decision_makers_declare_jav(olle, kim, fia):
    assert access.may_declare_conflict(olle) and access.may_declare_conflict(kim)
    assert access.may_declare_conflict(fia) == access.refused(
        "Bara handläggare och beslutsfattare anmäler jäv i ett ärende."
    )


def test_a_conflicted_officer_cannot_assess_through_the_service(anna, olle, fisksatra, inclusion_call):
    application = case_in_assessment(inclusion_call, fisksatra, anna, olle)
    declare_conflict(application, olle)
    with pytest.raises(PermissionDenied, match="Du har anmält jäv i ärendet"):
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("40000"),
            justification="Bra projekt.",
        )
    assert Application.objects.get(pk=application.pk).status == Application.Status.IN_ASSESSMENT


def test_a_conflicted_officer_cannot_check_completeness_through_the_service(anna, olle, fisksatra, inclusion_call):
    application = submitted_case(inclusion_call, fisksatra, anna)
    Membership.objects.create(user=olle, organisation=fisksatra, role="member")
    with pytest.raises(PermissionDenied, match="Du tillhör den sökande föreningen"):
        assess.completeness_confirm(application=application, by=olle)


def test_a_conflicted_officer_cannot_decide_through_the_service(anna, olle, otto, fisksatra, inclusion_call):
    application = assessed_case(inclusion_call, fisksatra, anna, olle)
    declare_conflict(application, otto)
    factories.hand_task_to(application, GrantFlow.decide_by_officer, otto)
    with pytest.raises(PermissionDenied, match="Du har anmält jäv i ärendet"):
        decide.decision_make(
            application=application, by=otto, outcome="approved", amount=Decimal("40000"), reasons="Bra projekt."
        )
    assert Application.objects.get(pk=application.pk).status == Application.Status.ASSESSED


# --- who decides -----------------------------------------------------------------------------


def test_the_officer_decides_within_the_delegation_and_the_committee_above_it(
    anna, olle, kim, fisksatra, inclusion_call
):
    within = assessed_case(inclusion_call, fisksatra, anna, olle, amount="40000")
    assert access.may_decide(olle, within)
    assert access.may_decide(kim, within) == access.refused("Beslut inom delegationen fattas av handläggaren.")
    above = assessed_case(inclusion_call, fisksatra, anna, olle, amount="60000")
    assert access.may_decide(kim, above)
    assert access.may_decide(olle, above) == access.refused(
        "Förslaget ligger över delegationsgränsen; beslutet fattas av nämnden."
    )
    declare_conflict(above, kim)
    assert not access.may_decide(kim, above)


# --- the two-person rule ---------------------------------------------------------------------


def test_neither_the_decider_nor_the_assessor_nor_a_member_may_attest(anna, olle, otto, fia, fisksatra, inclusion_call):
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle, decider=otto)
    payment = (
        Payment.objects.select_related("application__organisation", "application__assessment")
        .filter(application=application)
        .first()
    )
    assert access.may_attest(fia, payment, member_of=set())
    assert access.may_attest(otto, payment, member_of=set()) == access.refused(
        "Du fattade beslutet i ärendet och får därför inte attestera utbetalningen (tvåpersonsregeln). "
        "En annan attestant måste göra det."
    )
    assert access.may_attest(olle, payment, member_of=set()) == access.refused(
        "Du bedömde ärendet och får därför inte attestera utbetalningen (tvåpersonsregeln). "
        "En annan attestant måste göra det."
    )
    assert access.may_attest(fia, payment, member_of={fisksatra.pk}) == access.refused(
        "Du tillhör den sökande eller mottagande föreningen och får inte attestera utbetalningen."
    )


def test_the_decider_cannot_attest_through_the_service(anna, olle, fisksatra, inclusion_call):
    frida = with_role(factories.user("frida", role="Handläggare", first_name="Frida"), "Ekonomi")
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle, decider=frida)
    payment = application.payments.get(status=Payment.Status.PLANNED)
    with pytest.raises(ValidationError, match="Du fattade beslutet i ärendet"):
        pay.payments_attest(payment_ids=[payment.pk], by=frida)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PLANNED


def test_the_assessor_cannot_attest_through_the_service(anna, olle, fisksatra, inclusion_call):
    frida = with_role(factories.user("frida", role="Handläggare", first_name="Frida"), "Ekonomi")
    application = factories.granted_case(inclusion_call, fisksatra, anna, frida, decider=olle)
    payment = application.payments.get(status=Payment.Status.PLANNED)
    with pytest.raises(ValidationError, match="Du bedömde ärendet"):
        pay.payments_attest(payment_ids=[payment.pk], by=frida)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PLANNED


def test_the_factory_has_one_officer_assess_and_another_decide(anna, olle, fisksatra, inclusion_call):
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    assert application.assessment.officer == olle
    assert application.decision.decided_by.username == "otto"


def test_finance_decides_an_account_change_unless_it_asked_or_belongs_to_the_association(anna, olle, fia, fisksatra):
    request = AccountChangeRequest(organisation=fisksatra, requested_by=anna)
    assert access.may_decide_account_change(fia, request)
    assert access.may_decide_account_change(olle, request) == access.refused(
        "Bankkonton godkänns av ekonomi (attestanter)."
    )
    assert not access.may_decide_account_change(AnonymousUser(), request)
    own = AccountChangeRequest(organisation=fisksatra, requested_by=fia)
    assert access.may_decide_account_change(fia, own) == access.refused(
        "Du begärde ändringen själv och får därför inte godkänna eller avslå den (tvåpersonsregeln). "
        "En annan attestant måste göra det."
    )
    Membership.objects.create(user=fia, organisation=fisksatra, role="member")
    assert access.may_decide_account_change(fia, request) == access.refused(
        "Du tillhör Fisksätra IF och får inte besluta om föreningens bankkonto."
    )
