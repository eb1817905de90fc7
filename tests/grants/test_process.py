"""grants.process, the port through which every lifecycle action takes its step in the
flow: without a flow plugged in, an action refuses loudly instead of changing a case that
would then reach no one."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from grants import process
from grants.models import Application
from grants.services import apply

from .test_bad_input import make_draft

pytestmark = pytest.mark.django_db


def test_without_a_runner_an_action_refuses_and_changes_nothing(monkeypatch, anna, fisksatra, inclusion_call):
    draft = make_draft(inclusion_call, fisksatra, anna)
    monkeypatch.setattr(process, "_runner", None)
    with pytest.raises(ImproperlyConfigured):
        apply.application_submit(application=draft, by=anna)
    draft = Application.objects.get(pk=draft.pk)
    assert (draft.status, draft.case_number) == ("draft", "")


def test_the_workflows_app_plugs_the_grant_flow_in():
    from workflows.process import GrantFlowRunner

    assert isinstance(process._registered(), GrantFlowRunner)
