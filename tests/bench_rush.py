"""The deadline rush (issue 16), on the production-like server: gunicorn with config/gunicorn.py
and 4 workers on the bench's PostgreSQL database, two `db_worker` processes beside it (the
receipts), static files from WhiteNoise. In one run:

* rush_bare_rps: a bare page doing one query (tests/bench_urls.py), 8 clients at once;
* rush_catalogue_rps, rush_catalogue_ratio: the public catalogue, and it ÷ the bare page;
* rush_portal_rps: the logged-in applicant's start page; rush_portal_ms_10 / _1000 (median of
  sequential loads) for an association with 10 and with 1,000 applications, and their ratio;
* rush_submit_*: RUSH_APPLICANTS applicants (each its own account and association, signed in
  before the clock) submit a prepared draft with a 1 MB PDF at the same moment: throughput,
  p50 and p95 of the submit POST, errors; then, once the workers are done, receipts missing
  and gaps or repeats in the case numbers (both must be 0).
"""

import datetime as dt
import os
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests

RUSH_APPLICANTS = int(os.environ.get("BENCH_RUSH_APPLICANTS", 200))
CLIENTS = 8
LOAD_SECONDS = float(os.environ.get("BENCH_RUSH_SECONDS", 6))
PDF = b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 20) + b"\n%%EOF\n"


def _organisation_number(index):
    """A valid organisationsnummer (802xxx-xxxx, Luhn) of its own for each applicant."""
    from stdnum import luhn

    body = f"802{index:06d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def _prepare(world, say, note):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from grants.models import Application, Membership, Organisation
    from grants.services import apply
    from tests import factories

    User = get_user_model()
    password = make_password("rush-lösen")  # one Argon2 hash for every applicant: made once

    def applicant(name):
        user = User.objects.create(username=name, email=f"{name}@example.se", password=password, first_name=name)
        factories.ConfirmedEmail.objects.create(user=user, email=user.email)
        return user

    def association(index, user):
        org = Organisation.objects.create(
            name=f"Förening {index}",
            org_number=_organisation_number(index),
            bankgiro="5050-1055" if index == 0 else factories._bankgiro_of(_organisation_number(index)),
            verification=Organisation.Verification.VERIFIED,
        )
        Membership.objects.create(user=user, organisation=org, role=Membership.Role.SIGNATORY)
        return org

    def draft(org, user, title):
        return apply.application_save_draft(
            call=world["call"],
            organisation=org,
            by=user,
            title=title,
            description="Läxhjälp och fotboll.",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            stated_amount=Decimal("20000"),
            budget_lines=[("cost", "Ledararvoden", Decimal("20000"))],
        )

    # The start page's two associations: 10 and 1,000 applications (bulk copies of a draft).
    portal = {}
    for size in (10, 1000):
        user = applicant(f"portal{size}")
        org = association(900_000 + size, user)
        first = draft(org, user, "Den första")
        fields = {f.attname: getattr(first, f.attname) for f in Application._meta.concrete_fields if not f.primary_key}
        Application.objects.bulk_create([Application(**{**fields, "title": f"Ansökan {n}"}) for n in range(size - 1)])
        portal[size] = user.username
    # A few more programmes in the catalogue, each with an open call.
    for index, slug in enumerate(("verksamhet", "forening")):
        factories.call(factories.programme(slug, committee_=factories.committee(f"N{index}", f"Nämnd {index}")))
    note(f"rush: {RUSH_APPLICANTS} applicants with a 1 MB PDF each …")
    drafts = []
    for index in range(RUSH_APPLICANTS):
        user = applicant(f"rush{index:04d}")
        org = association(index + 1, user)
        application = draft(org, user, f"Rusning {index}")
        apply.application_attach(
            application=application, by=user, filename="budget.pdf", content_type="application/pdf", content=PDF
        )
        drafts.append((user.username, application.pk))
    return portal, drafts


def _log_in(base, username):
    session = requests.Session()
    page = session.get(base + "/konto/logga-in/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        base + "/konto/logga-in/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": "rush-lösen"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {answer.status_code}")
    return session


def _load(url, session_factory):
    """CLIENTS clients requesting `url` for LOAD_SECONDS: requests per second, and errors."""
    stop_at = time.monotonic() + LOAD_SECONDS
    counts, errors = [0] * CLIENTS, [0] * CLIENTS

    def client(index):
        session = session_factory()
        while time.monotonic() < stop_at:
            answer = session.get(url, timeout=60)
            counts[index] += 1
            errors[index] += answer.status_code != 200
        return index

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return sum(counts) / (time.monotonic() - started), sum(errors)


def _median_ms(session, url, runs=15):
    session.get(url, timeout=60)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert session.get(url, timeout=60).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_rush(world, media, say, note):
    from django.db import connection

    from grants.models import Application, Document
    from tests.servers import database_env, db_workers, gunicorn

    portal, drafts = _prepare(world, say, note)
    env = database_env(
        DJANGO_SETTINGS_MODULE="tests.bench_settings",
        MEDIA_ROOT=media,
        GRANTS_STORAGE="local",
        RATE_LIMIT_LOGIN_FAILURES="off",
        RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS="off",
        RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT="off",
    )
    logs = Path(tempfile.mkdtemp(prefix="grants-bench-rush-"))
    note(f"rush: gunicorn (4 workers) and 2 db_workers, logs in {logs}")
    connection.close()  # the servers get the database's connections
    with (
        gunicorn(env, workers=4, log_dir=logs, name="rush-web", ready_path="/health/live") as base,
        db_workers(env, count=2, log_dir=logs),
    ):
        bare_rps, bare_errors = _load(base + "/bench/bare/", requests.Session)
        catalogue_rps, catalogue_errors = _load(base + "/bidrag/", requests.Session)
        sessions = {size: _log_in(base, username) for size, username in portal.items()}
        portal_rps, portal_errors = _load(base + "/portal/", lambda: _log_in(base, portal[10]))
        ms = {size: _median_ms(sessions[size], base + "/portal/") for size in (10, 1000)}
        say("rush_bare_rps", f"{bare_rps:.1f}")
        say("rush_catalogue_rps", f"{catalogue_rps:.1f}")
        say("rush_catalogue_ratio", f"{catalogue_rps / bare_rps:.2f}")
        say("rush_portal_rps", f"{portal_rps:.1f}")
        say("rush_portal_ms_10", f"{ms[10]:.1f}")
        say("rush_portal_ms_1000", f"{ms[1000]:.1f}")
        say("rush_portal_ratio_1000", f"{ms[1000] / ms[10]:.2f}")
        say("rush_page_errors", bare_errors + catalogue_errors + portal_errors)

        # Every applicant signed in and on the check page (its CSRF token) before the clock.
        note("rush: signing in the applicants …")
        with ThreadPoolExecutor(CLIENTS) as pool:
            ready = list(pool.map(lambda d: _ready_to_submit(base, *d), drafts))
        gate = threading.Barrier(len(ready) + 1)
        results = [None] * len(ready)

        def submit(index):
            session, pk, token = ready[index]
            gate.wait()
            started = time.perf_counter()
            try:
                answer = session.post(
                    f"{base}/portal/ansokningar/{pk}/skicka-in/",
                    data={"csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=120,
                )
                ok = answer.status_code == 302
            except requests.RequestException:
                ok = False
            results[index] = ((time.perf_counter() - started) * 1000, ok)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(ready))]
        for thread in threads:
            thread.start()
        gate.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        times = sorted(ms for ms, _ in results)
        say("rush_applicants", len(ready))
        say("rush_submit_rps", f"{len(ready) / wall:.1f}")
        say("rush_submit_p50_ms", f"{times[len(times) // 2]:.0f}")
        say("rush_submit_p95_ms", f"{times[int(len(times) * 0.95) - 1]:.0f}")
        say("rush_submit_errors", sum(not ok for _, ok in results))

        # The workers make each receipt; then every submission has one, and the numbers run on.
        pks = [pk for _, pk, _ in ready]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            missing = len(pks) - Document.objects.filter(application__in=pks, kind=Document.Kind.RECEIPT).count()
            if missing == 0:
                break
            time.sleep(0.5)
        say("rush_missing_receipts", missing)
        numbers = sorted(
            int(number.rsplit("/", 1)[1])
            for number in Application.objects.filter(pk__in=pks).values_list("case_number", flat=True)
            if number
        )
        gaps = (numbers[-1] - numbers[0] + 1 - len(set(numbers))) + (len(numbers) - len(set(numbers))) if numbers else 0
        say("rush_case_number_gaps", gaps + (len(pks) - len(numbers)))


def _ready_to_submit(base, username, pk):
    session = _log_in(base, username)
    page = session.get(f"{base}/portal/ansokningar/{pk}/steg/granska/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session, pk, token
