"""Budgets: a decision must fit in its call's budget and in every annual budget above it
(the programme's share of the year, the committee's whole year).

The amounts granted so far are kept on the budget rows themselves (`committed`), raised
under a row lock in the decision's transaction; a check constraint on each row refuses
any update that would take it past its budget, whatever the code does.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F

from ..models import AnnualBudget, Call
from ..selectors import annual_budgets, budget_label


def _check_fits(budgets: Iterable[Call | AnnualBudget], amount: Decimal) -> None:
    for budget in budgets:
        if amount > budget.remaining:
            raise ValidationError(
                f"Beslutet på {amount} kr ryms inte i {budget_label(budget)}: {budget.remaining} kr återstår."
            )


def budget_check(call: Call, amount: Decimal) -> None:
    """Whether amount fits in every budget of the call, read without locks (for a preview)."""
    _check_fits([call, *annual_budgets(call)], amount)


def budget_commit(call: Call, amount: Decimal) -> Call:
    """Take amount from every budget of the call. Must run inside the decision's
    transaction: locks the annual budgets and the call, checks, then raises `committed`."""
    annual = annual_budgets(call, for_update=True)
    call = Call.objects.select_for_update().select_related("programme").get(pk=call.pk)
    _check_fits([call, *annual], amount)
    if amount:
        AnnualBudget.objects.filter(pk__in=[budget.pk for budget in annual]).update(committed=F("committed") + amount)
        Call.objects.filter(pk=call.pk).update(committed=F("committed") + amount)
    return call
