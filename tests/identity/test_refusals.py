"""A provider's answer that is not what it must be is refused, and changes nothing: no one
is signed in, no account or link is made, and the audit trail has SIGN_IN_FAILED.

The tampered tokens come from a small intercepting proxy in front of the test provider's
token endpoint: it forwards the real exchange (code, PKCE verifier, client secret), then
replaces the ID token with one of the same claims but changed (issuer, audience, expiry,
nonce), signed with the provider's own key, or signed with another key."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from grants.identity import oidc
from grants.identity.accounts import personnummer_key
from grants.identity.models import Identity, SecurityEvent
from tests.oidc import ANNA_PERSONNUMMER, path_of, sign_in_at_provider

Kind = SecurityEvent.Kind


class TokenProxy:
    """Forwards POST /token to the provider; `tamper(claims)` changes the ID token's claims
    and `key` (when set) signs the result instead of the provider's key."""

    def __init__(self, provider):
        self.provider = provider
        self.tamper = None
        self.key = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name: self.headers[name] for name in ("Authorization", "Content-Type") if self.headers[name]}
                answer = requests.post(f"{proxy.provider.issuer}/token", data=body, headers=headers, timeout=10)
                payload = answer.json()
                if answer.ok and proxy.tamper is not None:
                    claims = jwt.decode(payload["id_token"], proxy.provider.key).claims
                    proxy.tamper(claims)
                    payload["id_token"] = proxy.provider.sign(claims, proxy.key)
                data = json.dumps(payload).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(oidc_settings, monkeypatch):
    """Our token endpoint is the proxy: discovery as the provider says, but token_endpoint changed."""
    proxy = TokenProxy(oidc_settings)
    client_for = oidc._client

    def through_proxy(name):
        client = client_for(name)
        client.load_server_metadata()["token_endpoint"] = proxy.url
        return client

    monkeypatch.setattr(oidc, "_client", through_proxy)
    yield proxy
    proxy.close()


@pytest.fixture
def anna_linked(anna):
    Identity.objects.create(user=anna, provider="eid", key=personnummer_key(ANNA_PERSONNUMMER), display="x")
    return anna


def callback_after_sign_in(client, account="anna"):
    started = client.post("/konto/e-legitimation/")
    return path_of(sign_in_at_provider(started["Location"], account))


def assert_refused_and_nothing_changed(client, response, reason_words):
    assert response.status_code == 400
    page = response.content.decode()
    assert "Inloggningen misslyckades" in page
    assert 'href="/konto/logga-in/"' in page  # a way back
    assert "_auth_user_id" not in client.session
    assert Identity.objects.count() == 1  # Anna's link only
    assert not SecurityEvent.objects.filter(kind=Kind.SIGN_IN).exists()
    failed = SecurityEvent.objects.get(kind=Kind.SIGN_IN_FAILED)
    assert failed.details["method"] == "eid"
    assert reason_words in failed.details["reason"], failed.details


def test_the_proxy_passes_a_true_token(client, proxy, anna_linked):
    """The control: through the proxy, untouched tokens sign in (the proxy itself is no refusal)."""
    proxy.tamper = lambda claims: None
    response = client.get(callback_after_sign_in(client))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(anna_linked.pk)


def test_a_wrong_issuer_is_refused(client, proxy, anna_linked):
    proxy.tamper = lambda claims: claims.update(iss="http://127.0.0.1:1/other-issuer")
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "iss")


def test_a_wrong_audience_is_refused(client, proxy, anna_linked):
    """Authlib alone would pass this one: azp still names our client; we check aud too."""
    proxy.tamper = lambda claims: claims.update(aud="someone-else", azp="eid")
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "aud")


def test_an_expired_token_is_refused(client, proxy, anna_linked):
    now = int(time.time())
    proxy.tamper = lambda claims: claims.update(iat=now - 7200, exp=now - 3600)
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "exp")


def test_a_bad_signature_is_refused(client, proxy, anna_linked):
    proxy.tamper = lambda claims: None
    proxy.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"}, private=True)
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "Signature")


def test_a_missing_nonce_is_refused(client, proxy, anna_linked):
    proxy.tamper = lambda claims: claims.pop("nonce")
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "nonce")


def test_another_nonce_is_refused(client, proxy, anna_linked):
    proxy.tamper = lambda claims: claims.update(nonce="an-earlier-one")
    assert_refused_and_nothing_changed(client, client.get(callback_after_sign_in(client)), "nonce")


def test_a_replayed_state_is_refused(client, oidc_settings, anna_linked, django_user_model):
    """The callback URL used twice (by the same browser, or by another that got hold of it)."""
    callback = callback_after_sign_in(client)
    assert client.get(callback).status_code == 302
    client.logout()
    SecurityEvent.objects.all().delete()
    assert_refused_and_nothing_changed(client, client.get(callback), "State")
    SecurityEvent.objects.all().delete()
    other = type(client)()
    response = other.get(callback)
    assert response.status_code == 400 and "_auth_user_id" not in other.session


def test_a_refusal_from_the_provider_is_a_page_not_an_error(client, oidc_settings, anna_linked):
    client.post("/konto/e-legitimation/")
    response = client.get("/konto/e-legitimation/tillbaka/?error=access_denied&error_description=Avbrutet")
    assert_refused_and_nothing_changed(client, response, "access_denied")


def test_a_provider_that_cannot_be_reached_is_a_page(client, settings, anna_linked):
    settings.OIDC_EID_ISSUER, settings.OIDC_EID_CLIENT_ID, settings.OIDC_EID_CLIENT_SECRET = (
        "http://127.0.0.1:1",
        "eid",
        "s",
    )
    response = client.post("/konto/e-legitimation/")
    assert response.status_code == 400
    assert "Inloggningen misslyckades" in response.content.decode()
    assert SecurityEvent.objects.get(kind=Kind.SIGN_IN_FAILED).details["reason"].startswith("discovery")
