"""Every staff page each staff role reaches (issue 15): for Olle (officer), Kim (decision
maker), Fia (finance), Lena (management), Sara (Systemförvaltare) and the administrator, axe-core finds no WCAG 2.1
A/AA violation, nothing is wider than the screen at 1280 px nor at 320 px (WCAG 1.4.10),
and <html lang="sv">.

The world has a case at every stage (test_every_page.world(), Anna's cases, plus cases
waiting for each staff task). The pages are the list PAGES below, one line each: a name,
the address (formatted with the world's addresses, see urls()) and who visits it. The links
of viewflow's menu each person sees are visited too, so a menu entry added later is
checked without changing this test.

One browser, one page per person, each address loaded at both widths.
GRANTS_SHOTS=/tmp/shots saves a screenshot of each page at each width."""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from grants.models import PaymentBatch
from grants.services import apply, assess, decide
from tests import factories
from tests.factories import hand_task_to
from tests.staff import open_task
from workflows.flows import GrantFlow

from .conftest import DESKTOP, axe_violations, log_in
from .test_every_page import TOO_WIDE, world

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("GRANTS_SHOTS")
PHONE = {"width": 320, "height": 640}

OFFICER, DECIDER, FINANCE, MANAGEMENT, ADMIN = "olle", "kim", "fia", "lena", "admin"
SYSTEM = "sara"  # the Systemförvaltare role without the admin's superuser flag
SECRETARY = "siv"  # the committee's secretary (nämndsekreterare)
REVIEWER = "rut"  # a reviewer (granskare) from the committee's reference group, no other role
CASE_WORK = (OFFICER, DECIDER, ADMIN)  # who sees viewflow's case pages
EVERYONE = (OFFICER, DECIDER, FINANCE, MANAGEMENT, ADMIN, SYSTEM, SECRETARY, REVIEWER)

# name, address (str.format with urls()), who visits it. Adding a page is adding a line.
PAGES = [
    ("staff start", "/staff/", (OFFICER, DECIDER, FINANCE, ADMIN)),
    ("dashboard", "/staff/cases/grant/", CASE_WORK),
    ("work list", "/staff/arenden/", CASE_WORK),
    ("work list, every case found by a search", "/staff/arenden/?q=Fisks%C3%A4tra&view=alla", CASE_WORK),
    ("e-mail settings", "/staff/installningar/", (OFFICER, DECIDER, FINANCE, ADMIN)),
    ("queue", "/staff/cases/grant/queue/", CASE_WORK),
    ("inbox", "/staff/cases/grant/inbox/", CASE_WORK),
    ("archive", "/staff/cases/grant/archive/", CASE_WORK),
    ("process list", "/staff/cases/grant/flows/", CASE_WORK),
    ("case page, waiting for a decision", "/staff/cases/grant/{deciding_process}/", CASE_WORK),
    ("case page, granted", "/staff/cases/grant/{granted_process}/", CASE_WORK),
    ("case page, rejected and closed", "/staff/cases/grant/{rejected_process}/", CASE_WORK),
    ("task detail", "{completeness_task}detail/", CASE_WORK),
    ("take a task", "{queued_task}assign/", (OFFICER,)),
    ("completeness form", "{completeness_task}execute/", (OFFICER,)),
    ("assessment form", "{assess_task}execute/", (OFFICER,)),
    ("decision on delegation form", "{officer_decision_task}execute/", (OFFICER,)),
    ("follow-up review form", "{review_task}execute/", (OFFICER,)),
    ("committee decision form", "{committee_decision_task}execute/", (DECIDER,)),
    ("associations to verify", "/staff/foreningar/", (OFFICER, ADMIN)),
    ("reviews of a case", "/staff/granskning/arende/{reviewed_case}/", (OFFICER, ADMIN)),
    ("my reviews", "/staff/granskning/", (REVIEWER,)),
    ("review form", "/staff/granskning/{review}/", (REVIEWER,)),
    ("meetings", "/staff/sammantraden/", (DECIDER, ADMIN, SECRETARY)),
    ("meeting", "/staff/sammantraden/{meeting}/", (DECIDER, ADMIN, SECRETARY)),
    ("committee meetings", "/staff/namnd/", (DECIDER, ADMIN, SECRETARY)),
    ("agenda being built", "/staff/namnd/{meeting_planned}/", (DECIDER, SECRETARY)),
    ("agenda sent", "/staff/namnd/{meeting_sent}/", (DECIDER, SECRETARY)),
    ("protocol form", "/staff/namnd/{meeting_sent}/protokoll/", (SECRETARY,)),
    ("protocol recorded", "/staff/namnd/{meeting_held}/protokoll/", (DECIDER, SECRETARY)),
    ("officer's report", "/staff/namnd/arende/{ready_case}/", (OFFICER,)),
    ("officer's report, case to mark ready", "/staff/namnd/arende/{case_to_mark}/", (OFFICER,)),
    ("case register", "/staff/arenden/{ready_case}/diarium/", (OFFICER, DECIDER)),
    ("admin committee with members", "/admin/grants/committee/{committee}/change/", (ADMIN,)),
    ("admin programme, new", "/admin/grants/programme/add/", (ADMIN,)),
    ("admin programme", "/admin/grants/programme/{programme}/change/", (ADMIN,)),
    ("admin retention rules", "/admin/records/retentionrule/", (ADMIN, SYSTEM)),
    ("admin retention rule", "/admin/records/retentionrule/add/", (ADMIN,)),
    ("admin retention log", "/admin/records/retentionlog/", (ADMIN,)),
    ("admin register", "/admin/records/registerentry/", (ADMIN, SYSTEM)),
    ("payments", "/staff/utbetalningar/", (FINANCE, ADMIN)),
    ("payment files", "/staff/utbetalningar/betalfiler/", (FINANCE, ADMIN)),
    ("payment file", "/staff/utbetalningar/betalfiler/{batch}/", (FINANCE, ADMIN)),
    ("repayment claims", "/staff/utbetalningar/aterkrav/", (FINANCE, ADMIN)),
    ("account requests", "/staff/utbetalningar/konton/", (FINANCE, ADMIN)),
    ("ledger files", "/staff/utbetalningar/bokforingsfiler/", (FINANCE, ADMIN)),
    ("annual report", "/staff/arsrapport/", (MANAGEMENT, ADMIN)),
    ("personal data extract search", "/staff/registerutdrag/", (SYSTEM, ADMIN)),
    ("personal data extract, nobody found", "/staff/registerutdrag/?q=ingen-sadan", (SYSTEM,)),
    ("personal data extract of a person", "/staff/registerutdrag/person/{anna}/", (SYSTEM, ADMIN)),
    (
        "personal data extract of an e-mail",
        "/staff/registerutdrag/epost/?epost=kansliet%40fisksatra.example",
        (SYSTEM,),
    ),
    ("admin index", "/admin/", (ADMIN,)),
    ("admin applications", "/admin/grants/application/", (ADMIN,)),
    ("admin case events", "/admin/grants/caseevent/", (ADMIN,)),
    ("admin task results", "/admin/django_tasks_database/dbtaskresult/", (ADMIN,)),
    ("admin API keys", "/admin/identity/apitoken/", (ADMIN,)),
]


def staff_world():
    """test_every_page's world, the staff who work in it, and a case waiting for each of
    the staff's tasks (given to the person whose form is looked at)."""
    data = world()
    olle = factories.user("olle", role="Handläggare", first_name="Olle")
    kim = factories.user("kim", role="Beslutsfattare", first_name="Kim")
    factories.user("fia", role="Ekonomi", first_name="Fia")
    factories.user("lena", role="Ledning", first_name="Lena")
    siv = factories.user("siv", role="Nämndsekreterare", first_name="Siv")
    factories.user("sara", role="Systemförvaltare", first_name="Sara")
    admin = factories.user("admin", first_name="Ada")
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    anna, call, fisksatra = data["fisksatra"].memberships.first().user, data["call"], data["fisksatra"]
    today = timezone.localdate()

    def submitted(title, amount="30000"):
        draft = apply.application_save_draft(
            call=call,
            organisation=fisksatra,
            by=anna,
            title=title,
            description="Simning för nyanlända barn, en kväll i veckan.",
            period_start=today,
            period_end=today + dt.timedelta(days=90),
            stated_amount=Decimal(amount),
            budget_lines=[("cost", "Simhall", Decimal(amount))],
        )
        return apply.application_submit(application=draft, by=anna)

    def assessed(title, amount):
        case = submitted(title, amount)
        assess.completeness_confirm(application=case, by=olle)
        assess.assessment_record(
            application=case,
            by=olle,
            no_conflict=True,
            proposal="approved",
            proposed_amount=Decimal(amount),
            justification="Stämmer med nämndens mål.",
        )
        return case

    queued = submitted("Simskola på lördagar")
    completeness = submitted("Simskola på söndagar")
    hand_task_to(completeness, GrantFlow.check_completeness, olle)
    assessing = submitted("Sommarsimning")
    assess.completeness_confirm(application=assessing, by=olle)
    hand_task_to(assessing, GrantFlow.assess, olle)
    by_officer = assessed("Vintersimning", "20000")
    hand_task_to(by_officer, GrantFlow.decide_by_officer, olle)
    by_committee = assessed("Simhall för alla", "150000")
    hand_task_to(by_committee, GrantFlow.decide_by_committee, kim)
    decided_in_committee = assessed("Badresa", "90000")
    decision = decide.decision_make(
        application=decided_in_committee,
        by=kim,
        outcome="approved",
        amount=Decimal("90000"),
        reasons="Nämnden beviljar.",
        meeting_date=today - dt.timedelta(days=1),
        protocol_paragraph="§ 12",
    )
    reported = data["granted"]
    from grants.services import follow_up

    follow_up.follow_up_submit(
        report=reported.follow_up,
        by=anna,
        what_was_done="Trettio träffar.",
        outcome="Fler barn kan simma.",
        participants_by_group={"7–12": {"girls": 2, "boys": 3}},
        sessions=30,
        own_contribution=Decimal("2000"),
        cost_lines=[("Ledararvoden", Decimal("24000"), Decimal("24000"))],
    )
    hand_task_to(reported, GrantFlow.review_report, olle)

    # The committee's work: members; a meeting being planned (a case ready for it), one whose
    # agenda is sent (its protocol form), one whose protocol is recorded.
    from grants.models import CommitteeMember
    from grants.services import committee as committee_work

    kfn = call.programme.committee
    members = [
        CommitteeMember.objects.create(committee=kfn, name=name, role=role)
        for name, role in (
            ("Maria Lund", "chair"),
            ("Per Ahlin", "member"),
            ("Lena Ek", "member"),
            ("Sten Wall", "substitute"),
        )
    ]
    ready = assessed("Simhall på kvällar", "120000")
    committee_work.committee_ready_mark(application=ready, by=olle)
    to_mark = assessed("Simhall på morgnar", "110000")
    held_case = assessed("Simhall på helger", "100000")
    committee_work.committee_ready_mark(application=held_case, by=olle)
    held = committee_work.meeting_plan(committee=kfn, held_on=today - dt.timedelta(days=2), by=siv)
    committee_work.agenda_case_add(meeting=held, application=held_case, by=siv)
    committee_work.agenda_delegation_report_add(meeting=held, by=siv)
    committee_work.agenda_send(meeting=held, by=siv)
    item = held.items.get(application=held_case)
    committee_work.meeting_record(
        meeting=held,
        by=siv,
        present=members[:3],
        decisions=[
            committee_work.ItemDecision(
                item=item,
                outcome="approved",
                amount=Decimal("100000"),
                reasons="Enligt förslaget.",
                conflicted=members[2:3],
            )
        ],
    )
    sent = committee_work.meeting_plan(committee=kfn, held_on=today - dt.timedelta(days=1), by=siv, place="Stadshuset")
    committee_work.agenda_case_add(meeting=sent, application=ready, by=siv)
    committee_work.agenda_delegation_report_add(meeting=sent, by=siv)
    committee_work.agenda_send(meeting=sent, by=siv)
    committee_work.committee_ready_mark(application=by_committee, by=olle)
    planned = committee_work.meeting_plan(committee=kfn, held_on=today + dt.timedelta(days=7), by=siv)

    # Assessment by several reviewers: the programme asks for two, who score three criteria;
    # Rut has yet to score the case in assessment, Rolf has scored it.
    from grants.models import ScoringCriterion
    from grants.services import reviews

    programme = call.programme
    for position, (name, weight) in enumerate((("Inkludering", 3), ("Genomförbarhet", 2), ("Budget", 1))):
        ScoringCriterion.objects.create(
            programme=programme,
            name=name,
            description=f"Hur väl projektet uppfyller {name.lower()}.",
            scale_max=5,
            weight=Decimal(weight),
            position=position,
        )
    programme.reviewers_required = 2
    programme.save(update_fields=["reviewers_required"])
    rut = factories.user("rut", role="Granskare", first_name="Rut", committees=[kfn])
    rolf = factories.user("rolf", role="Granskare", first_name="Rolf", committees=[kfn])
    review = reviews.review_assign(application=assessing, reviewer=rut, by=olle)
    scored = reviews.review_assign(application=assessing, reviewer=rolf, by=olle)
    reviews.review_submit(
        review=scored,
        by=rolf,
        no_conflict=True,
        scores={criterion.pk: (4, "Tydlig plan för att nå nyanlända barn.") for criterion in programme.criteria.all()},
    )

    def task_url(application, node):
        task = open_task(application, node)
        return f"/staff/cases/grant/{task.process_id}/{node}/{task.pk}/"

    return {
        "deciding_process": by_committee.process.pk,
        "granted_process": reported.process.pk,
        "rejected_process": data["rejected"].process.pk,
        "queued_task": task_url(queued, "check_completeness"),
        "completeness_task": task_url(completeness, "check_completeness"),
        "assess_task": task_url(assessing, "assess"),
        "officer_decision_task": task_url(by_officer, "decide_by_officer"),
        "committee_decision_task": task_url(by_committee, "decide_by_committee"),
        "review_task": task_url(reported, "review_report"),
        "meeting": decision.meeting_id,
        "meeting_planned": planned.pk,
        "meeting_sent": sent.pk,
        "meeting_held": held.pk,
        "ready_case": ready.pk,
        "case_to_mark": to_mark.pk,
        "committee": kfn.pk,
        "programme": call.programme.pk,
        "batch": PaymentBatch.objects.latest("pk").pk,
        "anna": anna.pk,
        "reviewed_case": assessing.pk,
        "review": review.pk,
    }


MENU_LINKS = "els => els.map(a => a.getAttribute('href')).filter(h => h && h.startsWith('/'))"


class StaffVisitor:
    """Loads each page once and checks it at 1280 px and at 320 px, noting every problem
    rather than stopping at the first."""

    def __init__(self, page, who):
        self.page, self.who = page, who
        self.problems, self.seen = [], 0
        self.menu = set()  # the addresses in viewflow's menu on the pages seen

    def visit(self, name, path):
        page = self.page
        # Loaded at each width, as a phone would load it (viewflow lays its menu out on load).
        for width in (DESKTOP, PHONE):
            page.set_viewport_size(width)
            try:
                response = page.goto(path)
            except PlaywrightError as error:
                self.problems.append(f"{self.who} {name} {path}: {error.message.splitlines()[0]}")
                return
            if response is None or response.status >= 400:
                self.problems.append(f"{self.who} {name} {path}: HTTP {response and response.status}")
                return
            self.menu.update(page.eval_on_selector_all("aside nav a[href]", MENU_LINKS))
            self.check(name, width)
        self.seen += 1

    def check(self, name, width):
        page = self.page
        where = f"{self.who} {name} ({page.url}) at {width['width']}px"
        lang = page.evaluate("document.documentElement.lang")
        if lang != "sv":
            self.problems.append(f"{where}: <html lang={lang!r}>")
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            self.problems.append(f"{where}: {scroll}px wide, past its edge: {page.evaluate(TOO_WIDE)}")
        self.problems += [f"{where}: {violation}" for violation in axe_violations(page)]
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", f"{self.who} {name}".lower()).strip("-")
            page.screenshot(path=str(folder / f"staff-{slug}-{width['width']}.png"), full_page=True)


def menu_on_a_phone(visitor):
    """At 320 px viewflow's menu hides behind the menu button; opened, its links are on the
    screen, and the page with the menu open passes axe too."""
    page = visitor.page
    page.set_viewport_size(PHONE)
    page.goto("/staff/cases/grant/queue/")  # a viewflow page (the dashboard leads to the work list)
    page.get_by_role("button", name="Meny").click()
    links = page.locator("aside nav a[href]")
    for index in (0, links.count() - 1):
        links.nth(index).scroll_into_view_if_needed()  # the open menu scrolls on a short screen
        expect(links.nth(index)).to_be_in_viewport(ratio=1)
    visitor.check("menu opened on a phone", PHONE)


def test_every_staff_page(browser, live_server, capsys):
    urls = staff_world()
    problems, counts = [], {}
    for who in EVERYONE:
        context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="sv-SE")
        page = context.new_page()
        log_in(page, who)
        page.wait_for_load_state()
        visitor = StaffVisitor(page, who)
        visited = set()
        for name, path, people in PAGES:
            if who in people:
                path = path.format(**urls)
                visited.add(path)
                visitor.visit(name, path)
        # Whatever else viewflow's menu offers this person.
        for href in sorted(visitor.menu - visited):
            if not href.startswith(("/konto/", "/portal/")):
                visited.add(href)
                visitor.visit(f"menu link {href}", href)
        if who == OFFICER:
            menu_on_a_phone(visitor)
        context.close()
        counts[who] = visitor.seen
        problems += visitor.problems
    with capsys.disabled():
        print("\nstaff pages checked (each at 1280 and 320 px): " + ", ".join(f"{w} {n}" for w, n in counts.items()))
    assert all(counts.values()), counts
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
