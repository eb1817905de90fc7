"""A repeat application: a new draft to this year's call made from the association's
application of last year to the same programme, and the portal's way to it."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from grants.models import Application, Call, OrganisationFile
from grants.services import apply

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(db):
    return factories.programme(
        "verksamhet",
        priority_areas=["Barn och unga", "Trygghet"],
        target_groups=["Flickor 7–16 år", "Alla"],
        application_questions=[{"key": "leaders", "label": "Hur många ledare har ni?", "type": "text"}],
    )


@pytest.fixture
def previous(programme, fisksatra, anna, olle):
    old_call = factories.call(programme)
    application = apply.application_save_draft(
        call=old_call,
        organisation=fisksatra,
        by=anna,
        title="Verksamhet för barn och unga",
        description="Fotboll och innebandy, tre kvällar i veckan.",
        period_start=dt.date.today(),
        period_end=dt.date.today() + dt.timedelta(days=180),
        inputs={"members": 40},
        budget_lines=[("cost", "Hallhyra", Decimal("12000")), ("income", "Medlemsavgifter", Decimal("4000"))],
        priority_area="Trygghet",
        target_group="Flickor 7–16 år",
    )
    apply.application_save_answers(application=application, by=anna, answers={"leaders": "Sex"})
    return last_years_application_from(application, anna)


def last_years_application_from(draft, anna):
    application = apply.application_submit(application=draft, by=anna)
    today = dt.date.today()
    Call.objects.filter(pk=application.call_id).update(
        year=today.year - 1, opens_on=today - dt.timedelta(days=400), closes_on=today - dt.timedelta(days=340)
    )
    return Application.objects.get(pk=application.pk)


@pytest.fixture
def this_year(programme):
    return factories.call(programme)


def test_the_new_draft_copies_the_previous_application_with_the_period_a_year_on(previous, this_year, anna, fisksatra):
    draft = apply.application_start_from(call=this_year, organisation=fisksatra, by=anna, previous=previous)

    assert draft.status == Application.Status.DRAFT and draft.call == this_year and not draft.case_number
    assert (draft.title, draft.description) == (previous.title, previous.description)
    assert draft.answers == {"leaders": "Sex"}
    assert draft.inputs == {"members": 40}
    assert draft.requested_amount == Decimal("11000.00")  # 5 000 + 40 × 150
    assert sorted((line.kind, line.label, line.amount) for line in draft.budget_lines.all()) == [
        ("cost", "Hallhyra", Decimal("12000.00")),
        ("income", "Medlemsavgifter", Decimal("4000.00")),
    ]
    assert draft.period_start == previous.period_start.replace(year=previous.period_start.year + 1)
    assert draft.period_end == previous.period_end.replace(year=previous.period_end.year + 1)
    assert (draft.priority_area, draft.target_group) == ("Trygghet", "Flickor 7–16 år")
    assert draft.events.get().note == f"Från ansökan {previous.case_number}"
    assert apply.check_submittable(draft) == []
    # The previous application is left as it was.
    assert previous.budget_lines.count() == 2 and Application.objects.get(pk=previous.pk).status == "submitted"


def test_choices_the_programme_no_longer_offers_are_dropped(previous, this_year, programme, anna, fisksatra):
    programme.priority_areas = ["Barn och unga"]
    programme.target_groups = ["Alla", "Flickor 7–16 år"]
    programme.save()
    draft = apply.application_start_from(call=this_year, organisation=fisksatra, by=anna, previous=previous)
    assert (draft.priority_area, draft.target_group) == ("", "Flickor 7–16 år")


def test_a_period_that_does_not_fit_the_call_becomes_the_calls_year(previous, this_year, anna, fisksatra):
    # A period long ago: a year on, it still starts before the earliest the call allows.
    Application.objects.filter(pk=previous.pk).update(
        period_start=dt.date(2015, 1, 1), period_end=dt.date(2015, 12, 31)
    )
    previous.refresh_from_db()
    draft = apply.application_start_from(call=this_year, organisation=fisksatra, by=anna, previous=previous)
    assert (draft.period_start, draft.period_end) == (dt.date(this_year.year, 1, 1), dt.date(this_year.year, 12, 31))
    assert apply.period_problems(this_year, draft.period_start, draft.period_end) == {}


def test_another_associations_application_cannot_be_used(previous, this_year, eve, client):
    other = factories.association(name="Saltsjöbadens SK", org_number="802420-1231", members=[eve])
    with pytest.raises(PermissionDenied):
        apply.application_start_from(call=this_year, organisation=other, by=eve, previous=previous)
    client.force_login(eve)
    response = client.post(reverse("portal:apply_from", args=[this_year.pk]), {"previous": previous.pk})
    assert response.status_code == 404
    assert Application.objects.filter(call=this_year).count() == 0


def test_a_draft_is_not_offered_nor_used(programme, this_year, anna, fisksatra, client):
    old_call = factories.call(programme)
    draft = factories.draft(old_call, fisksatra, anna)
    Call.objects.filter(pk=old_call.pk).update(year=this_year.year - 1)
    assert apply.earlier_applications(call=this_year, organisations=[fisksatra]) == []
    with pytest.raises(ValidationError):
        apply.application_start_from(call=this_year, organisation=fisksatra, by=anna, previous=draft)
    client.force_login(anna)
    page = client.get(reverse("portal:apply", args=[this_year.pk])).content.decode()
    assert "Börja från" not in page and 'name="title"' in page  # straight to the blank form


def test_an_application_to_another_programme_cannot_be_used(previous, anna, fisksatra):
    other_call = factories.call(factories.programme("forening"))
    assert apply.earlier_applications(call=other_call, organisations=[fisksatra]) == []
    with pytest.raises(ValidationError):
        apply.application_start_from(call=other_call, organisation=fisksatra, by=anna, previous=previous)


def test_the_apply_page_offers_the_previous_application_and_lands_on_the_check_page(
    previous, this_year, anna, fisksatra, client
):
    OrganisationFile.objects.create(
        organisation=fisksatra,
        kind=OrganisationFile.Kind.STATUTES,
        filename="stadgar.pdf",
        content_type="application/pdf",
        storage_key="profile/stadgar-1.pdf",
        sha256="0" * 64,
        uploaded_by=anna,
    )
    client.force_login(anna)
    page = client.get(reverse("portal:apply", args=[this_year.pk])).content.decode()
    assert f"Börja från förra årets ansökan ({previous.case_number})" in page
    assert "Börja med en tom ansökan" in page
    blank = client.get(reverse("portal:apply", args=[this_year.pk]) + "?tom=1").content.decode()
    assert 'name="title"' in blank and "Börja från" not in blank

    response = client.post(reverse("portal:apply_from", args=[this_year.pk]), {"previous": previous.pk}, follow=True)
    draft = Application.objects.get(call=this_year)
    assert response.redirect_chain[-1][0] == reverse("portal:step", args=[draft.pk, "granska"])
    page = re.sub(r"(?<=\d)[\xa0\u202f](?=\d)", " ", response.content.decode())
    assert f"Ansökan är ifylld från er ansökan {previous.case_number}" in page
    assert "Innan du kan skicka in" not in page
    assert "stadgar.pdf" in page and "Hallhyra" in page and "11 000,00 kr" in page

    client.post(reverse("portal:submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.case_number and draft.case_number != previous.case_number


def test_the_apply_page_reads_the_earlier_applications_in_a_fixed_number_of_queries(
    previous, programme, this_year, anna, fisksatra, client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(anna)
    url = reverse("portal:apply", args=[this_year.pk])
    client.get(url)  # warm-up: the session, the caches

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    one = count()
    older = factories.call(programme)
    draft = factories.draft(older, fisksatra, anna, title="Ännu äldre")
    apply.application_save_answers(application=draft, by=anna, answers={"leaders": "Fyra"})
    last_years_application_from(draft, anna)
    Call.objects.filter(pk=older.pk).update(year=this_year.year - 2)
    page = client.get(url).content.decode()
    assert "Ännu äldre" in page and "Eller börja från en annan tidigare ansökan" in page
    assert count() == one == 7
