"""Olle's story (issue 15): from signing in to a decision under delegation in at most five
page loads: the queue, then one click per task ("Ta och öppna" takes the first; each task
done opens the next one he may do), the last landing him back in his list. And the case
page and a task page read well at 1280 and 320 px."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import Decision
from grants.services import apply

from .conftest import DESKTOP, WCAG_TAGS, load_axe, log_in

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "/staff/cases/grant/queue/"


def submitted(call, organisation, applicant, amount="20000"):
    today = timezone.localdate()
    draft = apply.application_save_draft(
        call=call,
        organisation=organisation,
        by=applicant,
        title="Läxhjälp och fotboll",
        description="Läxhjälp en timme, sedan fotboll, två kvällar i veckan.",
        period_start=today,
        period_end=today + dt.timedelta(days=180),
        stated_amount=Decimal(amount),
        budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 10000)],
    )
    return apply.application_submit(application=draft, by=applicant)


def _page_load(request):
    """A page asked for by a click: a page's request (a full load, or the staff pages' script
    Turbo fetching the next page), not a redirect followed on its way, not an image or a script."""
    return (
        request.frame.parent_frame is None
        and (
            request.resource_type == "document"
            or (request.resource_type == "fetch" and "text/html" in request.headers.get("accept", ""))
        )
        and request.redirected_from is None
    )


def test_olle_goes_from_sign_in_to_a_decision_in_five_page_loads(page, anna, olle, fisksatra, inclusion_call):
    application = submitted(inclusion_call, fisksatra, anna)
    page.goto(f"/konto/logga-in/?next={QUEUE}")
    loads = []
    page.on("request", lambda request: _page_load(request) and loads.append(f"{request.method} {request.url}"))
    page.get_by_label("E-postadress eller användarnamn").fill("olle")
    page.get_by_label("Lösenord").fill("demo")
    page.get_by_role("button", name="Logga in", exact=True).click()
    page.wait_for_url(f"**{QUEUE}")  # 1: sign-in lands in the queue

    page.get_by_role("button", name=f"Ta och öppna {application.case_number}").click()  # 2: taken and opened
    page.wait_for_url("**/check_completeness/**/execute/")
    page.get_by_label("Ja, ansökan är komplett").check()
    page.get_by_role("button", name="Slutför uppgiften").click()  # 3: the assessment, taken for him

    page.wait_for_url("**/assess/**/execute/")
    page.get_by_label("Jag är inte jävig i ärendet").check()
    page.get_by_label("Förslag").select_option("approved")
    page.get_by_label("Föreslaget belopp (kr)").fill("20000")
    page.get_by_label("Motivering").fill("Bra projekt för barn i Fisksätra.")
    page.get_by_role("button", name="Slutför uppgiften").click()  # 4: the decision, his under delegation

    page.wait_for_url("**/decide_by_officer/**/execute/")
    page.get_by_role("button", name="Slutför uppgiften").click()  # 5: decided, back in his list
    page.wait_for_url(lambda url: "/execute/" not in url)
    page.get_by_text("Beslutet är fattat").first.wait_for()

    print(f"{len(loads)} page loads: {loads}")
    assert len(loads) <= 5, loads
    decision = Decision.objects.get(application=application)
    assert decision.amount == Decimal("20000") and decision.decided_by == olle


def _own_content_checked(page, selector):
    """axe finds nothing in the project's own part of the page (viewflow's frame is the "ui"
    work's), and none of it is wider than the screen."""
    load_axe(page)
    result = page.evaluate(
        "([selector, tags]) => axe.run({include: [selector]}, {runOnly: {type: 'tag', values: tags}})",
        [selector, WCAG_TAGS],
    )
    violations = [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]
    assert violations == [], (page.url, violations)
    overflow = page.evaluate(
        """selector => [...document.querySelectorAll(selector + ' *')]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && el.offsetParent !== null)
            .map(el => el.tagName + '.' + el.className).slice(0, 5)""",
        selector,
    )
    assert overflow == [], (page.url, overflow)


@pytest.mark.parametrize("width", [DESKTOP["width"], 320])
def test_the_case_page_and_a_task_page_fit_the_screen(page, anna, olle, fisksatra, inclusion_call, width):
    application = submitted(inclusion_call, fisksatra, anna)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "olle")
    process = application.process
    page.goto(f"/staff/cases/grant/{process.pk}/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", name=f"Ärende {application.case_number}").is_visible()
    _own_content_checked(page, ".case-page")
    page.get_by_role("button", name="Ta och öppna").click()
    page.wait_for_url("**/execute/")
    _own_content_checked(page, ".case-summary")
    _own_content_checked(page, ".case-task")
