"""The audit rows of password sign-ins, failed sign-ins and sign-outs, from Django's own
signals, so that the portal's login, the admin's and any later one are recorded alike.
The e-legitimation and single sign-on views record their own sign-ins (with what the
provider said), so a session signed in by their backends is skipped here."""

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest

from . import audit
from .session import EID_BACKEND, SSO_BACKEND

# Failed sign-ins name the account tried by what was typed in one of these fields (never the password).
IDENTIFIER_FIELDS = ("username", "email")


def signed_in(sender: Any, *, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    backend = (request.session.get(BACKEND_SESSION_KEY, "") if request else "") or getattr(user, "backend", "")
    if backend in (EID_BACKEND, SSO_BACKEND):
        return
    audit.record(audit.Kind.SIGN_IN, request=request, user=user, details={"method": "password"})


def sign_in_failed(
    sender: Any, *, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked anything that looks like a password; the identifier is all we keep.
    identifier = next((str(credentials[field]) for field in IDENTIFIER_FIELDS if credentials.get(field)), "")
    audit.record(audit.Kind.SIGN_IN_FAILED, request=request, identifier=identifier.strip())


def signed_out(sender: Any, *, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(audit.Kind.SIGN_OUT, request=request, user=user)
