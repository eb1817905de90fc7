"""A service called inside the flow's transaction joins it instead of opening a savepoint
(two round trips per step): a refusal comes before any write and leaves the caller's
transaction as it was; a failure after a write dooms it, so half a step never commits."""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from grants.models import Application, CaseEvent
from grants.services import apply, assess
from grants.services._base import record_event, service_transaction
from workflows.flows import GrantFlow
from workflows.views import task_in_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(anna, fisksatra, inclusion_call):
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp för barn.",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        stated_amount=Decimal("40000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("50000"))],
    )
    return apply.application_submit(application=draft, by=anna)


@contextmanager
def task_page(application, node, user):
    """What the staff task page holds when it performs its service: the flow's lock and its
    transaction, the task taken and started, the activation in hand."""
    task = GrantFlow.task_class.objects.get(process__grantprocess__application=application, flow_task=node)
    with GrantFlow.lock(task.process_id), transaction.atomic():
        activation = node.activation_class(task)
        activation.assign(user)
        activation.start(None)
        with task_in_hand(activation):
            yield activation
        activation.execute()


def test_olles_step_inside_the_flows_transaction_opens_no_savepoint(submitted, olle):
    with task_page(submitted, GrantFlow.check_completeness, olle), CaptureQueriesContext(connection) as captured:
        assess.completeness_confirm(application=submitted, by=olle)
    statements = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    assert "SAVEPOINT" not in statements, statements
    assert Application.objects.get(pk=submitted.pk).status == "in_assessment"


def test_eves_refused_step_leaves_the_callers_transaction_usable(submitted, eve):
    with transaction.atomic():
        with pytest.raises(PermissionDenied):
            assess.completeness_confirm(application=submitted, by=eve)
        assert not connection.needs_rollback
        assert Application.objects.get(pk=submitted.pk).status == "submitted"


def test_a_failure_after_a_write_rolls_the_callers_transaction_back(submitted, olle):
    with transaction.atomic():
        with pytest.raises(ValidationError), service_transaction():
            record_event(submitted, by=olle, action="Halvt steg")
            raise ValidationError("Fel efter en skrivning.")
        assert connection.needs_rollback
    assert not CaseEvent.objects.filter(action="Halvt steg").exists()


def test_a_failure_after_an_after_commit_action_rolls_the_callers_transaction_back(submitted, olle):
    sent = []
    with transaction.atomic():
        with pytest.raises(ValidationError), service_transaction():
            transaction.on_commit(lambda: sent.append("e-post"))
            raise ValidationError("Fel efter ett e-postutskick.")
        assert connection.needs_rollback
    assert sent == []


@pytest.mark.django_db(transaction=True)
def test_called_on_its_own_a_service_is_one_transaction(submitted, olle):
    assert not connection.in_atomic_block
    with pytest.raises(ValidationError), service_transaction():
        record_event(submitted, by=olle, action="Halvt steg")
        raise ValidationError("Fel efter en skrivning.")
    assert not CaseEvent.objects.filter(action="Halvt steg").exists()
