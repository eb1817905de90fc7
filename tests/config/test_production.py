"""The README's production commands, run for real: `check --deploy`, `collectstatic` and
gunicorn with config/gunicorn.py, in production mode on PostgreSQL. The site must come with
its CSS (WhiteNoise, hashed names, a year's cache), its security headers and its health checks.

Reproduces issue 16's observation: in production /static/admin/css/base.css answered 404."""

import json
import re
import secrets
import subprocess
import sys

import pytest
import requests
from django.db import connection

from tests import factories
from tests.servers import BASE_DIR, database_env, gunicorn, log_tail

# real_hashers: the server checks passwords with the configured hashers, not the suite's MD5.
pytestmark = [pytest.mark.postgres, pytest.mark.real_hashers, pytest.mark.django_db(transaction=True)]


def production_env(tmp_path, **extra):
    return database_env(
        GRANTS_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        IDENTITY_HASH_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_HOST="127.0.0.1",
        PAYER_NAME="Nacka kommun",
        PAYER_ORGNR="212000-0167",
        PAYER_BANKGIRO="5402-9681",
        GRANTS_VAR_DIR=str(tmp_path / "var"),
        **extra,
    )


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_production_server_serves_a_complete_hardened_site(tmp_path, anna):
    if connection.vendor != "postgresql":
        pytest.skip("production runs on PostgreSQL")
    factories.association(members=[anna])
    env = production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")

    deploy = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode == 0 and "no issues" in deploy.stdout, deploy.stdout + deploy.stderr
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr[-3000:]

    https = {"X-Forwarded-Proto": "https"}
    with gunicorn(env, workers=2, log_dir=tmp_path, ready_path="/health/live") as base:
        # Plain HTTP is sent to HTTPS; the health checks answer over HTTP (a load balancer's probe).
        plain = requests.get(base + "/bidrag/", allow_redirects=False, timeout=10)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://127.0.0.1")
        ready = requests.get(base + "/health/ready", timeout=10)
        assert ready.status_code == 200 and ready.json() == {"status": "ok"}, log_tail(tmp_path / "web.log")

        # The login page, as through the TLS proxy: its CSS and scripts are served, hashed and cached.
        page = requests.get(base + "/konto/logga-in/", headers=https, timeout=10)
        assert page.status_code == 200, log_tail(tmp_path / "web.log")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
        assert any(a.endswith(".css") for a in assets), page.text[:2000]
        for asset in assets:
            assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg|png|ico|woff2?)$", asset), asset
            answer = requests.get(base + asset, headers={**https, "Accept-Encoding": "gzip, br"}, timeout=10)
            assert answer.status_code == 200, asset
            assert (
                "max-age=315360000" in answer.headers["Cache-Control"]
                and "immutable" in answer.headers["Cache-Control"]
            )
            if asset.endswith(".css"):
                assert answer.headers["Content-Type"].startswith("text/css")
                assert answer.headers.get("Content-Encoding") in {"gzip", "br"}
        # The observation: the admin's own CSS.
        admin_css = requests.get(base + "/static/admin/css/base.css", headers=https, timeout=10)
        assert admin_css.status_code == 200 and admin_css.headers["Content-Type"].startswith("text/css")

        # The security headers, and cookies that stay on HTTPS and away from scripts.
        headers = page.headers
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
        cookie = headers["Set-Cookie"]
        assert "csrftoken=" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie

        # Signing in over HTTPS: the session cookie is Secure, HttpOnly, SameSite.
        session = requests.Session()
        session.headers.update(https)
        login_page = session.get(base + "/konto/logga-in/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
        # The cookie is Secure: requests keeps it from plain http://, so it is sent by hand
        # (the proxy in front would have received it over HTTPS).
        answer = session.post(
            base + "/konto/logga-in/",
            data={"csrfmiddlewaretoken": token, "username": "anna", "password": "demo"},
            headers={
                "Referer": base.replace("http://", "https://") + "/konto/logga-in/",
                "Cookie": f"csrftoken={session.cookies['csrftoken']}",
            },
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text[:2000]
        session_cookie = next(c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith("sessionid="))
        for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
            assert flag in session_cookie, session_cookie

    # The logs: JSON lines with the request's id; the signed-in request's line has the user's id.
    log = (tmp_path / "web.log").read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    signed_in = [line for line in lines if line["message"] == "security_event" and line["kind"] == "sign_in"]
    assert len(signed_in) == 1 and signed_in[0]["user_id"] == anna.pk, log[-3000:]
    assert re.fullmatch(r"[0-9a-f]{32}", signed_in[0]["request_id"])
    # gunicorn's access line for that request carries the same id.
    assert re.search(rf'"POST /konto/logga-in/ HTTP/1.1" 302 .* rid={signed_in[0]["request_id"]}', log), log[-3000:]
