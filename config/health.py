"""Health checks for a load balancer or an orchestrator.

* /health/live: the process answers (no database, nothing else).
* /health/ready: the database, the file store and the cache answer, and the oldest
  background task that is waiting has waited less than HEALTH_TASK_MAX_AGE_SECONDS (a
  stopped worker shows here before an applicant misses a receipt).

They are answered by a middleware near the top of MIDDLEWARE, before the host check,
sessions, the HTTPS redirect and the sign-in rules: a probe often comes over plain HTTP,
by the server's own address. The answer names only the checks that failed, never why
(no exception texts, host names or versions reach the public).
"""

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Case, F, Min, When
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

log = logging.getLogger("config.health")

LIVE = "/health/live"
READY = "/health/ready"


def _database_and_tasks() -> list[str]:
    """One query: the oldest waiting task's start of waiting (which also proves the database)."""
    now = timezone.now()
    try:
        waiting_since = DBTaskResult.objects.ready().aggregate(
            since=Min(
                Case(
                    When(run_after__lte=now, then=Greatest(F("enqueued_at"), F("run_after"))),
                    default=F("enqueued_at"),
                )
            )
        )["since"]
    except Exception:
        log.exception("health: the database does not answer")
        return ["database", "tasks"]
    if waiting_since and now - waiting_since > timedelta(seconds=settings.HEALTH_TASK_MAX_AGE_SECONDS):
        log.warning("health: a background task has waited since %s", waiting_since.isoformat())
        return ["tasks"]
    return []


def _file_store() -> list[str]:
    name = f"health/{uuid.uuid4().hex}.txt"
    try:
        stored = default_storage.save(name, ContentFile(b"ok"))
        try:
            with default_storage.open(stored) as file:
                ok = file.read() == b"ok"
        finally:
            default_storage.delete(stored)
    except Exception:
        log.exception("health: the file store does not answer")
        return ["files"]
    return [] if ok else ["files"]


def _cache() -> list[str]:
    """add, not set: a shared cache that is down treats reads and sets as misses, but add raises."""
    key = f"health:{uuid.uuid4().hex}"
    try:
        ok = cache.add(key, "ok", timeout=30) and cache.get(key) == "ok"
        cache.delete(key)
    except Exception:
        log.exception("health: the cache does not answer")
        return ["cache"]
    return [] if ok else ["cache"]


def ready_failures() -> list[str]:
    return [*_database_and_tasks(), *_file_store(), *_cache()]


def _answer(failed: list[str]) -> JsonResponse:
    body: dict[str, object] = {"status": "fail", "failed": failed} if failed else {"status": "ok"}
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path == LIVE:
            return _answer([])
        if path == READY:
            return _answer(ready_failures())
        return self.get_response(request)
