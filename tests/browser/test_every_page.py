"""Every portal page a person can reach, logged out and logged in, in Swedish and in English,
at desktop and mobile widths (issue 6): axe-core finds no WCAG 2.1 A/AA violation, the page
answers without an error, nothing is wider than the screen, and <html lang> is the language
the person chose. Forms sent with mistakes show their errors, and those pages pass too.

Anna, from Fisksätra IF, has one case at every stage: a draft, a submitted case the officer
asked her to complete, a granted case with its decision letter, a payment and a follow-up
report due, and a rejected case; Nattvandrarna, a group sponsored by Fisksätra IF, waits for
her to confirm its application; Bo waits to be confirmed as a member of Fisksätra IF, and
Anna waits to be confirmed by Saltsjöbadens SK. The draft's steps are followed from the
step list on its pages, so a step added to the form is visited without changing this test.

GRANTS_SHOTS=/tmp/shots saves a full-page screenshot of every page visited, to be looked at
as a person would (the folder is made if missing; nothing is saved in the repository)."""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from grants.services import apply, assess, decide, organisations
from tests import factories

from .conftest import DESKTOP, MOBILE, axe_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("GRANTS_SHOTS")


def world():
    """Anna's cases and organisations, as described above. Returns what the pages are about."""

    anna = factories.user("anna", first_name="Anna")
    olle = factories.user("olle", role="Handläggare", first_name="Olle")
    fia = factories.user("fia", role="Ekonomi", first_name="Fia")
    fisksatra = factories.association(members=[anna])
    programme = factories.programme(
        "inkludering",
        what_to_attach="Stadgar och senaste årsmötesprotokoll",
        priority_areas=["Barn och unga", "Trygghet"],
        min_members=10,
        follow_up_parts=["participants_by_age_gender", "sessions", "financial_statement"],
        # Optional, so that the cases below can be sent: the steps show them all the same.
        required_attachments=[
            {"key": "budget", "label": "Projektbudget", "label_en": "Project budget", "required": False}
        ],
        application_questions=[
            {"key": "partner", "label": "Samarbetar ni med någon?", "type": "yesno", "required": False},
            {
                "key": "partner_name",
                "label": "Vem samarbetar ni med?",
                "type": "text",
                "required": False,
                "show_if": {"question": "partner", "equals": "ja"},
            },
        ],
    )
    call = factories.call(programme)
    today = timezone.localdate()

    def draft(title, organisation=fisksatra, by=anna, amount="30000"):
        return apply.application_save_draft(
            call=call,
            organisation=organisation,
            by=by,
            title=title,
            description="Läxhjälp en timme, sedan fotboll, två kvällar i veckan.",
            period_start=today,
            period_end=today + dt.timedelta(days=120),
            stated_amount=Decimal(amount),
            budget_lines=[("cost", "Ledararvoden", Decimal(amount) + 2000), ("income", "Egen insats", Decimal("2000"))],
        )

    the_draft = draft("Sommarlovsfotboll")
    completing = apply.application_submit(application=draft("Läxhjälp i Fisksätra"), by=anna)
    assess.completion_request(
        application=completing,
        by=olle,
        message="Bifoga det senaste årsmötesprotokollet.",
        due_on=today + dt.timedelta(days=14),
    )
    granted = factories.report_owed(call, fisksatra, anna, olle, fia, amount="40000", title="Fotboll för alla")
    rejected = apply.application_submit(application=draft("Ny konstgräsplan", amount="150000"), by=anna)
    assess.completeness_confirm(application=rejected, by=olle)
    assess.assessment_record(
        application=rejected,
        by=olle,
        no_conflict=True,
        proposal="rejected",
        proposed_amount=Decimal("0"),
        justification="Bidraget gäller inte anläggningar.",
    )
    decide.decision_make(
        application=rejected,
        by=olle,
        outcome="rejected",
        amount=Decimal("0"),
        reasons="Bidraget gäller inte anläggningar.",
    )

    nadia = factories.user("nadia", first_name="Nadia")
    group = factories.informal_group(fisksatra, members=[nadia])
    awaiting_sponsor = apply.application_ask_sponsor(
        application=draft("Trygga kvällar", organisation=group, by=nadia, amount="18000"), by=nadia
    )

    factories.pending_member(factories.user("bo", first_name="Bo"), fisksatra)
    saltsjobaden = factories.association("Saltsjöbadens SK", org_number="802000-0001", bankgiro="")
    factories.pending_member(anna, saltsjobaden)
    invitation = organisations.invitation_create(
        organisation=fisksatra, by=anna, email="cia@example.se", site_url="http://testserver"
    )
    # Anna's new club waits to be verified (and was refused once); her claim on another waits.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    evidence = {
        "statutes": organisations.Upload("stadgar-antagna-vid-arsmotet-2024.pdf", "application/pdf", pdf),
        "annual_meeting_minutes": organisations.Upload("arsmotesprotokoll-2025.pdf", "application/pdf", pdf),
    }
    unverified = organisations.organisation_create(
        by=anna, kind="association", name="Fisksätra kvinnoförening", org_number="802461-2346", evidence=evidence
    )
    refused = organisations.organisation_create(
        by=anna, kind="association", name="Fisksätra schackklubb", org_number="802498-0008", evidence=evidence
    )
    organisations.association_refuse(organisation=refused, by=olle, reason="Protokollet är inte justerat.")
    boo = factories.association("Boo fotbollsförening", org_number="802478-3345")
    organisations.organisation_create(
        by=anna, kind="association", name=boo.name, org_number=boo.org_number, evidence=evidence
    )
    return {
        "unverified": unverified,
        "refused": refused,
        "programme": programme,
        "call": call,
        "fisksatra": fisksatra,
        "saltsjobaden": saltsjobaden,
        "draft": the_draft,
        "completing": completing,
        "granted": granted,
        "rejected": rejected,
        "awaiting_sponsor": awaiting_sponsor,
        "invitation": invitation,
    }


# The innermost elements that reach past the right edge of the screen, for the report.
TOO_WIDE = """() => {
  const past = el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  return [...document.body.querySelectorAll('*')].filter(el => past(el) && ![...el.children].some(past))
    .slice(0, 4).map(el => name(el) + ' ' + Math.round(el.getBoundingClientRect().width) + 'px').join(', ');
}"""


class Visitor:
    """Looks at each page as it is now and notes what is wrong with it, so that one run
    lists every problem rather than the first."""

    def __init__(self, page, language, width):
        self.page, self.language, self.width = page, language, width
        self.problems = []
        self.seen = 0

    def go(self, path, name=None):
        try:
            response = self.page.goto(path)
        except PlaywrightError as error:  # an error answered without a page
            self.problems.append(f"{path}: {error.message.splitlines()[0]}")
            return
        if response is None or response.status >= 400:
            self.problems.append(f"{path}: HTTP {response and response.status}")
        self.check(name or path)

    def check(self, name, *, expect_errors=False):
        page, where = self.page, f"{name} ({self.page.url})"
        self.seen += 1
        lang = page.evaluate("document.documentElement.lang")
        if lang != self.language:
            self.problems.append(f"{where}: <html lang={lang!r}>")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > self.width["width"]:
            self.problems.append(
                f"{where}: {scroll_width}px wide on a {self.width['width']}px screen, "
                f"past its edge: {page.evaluate(TOO_WIDE)}"
            )
        if expect_errors and page.locator('[role="alert"]').count() == 0:
            self.problems.append(f"{where}: no error summary after a form with mistakes")
        self.problems += [f"{where}: {violation}" for violation in axe_violations(page)]
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            size = "mobile" if self.width is MOBILE else "desktop"
            page.screenshot(path=str(folder / f"{self.language}-{size}-{self.seen:02d}-{slug}.png"), full_page=True)

    def submit(self, inside, name):
        """Sends the form the element is in by its submit button, and checks the page of
        errors. The server's errors are the ones looked at, as a browser that does not
        check `required` fields itself would show them."""
        form = self.page.locator(inside).first.locator("xpath=ancestor::form")
        form.evaluate("form => { form.noValidate = true; }")
        form.locator('button[type="submit"], button:not([type])').first.click()
        self.page.wait_for_load_state()
        self.check(name, expect_errors=True)


def step_links(page):
    return page.eval_on_selector_all("ol.steps a[href]", "links => links.map(a => a.getAttribute('href'))")


@pytest.mark.parametrize("width", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_portal_page(page, language, width):
    data = world()
    last_year = _last_years_application(data["programme"], data["fisksatra"])
    page.set_viewport_size(width)
    visit = Visitor(page, language, width)
    slug = data["programme"].slug

    # Logged out: the catalogue, where a person who has chosen English chooses it.
    page.goto("/")
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    visit.check("catalogue")
    visit.go(f"/bidrag/{slug}/", "programme")
    visit.go(f"/bidrag/{slug}/kan-vi-soka/", "eligibility")
    visit.submit("form.card input[name=check]", "eligibility, nothing answered")
    visit.go(f"/bidrag/{slug}/kan-vi-soka/?check=1&registered=ja&members=25", "eligibility, yes")
    visit.go(f"/bidrag/{slug}/kan-vi-soka/?check=1&registered=nej", "eligibility, with a sponsor")
    visit.go(f"/bidrag/{slug}/kan-vi-soka/?check=1&registered=ja&members=3", "eligibility, no")
    visit.go("/tillganglighet/", "accessibility statement")
    visit.submit("form textarea", "accessibility statement, nothing filled in")
    visit.go("/diarium/", "public register")
    visit.go("/diarium/?q=Fisks%C3%A4tra&date_from=2020-01-01", "public register, searched")
    page.goto("/diarium/?date_from=2030-01-01&date_to=2020-01-01")  # answered 400, with the error at the field
    visit.check("public register, dates the wrong way round", expect_errors=True)
    visit.go(f"/diarium/arende/{data['granted'].pk}/", "public register of a case")
    visit.go("/konto/registrera/", "registration")
    visit.submit("#id_email", "registration, nothing filled in")
    invitation = f"/konto/inbjudan/{data['invitation'].token}/"
    visit.go(invitation, "invitation, logged out")
    visit.go("/konto/logga-in/", "login")
    page.locator("#id_username").fill("anna")
    page.locator("#id_password").fill("fel")
    visit.submit("#id_username", "login, wrong password")
    visit.go("/konto/registrera/kolla-din-e-post/", "registration, check your e-mail")
    visit.go("/konto/bekrafta-e-post/inte-en-riktig-lank/", "e-mail confirmation link")
    visit.go("/konto/losenord/glomt/", "password reset")
    visit.submit("#id_email", "password reset, nothing filled in")
    visit.go("/konto/losenord/glomt/skickat/", "password reset, sent")
    visit.go("/konto/losenord/nytt/MQ/inte-en-token/", "password reset link, used or expired")
    visit.go("/konto/losenord/nytt/klart/", "password reset, done")

    log_in(page, "anna") if language == "sv" else _log_in_in_english(page)
    visit.check("start page")
    visit.go("/portal/installningar/", "settings")
    visit.go("/konto/losenord/byt/", "password change")
    visit.submit("#id_old_password", "password change, nothing filled in")
    visit.go("/konto/losenord/byt/klart/", "password change, done")
    for key in ("draft", "completing", "granted", "rejected", "awaiting_sponsor"):
        if key != "awaiting_sponsor":
            visit.go(f"/portal/ansokningar/{data[key].pk}/", f"application, {key}")
    visit.go(f"/portal/utlysningar/{data['call'].pk}/ansok/", "new application, start from last year's?")
    visit.go(f"/portal/utlysningar/{data['call'].pk}/ansok/?tom=1", "new application, blank")

    # The draft's steps, as its own step list shows them.
    draft = data["draft"].pk
    to_visit, visited, steps_seen = [f"/portal/ansokningar/{draft}/andra/"], set(), 0
    while to_visit:
        path = to_visit.pop(0)
        if path in visited:
            continue
        visited.add(path)
        steps_seen += 1
        visit.go(path, f"draft step {steps_seen}")
        visited.add(page.url.removeprefix(page.url.split("/portal/")[0]))
        to_visit += [link for link in step_links(page) if link not in visited]
    assert steps_seen >= 4, visited  # the old address (into step 1) and the other three steps, at least
    visit.go(f"/portal/ansokningar/{draft}/steg/sokande/", "draft step 1 again")
    page.locator("#id_title").fill("")
    visit.submit("#id_title", "draft step 1, no title")

    completing = data["completing"].pk
    visit.go(f"/portal/ansokningar/{completing}/", "completion")
    visit.submit("form[action$='/komplettering/'] button", "completion, no answer")
    visit.go(f"/portal/ansokningar/{completing}/ata-tillbaka/", "withdraw")
    visit.go(f"/portal/ansokningar/{data['granted'].pk}/aterrapport/", "follow-up report")
    visit.go(f"/portal/medsokare/{data['awaiting_sponsor'].pk}/", "sponsor")

    visit.go("/portal/forening/", "organisations")
    visit.go(f"/portal/forening/{data['fisksatra'].pk}/", "organisation")
    page.locator("#id_invite-email, form[action$='/bjud-in/'] input[type=email]").first.fill("inte en adress")
    visit.submit("form[action$='/bjud-in/'] input[type=email]", "organisation, invitation with a bad address")
    visit.go(f"/portal/forening/{data['saltsjobaden'].pk}/", "organisation, pending")
    visit.go(f"/portal/forening/{data['unverified'].pk}/", "organisation, waiting to be verified")
    visit.go(f"/portal/forening/{data['refused'].pk}/", "organisation, not verified")
    visit.go("/portal/forening/ny/", "new association")
    visit.submit("form.card input[name=name]", "new association, nothing filled in")
    visit.go("/portal/forening/ny-grupp/", "new group")
    visit.submit("form.card input[name=name]", "new group, nothing filled in")
    visit.go("/portal/forening/ga-med/", "join")
    visit.go(invitation, "invitation, logged in")
    visit.go("/bidrag/", "catalogue, logged in")
    visit.go(f"/bidrag/{slug}/", "programme, logged in")

    # A repeat application made from last year's, on its check page.
    page.goto(f"/portal/utlysningar/{data['call'].pk}/ansok/")
    page.locator(f"form[action$='/fran-tidigare/'] input[value='{last_year.pk}']").locator("xpath=..").locator(
        "button"
    ).click()
    page.wait_for_load_state()
    visit.check("new application from last year's, check page")

    assert visit.seen >= 40
    assert not visit.problems, "\n".join(visit.problems)


def _last_years_application(programme, fisksatra):
    """Fisksätra IF's application to the programme's call of last year, sent: the apply page
    offers to start from it."""
    anna = fisksatra.memberships.get(user__username="anna").user
    old_call = factories.call(programme)
    today = timezone.localdate()
    application = apply.application_submit(
        application=apply.application_save_draft(
            call=old_call,
            organisation=fisksatra,
            by=anna,
            title="Fotboll hela året",
            description="Träningar två kvällar i veckan.",
            period_start=today,
            period_end=today + dt.timedelta(days=120),
            stated_amount=Decimal("20000"),
            budget_lines=[("cost", "Ledararvoden", Decimal("22000"))],
        ),
        by=anna,
    )
    type(old_call).objects.filter(pk=old_call.pk).update(
        year=today.year - 1, opens_on=today - dt.timedelta(days=400), closes_on=today - dt.timedelta(days=340)
    )
    return application


def _log_in_in_english(page):
    page.goto("/konto/logga-in/")
    page.locator("#id_username").fill("anna")
    page.locator("#id_password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
