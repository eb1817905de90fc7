"""Writing the audit trail: every part of the product that signs someone in, changes a role,
a membership or an association's verification calls record() with what happened."""

import logging
from typing import Any

from django.http import HttpRequest

from .models import SecurityEvent

Kind = SecurityEvent.Kind
log = logging.getLogger("grants.identity.audit")


def request_origin(request: HttpRequest | None) -> dict[str, Any]:
    """Where a request came from, as SecurityEvent's address and user_agent: the visitor's
    address as the rate limits see it (behind a proxy, the header it names)."""
    if request is None:
        return {"address": None, "user_agent": ""}
    from config.ratelimit import client_ip

    try:
        address: str | None = client_ip(request)
    except Exception:  # no REMOTE_ADDR (a test client without one): record what we know
        address = None
    return {"address": address or None, "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]}


def record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    actor: Any = None,
    identifier: str = "",
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Add one row to the audit trail. user: the person it is about; actor: who did it, when
    not the person themself; identifier: what was typed at a failed sign-in."""
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user if getattr(user, "pk", None) else None,
        actor=actor if getattr(actor, "pk", None) else None,
        identifier=identifier[:254],
        details=details or {},
        **request_origin(request),
    )
    # The same in the logs, for the municipality's log collection (never what was typed).
    log.info(
        "security_event",
        extra={
            "kind": kind,
            "subject_id": event.user_id,
            "user_id": event.actor_id or event.user_id,
            "address": event.address,
        },
    )
    return event
