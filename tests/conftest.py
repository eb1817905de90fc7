import datetime as dt
import shutil
import tempfile

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation

from . import factories


@pytest.fixture(autouse=True)
def media_root(settings):
    """Every test stores its files in a fresh folder of its own."""
    folder = tempfile.mkdtemp(prefix="grants-media-")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def swedish_to_start():
    """Every test starts in Swedish: a request in English (the language cookie) leaves English
    active in the thread, and a service called directly afterwards would speak it."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Every test starts with an empty cache: the rate limits count in it (config/ratelimit.py),
    and one test's registrations must not use up the next one's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(request, settings):
    """The suite makes hundreds of accounts: it hashes their passwords with MD5, which takes
    microseconds, unless a test is about the hashers themselves (marked real_hashers)."""
    if request.node.get_closest_marker("real_hashers") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def tasks_immediate(request, settings):
    """Background tasks run at once, in the test's process, unless the test is marked
    task_queue: those put them in the database queue, for a real db_worker to run."""
    if request.node.get_closest_marker("task_queue") is None:
        settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def anna(db):
    return factories.user("anna", first_name="Anna")


@pytest.fixture
def olle(db):
    return factories.user("olle", role="Handläggare", first_name="Olle")


@pytest.fixture
def otto(db):
    """A second officer, who takes over when Olle is jävig."""
    return factories.user("otto", role="Handläggare", first_name="Otto")


@pytest.fixture
def kim(db):
    return factories.user("kim", role="Beslutsfattare", first_name="Kim")


@pytest.fixture
def fia(db):
    return factories.user("fia", role="Ekonomi", first_name="Fia")


@pytest.fixture
def eve(db):
    return factories.user("eve", first_name="Eve")


@pytest.fixture
def fisksatra(anna):
    return factories.association(members=[anna])


@pytest.fixture
def inclusion_call(db):
    return factories.call(factories.programme("inkludering"))


@pytest.fixture
def activity_call(db):
    return factories.call(factories.programme("verksamhet"))


@pytest.fixture
def association_call(db):
    return factories.call(factories.programme("forening"))


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def pdf_bytes():
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def in_a_week(today):
    return today + dt.timedelta(days=7)
