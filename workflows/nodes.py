"""The staff task node of the grant flow, with the rules on who may take part in a case."""

from viewflow.workflow import flow

from grants.services.assess import has_conflict


def takes_no_part(user, application):
    """Staff who declared jäv in the case, or belong to the applicant, never get its tasks."""
    return has_conflict(application, user) or application.is_applicant(user)


class CaseView(flow.View):
    """A staff task on a case. Viewflow's permission check, plus the conflict-of-interest rule."""

    def can_assign(self, user, task):
        return super().can_assign(user, task) and not takes_no_part(user, task.coerced_process.application)

    def can_execute(self, user, task):
        return super().can_execute(user, task) and not takes_no_part(user, task.coerced_process.application)

