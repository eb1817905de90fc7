"""Work a staff task from code, exactly as its view would: claim, start, act, complete.

Used by the demo data and the benchmarks, which walk many cases through the real flow
without a browser. `act` is a callable that calls one grants service.
"""

from django.db import transaction
from viewflow.workflow import STATUS

from .flows import GrantFlow


def open_task(application, node):
    return (GrantFlow.task_class.objects.filter(process__grantprocess__application=application, flow_task=node,
                                                status__in=[STATUS.NEW, STATUS.ASSIGNED]).first())


def task_work(*, application, node, user, act):
    task = open_task(application, node)
    if task is None:
        raise LookupError(f"{application} has no open task {node.name}")
    with GrantFlow.lock(task.process_id), transaction.atomic():
        task.refresh_from_db()
        activation = node.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(user)
        activation.start(None)
        result = act()
        activation.execute()
    return result
