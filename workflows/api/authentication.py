"""`Authorization: Bearer <key>`: a key of grants.identity.tokens, as its integration's account."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from grants.identity.tokens import token_for_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Skicka nyckeln som Authorization: Bearer <nyckel>."))
        token = token_for_key(header[1])
        if token is None or not token.account.is_active:
            raise exceptions.AuthenticationFailed(_("Nyckeln är okänd, återkallad eller har gått ut."))
        return token.account, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "workflows.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "En nyckel per integration (manage.py api_token_create).",
        }
