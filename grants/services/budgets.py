"""Budgets: a decision must fit in its call's budget and in every annual budget above it
(the programme's share of the year, the committee's whole year).

The amounts granted so far are kept on the budget rows themselves (`committed`), raised
under a row lock in the decision's transaction; a check constraint on each row refuses
any update that would take it past its budget, whatever the code does.
"""

from django.core.exceptions import ValidationError
from django.db.models import F, Q

from ..models import AnnualBudget, Call


def _annual_budgets(call, *, for_update=False):
    programme = call.programme
    budgets = AnnualBudget.objects.filter(year=call.year).filter(
        Q(committee_id=programme.committee_id, programme__isnull=True) | Q(programme_id=programme.pk)
    )
    if for_update:
        # Always the same order (committee before programme), so that concurrent
        # decisions queue for the same locks instead of deadlocking.
        budgets = budgets.select_for_update(of=("self",)).order_by(F("programme_id").asc(nulls_first=True))
    return list(budgets.select_related("programme", "committee"))


def _label(budget):
    if isinstance(budget, Call):
        return f"utlysningens budget ({budget.title})"
    if budget.programme_id:
        return f"budgeten för {budget.programme.name} {budget.year}"
    return f"{budget.committee.name}s bidragsbudget {budget.year}"


def budgets_overview(call):
    """Every budget a decision in this call must fit in, for the assessment page:
    [{label, budget, committed, remaining}], the call first."""
    rows = [call, *_annual_budgets(call)]
    return [
        {"label": _label(row)[0].upper() + _label(row)[1:], "budget": getattr(row, "budget", None) or row.amount,
         "committed": row.committed, "remaining": row.remaining}
        for row in rows
    ]


def _check_fits(budgets, amount):
    for budget in budgets:
        if amount > budget.remaining:
            raise ValidationError(
                f"Beslutet på {amount} kr ryms inte i {_label(budget)}: {budget.remaining} kr återstår."
            )


def budget_check(call, amount):
    """Whether amount fits in every budget of the call, read without locks (for a preview)."""
    _check_fits([call, *_annual_budgets(call)], amount)


def budget_commit(call, amount):
    """Take amount from every budget of the call. Must run inside the decision's
    transaction: locks the annual budgets and the call, checks, then raises `committed`."""
    annual = _annual_budgets(call, for_update=True)
    call = Call.objects.select_for_update().select_related("programme").get(pk=call.pk)
    _check_fits([call, *annual], amount)
    if amount:
        AnnualBudget.objects.filter(pk__in=[budget.pk for budget in annual]).update(committed=F("committed") + amount)
        Call.objects.filter(pk=call.pk).update(committed=F("committed") + amount)
    return call
