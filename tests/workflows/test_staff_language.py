"""The staff interface's own chrome (viewflow's menu, buttons and messages) is Swedish, like
our pages: viewflow ships no sv catalogue, ours is locale/sv (compiled by `make messages`)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

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
