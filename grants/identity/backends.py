"""The backends of the two OpenID Connect sign-ins, as grants.identity.session names them.
Placeholders until the sign-ins themselves are built: they authenticate nobody, but a
session signed in through them (tests use force_login with the backend) says how."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class EidBackend(ModelBackend):
    """E-legitimation for applicants."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        return None


class StaffSsoBackend(ModelBackend):
    """The municipality's single sign-on for staff."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        return None
