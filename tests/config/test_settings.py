"""Settings fail loudly: in production every setting that matters must be given, and a
malformed value stops start-up with ImproperlyConfigured naming the variable. The
embedded default needs no variables at all."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "DEBUG",
    "MEDIA_ROOT",
    "CSRF_TRUSTED_ORIGINS",
    "DEFAULT_FROM_EMAIL",
)
SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.GRANTS_ENV, settings.DATABASES['default']['ENGINE'], settings.DEBUG, settings.EMAIL_BACKEND)"
)
PRODUCTION = {
    "GRANTS_ENV": "production",
    "SECRET_KEY": "k" * 50,
    "DATABASE_URL": "postgres://grants@db.kommun.example:5432/grants",
    "ALLOWED_HOSTS": "bidrag.kommun.example",
    "EMAIL_HOST": "smtp.kommun.example",
    "PAYER_NAME": "Nacka kommun",
    "PAYER_ORGNR": "212000-0167",
    "PAYER_BANKGIRO": "5402-9681",
    "IDENTITY_HASH_KEY": "h" * 40,
}


def start(tmp_path, **variables):
    """Load the settings in a fresh interpreter with only the given variables set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in OURS
        and not key.startswith(("GRANTS_", "S3_", "EMAIL_", "PAYER_", "ACCOUNTING_", "OIDC_", "IDENTITY_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings", GRANTS_VAR_DIR=str(tmp_path / "var"))
    env.update({key: value for key, value in variables.items() if value is not None})
    return subprocess.run([sys.executable, "-c", SHOW], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def assert_refused(result, *words):
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in last, last


def test_the_embedded_default_starts_without_any_variables(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        "embedded",
        "django.db.backends.sqlite3",
        "True",
        "django.core.mail.backends.console.EmailBackend",
    ]
    assert (tmp_path / "var").is_dir()


def test_a_complete_production_configuration_starts(tmp_path):
    result = start(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        "production",
        "django.db.backends.postgresql",
        "False",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "EMAIL_HOST", "IDENTITY_HASH_KEY"])
def test_production_without_a_required_variable_refuses_to_start_and_names_it(tmp_path, missing):
    result = start(tmp_path, **{**PRODUCTION, missing: None})
    assert_refused(result, missing)


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("DEBUG", "maybe", ("DEBUG", "true or false", "'maybe'")),
        ("GRANTS_STORAGE", "ftp", ("GRANTS_STORAGE", "'local' or 's3'", "'ftp'")),
        ("GRANTS_ENV", "staging", ("GRANTS_ENV", "'staging'")),
        ("GRANTS_UPLOAD_MAX_MB", "ten", ("GRANTS_UPLOAD_MAX_MB", "integer", "'ten'")),
        ("DATABASE_URL", "mongodb://db/grants", ("DATABASE_URL cannot be parsed",)),
        ("OIDC_EID_ISSUER", "https://eid.kommun.example", ("OIDC_EID_CLIENT_ID", "OIDC_EID_CLIENT_SECRET")),
        ("OIDC_STAFF_CLIENT_ID", "bidrag", ("OIDC_STAFF_ISSUER",)),
    ],
)
def test_a_malformed_value_refuses_to_start_and_says_what_is_wrong(tmp_path, name, value, words):
    assert_refused(start(tmp_path, **{name: value}), *words)


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("DEBUG", "true", ("DEBUG must not be on in production",)),
        ("SECRET_KEY", "short-key", ("SECRET_KEY", "at least 40 characters")),
        ("GRANTS_STORAGE", "s3", ("S3_BUCKET",)),
        ("EMAIL_USE_TLS", "kanske", ("EMAIL_USE_TLS", "true or false")),
        ("IDENTITY_HASH_KEY", "short", ("IDENTITY_HASH_KEY", "at least 32 characters")),
    ],
)
def test_an_unsafe_production_value_refuses_to_start(tmp_path, name, value, words):
    assert_refused(start(tmp_path, **{**PRODUCTION, name: value}), *words)


HARDENING = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None), "
    "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
    "s.LOG_FORMAT, sep='|')"
)


def hardening(tmp_path, **variables):
    env = {key: value for key, value in os.environ.items() if key not in OURS and not key.startswith("SECURE_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", GRANTS_VAR_DIR=str(tmp_path / "var"), **variables)
    result = subprocess.run(
        [sys.executable, "-c", HARDENING], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().split("|")


def test_production_is_hardened_by_default_and_trusts_no_proxy_header(tmp_path):
    assert hardening(tmp_path, **PRODUCTION) == ["True", "31536000", "None", "True", "True", "True", "Lax", "json"]


def test_a_tls_proxy_is_trusted_only_when_its_header_is_named(tmp_path):
    values = hardening(tmp_path, **PRODUCTION, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto", SECURE_SSL_REDIRECT="false")
    assert values[:3] == ["False", "31536000", "('HTTP_X_FORWARDED_PROTO', 'https')"]
    result = start(tmp_path, **PRODUCTION, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert_refused(result, "SECURE_PROXY_SSL_HEADER")


def test_the_embedded_default_stays_on_plain_http(tmp_path):
    assert hardening(tmp_path) == ["False", "0", "None", "False", "False", "True", "Lax", "text"]
