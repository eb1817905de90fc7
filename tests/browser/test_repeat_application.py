"""Anna's repeat application: Fisksätra IF had its activity grant (verksamhetsbidrag)
approved last year; this year she goes from the portal's start page to the receipt by
starting from last year's application, in at most 8 inputs and at most 4 page loads."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from grants.models import Application, Call
from grants.services import apply, assess, decide
from tests import factories

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def approved_last_year(call, organisation, anna, officer):
    """Anna's application to `call`, approved; then the call becomes last year's, closed."""
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=anna,
        title="Verksamhet för barn och unga",
        description="Fotboll och innebandy för 7–16 år, tre kvällar i veckan.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        inputs={"members": 40},
    )
    application = apply.application_submit(application=draft, by=anna)
    assess.completeness_confirm(application=application, by=officer)
    assess.assessment_record(
        application=application,
        by=officer,
        no_conflict=True,
        proposal="approved",
        proposed_amount=application.requested_amount,
        justification="Bra verksamhet.",
    )
    decider = factories.other_officer(officer)
    factories.hand_task_to(application, factories.GrantFlow.decide_by_officer, decider)
    decide.decision_make(
        application=application,
        by=decider,
        outcome="approved",
        amount=application.requested_amount,
        reasons="Bra verksamhet.",
    )
    Call.objects.filter(pk=call.pk).update(
        year=today.year - 1, opens_on=today - dt.timedelta(days=400), closes_on=today - dt.timedelta(days=340)
    )
    return Application.objects.get(pk=application.pk)


def test_anna_repeats_last_years_activity_grant_in_few_inputs_and_pages(page, anna, olle, fisksatra):
    programme = factories.programme("verksamhet")
    last_year = approved_last_year(factories.call(programme), fisksatra, anna, olle)
    assert last_year.status == "approved"
    this_year = factories.call(programme)

    log_in(page, "anna")
    page.goto("/portal/")
    assert page.url.endswith("/portal/")
    checked(page)

    loads = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    inputs = 0

    def press(locator):
        nonlocal inputs
        inputs += 1
        locator.click()
        page.wait_for_load_state()

    press(page.get_by_role("link", name="Ansök om verksamhetsbidrag"))
    assert page.get_by_role("heading", name="Hur vill du börja?").is_visible()
    press(page.get_by_role("button", name=f"Börja från förra årets ansökan ({last_year.case_number})"))

    # The check page of a draft filled in from last year: nothing stops the submission.
    assert page.locator('[aria-current="step"]').inner_text().endswith("Granska och skicka in")
    main = re.sub(r"(?<=\d)[\xa0\u202f](?=\d)", " ", page.get_by_role("main").inner_text())
    assert f"Ansökan är ifylld från er ansökan {last_year.case_number}" in main
    assert "Verksamhet för barn och unga" in main and "11 000,00 kr" in main
    assert "Innan du kan skicka in" not in main
    press(page.get_by_role("button", name="Skicka in ansökan"))

    application = Application.objects.get(call=this_year)
    assert application.status == "submitted" and application.case_number != last_year.case_number
    assert f"har fått diarienummer {application.case_number}" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name=re.compile(r"^Mottagningskvitto")).is_visible()
    print(f"\nRepeat application: {inputs} inputs, {len(loads)} page loads: {loads}")
    assert inputs <= 8
    assert len(loads) <= 4
    checked(page)
