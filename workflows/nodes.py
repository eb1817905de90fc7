"""The staff task node of the grant flow: a case's tasks go only to staff who may take part in it."""

from viewflow.workflow import flow

from grants import access


class CaseView(flow.View):
    """A staff task on a case. Viewflow's permission check, plus the conflict-of-interest rule."""

    def can_assign(self, user, task):
        return super().can_assign(user, task) and bool(access.may_take_part(user, task.coerced_process.application))

    def can_execute(self, user, task):
        return super().can_execute(user, task) and bool(access.may_take_part(user, task.coerced_process.application))

