"""Logs (config/logging.py): one JSON object a line, with the request's id and the acting
user's id, and a line for every state change of a case."""

import json
import logging

import pytest
from django.urls import reverse

from config.logging import JsonFormatter, RequestContextFilter
from tests import factories

pytestmark = pytest.mark.django_db


def json_lines(records):
    formatter, context = JsonFormatter(), RequestContextFilter()
    lines = []
    for record in records:
        context.filter(record)
        lines.append(json.loads(formatter.format(record)))
    return lines


def test_a_request_answers_with_its_id_and_keeps_a_sane_one_it_was_given(client):
    made = client.get("/bidrag/")["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/bidrag/", HTTP_X_REQUEST_ID="lb-7f3a9c21")["X-Request-ID"] == "lb-7f3a9c21"
    # Anything else (a header injection, a novel) is replaced.
    for odd in ("x", "a b c d e f g h", "<script>alert(1)</script>", "y" * 200):
        assert client.get("/bidrag/", HTTP_X_REQUEST_ID=odd)["X-Request-ID"] != odd


def test_a_submission_logs_its_state_change_with_request_and_user(
    client, anna, fisksatra, inclusion_call, caplog, django_capture_on_commit_callbacks
):
    draft = factories.draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    with caplog.at_level(logging.INFO, logger="grants.events"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[draft.pk]), HTTP_X_REQUEST_ID="req-submit-0001")
    assert response.status_code == 302
    events = [line for line in json_lines(caplog.records) if line["message"] == "case_event"]
    assert events, caplog.text
    submitted = [e for e in events if e["to_state"] == "submitted"]
    assert len(submitted) == 1
    line = submitted[0]
    assert line["request_id"] == "req-submit-0001" and line["user_id"] == anna.pk
    assert line["case_id"] == draft.pk and line["case_number"].startswith("KFN ")
    assert line["level"] == "INFO" and line["logger"] == "grants.events" and line["time"].endswith("+00:00")


def test_an_error_is_one_json_line_with_its_traceback():
    try:
        raise ValueError("trasig")
    except ValueError:
        record = logging.getLogger("grants").makeRecord(
            "grants", logging.ERROR, __file__, 1, "det gick fel: %s", ("x",), exc_info=__import__("sys").exc_info()
        )
    (line,) = json_lines([record])
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert line["message"] == "det gick fel: x" and "ValueError: trasig" in line["exception"]
    assert line["request_id"] is None and line["user_id"] is None
