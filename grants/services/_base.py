"""What every service shares: locking, transitions with permission checks, the audit row, the Document row of a
stored file. The file store itself is grants.files, re-exported here for the services."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from ..events import in_swedish
from ..files import (
    STORAGE_ERRORS,
    STORE_DOWN,
    StoreUnavailable,
    Upload,
    discard_file,
    discarded_on_failure,
    read_stored,
    read_verified,
    store_file,
)
from ..models import Application, CaseEvent, Document

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    from ..files import Stored

event_log = logging.getLogger("grants.events")

__all__ = [
    "STORAGE_ERRORS",
    "STORE_DOWN",
    "StoreUnavailable",
    "Upload",
    "discard_file",
    "discarded_on_failure",
    "document_create",
    "lock_application",
    "read_stored",
    "read_verified",
    "record_event",
    "store_file",
    "transition",
]


class WithStatus(Protocol):
    """A row with an FSM status, as transition() names it in a refusal."""

    def get_status_display(self) -> str: ...


def lock_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update()
        .select_related("call__programme__committee", "organisation")
        .get(pk=application.pk)
    )


class _Writes:
    """An execute wrapper that notes whether a row was written."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(
        self,
        execute: Callable[[str, Any, bool, dict[str, Any]], Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if not self.seen and sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.seen = True
        return execute(sql, params, many, context)


@contextmanager
def service_transaction() -> Iterator[None]:
    """A service's transaction. Called on its own it is one. Inside another (the flow's lock
    around a step) it joins that one instead of opening a savepoint, which costs two round
    trips and buys nothing when the service refuses, as ours do, before it writes: the staff
    task view then shows the refusal and its transaction goes on as if the service had not
    been called. Should anything fail after a write, the caller's transaction is marked for
    rollback, as a failed block without a savepoint is, so that half a step never commits."""
    if not connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    writes, callbacks = _Writes(), len(connection.run_on_commit)
    with connection.execute_wrapper(writes):
        try:
            yield
        except BaseException:
            if writes.seen or len(connection.run_on_commit) > callbacks:
                transaction.set_rollback(True)
            raise


def transition(
    obj: WithStatus,
    name: str,
    *,
    by: User | None,
    what: StrOrPromise,
    args: Sequence[object] = (),
    kwargs: Mapping[str, object] | None = None,
) -> Any:
    """Run the transition `name` on obj for the acting user, or refuse in the language of the
    request (Swedish by default: an applicant who chose English reads the refusal in English).

    `what` completes the sentence "det går inte att …" and is marked for translation, e.g.
    _("attestera utbetalningen"); the model's `status_subject` (lazy) names what has the status.
    """
    bound = getattr(obj, name)
    if not bound.can_proceed():
        raise ValidationError(
            _("Det går inte att %(what)s nu: %(subject)s har status ”%(status)s”.")
            % {
                "what": what,
                "subject": getattr(obj, "status_subject", None) or _("ärendet"),
                "status": obj.get_status_display(),
            }
        )
    if not bound.has_perm(by):
        raise PermissionDenied(_("Du har inte behörighet att %(what)s i det här ärendet.") % {"what": what})
    return bound(*args, **(kwargs or {}))


def record_event(
    application: Application,
    *,
    by: User | None,
    action: StrOrPromise,
    from_state: str = "",
    to_state: str = "",
    note: StrOrPromise = "",
) -> CaseEvent:
    """Write the case's history row. It is kept in Swedish whatever the request's language: a
    lazy action or note (built with format_lazy from a choice's label) is written in Swedish.
    The portal shows the action translated (CaseEvent.label, grants.events). Every event is
    also logged ("case_event", with the acting user's id), so the logs show each state change
    beside the request that made it."""
    actor = by if by and by.is_authenticated else None
    event = CaseEvent.objects.create(
        application=application,
        actor=actor,
        action=in_swedish(action),
        from_state=from_state,
        to_state=to_state,
        note=in_swedish(note),
    )
    event_log.info(
        "case_event",
        extra={
            "case_id": application.pk,
            "case_number": application.case_number or None,
            "action": event.action,
            "from_state": from_state or None,
            "to_state": to_state or None,
            "user_id": actor.pk if actor else None,
        },
    )
    return event


def document_create(
    *,
    application: Application,
    kind: str,
    upload: Upload,
    stored: Stored,
    by: User | None,
    version: int = 1,
    attachment_key: str = "",
) -> Document:
    """The Document row for an upload that store_file() has stored."""
    key, digest = stored
    return Document.objects.create(
        application=application,
        kind=kind,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=digest,
        storage_key=key,
        author=by,
        version=version,
        attachment_key=attachment_key,
    )
