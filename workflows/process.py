"""The grant flow behind grants.process: where each step of a case happens in GrantFlow.

- An applicant's first step (submit, or a sponsor's confirmation) starts the process: the
  start node's callback does the work.
- An applicant's later steps (answer a completion request, send the follow-up report) run
  the open Handle node, whose callback does the work inside the flow's lock.
- Withdrawing cancels the process, if there is one, and does the work, in one transaction.
- A staff step done in its task page is already inside the task (the page executes it
  afterwards): the work is just done. Done from code (the demo, the benchmarks, tests), the
  task is worked as its page would: locked, taken by the person if nobody has it (refused if
  someone else has it), started, the work done, completed.
- Finance settles many cases at once: their processes are locked in primary-key order, as
  every flow node locks its process before the services lock their rows, so that two calls
  finishing a case's last payments run one after the other and the second sees the case
  settled; then each case with nothing left to pay runs its await_payment node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow import STATUS
from viewflow.workflow.exceptions import FlowLockFailed, FlowRuntimeError

from grants.models import Application, Payment
from grants.process import Step

from .flows import GrantFlow
from .models import GrantProcess
from .views import activation_in_hand

if TYPE_CHECKING:
    from django.contrib.auth.models import User

T = TypeVar("T")
Work = Callable[[], T]

OPEN = (STATUS.NEW, STATUS.ASSIGNED)

# The applicant's steps on a running case: the Handle node, and what to say when it is not open.
HANDLES = {
    Step.ANSWER_COMPLETION: (GrantFlow.await_completion, "Det finns ingen öppen kompletteringsbegäran i ärendet."),
    Step.SUBMIT_REPORT: (GrantFlow.await_report, "Återrapporten kan inte lämnas in nu."),
}

# The staff's steps: the task nodes where each happens, and what it is called in a refusal.
TASKS = {
    Step.CHECK_COMPLETENESS: ((GrantFlow.check_completeness,), "kontroll av att ansökan är komplett"),
    Step.ASSESS: ((GrantFlow.assess,), "bedömning"),
    Step.DECIDE: ((GrantFlow.decide_by_officer, GrantFlow.decide_by_committee), "beslut"),
    Step.REVIEW_REPORT: ((GrantFlow.review_report,), "granskning av återrapporten"),
    Step.DECIDE_AT_MEETING: ((GrantFlow.decide_by_committee,), "beslut i nämnden"),
}


class GrantFlowRunner:
    """grants.process.Runner, with GrantFlow."""

    def run(self, step: Step, application: Application, work: Work[T], *, by: User) -> T:
        if step == Step.SUBMIT:
            return _start(GrantFlow.start, work)
        if step == Step.SPONSOR_CONFIRM:
            return _start(GrantFlow.sponsor_confirmed, work)
        if step == Step.WITHDRAW:
            return _withdraw(application, work)
        if step in HANDLES:
            return _handle(application, *HANDLES[step], work)
        if step in TASKS:
            return _task(application, *TASKS[step], work, by=by, take_over=step == Step.DECIDE_AT_MEETING)
        raise ValueError(f"GrantFlow has no step {step!r}")

    def settle(self, application_ids: Iterable[int], work: Work[T]) -> T:
        application_ids = set(application_ids)
        with transaction.atomic():
            _lock_processes(application_ids)
            result = work()
            _advance_settled(application_ids)
        return result


def _start(node: Any, work: Work[T]) -> T:
    """Start the case's process; the start node's callback does the work (and returns the
    application it started)."""
    with transaction.atomic():
        process = node.run(work=work)
    application: T = process.application
    return application


def _withdraw(application: Application, work: Work[T]) -> T:
    """A draft, or one awaiting its sponsor, has no process: the work alone. A submitted
    case's process is cancelled (every open task ends CANCELED, so no officer has anything
    more to do) and the work done, in one transaction: if either is refused, neither happens."""
    process = GrantProcess.objects.filter(application=application).first()
    if process is None:
        return work()
    try:
        with transaction.atomic():
            # The process first, then the application, in the order every flow node locks them.
            GrantFlow.instance.cancel(process)
            return work()
    except (FlowLockFailed, FlowRuntimeError) as exc:
        raise ValidationError(_("Ärendet ändras just nu av någon annan. Försök igen om en stund.")) from exc


def _handle(application: Application, node: Any, missing: str, work: Work[T]) -> T:
    """Run the case's open Handle node; its callback does the work inside the flow's lock."""
    task = _open_task(application, (node,), statuses=(STATUS.NEW,))
    if task is None:
        raise ValidationError(missing)
    return node.run(task, work=work)


def _task(
    application: Application, nodes: tuple[Any, ...], name: str, work: Work[T], *, by: User, take_over: bool = False
) -> T:
    """A staff task: inside its page, the work alone; from code, worked as its page would.

    Who may work it is the page's rule: the task is taken by the person if nobody has it, and
    refused if someone else has; jäv and the applicant's own people are refused by the service
    itself (the same rule as the node's), so no query is spent on asking it twice."""
    activation = activation_in_hand()
    if activation is not None and activation.process.application_id == application.pk and activation.flow_task in nodes:
        return work()
    task = _open_task(application, nodes, statuses=OPEN)
    if task is None:
        _refuse_without_task(work, name)
    node = task.flow_task
    with GrantFlow.lock(task.process_id), transaction.atomic():
        task.refresh_from_db()
        activation = node.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(by)
        elif task.owner_id != by.pk:
            if not take_over:
                raise PermissionDenied("Uppgiften är tilldelad någon annan.")
            activation.reassign(by)
        activation.start(None)
        result = work()
        activation.execute()
    return result


def _refuse_without_task(work: Work[Any], name: str) -> None:
    """Refuse a staff step whose task is not open. The domain's refusal says best why (the
    case's status); if the domain would allow the step, it is undone and the flow refuses."""
    with transaction.atomic():
        work()
        raise ValidationError(f"Ärendet har ingen öppen uppgift för {name}.")


def _open_task(application: Application, nodes: tuple[Any, ...], *, statuses: tuple[str, ...]) -> Any:
    return (
        GrantFlow.task_class.objects.filter(
            process__grantprocess__application=application, flow_task__in=nodes, status__in=statuses
        )
        .select_related("process")
        .order_by("pk")
        .first()
    )


def _lock_processes(application_ids: set[int]) -> None:
    list(
        GrantProcess.objects.select_for_update(of=("self",))
        .filter(application_id__in=application_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _advance_settled(application_ids: set[int]) -> None:
    tasks = (
        GrantFlow.task_class.objects.filter(
            flow_task=GrantFlow.await_payment,
            status=STATUS.NEW,
            process__grantprocess__application_id__in=application_ids,
        )
        .select_related("process__grantprocess")
        .order_by("process_id")
    )
    open_cases = set(
        Payment.objects.filter(application_id__in=application_ids, status__in=Payment.OPEN).values_list(
            "application_id", flat=True
        )
    )
    for task in tasks:
        if task.process.grantprocess.application_id not in open_cases:
            GrantFlow.await_payment.run(task)


def active_task_names(application: Application) -> list[str]:
    """The names of the case's open tasks (used to check that flow and state agree)."""
    return sorted(
        str(task.flow_task.name)
        for task in GrantFlow.task_class.objects.filter(process__grantprocess__application=application).exclude(
            status__in=[STATUS.DONE, STATUS.CANCELED]
        )
    )
