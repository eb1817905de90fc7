"""How the person behind a request signed in, as the session knows it: by password, by
e-legitimation or by the municipality's single sign-on. Django keeps the backend that
authenticated the session; each way of signing in has its own backend."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest

PASSWORD = "password"
EID = "eid"
SSO = "sso"

# The backends of the two OpenID Connect sign-ins (grants/identity/backends.py).
EID_BACKEND = "grants.identity.backends.EidBackend"
SSO_BACKEND = "grants.identity.backends.StaffSsoBackend"


def signed_in_with(request: HttpRequest) -> str:
    """PASSWORD, EID or SSO: how this session's person signed in ("" when nobody has)."""
    if not request.user.is_authenticated:
        return ""
    backend = request.session.get(BACKEND_SESSION_KEY, "")
    if backend == EID_BACKEND:
        return EID
    if backend == SSO_BACKEND:
        return SSO
    return PASSWORD
