"""Scale-out (issue 16): two gunicorn processes and two `db_worker` processes share one
PostgreSQL, one S3-compatible store (moto's server on 127.0.0.1) and one Redis, as several
servers of a municipality would. Over HTTP, as people would:

(a) Anna signs in and submits through web 1; her session holds on web 2; Olle decides the
    case through web 2; the attachment, the receipt and the letter are all in the bucket;
(b) a committee meeting's letters are made exactly once by the two workers together;
(c) failed logins are counted across both processes: the rate limit is reached on web 2
    after failures on web 1."""

import logging
import re
import time
import uuid
from decimal import Decimal

import boto3
import pytest
import redis
import requests
from django.db import connection
from moto.server import ThreadedMotoServer

from documents import batches
from grants.models import Application, CaseEvent, Document
from grants.services import assess
from tests import factories
from tests.documents.test_batches import ANNOUNCED, committee_decisions
from tests.servers import database_env, db_workers, gunicorn, log_tail
from tests.staff import BASE, open_task, pdf_upload

# real_hashers: the servers check passwords with the configured hashers, not the suite's MD5.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.task_queue,
    pytest.mark.real_hashers,
    pytest.mark.django_db(transaction=True),
]

REDIS_DB = 3
REGION = "eu-north-1"


@pytest.fixture
def s3_bucket():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    bucket = f"grants-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield endpoint, bucket, client
    server.stop()


def keys_in(client, bucket):
    return {item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def csrf(session, url):
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def log_in(base, username, password="demo", session=None):
    session = session or requests.Session()
    token = csrf(session, base + "/konto/logga-in/")
    answer = session.post(
        base + "/konto/logga-in/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    return session, answer


def post(session, base, path, data=None, files=None, form_path=None):
    token = csrf(session, base + (form_path or path))
    return session.post(
        base + path, data={"csrfmiddlewaretoken": token, **(data or {})}, files=files, allow_redirects=False, timeout=60
    )


def wait_for(condition, seconds, what, logs):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s:\n{logs()}")


def test_two_web_processes_and_two_workers_share_database_files_and_cache(
    anna, olle, kim, fisksatra, inclusion_call, s3_bucket, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("several processes share one PostgreSQL")
    endpoint, bucket, s3 = s3_bucket
    redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()
    env = database_env(
        GRANTS_STORAGE="s3",
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=endpoint,
        S3_REGION=REGION,
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing",
        CACHE_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CACHE_KEY_PREFIX=f"scale-{uuid.uuid4().hex[:8]}",
        RATE_LIMIT_LOGIN_FAILURES="3/15m",
    )
    draft = factories.draft(inclusion_call, fisksatra, anna, amount="40000")
    decisions = committee_decisions(6, anna=anna, olle=olle, kim=kim, organisation=fisksatra, call=inclusion_call)
    meeting = decisions[0].meeting

    def logs():
        return "\n".join(f"--- {path.name}\n{log_tail(path, 40)}" for path in sorted(tmp_path.glob("*.log")))

    with (
        gunicorn(env, workers=1, log_dir=tmp_path, name="web1", ready_path="/health/live") as web1,
        gunicorn(env, workers=1, log_dir=tmp_path, name="web2", ready_path="/health/live") as web2,
        db_workers(env, count=2, log_dir=tmp_path),
    ):
        assert web1 != web2
        for base in (web1, web2):
            assert requests.get(base + "/health/ready", timeout=10).json() == {"status": "ok"}, logs()

        # (a) Anna on web 1: an attachment into the bucket, then the submission.
        anna_session, answer = log_in(web1, "anna")
        assert answer.status_code == 302, logs()
        step = f"/portal/ansokningar/{draft.pk}/steg/bilagor/"
        upload = pdf_upload("stadgar.pdf", b"%PDF-1.4\n" + b"0" * 2048 + b"\n%%EOF\n")
        answer = post(anna_session, web1, step, files={"attachment": ("stadgar.pdf", upload.read(), "application/pdf")})
        assert answer.status_code == 302, (answer.status_code, answer.text[:2000], logs())
        attachment = Document.objects.get(application=draft, kind=Document.Kind.ATTACHMENT)
        assert attachment.storage_key in keys_in(s3, bucket)
        answer = post(
            anna_session,
            web1,
            f"/portal/ansokningar/{draft.pk}/skicka-in/",
            form_path=f"/portal/ansokningar/{draft.pk}/steg/granska/",
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:2000], logs())
        draft.refresh_from_db()
        assert draft.status == "submitted" and draft.case_number
        # Her session is a row in the shared database: web 2 knows her.
        page = anna_session.get(web2 + f"/portal/ansokningar/{draft.pk}/", timeout=30)
        assert page.status_code == 200 and draft.case_number in page.text

        # Olle's completeness check and assessment (from here), then his decision on web 2.
        application = Application.objects.get(pk=draft.pk)
        assess.completeness_confirm(application=application, by=olle)
        assess.assessment_record(
            application=application,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal("40000"),
            justification="Bra projekt.",
        )
        olle_session, answer = log_in(web2, "olle")
        assert answer.status_code == 302, logs()
        task = open_task(application, "decide_by_officer")
        execute = f"{BASE}/{task.process_id}/decide_by_officer/{task.pk}/execute/"
        if task.owner_id is None:
            assert (
                post(
                    olle_session,
                    web2,
                    execute.replace("/execute/", "/assign/"),
                    form_path=execute.replace("/execute/", "/"),
                ).status_code
                == 302
            )
        answer = post(
            olle_session, web2, execute, {"outcome": "approved", "amount": "40000", "reasons": "Bra projekt."}
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:3000], logs())
        application.refresh_from_db()
        assert application.status == "approved", application.status
        wait_for(
            lambda: (
                Document.objects.filter(application=application, kind=Document.Kind.DECISION_LETTER).exists()
                and Document.objects.filter(application=application, kind=Document.Kind.RECEIPT).exists()
            ),
            60,
            "the receipt and the decision letter",
            logs,
        )
        stored = keys_in(s3, bucket)
        for document in Document.objects.filter(application=application):
            assert document.storage_key in stored, document.kind

        # (b) The committee meeting's letters, by the decision maker on web 1, made by the two workers.
        kim_session, answer = log_in(web1, "kim")
        assert answer.status_code == 302, logs()
        detail = f"/staff/sammantraden/{meeting.pk}/"
        answer = post(
            kim_session, web1, detail + "tillkannagivande/", {"announced_on": ANNOUNCED.isoformat()}, form_path=detail
        )
        assert answer.status_code == 302, (answer.status_code, answer.text[:2000])
        answer = post(kim_session, web1, detail + "beslutsbrev/", form_path=detail)
        assert answer.status_code == 302, (answer.status_code, answer.text[:2000])
        wait_for(lambda: batches.meeting_letters_progress(meeting)["done"] == 6, 120, "six letters", logs)
        time.sleep(1)  # a duplicate would come now, if the workers could make one
        letters = Document.objects.filter(application__decision__meeting=meeting, kind=Document.Kind.DECISION_LETTER)
        assert sorted(letters.values_list("application_id", flat=True)) == sorted(
            set(letters.values_list("application_id", flat=True))
        )
        assert letters.count() == 6 and set(letters.values_list("version", flat=True)) == {1}
        assert (
            CaseEvent.objects.filter(application__decision__meeting=meeting, action="Beslutsbrev skickat").count() == 6
        )
        assert set(letters.values_list("storage_key", flat=True)) <= keys_in(s3, bucket)

        # (c) Failed logins on web 1 count on web 2: the limit (3 per 15 minutes) holds across both.
        def fail(base):
            return log_in(base, "anna", "fel lösenord")[1].status_code

        assert [fail(web1), fail(web1), fail(web2)] == [200, 200, 200]
        assert fail(web2) == 429 and fail(web1) == 429
