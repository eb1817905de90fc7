"""The fixed cast and world of the tests (and the benchmarks): one municipality, three
programmes, Anna from Fisksätra IF, Olle the officer, Kim on the committee, Fia in
finance, Eve the outsider."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone
from stdnum import luhn
from viewflow.workflow import STATUS

from grants.identity.models import ConfirmedEmail
from grants.models import Call, Committee, Membership, Organisation, Programme, StaffScope
from grants.roles import roles_ensure
from workflows.flows import GrantFlow


def user(username, *, role=None, first_name="", email=None, committees=None):
    """A person of the cast; the same person when asked again (granted_case may have made
    the second officer before a test asks for him). Staff work in every committee unless
    `committees` (Committee rows) narrows them."""
    person = User.objects.filter(username=username).first()
    if person is None:
        person = User.objects.create_user(username, email or f"{username}@example.se", "demo", first_name=first_name)
        # The cast has followed the link that confirms their e-mail address (tests of the
        # link itself register a person of their own).
        ConfirmedEmail.objects.create(user=person, email=person.email)
    if role:
        roles_ensure()
        person.groups.add(Group.objects.get(name=role))
        scope, _ = StaffScope.objects.get_or_create(user=person, defaults={"all_committees": committees is None})
        if committees is not None:
            scope.all_committees = False
            scope.save(update_fields=["all_committees"])
            scope.committees.set(committees)
    return person


def committee(code="KFN", name="Kultur- och fritidsnämnden"):
    return Committee.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "contact_email": "bidrag@kommun.example",
            "contact_phone": "08-718 80 00",
        },
    )[0]


PROGRAMMES = {
    # slug: (name, calculator, params, delegation limit, payment plan, follow-up)
    "inkludering": (
        "Projektbidrag för inkludering",
        "requested",
        {},
        "50000",
        [{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}],
        True,
    ),
    "verksamhet": (
        "Verksamhetsbidrag",
        "base_plus_per_member",
        {"base": "5000", "per_member": "150"},
        "100000",
        [{"percent": 100, "release": "decision"}],
        True,
    ),
    "forening": (
        "Föreningsbidrag – aktivitetsstöd",
        "sessions_participants",
        {"per_participant_session": "12"},
        "100000",
        [{"percent": 100, "release": "decision"}],
        False,
    ),
}


def programme(slug, *, committee_=None, **overrides):
    name, calculator, params, limit, plan, follow_up = PROGRAMMES[slug]
    fields = dict(
        committee=committee_ or committee(),
        slug=slug,
        name=name,
        calculator=calculator,
        calculator_params=params,
        delegation_limit=Decimal(limit),
        delegation_point="4.2",
        payment_plan=plan,
        follow_up_required=follow_up,
        who_may_apply="associations_and_groups",
        description=f"{name}: stöd till föreningslivet.",
    )
    fields.update(overrides)
    return Programme.objects.create(**fields)


def call(programme_, *, open_=True, max_amount="200000", budget="1000000", year=None):
    today = timezone.localdate()
    if open_:
        opens, closes = today - dt.timedelta(days=30), today + dt.timedelta(days=30)
    else:
        opens, closes = today - dt.timedelta(days=90), today - dt.timedelta(days=1)
    return Call.objects.create(
        programme=programme_,
        title=f"Ansökningsomgång {today.year}",
        year=year or today.year,
        opens_on=opens,
        closes_on=closes,
        max_amount=Decimal(max_amount),
        budget=Decimal(budget),
    )


def association(
    name="Fisksätra IF",
    org_number="802412-1231",
    bankgiro=None,
    members=(),
    role=Membership.Role.SIGNATORY,
    verification=Organisation.Verification.VERIFIED,
):
    """An association whose bankgiro is already approved (as finance would have), with its
    members confirmed in `role`: Anna is Fisksätra IF's signatory. Fisksätra IF's bankgiro
    is 5050-1055; another association gets one of its own, made from its organisationsnummer,
    since attestation refuses two associations with one account. It is verified by the
    municipality unless `verification` says otherwise (unverified_association)."""
    if bankgiro is None:
        bankgiro = "5050-1055" if org_number == "802412-1231" else _bankgiro_of(org_number)
    org = Organisation.objects.create(name=name, org_number=org_number, bankgiro=bankgiro, verification=verification)
    for person in members:
        Membership.objects.create(user=person, organisation=org, role=role)
    return org


def _bankgiro_of(org_number):
    digits = "".join(ch for ch in org_number if ch.isdigit())[-7:]
    digits += luhn.calc_check_digit(digits)
    return f"{digits[:4]}-{digits[4:]}"


def other_officer(officer):
    """The officer who decides a factory's case when the test names none: Otto, or Olle when
    Otto assessed it. Two people, so that the two-person rule's clauses (the decider and the
    assessor never attest) are each met by every test that pays a factory's case."""
    username, first_name = ("olle", "Olle") if officer.username == "otto" else ("otto", "Otto")
    return user(username, role="Handläggare", first_name=first_name)


def hand_task_to(application, node, person):
    """The case's open task at `node` handed to `person`, as a flow manager reassigns it in the
    staff interface (a delegation decision goes to the assessor unless someone hands it on)."""
    task = GrantFlow.task_class.objects.get(
        process__grantprocess__application=application, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED]
    )
    activation = node.activation_class(task)
    if task.status == STATUS.NEW:
        activation.assign(person)
    else:
        activation.reassign(person)


def granted_case(call_, organisation, applicant, officer, *, decider=None, amount="40000", title="Fisksätras läxhjälp"):
    """A case taken through the real flow to approval of `amount`, assessed by `officer` and
    decided on delegation by `decider` (another officer by default): its payments are planned
    (or withheld) and the flow waits in await_payment."""
    from grants.models import Application
    from grants.services import apply, assess, decide

    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call_,
        organisation=organisation,
        by=applicant,
        title=title,
        description="Läxhjälp för barn.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 10000)],
    )
    application = apply.application_submit(application=draft, by=applicant)
    decider = decider or other_officer(officer)
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal(amount),
        justification="Bra projekt.",
    )
    if decider != officer:
        hand_task_to(application, GrantFlow.decide_by_officer, decider)
    decide.decision_make(
        application=application, by=decider, outcome="approved", amount=Decimal(amount), reasons="Bra projekt."
    )
    return Application.objects.get(pk=application.pk)


def report_owed(
    call_, organisation, applicant, officer, finance, *, decider=None, amount="40000", title="Fisksätras läxhjälp"
):
    """A granted case whose parts due at the decision finance has paid: the grantee owes the
    follow-up report and the flow waits in await_report."""
    from grants.models import Application

    from .staff import pay_out

    application = granted_case(call_, organisation, applicant, officer, decider=decider, amount=amount, title=title)
    pay_out(application, finance)
    return Application.objects.get(pk=application.pk)


def report_form_data(application, *, action="submit", **overrides):
    """What Anna posts on the follow-up report page (portal:follow_up) to send a complete
    report with the parts her programme asks for: every budgeted cost spent as budgeted."""
    parts = application.call.programme.follow_up_parts
    data = {
        "what_was_done": "Träffar varje vecka hela perioden.",
        "outcome": "Målen nåddes.",
        "action": action,
        "extra-TOTAL_FORMS": "0",
        "extra-INITIAL_FORMS": "0",
        "extra-MIN_NUM_FORMS": "0",
        "extra-MAX_NUM_FORMS": "20",
    }
    if "financial_statement" in parts:
        lines = list(application.budget_lines.filter(kind="cost"))
        for line in lines:
            data[f"actual_{line.pk}"] = str(line.amount)
        if not lines:  # no budget in the application: the costs go on a row of their own
            data.update(
                {
                    "extra-TOTAL_FORMS": "1",
                    "extra-0-label": "Verksamhetens kostnader",
                    "extra-0-actual": str(application.requested_amount),
                }
            )
        data["own_contribution"] = "0"
    if "participants_by_age_gender" in parts:
        data.update({"participants_1_girls": "10", "participants_1_boys": "8"})
    if "sessions" in parts:
        data["sessions"] = "30"
    data.update(overrides)
    return data


# --- accounts and the association profile (grants.services.organisations) -------------------


def unverified_association(name="Saltsjöbadens SK", org_number="802420-1231", members=(), **kwargs):
    """An association registered in the portal that waits for an officer to verify it."""
    return association(
        name=name, org_number=org_number, members=members, verification=Organisation.Verification.UNVERIFIED, **kwargs
    )


def pending_member(person, organisation, *, role="member"):
    """Someone who asked to join, or accepted an invitation, and waits to be confirmed."""
    return Membership.objects.create(
        user=person, organisation=organisation, role=role, status=Membership.Status.PENDING
    )


def informal_group(sponsor, *, name="Nattvandrarna i Fisksätra", members=()):
    """A group without an organisationsnummer that applies with `sponsor`, an association."""
    group = Organisation.objects.create(kind=Organisation.Kind.INFORMAL_GROUP, name=name, sponsor=sponsor)
    for person in members:
        Membership.objects.create(user=person, organisation=group)
    return group


BOARD = [
    {"name": "Anna Andersson", "role": "ordförande"},
    {"name": "Bo Berg", "role": "kassör"},
    {"name": "Cia Ek", "role": "sekreterare"},
]


def draft(call_, organisation, by, *, title="Läxhjälp", amount="40000", budget="50000", start_in_days=0):
    """A saved draft through the apply service, ready to submit: a half-year project from
    start_in_days ahead with one budget line."""
    from grants.services import apply

    start = timezone.localdate() + dt.timedelta(days=start_in_days)
    return apply.application_save_draft(
        call=call_,
        organisation=organisation,
        by=by,
        title=title,
        description="Läxhjälp för barn.",
        period_start=start,
        period_end=start + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal(budget))],
    )
