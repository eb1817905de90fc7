"""A programme's own questions (grants.questions): the administrator configures them as data
and is told in Swedish what is wrong with a configuration; the portal asks them in a step of
their own, "Frågor", only when there are some; the answers are saved, checked on the check
page and before submission, and Olle reads them beside his task."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.urls import reverse
from django.utils import timezone

from grants import questions
from grants.models import Application, Programme
from grants.services import apply

from .. import staff

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {
        "key": "meeting_place",
        "label": "Var träffas ni?",
        "type": "text",
        "help": "Adress eller lokal.",
        "label_en": "Where do you meet?",
        "help_en": "Address or premises.",
    },
    {
        "key": "members_under_25",
        "label": "Hur många medlemmar är under 25 år?",
        "type": "number",
        "label_en": "How many members are under 25?",
    },
    {"key": "first_meeting", "label": "När är första träffen?", "type": "date", "required": False},
    {
        "key": "has_insurance",
        "label": "Har ni en olycksfallsförsäkring?",
        "type": "yesno",
        "label_en": "Do you have accident insurance?",
    },
    {
        "key": "district",
        "label": "Var i kommunen?",
        "type": "choice",
        "choices": ["Fisksätra", "Orminge", "Annat"],
        "choices_en": ["Fisksätra", "Orminge", "Elsewhere"],
        "label_en": "Where in the municipality?",
    },
]

ANSWERED = {
    "q_meeting_place": "Fisksätra sporthall",
    "q_members_under_25": "42",
    "q_first_meeting": "2026-09-15",
    "q_has_insurance": "ja",
    "q_district": "Orminge",
}


def step_url(application, step):
    return reverse("portal:step", args=[application.pk, step])


def html(response):
    return re.sub(r"(?<=\d)[\xa0\u202f](?=\d)", " ", response.content.decode())


def current_step(page):
    match = re.search(r'<li aria-current="step">([^<]*)</li>', page)
    return match and match.group(1).strip()


def details(organisation):
    return {
        "organisation": organisation.pk,
        "title": "Läxhjälp och fotboll",
        "description": "Läxhjälp en timme, sedan fotboll, två kvällar i veckan.",
        "period_start": "2026-08-25",
        "period_end": "2026-12-20",
    }


@pytest.fixture
def call_with_questions(inclusion_call):
    inclusion_call.programme.application_questions = QUESTIONS
    inclusion_call.programme.save()
    return inclusion_call


@pytest.fixture
def draft(client, anna, fisksatra, call_with_questions):
    """Anna's draft with step 1 saved; she is logged in."""
    client.force_login(anna)
    client.post(reverse("portal:apply", args=[call_with_questions.pk]), details(fisksatra))
    return Application.objects.get()


def complete_draft(application, anna, **answers):
    """The amount and budget saved, and the given answers: only the questions stop it."""
    apply.application_save_amount(
        application=application,
        by=anna,
        stated_amount=Decimal("30000"),
        budget_lines=[("cost", "Ledararvoden", Decimal("35000"))],
    )
    if answers:
        Application.objects.filter(pk=application.pk).update(answers=answers)
    application.refresh_from_db()
    return application


# --- the administrator's configuration ----------------------------------------------------------


@pytest.mark.parametrize(
    "config, message",
    [
        ({"key": "x"}, "Ange en lista med frågor"),
        ([{"label": "Var träffas ni?", "type": "text"}], 'Fråga 1: "key" saknas.'),
        ([{"key": "plats", "type": "text"}], 'Fråga 1 (”plats”): "label" saknas.'),
        ([{"key": "plats", "label": "Var?", "type": "essay"}], "Fråga 1 (”plats”): okänd typ ”essay”."),
        ([{"key": "plats", "label": "Var?"}], 'Fråga 1 (”plats”): "type" saknas.'),
        (
            [{"key": "plats", "label": "Var?", "type": "text"}, {"key": "plats", "label": "Var igen?", "type": "text"}],
            'Fråga 2 (”plats”): "key" används redan av fråga 1.',
        ),
        (
            [{"key": "omrade", "label": "Var?", "type": "choice"}],
            'Fråga 1 (”omrade”): en fråga av typen choice behöver "choices"',
        ),
        (
            [{"key": "omrade", "label": "Var?", "type": "choice", "choices": []}],
            'Fråga 1 (”omrade”): en fråga av typen choice behöver "choices"',
        ),
        (
            [{"key": "var träffas", "label": "Var?", "type": "text"}],
            'Fråga 1 (”var träffas”): "key" får bara innehålla bokstäver a–z, siffror, - och _',
        ),
        (
            [{"key": "plats", "label": "Var?", "type": "text", "required": "ja"}],
            'Fråga 1 (”plats”): "required" ska vara true eller false.',
        ),
        (
            [{"key": "plats", "label": "Var?", "type": "text", "lable_en": "Where?"}],
            "Fråga 1 (”plats”): okänd uppgift lable_en.",
        ),
        (
            [{"key": "omrade", "label": "Var?", "type": "choice", "choices": ["A", "B"], "choices_en": ["A"]}],
            'Fråga 1 (”omrade”): "choices_en" ska ha lika många val som "choices"',
        ),
    ],
)
def test_a_malformed_configuration_is_refused_naming_the_question(inclusion_call, config, message):
    programme = inclusion_call.programme
    programme.application_questions = config
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    errors = refused.value.message_dict["application_questions"]
    assert any(error.startswith(message) for error in errors), errors


def test_a_good_configuration_is_accepted_and_every_problem_is_listed(inclusion_call):
    programme = inclusion_call.programme
    programme.application_questions = QUESTIONS
    programme.full_clean()
    programme.application_questions = [{"key": "a", "type": "text"}, {"label": "B", "type": "text"}]
    with pytest.raises(ValidationError) as refused:
        programme.full_clean()
    assert len(refused.value.message_dict["application_questions"]) == 2


def test_the_admin_shows_the_questions_as_inputs_and_the_problems_at_them(client, inclusion_call):
    admin = User.objects.create_superuser("admin", "admin@example.org", "demo")
    client.force_login(admin)
    inclusion_call.programme.application_questions = QUESTIONS
    inclusion_call.programme.save()
    url = reverse("admin:grants_programme_change", args=[inclusion_call.programme.pk])
    page = client.get(url).content.decode()
    # Blocks of inputs, not JSON (grants.admin_rows; tests/grants/test_programme_admin_rows.py).
    assert 'name="questions-0-label"' in page and 'value="Var träffas ni?"' in page

    form = modelform_factory(Programme, fields=["application_questions"])(
        {"application_questions": '[{"key": "plats", "label": "Var?", "type": "choice"}]'},
        instance=inclusion_call.programme,
    )
    assert not form.is_valid()
    assert "Fråga 1 (”plats”): en fråga av typen choice behöver" in form.errors["application_questions"][0]


# --- the step ---------------------------------------------------------------------------------


def test_the_step_is_there_only_when_the_programme_has_questions(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    response = client.post(reverse("portal:apply", args=[inclusion_call.pk]), details(fisksatra))
    application = Application.objects.get()
    assert response.url == step_url(application, "belopp")
    page = html(client.get(response.url))
    assert "Frågor" not in page and current_step(page) == "2. Belopp"
    assert client.get(step_url(application, "fragor")).status_code == 404

    inclusion_call.programme.application_questions = QUESTIONS
    inclusion_call.programme.save()
    response = client.post(step_url(application, "sokande"), details(fisksatra))
    assert response.url == step_url(application, "fragor")
    page = html(client.get(response.url))
    assert current_step(page) == "2. Frågor" and "Steg 2 av 5: Frågor" in page
    assert f'<a href="{step_url(application, "belopp")}">3. Belopp</a>' in page


def test_anna_answers_the_questions_and_they_are_saved_and_shown_again(client, draft):
    page = html(client.get(step_url(draft, "fragor")))
    assert '<label for="id_q_meeting_place">Var träffas ni?</label>' in page
    assert 'id="id_q_meeting_place_helptext">Adress eller lokal. Högst 500 tecken.</span>' in page
    assert "När är första träffen? (frivilligt)" in page
    assert (
        '<fieldset class="field" id="id_q_has_insurance"' in page and "<legend>Har ni en olycksfallsförsäkring?" in page
    )

    response = client.post(step_url(draft, "fragor"), {**ANSWERED, "q_members_under_25": "42,0"})
    assert response.status_code == 302 and response.url == step_url(draft, "belopp")
    draft.refresh_from_db()
    assert draft.answers == {
        "meeting_place": "Fisksätra sporthall",
        "members_under_25": "42",
        "first_meeting": "2026-09-15",
        "has_insurance": "ja",
        "district": "Orminge",
    }
    page = html(client.get(step_url(draft, "fragor")))
    assert 'value="Fisksätra sporthall"' in page and 'value="2026-09-15"' in page
    assert re.search(r'<input type="radio" name="q_district" value="Orminge"[^>]*checked', page)

    # An optional answer cleared is gone; a decimal number is kept as written with a point.
    client.post(step_url(draft, "fragor"), {**ANSWERED, "q_first_meeting": "", "q_members_under_25": "12,5"})
    draft.refresh_from_db()
    assert "first_meeting" not in draft.answers and draft.answers["members_under_25"] == "12.5"


def test_wrong_answers_are_refused_in_swedish_at_the_field_and_in_the_summary(client, draft):
    response = client.post(
        step_url(draft, "fragor"),
        {
            **ANSWERED,
            "q_meeting_place": "",
            "q_members_under_25": "många",
            "q_first_meeting": "15 september",
            "q_district": "Tyresö",
            "q_has_insurance": "",
        },
    )
    assert response.status_code == 200
    page = html(response)
    summary = page[page.index('class="error-summary"') : page.index("</div>", page.index('class="error-summary"'))]
    assert '<a href="#id_q_meeting_place">Var träffas ni?</a>: Svara på frågan ”Var träffas ni?”.' in summary
    assert (
        '<a href="#id_q_members_under_25">Hur många medlemmar är under 25 år?</a>: Skriv ett tal, t.ex. 12 eller 12,5.'
    ) in summary
    assert "Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-09-15." in summary
    assert '<a href="#id_q_district">Var i kommunen?</a>: Välj ett av svaren på frågan ”Var i kommunen?”.' in summary
    assert '<a href="#id_q_has_insurance">' in summary
    assert '<p class="errorlist" id="id_q_members_under_25_error">Skriv ett tal, t.ex. 12 eller 12,5.</p>' in page
    assert 'aria-describedby="id_q_has_insurance_error"' in page
    draft.refresh_from_db()
    assert draft.answers == {}


def test_the_questions_are_in_english_for_an_applicant_reading_in_english(client, draft):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = html(client.get(step_url(draft, "fragor")))
    assert '<label for="id_q_meeting_place">Where do you meet?</label>' in page and "Address or premises." in page
    assert "Elsewhere" in page and "Var träffas ni?" not in page
    assert "När är första träffen?" in page  # no English label: the Swedish one
    client.post(step_url(draft, "fragor"), {**ANSWERED, "q_district": "Annat"})
    draft.refresh_from_db()
    assert draft.answers["district"] == "Annat"  # stored as the Swedish choice, whatever the language
    page = html(client.get(step_url(draft, "granska")))
    assert "<dt>Where in the municipality?</dt><dd>Elsewhere</dd>" in page


# --- the check page and submission ------------------------------------------------------------


def test_the_check_page_lists_every_question_and_answer_with_a_way_back(client, anna, draft):
    client.post(step_url(draft, "fragor"), {**ANSWERED, "q_first_meeting": ""})
    complete_draft(draft, anna)
    page = html(client.get(step_url(draft, "granska")))
    assert current_step(page) == "5. Granska och skicka in"
    for row in (
        "<dt>Var träffas ni?</dt><dd>Fisksätra sporthall</dd>",
        "<dt>Hur många medlemmar är under 25 år?</dt><dd>42</dd>",
        "<dt>När är första träffen?</dt><dd>Inte besvarad</dd>",
        "<dt>Har ni en olycksfallsförsäkring?</dt><dd>Ja</dd>",
        "<dt>Var i kommunen?</dt><dd>Orminge</dd>",
    ):
        assert row in page, row
    assert f'<a href="{step_url(draft, "fragor")}">Ändra<span class="skip">' in page
    assert "Innan du kan skicka in" not in page and "Skicka in ansökan</button>" in page


def test_a_missing_required_answer_stops_the_submission_naming_the_question(
    client, anna, draft, django_capture_on_commit_callbacks
):
    complete_draft(draft, anna, meeting_place="Fisksätra sporthall", has_insurance="nej")
    page = html(client.get(step_url(draft, "granska")))
    assert "Innan du kan skicka in" in page and "Skicka in ansökan</button>" not in page
    link = step_url(draft, "fragor")
    for key, label in (("members_under_25", "Hur många medlemmar är under 25 år?"), ("district", "Var i kommunen?")):
        assert f'<a href="{link}#id_q_{key}">Svara på frågan ”{label}” under Frågor.</a>' in page
    assert "”Var träffas ni?”" not in page and "”När är första träffen?”" not in page

    # Posted anyway: refused on the check page, nothing sent.
    response = client.post(reverse("portal:submit", args=[draft.pk]))
    assert response.status_code == 400 and "Svara på frågan ”Var i kommunen?” under Frågor." in html(response)
    draft.refresh_from_db()
    assert (draft.status, draft.case_number) == ("draft", "")

    # Answered: it goes.
    client.post(link, ANSWERED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == "submitted"


def test_an_answer_no_longer_among_the_choices_counts_as_missing(client, anna, draft):
    complete_draft(draft, anna, **{key[2:]: value for key, value in ANSWERED.items()})
    assert questions.missing_answers(draft.call.programme, draft.answers) == []
    draft.answers["district"] = "Tyresö"
    assert [q["key"] for q in questions.missing_answers(draft.call.programme, draft.answers)] == ["district"]


# --- who may --------------------------------------------------------------------------------------


def test_someone_from_another_organisation_cannot_reach_the_step(client, eve, draft):
    client.force_login(eve)
    assert client.get(step_url(draft, "fragor")).status_code == 404
    assert client.post(step_url(draft, "fragor"), ANSWERED).status_code == 404
    draft.refresh_from_db()
    assert draft.answers == {}


def test_a_sent_application_cannot_be_changed_in_the_step(client, anna, draft):
    complete_draft(draft, anna, **{key[2:]: value for key, value in ANSWERED.items()})
    apply.application_submit(application=draft, by=anna)
    response = client.post(step_url(draft, "fragor"), {**ANSWERED, "q_meeting_place": "Ändrat"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:application", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.answers["meeting_place"] == "Fisksätra sporthall"


def test_the_service_refuses_answers_the_questions_do_not_allow(anna, draft):
    with pytest.raises(ValidationError) as refused:
        apply.application_save_answers(application=draft, by=anna, answers={"members_under_25": "många"})
    assert "Hur många medlemmar är under 25 år?: Skriv ett tal, t.ex. 12 eller 12,5." in refused.value.messages
    assert "Var träffas ni?: Svara på frågan ”Var träffas ni?”." in refused.value.messages


# --- the officer ----------------------------------------------------------------------------------


def test_olle_reads_the_answers_beside_his_task_even_of_a_question_since_removed(client, anna, olle, draft):
    complete_draft(draft, anna, **{key[2:]: value for key, value in ANSWERED.items()})
    application = apply.application_submit(application=draft, by=anna)
    programme = application.call.programme
    programme.application_questions = [q for q in QUESTIONS if q["key"] != "meeting_place"]
    programme.save()

    client.force_login(olle)
    staff.claim(client, application, "check_completeness")
    page = html(staff.task_page(client, application, "check_completeness"))
    for row in (
        '<th scope="row">Hur många medlemmar är under 25 år?</th><td>42</td>',
        '<th scope="row">När är första träffen?</th><td>2026-09-15</td>',
        '<th scope="row">Har ni en olycksfallsförsäkring?</th><td>Ja</td>',
        '<th scope="row">Var i kommunen?</th><td>Orminge</td>',
        '<th scope="row">meeting_place</th><td>Fisksätra sporthall</td>',
    ):
        assert row in page, row


def test_a_decimal_answer_reads_with_a_decimal_comma(inclusion_call):
    question = QUESTIONS[1]
    assert questions.shown_answer(question, "12.5") == "12,5"
    assert questions.answer_rows([question], {}) == [("Hur många medlemmar är under 25 år?", "")]


def test_a_draft_saved_before_the_programme_had_questions_is_asked_for_them(client, anna, fisksatra, inclusion_call):
    today = timezone.localdate()
    application = apply.application_save_draft(
        call=inclusion_call,
        organisation=fisksatra,
        by=anna,
        title="Läxhjälp",
        description="Läxhjälp.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        stated_amount=Decimal("10000"),
        budget_lines=[("cost", "Ledare", Decimal("12000"))],
    )
    inclusion_call.programme.application_questions = QUESTIONS[:1]
    inclusion_call.programme.save()
    client.force_login(anna)
    page = html(client.get(step_url(application, "granska")))
    assert "Svara på frågan ”Var träffas ni?” under Frågor." in page
    assert client.post(reverse("portal:submit", args=[application.pk])).status_code == 400


# --- the demo -------------------------------------------------------------------------------------


def test_the_demos_programmes_have_valid_questions_and_its_sent_cases_answer_them():
    """Each demo programme asks one to three questions, in English too; the answers the demo
    gives its sent applications leave none missing (load_demo itself is tested in test_load_demo)."""
    from types import SimpleNamespace

    from workflows.management.commands import load_demo

    programme_of_call = {key: programme for key, programme, *_rest in load_demo.CALLS + load_demo.PREVIOUS_YEAR_CALLS}
    for spec in load_demo.PROGRAMMES:
        asked = spec["application_questions"]
        questions.validate_questions(asked)
        assert 1 <= len(asked) <= 3 and all(q.get("label_en") for q in asked), spec["key"]
        programme = SimpleNamespace(application_questions=asked)
        for case in load_demo.CASES:
            if programme_of_call[case.call] != spec["key"] or case.until in ("draft", "withdrawn"):
                continue
            app = SimpleNamespace(
                call=SimpleNamespace(programme=programme), organisation=SimpleNamespace(district="Fisksätra")
            )
            assert questions.missing_answers(programme, load_demo.Demo.answers(case, app)) == [], case.title


def test_the_submit_service_itself_refuses_a_missing_required_answer(anna, draft):
    """Not only the check page: a submission by any other road is refused the same way."""
    complete_draft(draft, anna, meeting_place="Fisksätra sporthall")
    with pytest.raises(ValidationError) as refused:
        apply.application_submit(application=draft, by=anna)
    assert "Svara på frågan ”Hur många medlemmar är under 25 år?” under Frågor." in refused.value.messages
    assert "Svara på frågan ”När är första träffen?” under Frågor." not in refused.value.messages  # optional
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT and draft.case_number == ""


def test_anna_reads_her_answers_on_the_case_page(client, anna, draft):
    complete_draft(draft, anna, **{key[2:]: value for key, value in ANSWERED.items() if key != "q_first_meeting"})
    application = apply.application_submit(application=draft, by=anna)
    page = html(client.get(reverse("portal:application", args=[application.pk])))
    assert "<dt>Var träffas ni?</dt><dd>Fisksätra sporthall</dd>" in page
    assert "<dt>När är första träffen?</dt><dd>Inte besvarad</dd>" in page
