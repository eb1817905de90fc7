"""Budgets: a decision fits in its call's budget and in the annual budgets above it; the
amounts granted are kept on the budget rows under database checks; the officer sees what
is left, and the organisation's other grants this year, while assessing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from grants.models import AnnualBudget, Application, Call, Decision
from grants.services import apply, assess, decide

from .. import factories
from ..staff import open_task

pytestmark = pytest.mark.django_db


def assessed(call, organisation, applicant, officer, amount="40000", title="Läxhjälp"):
    """A case taken to an approving assessment of `amount`, waiting for the decision."""
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
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
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=Decimal(amount),
        justification="Bra projekt.",
    )
    return Application.objects.get(pk=application.pk)


def decide_on(application, officer, amount, outcome="approved"):
    return decide.decision_make(
        application=application, by=officer, outcome=outcome, amount=Decimal(amount), reasons="Bra projekt."
    )


def test_a_decision_takes_its_amount_from_every_budget_above_it(anna, olle, fisksatra, inclusion_call):
    programme = inclusion_call.programme
    committee_year = AnnualBudget.objects.create(
        committee=programme.committee, year=inclusion_call.year, amount=Decimal("500000")
    )
    programme_year = AnnualBudget.objects.create(
        committee=programme.committee, programme=programme, year=inclusion_call.year, amount=Decimal("100000")
    )
    other_year = AnnualBudget.objects.create(
        committee=programme.committee, year=inclusion_call.year + 1, amount=Decimal("5")
    )
    decide_on(assessed(inclusion_call, fisksatra, anna, olle), olle, "40000")
    for budget, committed in ((committee_year, "40000"), (programme_year, "40000"), (other_year, "0")):
        budget.refresh_from_db()
        assert budget.committed == Decimal(committed)
    inclusion_call.refresh_from_db()
    assert inclusion_call.committed == Decimal("40000") == sum(d.amount for d in Decision.objects.all())


@pytest.mark.parametrize("which", ["call", "programme", "committee"])
def test_a_decision_over_what_is_left_is_refused_and_changes_nothing(which, anna, olle, fisksatra, inclusion_call):
    programme = inclusion_call.programme
    if which == "call":
        Call.objects.filter(pk=inclusion_call.pk).update(budget=Decimal("50000"))
        expected = f"utlysningens budget ({inclusion_call.title})"
    elif which == "programme":
        AnnualBudget.objects.create(
            committee=programme.committee, programme=programme, year=inclusion_call.year, amount=Decimal("50000")
        )
        expected = f"budgeten för {programme.name} {inclusion_call.year}"
    else:
        AnnualBudget.objects.create(committee=programme.committee, year=inclusion_call.year, amount=Decimal("50000"))
        expected = f"{programme.committee.name}s bidragsbudget {inclusion_call.year}"
    first = assessed(inclusion_call, fisksatra, anna, olle, amount="30000", title="Först")
    decide_on(first, olle, "30000")
    second = assessed(inclusion_call, fisksatra, anna, olle, amount="30000", title="Sedan")
    with pytest.raises(ValidationError) as caught:
        decide_on(second, olle, "30000")
    assert caught.value.messages == [f"Beslutet på 30000 kr ryms inte i {expected}: 20000.00 kr återstår."]
    second.refresh_from_db()
    assert second.status == "assessed" and not Decision.objects.filter(application=second).exists()
    assert [b.committed for b in AnnualBudget.objects.all()] in ([], [Decimal("30000.00")])
    inclusion_call.refresh_from_db()
    assert inclusion_call.committed == Decimal("30000.00")
    # What is left still fits.
    decide_on(second, olle, "20000", outcome="partly_approved")


def test_the_database_refuses_an_overcommitted_budget(olle, inclusion_call):
    with pytest.raises(IntegrityError), transaction.atomic():
        Call.objects.filter(pk=inclusion_call.pk).update(committed=inclusion_call.budget + 1)
    budget = AnnualBudget.objects.create(committee=inclusion_call.programme.committee, year=2026, amount=Decimal("100"))
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnualBudget.objects.filter(pk=budget.pk).update(committed=Decimal("100.01"))


def test_the_admin_cannot_lower_a_budget_below_what_is_granted(admin_client, anna, olle, fisksatra, inclusion_call):
    decide_on(assessed(inclusion_call, fisksatra, anna, olle), olle, "40000")
    call = Call.objects.get(pk=inclusion_call.pk)
    url = reverse("admin:grants_call_change", args=[call.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update({"budget": "30000", "opens_on": call.opens_on.isoformat(), "closes_on": call.closes_on.isoformat()})
    response = admin_client.post(url, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 200
    assert "Budgeten kan inte vara lägre än det som redan är beviljat (40000.00 kr)." in response.content.decode()
    call.refresh_from_db()
    assert call.budget == inclusion_call.budget


def test_the_case_page_shows_what_is_left_and_the_organisations_other_grants(
    client, anna, olle, fisksatra, inclusion_call, activity_call
):
    AnnualBudget.objects.create(
        committee=inclusion_call.programme.committee, year=inclusion_call.year, amount=Decimal("2000000")
    )
    earlier = factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000", title="Sommarläger")
    current = assessed(inclusion_call, fisksatra, anna, olle, amount="25000", title="Läxhjälp")
    client.force_login(olle)
    task = open_task(current, "decide_by_officer")
    page = client.get(f"/staff/cases/grant/{task.process_id}/").content.decode()
    page = page.replace("\xa0", " ")
    assert "960 000 kr kvar av 1 000 000 kr" in page
    assert "1 960 000 kr kvar av 2 000 000 kr" in page
    # The other applications are summed per committee (with a link to their list), not listed.
    assert "andra ansökningar" in page and "Kultur- och fritidsnämnden (KFN)" in page
    assert earlier.case_number not in page and "40 000 kr" in page
