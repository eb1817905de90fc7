"""Settings, read from the environment.

Two modes:

* embedded (the default): SQLite and local files under ./var, console e-mail,
  a development secret key. Needs no variables at all; demo data may be loaded.
* production (GRANTS_ENV=production): every setting that matters must be given,
  otherwise start-up fails with ImproperlyConfigured naming what is missing.
"""

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from stdnum import luhn
from stdnum.se import orgnr

from .csp import policy as csp_policy
from .env import env_bool, env_int, env_list, env_str
from .logging import logging_config
from .storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GRANTS_VAR_DIR", str(BASE_DIR / "var")))

GRANTS_ENV = env_str("GRANTS_ENV", "embedded")
if GRANTS_ENV not in {"embedded", "production"}:
    raise ImproperlyConfigured(f"GRANTS_ENV must be 'embedded' or 'production', not {GRANTS_ENV!r}.")
PRODUCTION = GRANTS_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must not be on in production.")

SECRET_KEY = env_str("SECRET_KEY", required=PRODUCTION) or "embedded-development-key-not-for-production"
if PRODUCTION and len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("SECRET_KEY must be at least 40 characters in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "config.apps.StaticFilesConfig",  # django.contrib.staticfiles without npm packages' sources
    "django.contrib.humanize",
    "csp",
    "django_filters",
    # drf-spectacular for the API's schema command; Django REST Framework itself is not an app
    # here: its Swedish catalogue would override Django's own form messages ("Detta fält måste
    # fyllas i."), and the API needs none of its templates.
    "drf_spectacular",
    "viewflow",
    "viewflow.workflow",
    "django_tasks",
    "config.apps.BackgroundTasksConfig",  # django_tasks_db, named in Swedish (config/apps.py)
    "django_otp",
    "config.apps.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp
    "config.apps.BackupCodesConfig",  # django_otp.plugins.otp_static
    "grants",
    "grants.identity",
    "grants.records",
    "workflows",
    "documents",
]

MIDDLEWARE = [
    # The request's id in its answer and in every log line (config/logging.py), then the health
    # checks, answered before the host check, sessions and the HTTPS redirect (config/health.py).
    "config.logging.RequestIdMiddleware",
    "config.health.HealthMiddleware",
    "config.headers.PermissionsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy on every answer (config/csp.py; settings at the end of this file).
    "config.csp.CSPMiddleware",
    # Static files from the application itself (hashed, compressed names, cached for a year
    # in production), so one process serves a complete site behind any reverse proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.language.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.logging.UserIdMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff sessions end when idle or old; staff pages need a second factor (grants/identity/middleware.py).
    "grants.identity.middleware.StaffSessionLimitMiddleware",
    "grants.identity.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://…) or the embedded SQLite file.
_database_url = env_str("DATABASE_URL", required=PRODUCTION)
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from exc
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "grants.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"].endswith("sqlite3") and not PRODUCTION
if not PRODUCTION:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = (
    [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    ]
    if PRODUCTION
    else []
)

# Log in with the e-mail address or the username, in any case (config/auth.py); a backend
# with Django's own matching stays after it: registration logs the new account in with it
# by name, and it still finds a username that differs from another only in case. Both
# refuse a password where the settings below turn password sign-in off.
AUTHENTICATION_BACKENDS = [
    "config.auth.EmailOrUsernameBackend",
    "config.auth.UsernameBackend",
    # E-legitimation and the municipality's single sign-on (grants/identity/): they take no
    # passwords, but a session signed in by them is kept by them.
    "grants.identity.backends.EidBackend",
    "grants.identity.backends.StaffSsoBackend",
]
LOGIN_URL = "login"
# Argon2 (argon2-cffi), Django's recommended hasher; a PBKDF2 hash of an existing account is
# re-made with Argon2 at its next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# The link that confirms a new account's e-mail address works this many days, once.
EMAIL_CONFIRMATION_DAYS = env_int("EMAIL_CONFIRMATION_DAYS", 3)
# The password reset link works this many seconds (one hour), once.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
if EMAIL_CONFIRMATION_DAYS < 1 or PASSWORD_RESET_TIMEOUT < 60:
    raise ImproperlyConfigured("EMAIL_CONFIRMATION_DAYS must be at least 1 and PASSWORD_RESET_TIMEOUT at least 60.")

# Staff who sign in with a password (not by single sign-on, whose provider has its own second
# factor) must also give a code from an authenticator app (TOTP) before the staff pages and the
# admin: on in production, off in the embedded default so that the demo passwords keep working.
STAFF_REQUIRE_SECOND_FACTOR = env_bool("STAFF_REQUIRE_SECOND_FACTOR", PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Bidragsportalen")  # the name the authenticator app shows
# The admin may remove a person's app and backup codes but never see their secret keys or codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A staff member's session ends after this long without a request, and this long after sign-in.
STAFF_SESSION_IDLE_MINUTES = env_int("STAFF_SESSION_IDLE_MINUTES", 30)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 10)
if STAFF_SESSION_IDLE_MINUTES < 1 or STAFF_SESSION_MAX_HOURS < 1:
    raise ImproperlyConfigured("STAFF_SESSION_IDLE_MINUTES and STAFF_SESSION_MAX_HOURS must be at least 1.")
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
# Our Swedish catalogue for the staff interface's chrome (viewflow ships no sv); its .mo
# is compiled by `make messages`, not committed.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# The embedded default serves static files straight from the apps (no collectstatic needed,
# under gunicorn too); production serves only what collectstatic wrote.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Source maps (viewflow's run to megabytes) and the old font formats are fetched by developer
# tools and old browsers only: not worth compressing at every collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br"),
    *("woff", "woff2", "map", "eot", "ttf", "otf", "mp4", "webm"),
]
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Files: local by default, any S3-compatible store when GRANTS_STORAGE=s3.
GRANTS_STORAGE = env_str("GRANTS_STORAGE", "local")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
if GRANTS_STORAGE == "local":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
elif GRANTS_STORAGE == "s3":
    # Nothing in the bucket is public: downloads stream through Django (see config/storage.py).
    _default_storage = s3_storage(
        bucket_name=env_str("S3_BUCKET", required=True),
        endpoint_url=env_str("S3_ENDPOINT_URL"),
        region_name=env_str("S3_REGION", "eu-north-1"),
        access_key=env_str("S3_ACCESS_KEY_ID", required=True),
        secret_key=env_str("S3_SECRET_ACCESS_KEY", required=True),
    )
else:
    raise ImproperlyConfigured(f"GRANTS_STORAGE must be 'local' or 's3', not {GRANTS_STORAGE!r}.")
STORAGES = {
    "default": _default_storage,
    # Production: `manage.py collectstatic` writes hashed, compressed copies under STATIC_ROOT,
    # which WhiteNoise serves with a year's cache. The embedded default serves the files as
    # they are (Django's runserver, and the tests, need no collectstatic).
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Background work (Django's Tasks API): letters for a whole committee meeting are made by
# `manage.py db_worker` processes, which `make run` starts beside the web server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Uploads: size limit per file (MB) and what a file may be.
GRANTS_UPLOAD_MAX_MB = env_int("GRANTS_UPLOAD_MAX_MB", 10)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# E-mail: console in the embedded default, SMTP when EMAIL_HOST is given.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif PRODUCTION and not env_bool("EMAIL_TO_CONSOLE", False):
    raise ImproperlyConfigured("EMAIL_HOST must be set in production so applicants get their messages.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "bidrag@kommun.example")
# The site's address for links in e-mails sent without a request (the staff's daily digest):
# SITE_URL, or in production the first of ALLOWED_HOSTS over https.
SITE_URL = (
    env_str("SITE_URL", "") or (f"https://{ALLOWED_HOSTS[0].lstrip('.')}" if PRODUCTION else "http://localhost:8000")
).rstrip("/")

# The municipality as payer: named in the payment files to the bank (ISO 20022 pain.001,
# documents/payment_files.py) and in the vouchers for the accounting system (SIE 4I).
# Production names its own; a wrong number would only show when the bank refuses the file.
PAYER_NAME = env_str("PAYER_NAME", required=PRODUCTION) or "Nacka kommun"
PAYER_ORGNR = env_str("PAYER_ORGNR", required=PRODUCTION) or "212000-0167"
PAYER_BANKGIRO = env_str("PAYER_BANKGIRO", required=PRODUCTION) or "5402-9681"
PAYER_BIC = env_str("PAYER_BIC", "")  # the municipality's bank, e.g. ESSESESS; "" = not given
# The ledger (grants/services/ledger.py, documents/ledger_files.py): payments are booked
# when the bank has paid them, credited to the bank account; a repayment claim is a
# receivable until it is repaid. The committee is the cost centre (resultatenhet) and the
# programme the project, in the dimensions the municipality's chart of accounts numbers them.
ACCOUNTING_BANK_ACCOUNT = env_str("ACCOUNTING_BANK_ACCOUNT", "1930")
ACCOUNTING_RECEIVABLE_ACCOUNT = env_str("ACCOUNTING_RECEIVABLE_ACCOUNT", "1510")
ACCOUNTING_VOUCHER_SERIES = env_str("ACCOUNTING_VOUCHER_SERIES", "B")
ACCOUNTING_COST_CENTRE_DIMENSION = env_int("ACCOUNTING_COST_CENTRE_DIMENSION", 1)
ACCOUNTING_PROJECT_DIMENSION = env_int("ACCOUNTING_PROJECT_DIMENSION", 6)
if not orgnr.is_valid(PAYER_ORGNR):
    raise ImproperlyConfigured(f"PAYER_ORGNR {PAYER_ORGNR!r} is not a valid organisationsnummer.")
_payer_bankgiro_digits = re.sub(r"[- ]", "", PAYER_BANKGIRO)
if not (re.fullmatch(r"\d{7,8}", _payer_bankgiro_digits) and luhn.is_valid(_payer_bankgiro_digits)):
    raise ImproperlyConfigured(f"PAYER_BANKGIRO {PAYER_BANKGIRO!r} is not a bankgiro number (7-8 digits, Luhn).")
if PAYER_BIC and not re.fullmatch(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?", PAYER_BIC):
    raise ImproperlyConfigured(f"PAYER_BIC {PAYER_BIC!r} is not a BIC (8 or 11 letters and digits).")
for _name in ("ACCOUNTING_BANK_ACCOUNT", "ACCOUNTING_RECEIVABLE_ACCOUNT"):
    if not re.fullmatch(r"\d{4,6}", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} must be an account number of 4-6 digits.")
if not (0 < ACCOUNTING_COST_CENTRE_DIMENSION != ACCOUNTING_PROJECT_DIMENSION > 0):
    raise ImproperlyConfigured(
        "ACCOUNTING_COST_CENTRE_DIMENSION and ACCOUNTING_PROJECT_DIMENSION must be two "
        "different positive SIE dimension numbers."
    )
if not re.fullmatch(r"[A-Za-z0-9]{1,10}", ACCOUNTING_VOUCHER_SERIES):
    raise ImproperlyConfigured("ACCOUNTING_VOUCHER_SERIES must be 1-10 letters or digits.")

# Open data (360Giving, documents/open_data.py): a grant's identifier is "360G-" + this
# prefix + "-" + its case number. Once published, identifiers must not change.
OPEN_DATA_PREFIX = env_str("OPEN_DATA_PREFIX", "") or f"SE-ON-{PAYER_ORGNR}"
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,60}", OPEN_DATA_PREFIX):
    raise ImproperlyConfigured("OPEN_DATA_PREFIX may hold only letters, digits and hyphens.")

# HTTPS, hardened by default in production (`manage.py check --deploy` has no warnings):
# every http:// request is redirected to https:// (except the health checks, which a load
# balancer probes over plain HTTP), browsers are told to use HTTPS only for a year (HSTS), and
# cookies go over HTTPS only. Behind a proxy that ends TLS, name the header it sets:
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto. It is trusted only then, since anyone can send it
# to a server reached directly.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# Preloading is for a whole registrable domain (kommun.se, not bidrag.kommun.se), the
# municipality's decision to submit to the browsers' list: off unless asked for, and
# check --deploy's reminder of it (W021) is silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl_header:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", _proxy_ssl_header):
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER must be a header name, not {_proxy_ssl_header!r}.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Logs on stderr: one JSON object a line in production (LOG_FORMAT=json), plain text in the
# embedded default; each with the request's id and the acting user's id (config/logging.py).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', not {LOG_FORMAT!r}.")
LOGGING = logging_config(LOG_FORMAT)
# /health/ready fails when a background task has waited longer than this (no worker running).
HEALTH_TASK_MAX_AGE_SECONDS = env_int("HEALTH_TASK_MAX_AGE_SECONDS", 600)

# Where the accessibility statement's "report a barrier" form sends reports.
ACCESSIBILITY_CONTACT_EMAIL = env_str("ACCESSIBILITY_CONTACT_EMAIL", "tillganglighet@kommun.example.se")

# Cache: the process's own memory by default; CACHE_URL=redis://host:6379/0 for one that
# several processes and servers share (Django's Redis backend, needs the redis package).
# The rate limits below count in it (config/ratelimit.py says why a shared one matters).
CACHE_URL = env_str("CACHE_URL", "")
if not CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "grants"}}
elif CACHE_URL.startswith(("redis://", "rediss://")):
    try:
        import redis  # noqa: F401
    except ImportError as exc:
        raise ImproperlyConfigured(
            "CACHE_URL is a Redis address, but the redis package is not installed (pip install redis)."
        ) from exc
    # A Redis that does not answer within CACHE_TIMEOUT_MS is as if down: reads are misses and
    # the page is made from the database (config/cache.py). CACHE_KEY_PREFIX lets two sites (a
    # test and a production site) share one Redis.
    _cache_timeout = env_int("CACHE_TIMEOUT_MS", 500) / 1000
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "grants"),
            "OPTIONS": {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout},
        }
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL must be empty (memory of each process) or redis://…, not {CACHE_URL!r}.")


# The public catalogue's pages are kept this many seconds at most in the cache (a change of a
# programme, call or committee replaces them at once; grants/portal/cache.py).
CATALOGUE_CACHE_SECONDS = env_int("CATALOGUE_CACHE_SECONDS", 300)


# Sessions are rows in the database, which every web process shares (not the cache of one).
SESSION_ENGINE = "django.contrib.sessions.backends.db"


# Rate limits on the public forms and on failed logins: "count/period" (s, m, h, d, e.g.
# "10/h" or "5/15m"), or "off". Every POST of a form counts; of logins only the failed ones.
def _rate_limit(name, default):
    value = env_str(name, default).strip()
    if value == "off":
        return ""
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must be like 10/h or 5/15m (count/period), or off, not {value!r}.")
    return value


RATE_LIMIT_REGISTRATION = _rate_limit("RATE_LIMIT_REGISTRATION", "10/h")  # accounts per address
RATE_LIMIT_INVITATIONS = _rate_limit("RATE_LIMIT_INVITATIONS", "20/h")  # invitations per person
RATE_LIMIT_BARRIER_REPORTS = _rate_limit("RATE_LIMIT_BARRIER_REPORTS", "5/h")  # reports per address
# Failed logins per (typed account, address) pair; per address, for everyone behind it; and
# per typed account, from every address together (config/ratelimit.py).
RATE_LIMIT_LOGIN_FAILURES = _rate_limit("RATE_LIMIT_LOGIN_FAILURES", "5/15m")
RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS = _rate_limit("RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS", "100/15m")
RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT = _rate_limit("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", "20/h")
RATE_LIMIT_PASSWORD_RESET = _rate_limit("RATE_LIMIT_PASSWORD_RESET", "5/h")  # reset e-mails per typed address
RATE_LIMIT_CONFIRMATION_EMAIL = _rate_limit("RATE_LIMIT_CONFIRMATION_EMAIL", "5/h")  # "Skicka länken igen" per person
# Behind a reverse proxy: the header with the visitor's address, e.g. X-Forwarded-For.
RATE_LIMIT_CLIENT_IP_HEADER = env_str("RATE_LIMIT_CLIENT_IP_HEADER", "")
RATELIMIT_IP_META_KEY = "config.ratelimit.client_ip"
RATELIMIT_FAIL_OPEN = True  # a cache that is down must not close registration


# Signing in with OpenID Connect (grants/identity/oidc.py): e-legitimation (BankID, Freja
# eID+ through the municipality's broker) for applicants, and the municipality's own
# identity provider for staff. Each is off until its issuer, client id and secret are all
# given; discovery is read from ISSUER/.well-known/openid-configuration.
def _oidc(prefix, scopes):
    values = {
        "ISSUER": env_str(f"{prefix}_ISSUER", "").rstrip("/"),
        "CLIENT_ID": env_str(f"{prefix}_CLIENT_ID", ""),
        "CLIENT_SECRET": env_str(f"{prefix}_CLIENT_SECRET", ""),
    }
    given = [name for name, value in values.items() if value]
    if given and len(given) != len(values):
        missing = ", ".join(f"{prefix}_{name}" for name, value in values.items() if not value)
        raise ImproperlyConfigured(f"{prefix}_* is partly set: {missing} must be given too (or none of them).")
    return values["ISSUER"], values["CLIENT_ID"], values["CLIENT_SECRET"], env_str(f"{prefix}_SCOPES", scopes)


OIDC_EID_ISSUER, OIDC_EID_CLIENT_ID, OIDC_EID_CLIENT_SECRET, OIDC_EID_SCOPES = _oidc("OIDC_EID", "openid profile")
# The ID token's claim with the personal identity number (the Swedish OIDC profile's name).
OIDC_EID_PERSONNUMMER_CLAIM = env_str("OIDC_EID_PERSONNUMMER_CLAIM", "https://id.oidc.se/claim/personalIdentityNumber")
OIDC_STAFF_ISSUER, OIDC_STAFF_CLIENT_ID, OIDC_STAFF_CLIENT_SECRET, OIDC_STAFF_SCOPES = _oidc(
    "OIDC_STAFF", "openid profile email"
)
OIDC_STAFF_GROUPS_CLAIM = env_str("OIDC_STAFF_GROUPS_CLAIM", "groups")
# The key of the keyed hash (HMAC-SHA256) a personal identity number is looked up by; it is
# never stored in clear text. Changing the key unlinks every e-legitimation.
IDENTITY_HASH_KEY = env_str("IDENTITY_HASH_KEY", required=PRODUCTION) or f"identity-hash:{SECRET_KEY}"
if PRODUCTION and len(IDENTITY_HASH_KEY) < 32:
    raise ImproperlyConfigured("IDENTITY_HASH_KEY must be at least 32 characters in production.")
# Whether passwords still sign in: applicants (every account without a staff role) and staff.
APPLICANT_PASSWORD_LOGIN = env_bool("APPLICANT_PASSWORD_LOGIN", True)
STAFF_PASSWORD_LOGIN = env_bool("STAFF_PASSWORD_LOGIN", True)


# Content-Security-Policy (django-csp), on every page in every mode: scripts only from our own
# static files (no inline scripts, no eval), nothing from other hosts, no framing; forms may
# post to the sign-in providers. config/csp.py builds it and says why styles allow inline.
CONTENT_SECURITY_POLICY = csp_policy(
    issuers=(OIDC_EID_ISSUER, OIDC_STAFF_ISSUER), report_uri=env_str("CSP_REPORT_URI", "")
)


# The REST API (workflows/api/, Django REST Framework): a key per integration (ApiToken,
# `manage.py api_token_create`), JSON only, the OpenAPI 3 schema from drf-spectacular
# (served at /api/v1/schema/, committed as workflows/api/openapi.yaml).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["workflows.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bidragsportalen API",
    "DESCRIPTION": "Programmes, calls and open data for everyone; cases, decisions, documents, payments "
    "and payment files for the municipality's own systems, with a key per integration.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflows.api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "grants.models.Application.Status",
        "PaymentStatusEnum": "grants.models.Payment.Status",
        "PaymentFileStatusEnum": "grants.models.PaymentBatch.Status",
    },
}
