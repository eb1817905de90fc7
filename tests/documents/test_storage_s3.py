"""The file store, over a real S3 API (moto's server on 127.0.0.1, configured exactly as
production configures it) and on the local disk that is the default.

Every file is a Document with its storage key and SHA-256; a stored file is never
overwritten; downloads go through Django, which checks access and checksum; nothing in the
bucket is readable without credentials. When the store does not answer, the applicant gets
a clear error in Swedish and nothing is half-created.
"""

import hashlib
import logging
import os
import socket
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import boto3
import botocore
import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from moto.server import ThreadedMotoServer

from config.storage import s3_storage
from documents.letters import decision_letter_send, letter_store
from grants.files import STORE_DOWN
from grants.models import Application, CaseEvent, Document
from grants.services import apply, assess

from ..grants.test_access import make_draft
from ..staff import draft, pdf_upload
from .test_letters import decided  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

REGION = "eu-north-1"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
ÅÄÖ_NAME = "Årsmötesprotokoll för Fisksätra IF – år 2026.pdf"
DOWNLOAD_DOWN = "Filen kan inte hämtas just nu eftersom fillagringen inte svarar."


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-API server on the loopback interface, for the whole test session."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def no_proxy(monkeypatch):
    """The loopback server is reached directly, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def closed_port():
    """A port on 127.0.0.1 that nothing listens on: bound, then closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Store:
    name = "s3"

    def __init__(self, settings, endpoint):
        self.settings = settings
        self.endpoint = endpoint
        self.bucket = f"grants-{uuid.uuid4().hex[:12]}"  # a fresh bucket for every test
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["access_key"],
            aws_secret_access_key=CREDENTIALS["secret_key"],
        )
        self.client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.use(s3_storage(bucket_name=self.bucket, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS))

    def use(self, storage):
        self.settings.STORAGES = {**self.settings.STORAGES, "default": storage}

    def keys(self):
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def go_down(self):
        """The same configuration, but the store's address answers nothing; the client gives
        up at once instead of after production's few seconds."""
        self.use(
            s3_storage(
                bucket_name=self.bucket,
                endpoint_url=f"http://127.0.0.1:{closed_port()}",
                region_name=REGION,
                **CREDENTIALS,
                client_config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}),
            )
        )


class LocalStore:
    name = "local"

    def __init__(self, folder, monkeypatch):
        self.folder = Path(folder)
        self.monkeypatch = monkeypatch

    def keys(self):
        return sorted(str(path.relative_to(self.folder)) for path in self.folder.rglob("*") if path.is_file())

    def read(self, key):
        return (self.folder / key).read_bytes()

    def go_down(self):
        def down(*args, **kwargs):
            raise OSError(5, "Input/output error")

        for method in ("_save", "_open", "delete"):
            self.monkeypatch.setattr(FileSystemStorage, method, down)


@pytest.fixture(params=["local", "s3"])
def store(request, settings, media_root, monkeypatch):
    if request.param == "s3":
        request.getfixturevalue("no_proxy")
        return S3Store(settings, request.getfixturevalue("s3_endpoint"))
    return LocalStore(media_root, monkeypatch)


@pytest.fixture
def s3(settings, s3_endpoint, no_proxy):
    return S3Store(settings, s3_endpoint)


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def awaiting_completion(anna, olle, fisksatra, call, due_on):
    application = apply.application_submit(application=make_draft(call, fisksatra, anna), by=anna)
    assess.completion_request(application=application, by=olle, message="Skicka årsmötesprotokollet.", due_on=due_on)
    return Application.objects.get(pk=application.pk)


def nothing_created():
    return (Application.objects.count(), Document.objects.count(), CaseEvent.objects.count()) == (0, 0, 0)


# --- the production configuration -----------------------------------------------------------

PROBE = """
import django; django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
name = default_storage.save("probe/Årsmöte.txt", ContentFile("hej från Fisksätra".encode()))
print(type(default_storage._wrapped).__name__, default_storage.default_acl, default_storage.file_overwrite,
      default_storage.querystring_auth, name.startswith("probe/Årsmöte"), default_storage.open(name).read().decode())
"""


def test_the_environment_variables_configure_the_s3_store(s3, tmp_path):
    """GRANTS_STORAGE=s3 and the S3_ variables, read by config/settings.py in a fresh interpreter."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRANTS_", "S3_", "AWS_")) and "proxy" not in key.lower()
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        GRANTS_VAR_DIR=str(tmp_path),
        GRANTS_STORAGE="s3",
        S3_BUCKET=s3.bucket,
        S3_ENDPOINT_URL=s3.endpoint,
        S3_REGION=REGION,
        S3_ACCESS_KEY_ID=CREDENTIALS["access_key"],
        S3_SECRET_ACCESS_KEY=CREDENTIALS["secret_key"],
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["S3Storage", "None", "False", "True", "True", "hej", "från", "Fisksätra"]
    assert len(s3.keys()) == 1 and s3.keys()[0].startswith("probe/Årsmöte")


# --- upload, download, versions ----------------------------------------------------------


def test_an_uploaded_attachment_is_stored_under_its_key_with_its_checksum(
    client, anna, fisksatra, inclusion_call, store
):
    content = b"%PDF-1.4\n% budget\n%%EOF\n"
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload("budget.pdf", content))
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert (document.kind, document.filename, document.author, document.size) == (
        "attachment",
        "budget.pdf",
        anna,
        len(content),
    )
    assert document.created_at is not None
    assert store.keys() == [document.storage_key]
    assert store.read(document.storage_key) == content
    assert document.sha256 == sha256(content)
    assert list(document.application.events.values_list("action", flat=True)) == ["Utkast skapat", "Fil bifogad"]

    response = client.get(reverse("document", args=[document.pk]))
    assert response.status_code == 200 and response.content == content
    assert response["Content-Type"] == "application/pdf"


def test_a_second_letter_is_a_new_object_and_the_first_stays_unchanged(client, anna, decided, store):
    application = decided.application
    before = store.keys()  # the receipt, made at submit (where the store was then)
    first = letter_store(
        application=application, kind=Document.Kind.DECISION_LETTER, pdf=b"%PDF-1.4\nv1\n%%EOF\n", by=decided.decided_by
    )
    second = letter_store(
        application=application,
        kind=Document.Kind.DECISION_LETTER,
        pdf=b"%PDF-1.4\nv2 corrected\n%%EOF\n",
        by=decided.decided_by,
    )
    assert (first.version, second.version) == (1, 2)
    assert first.storage_key != second.storage_key
    assert store.keys() == sorted([*before, first.storage_key, second.storage_key])
    assert store.read(first.storage_key) == b"%PDF-1.4\nv1\n%%EOF\n" and first.sha256 == sha256(
        b"%PDF-1.4\nv1\n%%EOF\n"
    )
    assert store.read(second.storage_key) == b"%PDF-1.4\nv2 corrected\n%%EOF\n"
    client.force_login(anna)
    assert client.get(reverse("document", args=[first.pk])).content == b"%PDF-1.4\nv1\n%%EOF\n"


def test_saving_under_a_name_already_taken_never_overwrites(store):
    """The storage itself refuses to overwrite (file_overwrite False), even without our unique keys."""
    first = default_storage.save("cases/1/attachment/same.pdf", ContentFile(b"first"))
    second = default_storage.save("cases/1/attachment/same.pdf", ContentFile(b"second"))
    assert first != second
    assert store.read(first) == b"first" and store.read(second) == b"second"


def test_a_filename_with_swedish_letters_round_trips(client, anna, fisksatra, inclusion_call, store):
    content = b"%PDF-1.4\n% protokoll\n%%EOF\n"
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload(ÅÄÖ_NAME, content))
    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert document.filename == ÅÄÖ_NAME
    assert store.read(document.storage_key) == content
    assert "Årsmötesprotokoll_för_Fisksätra_IF" in document.storage_key

    response = client.get(reverse("document", args=[document.pk]))
    assert response.status_code == 200 and response.content == content
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ") and "; filename*=UTF-8''" in disposition
    encoded = disposition.split("; filename*=UTF-8''")[1]
    assert encoded.isascii() and "%C3%85rsm%C3%B6tesprotokoll" in encoded  # RFC 5987: UTF-8, percent-encoded
    assert unquote(encoded) == ÅÄÖ_NAME
    assert ÅÄÖ_NAME in client.get(reverse("portal:application", args=[document.application_id])).content.decode()


# --- nothing is public in the bucket -------------------------------------------------------


def test_nothing_in_the_bucket_can_be_read_without_credentials(client, anna, fisksatra, inclusion_call, s3):
    client.force_login(anna)
    draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload())
    document = Document.objects.get()
    anonymous = boto3.client(
        "s3", endpoint_url=s3.endpoint, region_name=REGION, config=Config(signature_version=botocore.UNSIGNED)
    )
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        anonymous.get_object(Bucket=s3.bucket, Key=document.storage_key)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=document.storage_key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert not any(
        "AllUsers" in str(grant["Grantee"]) or "AuthenticatedUsers" in str(grant["Grantee"]) for grant in grants
    )

    # The check has teeth: this server does serve a public-read object to anyone.
    s3.client.put_object(Bucket=s3.bucket, Key="public.txt", Body=b"public", ACL="public-read")
    assert anonymous.get_object(Bucket=s3.bucket, Key="public.txt")["Body"].read() == b"public"

    # Should anything ever ask for a URL, it is signed and short-lived.
    url = default_storage.url(document.storage_key)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    # The portal neither links to the bucket nor redirects there: the bytes come through Django.
    page = client.get(reverse("portal:application", args=[document.application_id])).content.decode()
    assert s3.endpoint not in page and s3.bucket not in page
    response = client.get(reverse("document", args=[document.pk]))
    assert response.status_code == 200 and response.content == s3.read(document.storage_key)


# --- the store does not answer ---------------------------------------------------------------


def test_a_new_application_with_a_file_while_the_store_is_down_creates_nothing(
    client, anna, fisksatra, inclusion_call, store
):
    store.go_down()
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload())
    assert response.status_code == 200
    assert STORE_DOWN in response.content.decode()
    # The earlier steps saved the draft; of the file, nothing: no document, no event, no key.
    application = Application.objects.get()
    assert not Document.objects.exists()
    assert list(application.events.values_list("action", flat=True)) == ["Utkast skapat"]
    assert store.keys() == []


def test_an_edited_draft_with_a_file_while_the_store_is_down_stays_as_it_was(
    client, anna, fisksatra, inclusion_call, store
):
    application = make_draft(inclusion_call, fisksatra, anna)
    events = list(application.events.values_list("action", flat=True))
    store.go_down()
    client.force_login(anna)
    response = client.post(reverse("portal:step", args=[application.pk, "bilagor"]), {"attachment": pdf_upload()})
    assert response.status_code == 200 and STORE_DOWN in response.content.decode()
    application.refresh_from_db()
    assert application.title == "Fisksätras läxhjälp"
    assert list(application.events.values_list("action", flat=True)) == events
    assert not Document.objects.exists() and store.keys() == []


def test_a_draft_that_cannot_be_written_takes_its_stored_file_away_again(
    anna, fisksatra, inclusion_call, store, monkeypatch
):
    def database_fails(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(apply, "document_create", database_fails)
    with pytest.raises(RuntimeError):
        apply.application_save_draft(
            call=inclusion_call,
            organisation=fisksatra,
            by=anna,
            title="Läxhjälp",
            description="Läxhjälp.",
            period_start="2026-01-01",
            period_end="2026-12-31",
            stated_amount=Decimal("40000"),
            attachment=apply.Upload(ÅÄÖ_NAME, "application/pdf", b"%PDF-1.4\n%%EOF\n"),
        )
    assert nothing_created()
    assert store.keys() == []


def test_a_completion_answer_with_a_file_while_the_store_is_down_is_refused(
    client, anna, olle, fisksatra, inclusion_call, in_a_week, store
):
    application = awaiting_completion(anna, olle, fisksatra, inclusion_call, in_a_week)
    events, stored = application.events.count(), store.keys()  # the receipt, made at submit
    store.go_down()
    client.force_login(anna)
    response = client.post(
        reverse("portal:completion", args=[application.pk]),
        {"answer": "Här är protokollet.", "attachment": pdf_upload(ÅÄÖ_NAME)},
    )
    assert response.status_code == 400
    assert STORE_DOWN in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.AWAITING_COMPLETION
    assert application.completion_requests.get().answered_at is None
    assert not Document.objects.exclude(kind=Document.Kind.RECEIPT).exists() and application.events.count() == events
    assert store.keys() == stored


def test_a_download_while_the_store_is_down_is_a_clear_503(client, anna, fisksatra, inclusion_call, store):
    client.force_login(anna)
    draft(client, inclusion_call, organisation=fisksatra, attachment=pdf_upload())
    document = Document.objects.get()
    store.go_down()
    response = client.get(reverse("document", args=[document.pk]))
    assert response.status_code == 503
    assert DOWNLOAD_DOWN in response.content.decode()


def test_a_decision_letter_while_the_store_is_down_leaves_the_decision_and_says_so(decided, store):
    stored = store.keys()  # the receipt, made at submit
    store.go_down()
    assert decision_letter_send(decided.pk) is None
    decided.refresh_from_db()
    assert decided.application.status == Application.Status.APPROVED
    assert not Document.objects.filter(kind=Document.Kind.DECISION_LETTER).exists()
    event = CaseEvent.objects.get(application=decided.application, action="Beslutsbrev kunde inte skapas")
    assert "fillagringen inte svarar" in event.note
    assert store.keys() == stored
