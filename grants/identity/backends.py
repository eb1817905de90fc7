"""The authentication backends of the two OpenID Connect sign-ins. Django keeps the backend
of a session (grants/identity/session.py reads it to tell how someone signed in); these
take no passwords, so that a password can never be tried against them."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class _NoPasswords(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        """Never: the views of grants.identity sign people in with login() after the provider's answer."""
        return None


class EidBackend(_NoPasswords):
    """Signed in with e-legitimation (the applicant's personal identity number)."""


class StaffSsoBackend(_NoPasswords):
    """Signed in through the municipality's identity provider (single sign-on for staff)."""
