"""The grant flow's own nodes: the staff task, with the rules on who may take part in a case,
and gateways and functions that open no savepoint of their own."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import URLPattern, path
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.flow import utils
from viewflow.workflow.nodes import func, if_gate, switch
from viewflow.workflow.signals import task_started

from grants import access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class CaseView(flow.View):
    """A staff task on a case. Viewflow's permission check, plus the conflict-of-interest rule."""

    def can_assign(self, user: User, task: Any) -> bool:
        return super().can_assign(user, task) and bool(access.may_take_part(user, task.coerced_process.application))

    def can_execute(self, user: User, task: Any) -> bool:
        return super().can_execute(user, task) and bool(access.may_take_part(user, task.coerced_process.application))

    def can_unassign(self, user: User, task: Any) -> bool:
        return super().can_unassign(user, task) and bool(access.may_see_case(user, task.coerced_process.application))

    @property
    def index_path(self) -> Any:
        # viewflow's task page (the lists' link) checks no permission of its own: here it
        # asks can_view, so that staff outside the case's committee get 403 (committee scope).
        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/",
            utils.wrap_task_view(self, self.index_view, permission=self.can_view),
            name="index",
        )

    def can_take(self, user: User, task: Any) -> bool:
        """Whether "Ta och öppna" may open the task for him: his to take, or already his."""
        return self.can_assign(user, task) or self.can_execute(user, task)

    @property
    def take_path(self) -> URLPattern:
        """<process>/<task name>/<task>/take/: one POST takes the task and opens its form."""
        from .views import TakeTaskView

        return path(
            f"<int:process_pk>/{self.name}/<int:task_pk>/take/",
            utils.wrap_task_view(self, TakeTaskView.as_view(), permission=self.can_take),
            name="take",
        )


# --- gateways and functions without viewflow's savepoint --------------------------------
#
# viewflow opens a savepoint around every gateway's condition and every function's
# callback, so that when a node's error is kept on its task rather than raised (the
# asynchronous nodes: timers, jobs) the node's own writes are undone. This flow's errors
# are raised into the flow's lock transaction, which then rolls back as a whole: there the
# savepoint costs two round trips per node and undoes nothing. It is kept where errors are kept.


def _savepoint_if_errors_are_kept() -> AbstractContextManager[object]:
    return transaction.atomic() if not context.propagate_exception else nullcontext()


class IfActivation(if_gate.IfActivation):
    @Activation.status.super()
    def activate(self) -> None:
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            self._condition_result = self.flow_task._condition(self)


class SwitchActivation(switch.SwitchActivation):
    @Activation.status.super()
    def activate(self) -> None:
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            for node, condition in self.flow_task._branches:
                if condition is None:
                    self.next_task = node  # the default, unless a later case holds
                elif condition(self):
                    self.next_task = node
                    break
            if not self.next_task:
                raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class FunctionActivation(func.FunctionActivation):
    @Activation.status.super()
    def activate(self) -> None:
        with self.exception_guard(), _savepoint_if_errors_are_kept():
            self.task.started = now()
            task_started.send(sender=self.flow_class, process=self.process, task=self.task)
            self.flow_task._func(self)


class If(flow.If):
    """viewflow's If, without the savepoint when its errors are raised."""

    activation_class = IfActivation


class Switch(flow.Switch):
    """viewflow's Switch, without the savepoint when its errors are raised."""

    activation_class = SwitchActivation


class Function(flow.Function):
    """viewflow's Function, without the savepoint when its errors are raised."""

    activation_class = FunctionActivation
