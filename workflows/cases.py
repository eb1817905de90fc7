"""The applicant's steps in the flow, for the portal's views: submit, answer a
completion request, send the follow-up report. Each runs its Handle node, whose
callback calls the grants service inside the flow's lock."""

from django.core.exceptions import ValidationError
from django.db import transaction
from viewflow.workflow import STATUS

from .flows import GrantFlow
from .models import GrantProcess


def _open_task(application, node, missing):
    process = GrantProcess.objects.filter(application=application).first()
    task = process and process.task_set.filter(flow_task=node, status=STATUS.NEW).first()
    if not task:
        raise ValidationError(missing)
    return task


def case_submit(*, application, by):
    with transaction.atomic():
        process = GrantFlow.start.run(application=application, by=by)
    return process.application


def case_answer_completion(*, application, by, answer):
    task = _open_task(application, GrantFlow.await_completion, "Det finns ingen öppen kompletteringsbegäran i ärendet.")
    return GrantFlow.await_completion.run(task, by=by, answer=answer)


def case_submit_report(*, application, by, **report):
    task = _open_task(application, GrantFlow.await_report, "Återrapporten kan inte lämnas in nu.")
    return GrantFlow.await_report.run(task, by=by, **report)


def active_task_names(application):
    """The names of the case's open tasks (used to check that flow and state agree)."""
    return sorted(
        str(task.flow_task.name)
        for task in GrantFlow.task_class.objects.filter(process__grantprocess__application=application)
        .exclude(status__in=[STATUS.DONE, STATUS.CANCELED])
    )
