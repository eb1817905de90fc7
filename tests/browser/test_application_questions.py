"""The programme's own questions in Chromium, with axe-core at desktop and mobile widths: Anna
opens the "Frågor" step of her draft, sends it empty and is told what to answer, answers,
and finds her answers on the check page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import Application
from grants.services import apply

from .conftest import MOBILE, checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = [
    {"key": "meeting_place", "label": "Var träffas ni?", "type": "text", "help": "Adress eller lokal."},
    {"key": "reach", "label": "Hur når ni nya deltagare?", "type": "textarea"},
    {"key": "participants", "label": "Hur många deltagare räknar ni med?", "type": "number"},
    {"key": "partner", "label": "Samarbetar ni med någon annan organisation?", "type": "yesno"},
    {"key": "district", "label": "Var i kommunen?", "type": "choice", "choices": ["Fisksätra", "Orminge", "Annat"]},
    {"key": "first_meeting", "label": "När är första träffen?", "type": "date", "required": False},
]


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_anna_answers_the_programmes_questions(page, anna, fisksatra, inclusion_call, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    programme = inclusion_call.programme
    programme.application_questions = QUESTIONS
    programme.save()
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp och fotboll",
        description="Läxhjälp en timme, sedan fotboll.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        stated_amount=Decimal("30000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("35000"))],
    )
    log_in(page, "anna")

    page.goto(f"/portal/ansokningar/{draft.pk}/steg/granska/")
    assert page.locator('[aria-current="step"]').inner_text() == "5. Granska och skicka in"
    assert "Svara på frågan ”Var träffas ni?” under Frågor." in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_role("link", name="Svara på frågan ”Var i kommunen?” under Frågor.").click()

    # The step, sent empty: what to answer, at the fields and at the top.
    assert page.locator('[aria-current="step"]').inner_text() == "2. Frågor"
    checked(page)
    page.get_by_role("button", name="Spara och fortsätt").click()
    summary = page.get_by_role("alert").inner_text()
    assert (
        "Något behöver rättas" in summary
        and "Svara på frågan ”Samarbetar ni med någon annan organisation?”." in summary
    )
    checked(page)
    page.get_by_role("link", name="Var i kommunen?").click()  # the summary's link leads to the question

    page.get_by_label("Var träffas ni?").fill("Fisksätra sporthall")
    page.get_by_label("Hur når ni nya deltagare?").fill("Genom skolan och föräldramöten.")
    page.get_by_label("Hur många deltagare räknar ni med?").fill("tjugo")
    page.get_by_role("group", name="Samarbetar ni med någon annan organisation?").get_by_label("Ja").check()
    page.get_by_role("group", name="Var i kommunen?").get_by_label("Orminge").check()
    page.get_by_role("button", name="Spara och fortsätt").click()
    assert "Skriv ett tal, t.ex. 12 eller 12,5." in page.get_by_role("alert").inner_text()
    checked(page)
    page.get_by_label("Hur många deltagare räknar ni med?").fill("20")
    page.get_by_role("button", name="Spara och fortsätt").click()

    assert page.locator('[aria-current="step"]').inner_text() == "3. Belopp"
    assert Application.objects.get().answers == {
        "meeting_place": "Fisksätra sporthall",
        "reach": "Genom skolan och föräldramöten.",
        "participants": "20",
        "partner": "ja",
        "district": "Orminge",
    }
    page.goto(f"/portal/ansokningar/{draft.pk}/steg/granska/")
    main = page.get_by_role("main").inner_text()
    for answer in ("Fisksätra sporthall", "Genom skolan och föräldramöten.", "Orminge", "Inte besvarad"):
        assert answer in main, answer
    checked(page)
    page.get_by_role("button", name="Skicka in ansökan").click()
    assert Application.objects.get().status == "submitted"
