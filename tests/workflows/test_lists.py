"""The officer's queue: the case, not the task id, and a filter by task."""

import pytest
from viewflow.workflow.fields import get_task_ref

from grants.services import assess
from workflows.flows import GrantFlow

from ..test_query_counts import _submitted_cases

pytestmark = pytest.mark.django_db


def test_queue_shows_cases_and_filters_by_task(client, anna, olle, fisksatra, inclusion_call):
    first, second = _submitted_cases(2, inclusion_call, fisksatra, anna)
    assess.completeness_confirm(application=first, by=olle)
    client.force_login(olle)
    page = client.get("/staff/cases/grant/queue/").content.decode()
    assert first.case_number in page and second.case_number in page and "Fisksätra IF" in page
    assert "Bedöm ansökan" in page  # offered as a filter choice
    filtered = client.get("/staff/cases/grant/queue/", {"flow_task": get_task_ref(GrantFlow.assess)}).content.decode()
    assert first.case_number in filtered and second.case_number not in filtered
