"""The Content-Security-Policy every page is sent with (django-csp, settings.CONTENT_SECURITY_POLICY)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def origin(url: str) -> str | None:
    """The origin (scheme://host[:port]) of an absolute URL, or None for an empty or relative one."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_action(*issuers: str) -> list[str]:
    """'self' and the origin of each configured OIDC provider: the sign-in forms and redirects go there."""
    sources = [SELF]
    for issuer in issuers:
        source = origin(issuer)
        if source and source not in sources:
            sources.append(source)
    return sources


def policy(*, issuers: tuple[str, ...] = (), report_uri: str = "") -> dict[str, Any]:
    """The django-csp 4 configuration: no inline scripts, no eval, nothing from other hosts."""
    directives: dict[str, Any] = {
        "default-src": [SELF],
        "script-src": [SELF],
        # Viewflow's Material components and its templates (and a few of ours, e.g. the
        # progress bars' widths) set style="…" attributes, which a nonce cannot cover:
        # inline STYLES stay allowed; scripts never are.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": form_action(*issuers),
        "base-uri": [SELF],
        "object-src": [NONE],
    }
    if report_uri:
        directives["report-uri"] = report_uri
    return {"DIRECTIVES": directives}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, with form-action read from the OIDC settings at each response,
    so an issuer changed after start (tests point it at their own provider) is still allowed."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.replace is None:
            issuers = (settings.OIDC_EID_ISSUER, settings.OIDC_STAFF_ISSUER)
            parts.replace = {"form-action": form_action(*issuers)}
        return parts
