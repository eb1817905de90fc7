"""The staff interface's own chrome (viewflow's menu, buttons and messages) is Swedish, like
our pages: viewflow ships no sv catalogue, ours is locale/sv (compiled by `make messages`)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from workflows.flows import GrantFlow

from ..test_query_counts import _submitted_cases

pytestmark = pytest.mark.django_db

COMPILED = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


@pytest.fixture(autouse=True)
def compiled_catalogue():
    if not COMPILED.exists():
        pytest.fail(f"{COMPILED.relative_to(settings.BASE_DIR)} is missing: run `make messages`")


def _visible_text(html):
    """The page's words, without its markup, scripts and styles (where English names of
    classes and attributes may stand)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _has_word(word, text):
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def test_queue_and_assign_pages_speak_swedish(client, anna, olle, fisksatra, inclusion_call):
    (application,) = _submitted_cases(1, inclusion_call, fisksatra, anna)
    task = application.process.task_set.get(flow_task_type="HUMAN")
    client.force_login(olle)

    queue = _visible_text(client.get("/staff/cases/grant/queue/").content.decode())
    assert application.case_number in queue
    for swedish in ("Att ta", "Mina uppgifter", "Arkiv", "Översikt", "Tillbaka", "Uppgift", "Skapad"):
        assert swedish in queue, swedish
    for english in ("Inbox", "Queue", "Archive", "Dashboard", "Back", "Task", "Created"):
        assert not _has_word(english, queue), english

    assign_url = f"/staff/cases/grant/{task.process_id}/check_completeness/{task.pk}/assign/"
    assign = _visible_text(client.get(assign_url).content.decode())
    assert "Ta uppgiften" in assign and "Ta uppgiften och fortsätt" in assign
    for english in ("Assign", "Inbox", "Queue"):
        assert not _has_word(english, assign), english

    # Taking the task: viewflow's message says so in Swedish, and the task is now in Olle's inbox.
    taken = client.post(assign_url, follow=True)
    message = " ".join(str(m) for m in taken.context["messages"])
    assert "Uppgiften" in message and "är nu din" in message and "has been assigned" not in message
    task.refresh_from_db()
    assert task.owner == olle

    execute = _visible_text(
        client.get(f"/staff/cases/grant/{task.process_id}/check_completeness/{task.pk}/execute/").content.decode()
    )
    assert "Mina uppgifter" in execute and "Till ärendet" in execute
    assert not _has_word("Execute", execute) and not _has_word("Inbox", execute)


# English that viewflow, django_tasks_db and django-otp put on the staff pages and in the
# admin, and that a Swedish officer or administrator must not meet (issue 15).
ENGLISH_ON_STAFF_PAGES = (
    "End",
    "1-10 of",
    "of 1",
    "Process id",
    "Brief",
    "Process summary",
    "Process brief",
    "Active tasks",
    "downloadBPMN",
    "BPMN",
    "Owner",
    "Permission",
    "Unassigned",
    "Open navigation menu",
    "flow graph",
)
ENGLISH_IN_ADMIN = (
    "Case events",
    "Case event",
    "Task Results",
    "Tasks Database Backend",
    "TOTP",
    "Otp_",
    "static device",
)


def _closed_case(olle, anna, fisksatra, call):
    from decimal import Decimal

    from grants.services import assess, decide

    (application,) = _submitted_cases(1, call, fisksatra, anna)
    assess.completeness_confirm(application=application, by=olle)
    assess.assessment_record(
        application=application,
        by=olle,
        no_conflict=True,
        proposal="rejected",
        proposed_amount=Decimal("0"),
        justification="Utanför bidragets syfte.",
    )
    decide.decision_make(
        application=application, by=olle, outcome="rejected", amount=Decimal("0"), reasons="Utanför bidragets syfte."
    )
    return application


def test_viewflow_pages_have_no_english_left(client, anna, olle, fisksatra, inclusion_call):
    closed = _closed_case(olle, anna, fisksatra, inclusion_call)
    (waiting,) = _submitted_cases(1, inclusion_call, fisksatra, anna)
    task = waiting.process.task_set.get(flow_task_type="HUMAN")
    client.force_login(olle)
    base = "/staff/cases/grant/"
    pages = {
        "work list": "/staff/arenden/",
        "queue": f"{base}queue/",
        "inbox": f"{base}inbox/",
        "archive": f"{base}archive/",
        "process list": f"{base}flows/",
        "closed case": f"{base}{closed.process.pk}/",
        "waiting case": f"{base}{waiting.process.pk}/",
        "task detail": f"{base}{task.process_id}/check_completeness/{task.pk}/detail/",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        text = _visible_text(response.content.decode())
        for english in ENGLISH_ON_STAFF_PAGES:
            assert not _has_word(english, text), (name, english)
        assert 'lang="sv"' in response.content.decode(), name
    # The end of the flow is "Avslutat" wherever viewflow names it (the flow chart, a task list).
    assert str(GrantFlow.end.task_title) == "Avslutat"
    assert re.search(r"\d+–\d+ av \d+", _visible_text(client.get(pages["archive"]).content.decode()))


def test_admin_names_are_swedish(client, db):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("ada", "ada@example.se", "demo")
    client.force_login(admin)
    index = _visible_text(client.get("/admin/").content.decode())
    for swedish in ("Ärendehändelser", "Bakgrundsjobb", "Autentiseringsappar"):
        assert swedish in index, swedish
    for english in ENGLISH_IN_ADMIN:
        assert not _has_word(english, index), english
    changelist = _visible_text(client.get("/admin/django_tasks_database/dbtaskresult/").content.decode())
    assert not _has_word("Task Result", changelist)
