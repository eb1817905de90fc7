"""The REST API (workflows/api/): public programmes, calls and open data; keys per
integration (grants/identity/tokens.py) scoped to a role and committees, read by the same
rules as the staff pages; the finance system's "paid"; and the committed OpenAPI schema."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from documents.payment_files import payment_file_create
from grants.identity.models import ApiToken, SecurityEvent
from grants.identity.tokens import token_create, token_revoke
from grants.models import CaseEvent, Document, Payment
from grants.services import pay
from tests import factories

pytestmark = pytest.mark.django_db

SCHEMA = Path(settings.BASE_DIR) / "workflows" / "api" / "openapi.yaml"


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def kfn_case(anna, olle, fisksatra, inclusion_call):
    return factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="40000")


@pytest.fixture
def other_committee_case(anna, olle, fisksatra):
    soc = factories.committee("SOC", "Socialnämnden")
    call = factories.call(
        factories.programme("verksamhet", committee_=soc, calculator="requested", calculator_params={})
    )
    return factories.granted_case(call, fisksatra, anna, olle, amount="30000", title="Sociala projektet")


def officer_key(*committees):
    return token_create(name="Diariet", role="Handläggare", committees=committees)[1]


def test_programmes_calls_and_open_data_need_no_key(client, inclusion_call):
    programmes = client.get("/api/v1/programmes/").json()
    assert [p["slug"] for p in programmes["results"]] == ["inkludering"]
    assert programmes["results"][0]["committee"] == "KFN"
    calls = client.get("/api/v1/calls/").json()["results"]
    assert [c["id"] for c in calls] == [inclusion_call.pk]
    grants = client.get(f"/api/v1/open-data/{timezone.localdate().year}/")
    assert grants.status_code == 200 and grants.json() == {"grants": []}
    assert client.get("/api/v1/open-data/1066/").status_code == 404


def test_staff_endpoints_refuse_no_key_a_wrong_key_a_revoked_and_an_expired_one(client, kfn_case):
    assert client.get("/api/v1/cases/").status_code == 401
    assert client.get("/api/v1/cases/")["WWW-Authenticate"] == "Bearer"
    answer = client.get("/api/v1/cases/", **bearer("0000aaaa.fel"))
    assert answer.status_code == 401 and answer.json()["detail"] == "Nyckeln är okänd, återkallad eller har gått ut."
    token, key = token_create(name="Diariet", role="Handläggare")
    assert client.get("/api/v1/cases/", **bearer(key)).status_code == 200
    assert client.get("/api/v1/cases/", **bearer(key[:-1] + ("A" if key[-1] != "A" else "B"))).status_code == 401
    token_revoke(token=token)
    assert client.get("/api/v1/cases/", **bearer(key)).status_code == 401
    expired, key = token_create(name="Gammal", role="Handläggare", expires_at=timezone.now() - dt.timedelta(days=1))
    assert client.get("/api/v1/cases/", **bearer(key)).status_code == 401
    # The key is kept only as a hash, and making and revoking keys is in the audit trail.
    assert key not in str(ApiToken.objects.filter(pk=expired.pk).values().first())
    assert SecurityEvent.objects.filter(details__api_token=token.prefix).count() == 2


def test_a_key_sees_the_cases_of_its_committees_only(client, kfn_case, other_committee_case):
    kfn = factories.committee()
    key = officer_key(kfn)
    listed = client.get("/api/v1/cases/", **bearer(key)).json()
    assert [c["case_number"] for c in listed["results"]] == [kfn_case.case_number]
    assert client.get(f"/api/v1/cases/{other_committee_case.pk}/", **bearer(key)).status_code == 404
    detail = client.get(f"/api/v1/cases/{kfn_case.pk}/", **bearer(key)).json()
    assert detail["decision"]["amount"] == "40000.00" and detail["committee"] == "KFN"
    assert {d["kind"] for d in detail["documents"]} >= {"receipt"}
    # Every committee: both; filters as on the work list.
    everywhere = officer_key()
    assert client.get("/api/v1/cases/", **bearer(everywhere)).json()["count"] == 2
    found = client.get("/api/v1/cases/", {"committee": "soc"}, **bearer(everywhere)).json()["results"]
    assert [c["id"] for c in found] == [other_committee_case.pk]
    found = client.get("/api/v1/cases/", {"q": "sociala"}, **bearer(everywhere)).json()["results"]
    assert [c["id"] for c in found] == [other_committee_case.pk]


def test_documents_are_read_by_the_download_rule(client, kfn_case, other_committee_case):
    key = officer_key(factories.committee())
    ours = Document.objects.filter(application=kfn_case).first()
    theirs = Document.objects.filter(application=other_committee_case).first()
    meta = client.get(f"/api/v1/documents/{ours.pk}/", **bearer(key))
    assert meta.status_code == 200 and meta.json()["sha256"] == ours.sha256
    download = client.get(meta.json()["download"], **bearer(key))
    assert (
        download.status_code == 200
        and b"".join(download.streaming_content if download.streaming else [download.content])[:4] == b"%PDF"
    )
    assert client.get(f"/api/v1/documents/{theirs.pk}/", **bearer(key)).status_code == 403
    assert client.get(f"/api/v1/documents/{theirs.pk}/download/", **bearer(key)).status_code == 403
    # Finance's key reads payments, not the cases' documents.
    _, finance = token_create(name="Ekonomisystemet", role="Ekonomi")
    assert client.get(f"/api/v1/documents/{ours.pk}/", **bearer(finance)).status_code == 403
    assert client.get("/api/v1/cases/", **bearer(finance)).status_code == 403


def test_the_finance_system_registers_a_payment_as_paid(client, kfn_case, fia):
    _, key = token_create(name="Ekonomisystemet", role="Ekonomi")
    planned = kfn_case.payments.get(status="planned")
    # Not yet in a payment file: refused with the reason, nothing changes.
    answer = client.post(f"/api/v1/payments/{planned.pk}/paid/", {}, content_type="application/json", **bearer(key))
    assert answer.status_code == 409 and answer.json()["detail"]
    assert Payment.objects.get(pk=planned.pk).status == "planned"

    pay.payments_attest(payment_ids=[planned.pk], by=fia)
    payment_file_create(by=fia, payment_ids=[planned.pk])
    files = client.get("/api/v1/payment-files/", **bearer(key)).json()["results"]
    assert len(files) == 1 and files[0]["status"] == "exported"
    pain = client.get(files[0]["download"], **bearer(key))
    assert pain.status_code == 200 and b"pain.001" in b"".join(
        pain.streaming_content if pain.streaming else [pain.content]
    )

    answer = client.post(
        f"/api/v1/payments/{planned.pk}/paid/",
        {"paid_on": "2026-12-01"},
        content_type="application/json",
        **bearer(key),
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "paid" and answer.json()["paid_on"] == "2026-12-01"
    assert CaseEvent.objects.filter(application=kfn_case, actor__api_token__isnull=False).exists()
    again = client.post(f"/api/v1/payments/{planned.pk}/paid/", {}, content_type="application/json", **bearer(key))
    assert again.status_code == 409
    # An officer's key may not pay.
    assert (
        client.post(
            f"/api/v1/payments/{planned.pk}/paid/", {}, content_type="application/json", **bearer(officer_key())
        ).status_code
        == 403
    )


def test_lists_cost_the_same_queries_for_more_rows(client, anna, olle, fisksatra, inclusion_call):
    key = officer_key()
    factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="20000", title="Ett")

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path, **bearer(key)).status_code == 200
        return len(captured)

    queries("/api/v1/cases/")  # the key's first use notes when it was used (once a minute)
    few = {path: queries(path) for path in ("/api/v1/cases/", "/api/v1/decisions/")}
    for index in range(4):
        factories.granted_case(inclusion_call, fisksatra, anna, olle, amount="20000", title=f"Fler {index}")
    assert {path: queries(path) for path in few} == few


def test_the_committed_schema_is_up_to_date(tmp_path):
    """Fails when an endpoint changed and workflows/api/openapi.yaml was not made again with:
    env -u DATABASE_URL .venv/bin/python manage.py spectacular --validate --file workflows/api/openapi.yaml"""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "GRANTS_ENV"}}
    made = tmp_path / "openapi.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(made)],
        cwd=settings.BASE_DIR,
        env={**env, "GRANTS_VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert made.read_text() == SCHEMA.read_text(), __doc__
