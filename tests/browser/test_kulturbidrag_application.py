"""Anna applies to the Kulturbidrag the administrator built in the admin (issue 18; built there
in test_programme_admin.py, configured here the same way): its follow-up question shows only
when she answers yes, without JavaScript; her application cannot go in without the project
budget, which the check page names; she attaches it and submits. The amount step and the
programme page say the grant is 10 000 kr. axe and 320 px on every page on the way."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import Application, Call, Document, Programme
from grants.services import apply
from tests import factories

from .conftest import MOBILE, checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def text(page):
    """The page's main text, every kind of space a plain one."""
    return re.sub(r"\s+", " ", page.get_by_role("main").inner_text())


def kulturbidrag():
    """The programme exactly as the administrator's admin forms stored it."""
    programme = Programme.objects.create(
        committee=factories.committee(),
        slug="kulturbidrag",
        name="Kulturbidrag",
        description="Bidrag till kulturprojekt för alla åldrar.",
        calculator="fixed",
        calculator_params={"amount": "10000"},
        delegation_limit=Decimal("50000"),
        payment_plan=[{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}],
        application_questions=[
            {"key": "school", "label": "Samarbetar ni med en skola?", "type": "yesno"},
            {
                "key": "vilken-skola",
                "label": "Vilken skola?",
                "type": "text",
                "required": False,
                "show_if": {"question": "school", "equals": "ja"},
            },
        ],
        required_attachments=[{"key": "projektbudget", "label": "Projektbudget", "label_en": "", "required": True}],
        priority_areas=["Barn och unga", "Kulturarv"],
        target_groups=["Alla åldrar"],
    )
    today = timezone.localdate()
    Call.objects.create(
        programme=programme,
        title=f"Kulturbidrag {today.year}",
        year=today.year,
        opens_on=today - dt.timedelta(days=10),
        closes_on=today + dt.timedelta(days=30),
        max_amount=Decimal("10000"),
        budget=Decimal("500000"),
    )
    return programme


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "mobile"])
def test_anna_applies_to_the_kulturbidrag_with_its_follow_up_question_and_budget(
    page, anna, fisksatra, tmp_path, viewport
):
    if viewport:
        page.set_viewport_size(viewport)
    programme = kulturbidrag()
    call = programme.calls.get()
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=fisksatra,
        by=anna,
        title="Teater i Fisksätra",
        description="En teaterföreställning med barn från Fisksätra.",
        period_start=today,
        period_end=today + dt.timedelta(days=90),
        priority_area="Barn och unga",
        target_group="Alla åldrar",
    )

    page.goto(f"/bidrag/{programme.slug}/")
    assert "10 000 kr" in text(page), text(page)
    checked(page)
    log_in(page, "anna")

    # The questions: the follow-up question is not there until "ja" is saved.
    page.goto(f"/portal/ansokningar/{draft.pk}/steg/fragor/")
    assert page.get_by_label("Vilken skola?").count() == 0
    checked(page)
    page.get_by_role("group", name="Samarbetar ni med en skola?").get_by_label("Ja").check()
    page.get_by_role("button", name="Spara och visa följdfrågor").click()
    page.get_by_label("Vilken skola?").fill("Fisksätra skola")
    checked(page)
    page.get_by_role("button", name="Spara och fortsätt").click()

    # The amount: nothing to fill in, the grant is 10 000 kr.
    assert page.locator('[aria-current="step"]').inner_text().endswith("Belopp")
    assert "Bidraget är 10 000 kr" in text(page), text(page)
    checked(page)

    # Without the project budget the application cannot go in, and the check page says so.
    page.goto(f"/portal/ansokningar/{draft.pk}/steg/granska/")
    main = page.get_by_role("main").inner_text()
    assert "Bifoga Projektbudget." in main and "Fisksätra skola" in main
    checked(page)
    submit = page.get_by_role("button", name="Skicka in ansökan")
    if submit.count():
        submit.click()
        assert "Bifoga Projektbudget." in page.get_by_role("main").inner_text()
    assert Application.objects.get(pk=draft.pk).status == "draft"

    # She attaches the budget as the project budget, and sends the application.
    budget = tmp_path / "budget.pdf"
    budget.write_bytes(PDF)
    page.goto(f"/portal/ansokningar/{draft.pk}/steg/bilagor/")
    checked(page)
    attachment = page.get_by_role("group", name="Vilken bilaga är filen?").get_by_label("Projektbudget")
    assert attachment.is_checked()  # the first one missing is chosen
    attachment.check()
    page.get_by_label("Lägg till en bilaga").set_input_files(str(budget))
    page.get_by_role("button", name="Bifoga filen och lägg till fler").click()
    assert "budget.pdf" in page.get_by_role("main").inner_text()
    checked(page)
    page.goto(f"/portal/ansokningar/{draft.pk}/steg/granska/")
    assert "Bifoga Projektbudget." not in page.get_by_role("main").inner_text()
    checked(page)
    page.get_by_role("button", name="Skicka in ansökan").click()
    application = Application.objects.get(pk=draft.pk)
    assert application.status == "submitted"
    assert application.answers == {"school": "ja", "vilken-skola": "Fisksätra skola"}
    assert application.requested_amount == Decimal("10000")
    assert Document.objects.get(application=application, kind="attachment").attachment_key == "projektbudget"
