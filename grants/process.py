"""The case's process as the domain sees it: a port the flow plugs into.

Every lifecycle action is one public service function. The state change is the domain's
(a private function in the stage's service module); who works next, and when, is the
flow's. The service hands its state change, bound with its arguments, to `run` or
`settle`, and the registered runner (workflows.process, registered when the workflows app
is ready) does it inside the flow's own step, so that the FSM state and the process's
tasks never disagree. The domain never imports the flow: it only names the step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

from django.core.exceptions import ImproperlyConfigured

from .models import Application

if TYPE_CHECKING:
    from django.contrib.auth.models import User

T = TypeVar("T")


class Step(enum.StrEnum):
    """The steps of a case that a person takes; the flow knows where each one happens."""

    SUBMIT = "submit"
    SPONSOR_CONFIRM = "sponsor_confirm"
    ANSWER_COMPLETION = "answer_completion"
    SUBMIT_REPORT = "submit_report"
    WITHDRAW = "withdraw"
    CHECK_COMPLETENESS = "check_completeness"
    ASSESS = "assess"
    DECIDE = "decide"
    # The committee's decision, recorded by its secretary from the meeting's protocol: the
    # secretary takes the decision task over from whoever holds it.
    DECIDE_AT_MEETING = "decide_at_meeting"
    REVIEW_REPORT = "review_report"


class Runner(Protocol):
    """What the flow provides: taking a step of one case, and settling many cases' money."""

    def run(self, step: Step, application: Application, work: Callable[[], T], *, by: User) -> T: ...

    def settle(self, application_ids: Iterable[int], work: Callable[[], T]) -> T: ...


_runner: Runner | None = None


def register(runner: Runner) -> None:
    """Plug the flow in (workflows.apps does, once, at start-up)."""
    global _runner
    _runner = runner


def _registered() -> Runner:
    # Never silently: without a runner a case would change state and reach no one.
    if _runner is None:
        raise ImproperlyConfigured("No process runner is registered: the workflows app must be installed.")
    return _runner


def run(step: Step, application: Application, work: Callable[[], T], *, by: User) -> T:
    """Take `step` of the case's process for `by`, doing `work` (the state change) inside it.
    Returns what `work` returns."""
    return _registered().run(step, application, work, by=by)


def settle(application_ids: Iterable[int], work: Callable[[], T]) -> T:
    """Do `work` (a change to the money of these cases) and move on each case that has
    nothing left to pay. Returns what `work` returns."""
    return _registered().settle(application_ids, work)
