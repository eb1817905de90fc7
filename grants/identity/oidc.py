"""The relying party's side of OpenID Connect, for both sign-ins (e-legitimation, "eid",
and the municipality's single sign-on, "staff"): Authlib's Django client does the
authorization code flow with PKCE (S256), state and nonce, and validates the ID token
(signature from the provider's JWKS, issuer, expiry, nonce). We add what it leaves open:
the audience must be our client id (Authlib only checks azp), the discovery document must
name the issuer we were configured with, and an answer without an ID token is a failure."""

from dataclasses import dataclass
from typing import Any

from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse

EID = "eid"
STAFF = "staff"

# Seconds of clock difference between us and the provider tolerated on exp and iat.
LEEWAY = 60


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str


class SignInFailed(Exception):
    """The provider's answer was refused; reason is for the audit trail, not for the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def provider(name: str) -> Provider | None:
    """The provider's settings, or None when this sign-in is not configured (turned off)."""
    prefix = {EID: "OIDC_EID", STAFF: "OIDC_STAFF"}[name]
    issuer = getattr(settings, f"{prefix}_ISSUER", "")
    if not issuer:
        return None
    return Provider(
        issuer=issuer.rstrip("/"),
        client_id=getattr(settings, f"{prefix}_CLIENT_ID"),
        client_secret=getattr(settings, f"{prefix}_CLIENT_SECRET"),
        scopes=getattr(settings, f"{prefix}_SCOPES"),
    )


def enabled(name: str) -> bool:
    return provider(name) is not None


def _client(name: str) -> Any:
    """A client made from the settings of now (read on every request, so a test or a changed
    configuration needs no restart); discovery is fetched when first needed."""
    config = provider(name)
    if config is None:
        raise SignInFailed("not_configured")
    oauth = OAuth()
    oauth.register(
        name=f"oidc_{name}",
        client_id=config.client_id,
        client_secret=config.client_secret,
        server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": config.scopes, "code_challenge_method": "S256", "default_timeout": 10},
    )
    return oauth.create_client(f"oidc_{name}")


def authorize_redirect(request: HttpRequest, name: str, callback_url: str) -> HttpResponse:
    """Send the browser to the provider; state, nonce and the PKCE verifier stay in the session."""
    try:
        response: HttpResponse = _client(name).authorize_redirect(request, callback_url)
    except SignInFailed:
        raise
    except Exception as exc:  # the provider cannot be reached or its discovery is broken
        raise SignInFailed(f"discovery: {type(exc).__name__}") from exc
    return response


def callback_claims(request: HttpRequest, name: str) -> dict[str, Any]:
    """The validated ID token's claims from the provider's answer at our callback, or
    SignInFailed. The state is used once: the same callback URL a second time fails."""
    config = provider(name)
    if config is None:
        raise SignInFailed("not_configured")
    client = _client(name)
    try:
        metadata = client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != config.issuer:
            raise SignInFailed("discovery names another issuer")
        token = client.authorize_access_token(
            request,
            leeway=LEEWAY,
            claims_options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": config.client_id},
                "exp": {"essential": True},
                "nonce": {"essential": True},
            },
        )
    except SignInFailed:
        raise
    except Exception as exc:  # Authlib's and joserfc's errors, and the provider's own
        said = " ".join(str(part) for part in (getattr(exc, "error", ""), getattr(exc, "description", "")) if part)
        raise SignInFailed(f"{type(exc).__name__}: {said or exc}"[:200]) from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed("no ID token")
    return dict(claims)
