"""The test OpenID Connect provider (provider.mjs, panva's oidc-provider under node) and
how a test drives it: start it with a fresh signing key and the cast's accounts, sign in
at its development login page like a browser would (requests), and forge ID tokens with
its real key (or another) to see that we refuse them."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
PACKAGE = REPO / "var" / "npm" / "node_modules" / "oidc-provider"

PERSONNUMMER_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
# Test personal identity numbers (valid check digits, not real people's).
ANNA_PERSONNUMMER = "198503129283"
EVE_PERSONNUMMER = "198112289874"
ACCOUNTS = {
    "anna": {PERSONNUMMER_CLAIM: ANNA_PERSONNUMMER, "given_name": "Anna", "family_name": "Andersson"},
    "eve": {PERSONNUMMER_CLAIM: EVE_PERSONNUMMER, "given_name": "Eve", "family_name": "Ek"},
    "nonumber": {"given_name": "Nils", "family_name": "Nummerlös"},
    "olle": {
        "preferred_username": "olle.sso",
        "email": "olle@kommun.example",
        "given_name": "Olle",
        "family_name": "Ohlsson",
        "groups": ["grp-handlaggare"],
    },
    "nobody": {"preferred_username": "nobody", "email": "nobody@kommun.example", "groups": ["grp-other"]},
}
SECRETS = {"eid": "eid-secret-for-tests-only", "staff": "staff-secret-for-tests-only"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_or_skip() -> str:
    """node and the package, or a skip (a failure when CI=true: the tests must run there)."""
    node = shutil.which("node")
    if node and PACKAGE.exists():
        return node
    message = "node or oidc-provider is missing (run `make browser-deps`)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class TestProvider:
    issuer: str
    key: RSAKey

    def settings(self, settings, *, eid=True, staff=True):
        """Point the Django settings at this provider."""
        if eid:
            settings.OIDC_EID_ISSUER = self.issuer
            settings.OIDC_EID_CLIENT_ID = "eid"
            settings.OIDC_EID_CLIENT_SECRET = SECRETS["eid"]
            settings.OIDC_EID_SCOPES = "openid profile"
        if staff:
            settings.OIDC_STAFF_ISSUER = self.issuer
            settings.OIDC_STAFF_CLIENT_ID = "staff"
            settings.OIDC_STAFF_CLIENT_SECRET = SECRETS["staff"]
            settings.OIDC_STAFF_SCOPES = "openid profile email"

    def sign(self, claims, key=None):
        """An ID token with these claims, signed with the provider's key (or `key`)."""
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)


@contextmanager
def provider_running(base_urls):
    """The provider on a free port, with the eid and staff clients' redirect URIs at each
    of base_urls (e.g. http://testserver for Django's test client)."""
    node = node_or_skip()
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"}, private=True)
    port = _free_port()
    config = {
        "jwk": key.as_dict(private=True),
        "clients": [
            {
                "client_id": name,
                "client_secret": secret,
                "redirect_uris": [
                    f"{base.rstrip('/')}/konto/{'e-legitimation' if name == 'eid' else 'personal'}/tillbaka/"
                    for base in base_urls
                ],
            }
            for name, secret in SECRETS.items()
        ],
        "accounts": ACCOUNTS,
        "extra_claims": [PERSONNUMMER_CLAIM],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(config, file)
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [node, str(SCRIPT), str(port), file.name], cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"The test provider did not start: {log.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield TestProvider(issuer=issuer, key=key)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        os.unlink(file.name)


def _form(response):
    """The one form of the provider's development page: its action and hidden fields."""
    import re

    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', response.text).group(1))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text))
    return urljoin(response.url, action), hidden


def sign_in_at_provider(authorize_url, account, *, until="http://testserver"):
    """Follow the provider's pages as a browser would: type the account at its login page,
    give consent, and return the URL it sends the browser back to (ours, at `until`)."""
    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _step in range(12):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if url.startswith(until):
                return url
            continue
        response.url = url
        action, hidden = _form(response)
        data = {**hidden, "login": account, "password": "any"} if 'name="login"' in response.text else hidden
        url, method = action, "POST"
    raise AssertionError("The provider never sent the browser back")


def path_of(url):
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
