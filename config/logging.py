"""Logs as one JSON object a line (production) with the request's id and the acting user's id.

RequestIdMiddleware, first in MIDDLEWARE, takes the request id from the X-Request-ID header
a proxy or load balancer set (when it looks like one), or makes one, answers with it, and
keeps it with the signed-in user's id for every log record made while the request is served.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="")
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# The attributes every LogRecord has; anything else was passed with extra={…} and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(self.header, "")
        rid = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        rid_token = request_id.set(rid)
        uid_token = user_id.set(None)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(rid_token)
            user_id.reset(uid_token)
        response[self.header] = rid
        return response


class RequestContextFilter(logging.Filter):
    """Adds request_id and user_id to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a response after the middleware is done: its record has the request.
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.get() or getattr(getattr(record, "request", None), "request_id", "")
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id.get() or _request_user_id(record)
        return True


def _request_user_id(record: logging.LogRecord) -> int | None:
    request = getattr(record, "request", None)
    user = getattr(request, "user", None)
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


def note_user(pk: int | None) -> None:
    """The acting user, once authentication has found them (config/logging.UserIdMiddleware)."""
    user_id.set(pk)


class UserIdMiddleware:
    """After AuthenticationMiddleware: the signed-in user's id goes into the request's logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            note_user(user.pk)
        return self.get_response(request)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and key != "request":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(fmt: str) -> dict[str, Any]:
    """settings.LOGGING: JSON lines or plain text, on stderr, with the request's context."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.logging.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s] %(message)s"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "grants": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "workflows": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "documents": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "config": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
