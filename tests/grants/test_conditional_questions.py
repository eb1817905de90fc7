"""Conditional application questions ("show_if", issue 18): the configuration names an
earlier question and its answer; the "Frågor" step shows a follow-up question only when the
saved answer holds, without JavaScript (it re-renders after saving); a hidden question is
not required, by the step, by the check page or by the submission."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from grants import questions
from grants.models import Application
from grants.services import apply

from .. import factories

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"key": "partner", "label": "Samarbetar ni med någon annan organisation?", "type": "yesno"},
    {
        "key": "partner_name",
        "label": "Vilken organisation?",
        "label_en": "Which organisation?",
        "type": "text",
        "show_if": {"question": "partner", "equals": "ja"},
    },
    {"key": "meeting_place", "label": "Var träffas ni?", "type": "text"},
]


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def draft(anna, fisksatra, inclusion_call):
    inclusion_call.programme.application_questions = QUESTIONS
    inclusion_call.programme.save()
    return factories.draft(inclusion_call, fisksatra, anna)


def step_url(application):
    return reverse("portal:step", args=[application.pk, "fragor"])


# --- the configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"question": "meeting_place", "equals": "ja"}, "ska gälla en fråga före denna; ”meeting_place”"),
        ({"question": "nowhere", "equals": "ja"}, "”nowhere” finns inte före den"),
        ({"question": "partner", "equals": "kanske"}, 'ja/nej-fråga, så "equals" ska vara "ja" eller "nej"'),
        ({"question": "partner"}, '"show_if" ska vara'),
        ({"question": "partner", "equals": ""}, '"show_if" behöver "equals"'),
        ("partner", '"show_if" ska vara'),
    ],
)
def test_a_condition_must_name_an_earlier_question_and_a_possible_answer(inclusion_call, condition, message):
    config = [dict(q) for q in QUESTIONS]
    config[1]["show_if"] = condition
    programme = inclusion_call.programme
    programme.application_questions = config
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    errors = refused.value.message_dict["application_questions"]
    assert any(message in error and error.startswith("Fråga 2 (”partner_name”)") for error in errors), errors


def test_a_condition_on_a_choice_must_be_one_of_its_choices(inclusion_call):
    programme = inclusion_call.programme
    programme.application_questions = [
        {"key": "area", "label": "Var?", "type": "choice", "choices": ["Fisksätra", "Orminge"]},
        {"key": "room", "label": "Vilken lokal?", "type": "text", "show_if": {"question": "area", "equals": "Boo"}},
    ]
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    assert (
        'Fråga 2 (”room”): "equals" ska vara ett av valen i ”area”: Fisksätra, Orminge.'
        in (refused.value.message_dict["application_questions"])
    )
    programme.application_questions[1]["show_if"]["equals"] = "Orminge"
    programme.full_clean()


# --- visibility and what is required -----------------------------------------------------------


def test_a_hidden_question_is_not_required_and_a_shown_one_is(inclusion_call):
    inclusion_call.programme.application_questions = QUESTIONS
    programme = inclusion_call.programme
    missing = questions.missing_answers(programme, {"partner": "nej", "meeting_place": "Hallen"})
    assert missing == []
    missing = questions.missing_answers(programme, {"partner": "ja", "meeting_place": "Hallen"})
    assert [q["key"] for q in missing] == ["partner_name"]
    assert questions.visible_keys(programme.application_questions, {}) == {"partner", "meeting_place"}


def test_submission_asks_for_the_follow_up_only_when_it_is_shown(anna, draft):
    apply.application_save_answers(application=draft, by=anna, answers={"partner": "ja", "meeting_place": "Hallen"})
    draft.refresh_from_db()
    assert "Svara på frågan ”Vilken organisation?” under Frågor." in apply.check_submittable(draft)
    draft.refresh_from_db()
    apply.application_save_answers(
        application=draft, by=anna, answers={"partner": "nej", "partner_name": "IFK", "meeting_place": "Hallen"}
    )
    draft.refresh_from_db()
    # The answer to the hidden question is not kept, and nothing is missing.
    assert draft.answers == {"partner": "nej", "meeting_place": "Hallen"}
    assert not any("Frågor" in problem for problem in apply.check_submittable(draft))
    assert apply.application_submit(application=draft, by=anna).case_number


# --- the step, without JavaScript ---------------------------------------------------------------


def test_the_step_shows_the_follow_up_question_after_the_answer_is_saved(client, anna, draft):
    client.force_login(anna)
    page = text(client.get(step_url(draft)))
    assert "Samarbetar ni" in page and "Vilken organisation?" not in page
    assert "Spara och visa följdfrågor" in page
    assert "<script" not in page.split("<main", 1)[-1]

    # "Ja" to the condition: saved, and the step stays to show the follow-up question.
    response = client.post(
        step_url(draft), {"q_partner": "ja", "q_meeting_place": "Hallen", "shown_questions": "meeting_place partner"}
    )
    assert response.status_code == 302 and response.url == step_url(draft)
    page = text(client.get(response.url))
    assert "Vilken organisation?" in page
    assert "Svara också på följdfrågorna som visas nu." in page
    assert Application.objects.get(pk=draft.pk).answers == {"partner": "ja", "meeting_place": "Hallen"}

    # Shown and left empty it is required.
    shown = "meeting_place partner partner_name"
    response = client.post(step_url(draft), {"q_partner": "ja", "q_meeting_place": "Hallen", "shown_questions": shown})
    assert response.status_code == 200
    assert "Svara på frågan ”Vilken organisation?”." in text(response)

    response = client.post(
        step_url(draft),
        {"q_partner": "ja", "q_partner_name": "Fisksätra IF", "q_meeting_place": "Hallen", "shown_questions": shown},
    )
    assert response.status_code == 302 and response.url.endswith("/belopp/")
    assert Application.objects.get(pk=draft.pk).answers["partner_name"] == "Fisksätra IF"

    # Changed to "nej": the follow-up goes, with its answer, and the step goes on.
    response = client.post(
        step_url(draft),
        {"q_partner": "nej", "q_partner_name": "Fisksätra IF", "q_meeting_place": "Hallen", "shown_questions": shown},
    )
    assert response.status_code == 302 and response.url.endswith("/belopp/")
    assert Application.objects.get(pk=draft.pk).answers == {"partner": "nej", "meeting_place": "Hallen"}
    assert "Vilken organisation?" not in text(client.get(step_url(draft)))


def test_the_show_button_saves_and_stays(client, anna, draft):
    client.force_login(anna)
    response = client.post(
        step_url(draft),
        {"q_partner": "nej", "q_meeting_place": "Hallen", "shown_questions": "meeting_place partner", "action": "show"},
    )
    assert response.status_code == 302 and response.url == step_url(draft)
    assert Application.objects.get(pk=draft.pk).answers == {"partner": "nej", "meeting_place": "Hallen"}


def test_the_check_page_leaves_out_hidden_questions(client, anna, draft):
    apply.application_save_answers(application=draft, by=anna, answers={"partner": "nej", "meeting_place": "Hallen"})
    client.force_login(anna)
    page = text(client.get(reverse("portal:step", args=[draft.pk, "granska"])))
    assert "Samarbetar ni" in page and "Vilken organisation?" not in page
    assert draft.requested_amount == Decimal("40000")
