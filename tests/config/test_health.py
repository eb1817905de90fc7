"""/health/live and /health/ready (config/health.py): what a load balancer sees."""

import json
from datetime import timedelta

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from config import health

pytestmark = pytest.mark.django_db


def test_live_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_ready_checks_database_files_cache_and_tasks_in_one_query(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/ready")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_ready_fails_when_a_task_has_waited_too_long(client, settings):
    settings.HEALTH_TASK_MAX_AGE_SECONDS = 60
    task = DBTaskResult.objects.create(
        task_path="grants.notifications.nothing",
        args_kwargs={"args": [], "kwargs": {}},
        priority=0,
        queue_name="default",
        backend_name="default",
        run_after=timezone.now() - timedelta(minutes=5),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.json() == {"status": "fail", "failed": ["tasks"]}

    # Young enough: ready again.
    settings.HEALTH_TASK_MAX_AGE_SECONDS = 600
    assert client.get("/health/ready").status_code == 200


def test_ready_names_a_broken_file_store_and_cache_but_not_why(client, settings, tmp_path, monkeypatch):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": not_a_folder}},
    }
    # A Redis that is not there (a closed port): the add raises.
    broken = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    monkeypatch.setattr(health, "cache", broken)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "fail", "failed": ["files", "cache"]}
    assert b"Error" not in response.content and b"127.0.0.1" not in response.content


def test_health_answers_any_host_over_http_without_redirect_or_session(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["bidrag.kommun.example"]
    response = client.get("/health/ready", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    # Every other page is redirected to HTTPS, and a foreign host is refused.
    assert client.get("/bidrag/", HTTP_HOST="bidrag.kommun.example").status_code == 301
    assert client.get("/bidrag/", HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_only_the_two_paths_are_health_checks(client):
    assert client.get("/health/readyx").status_code == 404
    assert client.get("/health/").status_code == 404
