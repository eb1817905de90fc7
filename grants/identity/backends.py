"""The backends of the two OpenID Connect sign-ins, as grants.identity.session names them.
Placeholders until the sign-ins themselves are built: they authenticate nobody, but a
session signed in through them (tests use force_login with the backend) says how."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class EidBackend(ModelBackend):
    """E-legitimation for applicants."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> AbstractBaseUser | None:
        return None


class StaffSsoBackend(ModelBackend):
    """The municipality's single sign-on for staff."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> AbstractBaseUser | None:
        return None
