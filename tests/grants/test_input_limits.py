"""Issue 12, bad input: a project period far outside the call, amounts as Swedes write them,
texts and counts without limits. Each is refused at the field with a clear Swedish message
and changes nothing, on every route (the portal's steps, the services, submission)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, CaseNumberSeries, FollowUpReport
from grants.services import apply, follow_up
from workflows.models import GrantProcess

from .. import factories
from ..staff import draft
from .test_bad_input import make_draft, snapshot

pytestmark = pytest.mark.django_db

AMOUNT_HELP = "Skriv beloppet i kronor, t.ex. 12 500 eller 12 500,50."


def amount_post(client, application, amount, budget_amount="50000"):
    return client.post(
        reverse("portal:step", args=[application.pk, "belopp"]),
        {
            "requested_amount": amount,
            "budget-TOTAL_FORMS": "1",
            "budget-INITIAL_FORMS": "0",
            "budget-0-kind": "cost",
            "budget-0-label": "Ledararvoden",
            "budget-0-amount": budget_amount,
        },
    )


# --- the project period -----------------------------------------------------------------


def test_a_period_from_year_1_to_9999_is_refused_at_the_fields_and_nothing_is_saved(
    client, anna, fisksatra, inclusion_call
):
    client.force_login(anna)
    response = draft(client, inclusion_call, organisation=fisksatra, period=("0001-01-01", "9999-12-31"))
    assert response.status_code == 200
    page = response.content.decode()
    earliest = inclusion_call.opens_on.replace(year=inclusion_call.opens_on.year - 1)
    latest = inclusion_call.closes_on.replace(year=inclusion_call.closes_on.year + 5)
    assert f"Periodens början kan vara tidigast {earliest:%Y-%m-%d}, ett år innan utlysningen öppnade." in page
    assert f"Periodens slut kan vara senast {latest:%Y-%m-%d}, fem år efter att utlysningen stänger." in page
    # At the fields, and the date pickers offer only what is allowed.
    assert 'id="id_period_start_error"' in page and 'id="id_period_end_error"' in page
    assert f'min="{earliest:%Y-%m-%d}"' in page and f'max="{latest:%Y-%m-%d}"' in page
    assert not Application.objects.exists()


def test_the_period_is_refused_in_english_too(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    client.cookies["django_language"] = "en"
    response = draft(client, inclusion_call, organisation=fisksatra, period=("2026-01-01", "9999-12-31"))
    assert "The period can end at the latest on" in response.content.decode()
    assert not Application.objects.exists()


def test_the_draft_service_refuses_such_a_period(anna, fisksatra, inclusion_call):
    with pytest.raises(ValidationError) as caught:
        apply.application_save_draft(
            call=inclusion_call,
            organisation=fisksatra,
            by=anna,
            title="Läxhjälp",
            description="Läxhjälp.",
            period_start=dt.date(1, 1, 1),
            period_end=dt.date(9999, 12, 31),
            stated_amount=Decimal("40000"),
        )
    assert set(caught.value.message_dict) == {"period_start", "period_end"}
    assert not Application.objects.exists()


def test_a_draft_saved_with_such_a_period_before_the_rule_is_refused_at_submit(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    Application.objects.filter(pk=application.pk).update(
        period_start=dt.date(1, 1, 1), period_end=dt.date(9999, 12, 31)
    )
    before = snapshot(application)
    client.force_login(anna)
    response = client.post(reverse("portal:submit", args=[application.pk]))
    assert response.status_code == 400
    assert "Periodens slut kan vara senast" in response.content.decode()
    assert snapshot(application) == before
    assert not GrantProcess.objects.exists()
    assert not CaseNumberSeries.objects.filter(last_number__gt=0).exists()
    # No other route gets it through either.
    with pytest.raises(ValidationError, match="Periodens början kan vara tidigast"):
        apply.application_submit(application=application, by=anna)
    assert snapshot(application) == before


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("1 000,50", "1000.50"),
        ("1000,50 kr", "1000.50"),
        ("1 000 kr", "1000.00"),
        ("1\u00a0000,50", "1000.50"),
        ("1\u2009000", "1000.00"),
        ("1\u202f000 kr", "1000.00"),
        ("1000.50", "1000.50"),
        ("12 500", "12500.00"),
        (" 40000 ", "40000.00"),
        ("40 000,5", "40000.50"),
        ("100 000 KR", "100000.00"),
    ],
)
def test_amounts_are_taken_as_swedes_write_them(client, anna, fisksatra, inclusion_call, typed, amount):
    application = make_draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    response = amount_post(client, application, typed, budget_amount=typed)
    assert response.status_code == 302, response.content.decode()[-3000:]
    application.refresh_from_db()
    assert application.requested_amount == Decimal(amount)
    assert [line.amount for line in application.budget_lines.all()] == [Decimal(amount)]


@pytest.mark.parametrize(
    "typed", ["tio tusen", "1,000.50", "12.500,50", "1 00 0", "1000,505", "-500", "1e5", "1000 SEK", "kr"]
)
def test_other_amounts_are_refused_with_an_example_and_nothing_is_saved(client, anna, fisksatra, inclusion_call, typed):
    application = make_draft(inclusion_call, fisksatra, anna)
    before = snapshot(application)
    client.force_login(anna)
    response = amount_post(client, application, typed)
    assert response.status_code == 200
    assert AMOUNT_HELP in response.content.decode()
    assert snapshot(application) == before
    assert [line.amount for line in Application.objects.get().budget_lines.all()] == [Decimal("50000")]


def test_the_amount_step_shows_the_saved_amount_as_it_is_written(client, anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna, amount="40000.50")
    client.force_login(anna)
    page = client.get(reverse("portal:step", args=[application.pk, "belopp"])).content.decode()
    assert 'value="40 000,50"' in page and 'inputmode="decimal"' in page


def test_the_follow_up_reports_amounts_are_taken_as_swedes_write_them(
    client, anna, olle, fia, fisksatra, inclusion_call
):
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    line = application.budget_lines.get(kind="cost")
    client.force_login(anna)
    data = factories.report_form_data(
        application, action="save", own_contribution="2 500 kr", **{f"actual_{line.pk}": "47 500,50"}
    )
    response = client.post(reverse("portal:follow_up", args=[application.pk]), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    report = FollowUpReport.objects.get(application=application)
    assert report.own_contribution == Decimal("2500")
    assert [row.actual for row in report.cost_lines.all()] == [Decimal("47500.50")]

    response = client.post(reverse("portal:follow_up", args=[application.pk]), {**data, "own_contribution": "2.500,00"})
    assert response.status_code == 400 and AMOUNT_HELP in response.content.decode()
    assert FollowUpReport.objects.get(application=application).own_contribution == Decimal("2500")


# --- lengths of text --------------------------------------------------------------------


def test_a_200_kb_description_is_refused_with_the_limit_named_and_nothing_is_saved(
    client, anna, fisksatra, inclusion_call
):
    client.force_login(anna)
    page = client.get(reverse("portal:apply", args=[inclusion_call.pk])).content.decode()
    assert "Högst 8\u00a0000 tecken." in page and 'maxlength="8000"' in page
    response = client.post(
        reverse("portal:apply", args=[inclusion_call.pk]),
        {
            "organisation": fisksatra.pk,
            "title": "Läxhjälp",
            "description": "Läxhjälp varje vecka." * 10_000,
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    )
    assert response.status_code == 200
    assert "Högst 8000 tecken; texten har 210000. Korta den." in response.content.decode()
    assert not Application.objects.exists()


def test_the_draft_service_refuses_a_description_over_the_limit(anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    before = snapshot(application)
    with pytest.raises(ValidationError) as caught:
        apply.application_save_details(
            application=application,
            call=inclusion_call,
            organisation=fisksatra,
            by=anna,
            title="Läxhjälp",
            description="x" * 8001,
            period_start=application.period_start,
            period_end=application.period_end,
        )
    assert "description" in caught.value.message_dict
    assert snapshot(application) == before
    assert Application.objects.get().description == "Läxhjälp för barn."


def test_a_budget_line_label_over_the_limit_is_refused_by_the_service(anna, fisksatra, inclusion_call):
    application = make_draft(inclusion_call, fisksatra, anna)
    with pytest.raises(ValidationError):
        apply.application_save_amount(
            application=application,
            by=anna,
            stated_amount=Decimal("40000"),
            budget_lines=[("cost", "L" * 201, Decimal("50000"))],
        )
    assert [line.label for line in Application.objects.get().budget_lines.all()] == ["Ledararvoden"]


@pytest.mark.parametrize(
    "step, field, limit",
    [
        ("sokande", "title", 200),
        ("sokande", "description", 8000),
        ("belopp", "budget-0-label", 200),
    ],
)
def test_each_text_of_the_application_shows_its_limit(client, anna, fisksatra, inclusion_call, step, field, limit):
    application = make_draft(inclusion_call, fisksatra, anna)
    client.force_login(anna)
    page = client.get(reverse("portal:step", args=[application.pk, step])).content.decode()
    assert re.search(f'name="{field}"[^>]*maxlength="{limit}"', page)
    assert f"Högst {limit:,} tecken.".replace(",", "\u00a0") in page


def test_a_too_long_completion_answer_is_refused_and_the_case_still_awaits_completion(
    anna, olle, fisksatra, inclusion_call, in_a_week
):
    from grants.services import assess

    application = apply.application_submit(application=make_draft(inclusion_call, fisksatra, anna), by=anna)
    assess.completion_request(application=application, by=olle, message="Skicka protokollet.", due_on=in_a_week)
    before = snapshot(application)
    with pytest.raises(ValidationError, match="Högst 5000 tecken"):
        apply.completion_answer(application=application, by=anna, answer="x" * 5001)
    assert snapshot(application) == before


def test_a_too_long_follow_up_text_is_refused_at_its_field(client, anna, olle, fia, fisksatra, inclusion_call):
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    client.force_login(anna)
    page = client.get(reverse("portal:follow_up", args=[application.pk])).content.decode()
    assert "Högst 5\u00a0000 tecken." in page
    data = factories.report_form_data(application, what_was_done="x" * 5001)
    response = client.post(reverse("portal:follow_up", args=[application.pk]), data)
    assert response.status_code == 400
    assert 'id="id_what_was_done_error"' in response.content.decode()
    assert FollowUpReport.objects.get(application=application).status == "due"
    with pytest.raises(ValidationError):
        follow_up.follow_up_save_draft(
            report=FollowUpReport.objects.get(application=application), by=anna, outcome="y" * 5001
        )
    assert FollowUpReport.objects.get(application=application).outcome == ""


# --- counts -----------------------------------------------------------------------------


def test_a_calculators_counts_have_plausible_maxima(client, anna, fisksatra, association_call):
    application = apply.application_save_details(
        call=association_call,
        organisation=fisksatra,
        by=anna,
        title="Fotboll",
        description="Träningar.",
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + dt.timedelta(days=180),
    )
    client.force_login(anna)
    response = client.post(
        reverse("portal:step", args=[application.pk, "belopp"]),
        {"input_sessions": "1000000", "input_participants": "12"},
    )
    assert response.status_code == 200
    assert "Högst 1\u00a0000." in response.content.decode()
    assert Application.objects.get().inputs == {}
    with pytest.raises(ValidationError, match="Antal sammankomster"):
        apply.application_save_amount(
            application=application, by=anna, inputs={"sessions": 1_000_000, "participants": 12}
        )
    assert Application.objects.get().inputs == {}


def test_the_follow_up_reports_counts_have_plausible_maxima(anna, olle, fia, fisksatra, inclusion_call):
    inclusion_call.programme.follow_up_parts = ["participants_by_age_gender", "sessions"]
    inclusion_call.programme.save()
    application = factories.report_owed(inclusion_call, fisksatra, anna, olle, fia)
    report = FollowUpReport.objects.get(application=application)
    with pytest.raises(ValidationError, match="högst 10 000"):
        follow_up.follow_up_save_draft(report=report, by=anna, participants_by_group={"7–12": {"girls": 10_001}})
    with pytest.raises(ValidationError, match="högst 1 000"):
        follow_up.follow_up_save_draft(report=report, by=anna, sessions=1001)
    report.refresh_from_db()
    assert report.participants_by_group == {} and report.sessions is None and report.saved_at is None
