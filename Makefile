# Quick start: `make run` (the product with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/grants
RUN_ADDR ?= 127.0.0.1:8000
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils postgresql-client gettext \
	chromium
# The staff interface's Swedish chrome (viewflow ships no sv) and the portal's English:
# compiled, not committed.
MESSAGES := locale/sv/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.mo

# axe-core, injected into pages by the browser tests (tests/browser), from the npm registry.
AXE_VERSION := 4.14.1
AXE := var/npm/node_modules/axe-core/axe.min.js
# oidc-provider (panva's certified OpenID Connect provider): the test provider that
# tests/oidc/provider.mjs starts for the sign-in tests (tests/identity, tests/browser).
OIDC_PROVIDER_VERSION := 9.13.3
OIDC_PROVIDER := var/npm/node_modules/oidc-provider/package.json

# The production stack on this machine (make serve): PostgreSQL at PG_URL, gunicorn on SERVE_ADDR.
SERVE_ADDR ?= 127.0.0.1:8001
SERVE_ENV := var/serve.env

.PHONY: serve run check test test-sqlite test-postgres bench system-deps messages browser-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# Debian packages WeasyPrint needs, and gettext for compilemessages (installed only when
# missing; needs root).
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Our .po files under locale/ compiled to .mo (GNU gettext's msgfmt); --ignore keeps
# compilemessages out of the packages' own catalogues in the venv.
messages: system-deps $(MESSAGES)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) manage.py compilemessages -l $* --ignore=$(VENV) --ignore=var -v0

# The web server and, beside it, the background worker that makes a committee meeting's
# letters. letters_resume first re-queues letters a previous worker left unfinished.
# Ctrl-C stops both.
run: system-deps $(VENV)/.installed messages
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	$(PY) manage.py letters_resume
	$(PY) manage.py follow_up_reminders
	$(PY) manage.py staff_notices_send
	$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(RUN_ADDR)

# The production stack, locally: GRANTS_ENV=production on PostgreSQL (PG_URL) with the
# README's commands: migrate, collectstatic, compilemessages, letters_resume, a db_worker and
# gunicorn with config/gunicorn.py (static files from WhiteNoise). Keys are generated once into
# var/serve.env; HTTPS is off because it serves http://$(SERVE_ADDR), and mail goes to the console.
# Ctrl-C stops both.
$(SERVE_ENV): | $(VENV)/.installed
	mkdir -p var
	{ echo "GRANTS_ENV=production"; \
	  echo "SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  echo "IDENTITY_HASH_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(40))')"; \
	  echo "DATABASE_URL=$(PG_URL)"; \
	  echo "ALLOWED_HOSTS=127.0.0.1,localhost"; \
	  echo "PAYER_NAME='Nacka kommun'"; echo "PAYER_ORGNR=212000-0167"; echo "PAYER_BANKGIRO=5402-9681"; \
	  echo "EMAIL_TO_CONSOLE=true"; echo "SECURE_SSL_REDIRECT=false"; echo "SECURE_HSTS_SECONDS=0"; \
	  echo "SECURE_COOKIES=false"; echo "STAFF_REQUIRE_SECOND_FACTOR=false"; \
	  echo "GRANTS_VAR_DIR=$(CURDIR)/var/serve"; } > $@

serve: system-deps $(VENV)/.installed messages $(SERVE_ENV)
	set -a; . ./$(SERVE_ENV); set +a; \
	mkdir -p var/serve/media; \
	$(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0] + '/postgres', autocommit=True).execute('CREATE DATABASE ' + '$(PG_URL)'.rsplit('/',1)[1])" 2>/dev/null; \
	$(PY) manage.py migrate --no-input && \
	$(PY) manage.py collectstatic --no-input -v0 && \
	$(PY) manage.py letters_resume && \
	{ $(PY) manage.py db_worker --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) -m gunicorn -c config/gunicorn.py --bind $(SERVE_ADDR) config.wsgi; }

# Static checks: ruff's lint rules and formatting, and mypy with django-stubs (configured in pyproject.toml).
check: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: system-deps $(VENV)/.installed check browser-deps test-sqlite test-postgres

browser-deps: $(AXE) $(OIDC_PROVIDER)

$(AXE) $(OIDC_PROVIDER):
	npm install --silent --no-audit --no-fund --prefix var/npm axe-core@$(AXE_VERSION) oidc-provider@$(OIDC_PROVIDER_VERSION)

test-sqlite: $(VENV)/.installed messages browser-deps
	@echo "== Test suite on SQLite =="
	env -u DATABASE_URL $(PY) -m pytest -q

# PostgreSQL: run when reachable; with CI=true a missing server is a failure, not a skip.
test-postgres: $(VENV)/.installed messages browser-deps
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== Test suite on PostgreSQL =="; \
		DATABASE_URL=$(PG_URL) $(PY) -m pytest -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_URL) and CI=true: failing."; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_URL): skipped the PostgreSQL run."; \
	fi

bench: system-deps $(VENV)/.installed messages
	DATABASE_URL=$(PG_URL) $(PY) -m tests.bench

clean:
	rm -rf $(VENV) var $(MESSAGES)
