"""The second factor is required in production and not in the embedded default, unless
STAFF_REQUIRE_SECOND_FACTOR says otherwise; the session limits must be positive."""

import pytest

from tests.config import test_settings
from tests.config.test_settings import PRODUCTION, assert_refused, start

SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.STAFF_REQUIRE_SECOND_FACTOR, settings.STAFF_SESSION_IDLE_MINUTES, settings.STAFF_SESSION_MAX_HOURS)"
)


@pytest.fixture(autouse=True)
def show_ours(monkeypatch):
    monkeypatch.setattr(test_settings, "SHOW", SHOW)


@pytest.mark.parametrize(
    "variables, shown",
    [
        ({}, "False 30 10"),
        (PRODUCTION, "True 30 10"),
        ({**PRODUCTION, "STAFF_REQUIRE_SECOND_FACTOR": "false"}, "False 30 10"),
        ({"STAFF_REQUIRE_SECOND_FACTOR": "true", "STAFF_SESSION_IDLE_MINUTES": "15"}, "True 15 10"),
        ({"STAFF_SESSION_MAX_HOURS": "8"}, "False 30 8"),
    ],
)
def test_defaults_and_overrides(tmp_path, variables, shown):
    result = start(tmp_path, **variables)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == shown


@pytest.mark.parametrize("name", ["STAFF_SESSION_IDLE_MINUTES", "STAFF_SESSION_MAX_HOURS"])
def test_a_limit_of_zero_refuses_to_start(tmp_path, name):
    assert_refused(start(tmp_path, **{name: "0"}), name, "at least 1")
