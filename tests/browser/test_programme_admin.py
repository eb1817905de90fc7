"""The administrator builds the Kulturbidrag of issue 18 in the admin through its forms only:
two questions (the second shown only when the first is answered yes), a payment plan of two
parts, a fixed amount of 10 000 kr, a required attachment and priority areas. No JSON is typed
anywhere; the pages pass axe and fit a 320 px screen, empty and filled in."""

import os
import re

import pytest
from playwright.sync_api import expect

from grants.models import Programme
from tests import factories

from .conftest import checked, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 320, "height": 640}


def block(page, field, legend):
    """One block of inputs (a question, a part of the plan, …) in the field's row."""
    return page.locator(f".field-{field}").get_by_role("group", name=legend, exact=True)


def admin_field(page, label):
    """A field of the programme's own (not of an inline's rows, whose ids hold a "-"), whose
    label ends in a colon."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$")).and_(page.locator(":not([id*='-'])"))


def shot(page, name):
    """GRANTS_SHOTS=/tmp/shots saves a screenshot of the page."""
    if os.environ.get("GRANTS_SHOTS"):
        page.screenshot(path=f"{os.environ['GRANTS_SHOTS']}/programme-admin-{name}.png", full_page=True)


def new(number, row_name):
    return f"{row_name} {number} (ny, fyll i för att lägga till)"


def test_the_administrator_builds_the_kulturbidrag_in_the_admin(page):
    factories.committee()
    admin = factories.user("admin", first_name="Ada")
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    log_in(page, "admin")
    page.wait_for_load_state()
    page.goto("/admin/grants/programme/add/")
    checked(page)
    page.set_viewport_size(PHONE)
    checked(page)

    admin_field(page, "Nämnd").select_option(label="Kultur- och fritidsnämnden")
    admin_field(page, "Namn").fill("Kulturbidrag")
    admin_field(page, "Namn").press("Tab")
    expect(admin_field(page, "Slug")).to_have_value("kulturbidrag")  # made from the name by the admin
    admin_field(page, "Beskrivning").fill("Bidrag till kulturprojekt för alla åldrar.")
    admin_field(page, "Beloppsberäkning").select_option(label="Fast belopp")
    page.get_by_label("Belopp (kr)", exact=True).fill("10 000")
    admin_field(page, "Delegationsgräns (kr)").fill("50000")

    first = block(page, "application_questions", new(1, "Fråga"))
    first.get_by_label("Frågan på svenska").fill("Samarbetar ni med en skola?")
    first.get_by_label("Typ av svar").select_option(label="Ja eller nej")
    first.get_by_label(re.compile("^Nyckel")).fill("school")
    second = block(page, "application_questions", new(2, "Fråga"))
    second.get_by_label("Frågan på svenska").fill("Vilken skola?")
    second.get_by_label("Typ av svar").select_option(label="Kort text")
    second.get_by_label("Måste besvaras").uncheck()
    second.get_by_label("Visas bara om frågan med nyckeln").fill("school")
    second.get_by_label("… har besvarats med").fill("ja")

    # A new programme's plan is all at the decision: 85 % of it, and the rest after the report.
    decision = block(page, "payment_plan", "Del 1")
    expect(decision.get_by_label("Betalas ut")).to_have_value("decision")
    decision.get_by_label("Andel i procent").fill("85")
    report = block(page, "payment_plan", new(2, "Del"))
    report.get_by_label("Andel i procent").fill("15")
    report.get_by_label("Betalas ut").select_option(label="Efter godkänd återrapport")

    block(page, "required_attachments", new(1, "Bilaga")).get_by_label("Bilagans namn på svenska").fill("Projektbudget")
    admin_field(page, "Prioriterade områden").fill("Barn och unga\nKulturarv")
    admin_field(page, "Målgrupper").fill("Alla åldrar")

    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Kulturbidrag")

    programme = Programme.objects.get(name="Kulturbidrag")
    assert programme.slug == "kulturbidrag"
    assert programme.calculator_params == {"amount": "10000"}
    assert programme.application_questions == [
        {"key": "school", "label": "Samarbetar ni med en skola?", "type": "yesno"},
        {
            "key": "vilken-skola",
            "label": "Vilken skola?",
            "type": "text",
            "required": False,
            "show_if": {"question": "school", "equals": "ja"},
        },
    ]
    assert programme.payment_plan == [{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}]
    assert programme.required_attachments == [
        {"key": "projektbudget", "label": "Projektbudget", "label_en": "", "required": True}
    ]
    assert programme.priority_areas == ["Barn och unga", "Kulturarv"]
    assert programme.target_groups == ["Alla åldrar"]

    # Its change page, filled in, passes too, at both widths; a mistake is shown at its field.
    page.goto(f"/admin/grants/programme/{programme.pk}/change/")
    checked(page)
    block(page, "payment_plan", "Del 2").get_by_label("Andel i procent").fill("10")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.locator(".field-payment_plan .errorlist")).to_have_text(
        "Utbetalningsplanens delar blir 95 %, de ska bli 100 %."
    )
    checked(page)
    shot(page, "refused-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    checked(page)
    shot(page, "refused-1280")
    programme.refresh_from_db()
    assert programme.payment_plan[1]["percent"] == 15
