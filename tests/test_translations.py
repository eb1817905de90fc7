"""Every page and e-mail exists in Swedish and English (issue 6): the English catalogue has
a translation for every string the code marks, it is up to date with the code, and the
public pages in English show no Swedish words of our own (data aside)."""

import ast
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone, translation

from grants.models import ApplicantSettings, Call, Committee, Programme
from tests import factories

ROOT = Path(settings.BASE_DIR)
EN_CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
# What `makemessages` leaves out, as in `manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=tests`.
NOT_SCANNED = {".venv", "var", "tests", "locale", "static"}


# --- the catalogue ------------------------------------------------------------------------


def po_entries(path):
    """The catalogue's entries as dicts: msgctxt, msgid, msgid_plural, msgstr (a list, one
    per plural form), flags. A small reader of what GNU gettext writes (no obsolete #~)."""
    entries = []
    for block in re.split(r"\n\s*\n", Path(path).read_text(encoding="utf-8").strip()):
        entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": [], "flags": set()}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line):
                keyword, text = match.groups()
                if keyword.startswith("msgstr"):
                    entry["msgstr"].append(ast.literal_eval(text))
                    current = ("msgstr", len(entry["msgstr"]) - 1)
                else:
                    entry[keyword] = ast.literal_eval(text)
                    current = (keyword, None)
            elif line.startswith('"') and current:
                keyword, index = current
                if index is None:
                    entry[keyword] += ast.literal_eval(line)
                else:
                    entry["msgstr"][index] += ast.literal_eval(line)
        if entry["msgid"]:  # not the header
            entries.append(entry)
    return entries


def _key(entry):
    return entry["msgctxt"], entry["msgid"], entry["msgid_plural"]


def test_every_string_has_an_english_translation():
    entries = po_entries(EN_CATALOGUE)
    assert len(entries) > 100
    untranslated = [entry["msgid"] for entry in entries if not all(entry["msgstr"]) or not entry["msgstr"]]
    assert untranslated == [], "Translate these in locale/en/LC_MESSAGES/django.po"
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    assert fuzzy == [], "Check these translations and remove their fuzzy flag"


def test_plurals_have_both_forms_and_placeholders_are_kept():
    for entry in po_entries(EN_CATALOGUE):
        placeholders = sorted(re.findall(r"%\(\w+\)s|%%", entry["msgid"]))
        if entry["msgid_plural"]:
            assert len(entry["msgstr"]) == 2, entry["msgid"]
        for text in entry["msgstr"]:
            assert sorted(re.findall(r"%\(\w+\)s|%%", text)) == placeholders, (entry["msgid"], text)


def test_the_catalogue_has_every_string_the_code_marks(tmp_path, monkeypatch):
    """makemessages over a copy of the code finds no string that the committed catalogue
    lacks. Run `manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=tests
    --no-obsolete` and translate what it adds."""
    for item in ROOT.iterdir():
        if item.name.startswith(".") or item.name in NOT_SCANNED:
            continue
        if item.is_dir():
            shutil.copytree(item, tmp_path / item.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif item.suffix in (".py", ".html", ".txt"):
            shutil.copy(item, tmp_path / item.name)
    locale = tmp_path / "locale"
    locale.mkdir()
    monkeypatch.chdir(tmp_path)  # makemessages scans the working directory, and writes below it
    with override_settings(LOCALE_PATHS=[locale]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
    extracted = {_key(entry) for entry in po_entries(locale / "en" / "LC_MESSAGES" / "django.po")}
    committed = {_key(entry) for entry in po_entries(EN_CATALOGUE)}
    missing = sorted(msgid for _context, msgid, _plural in extracted - committed)
    assert missing == [], "Not in locale/en/LC_MESSAGES/django.po: run makemessages and translate"


# --- the pages in English -----------------------------------------------------------------

# Words that give away Swedish left in the interface. Our Swedish always has å, ä or ö
# somewhere on a page, so the test data is ASCII: any of them left is untranslated text.
TELL_TALES = ["Ansök", "Bidrag att söka", "Logga in", "förening", "å", "ä", "ö", "Å", "Ä", "Ö"]
# Attributes whose text a person reads or hears.
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
# Known untranslated text the portal shows that this test cannot yet fix.
KNOWN_UNTRANSLATED = []
# Place names in the forms' examples ("for example Fisksätra") stay as they are.
PLACE_NAMES = ["Fisksätra"]


class VisibleText(HTMLParser):
    """The text a person reads on the page, leaving out what is marked as Swedish on
    purpose (the switcher's "På svenska", lang="sv") and scripts and styles."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, skipped)
        self.parts = []

    def _skipping(self):
        return any(skipped for _tag, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped = tag in ("script", "style") or (tag != "html" and (attrs.get("lang") or "").startswith("sv"))
        if not (skipped or self._skipping()):
            self.parts.extend(attrs[name] for name in READ_ATTRIBUTES if attrs.get(name))
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.parts.append(data.strip())


def swedish_left(html, data=()):
    """The lines of the page's visible text with Swedish in them, `data` (what people wrote or
    the municipality's Swedish letters are called) left out."""
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for known in [*KNOWN_UNTRANSLATED, *PLACE_NAMES, *data]:
        text = text.replace(known, "")
    return [line for line in text.splitlines() if any(word in line for word in TELL_TALES)]


@pytest.fixture
def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ascii_programme(db, today):
    """A programme whose data is ASCII, with an open call and a coming one."""
    import datetime as dt

    committee = Committee.objects.create(
        code="CLC", name="Culture and Leisure Committee", contact_email="grants@municipality.example"
    )
    programme = Programme.objects.create(
        committee=committee,
        slug="inclusion",
        name="Inclusion projects",
        purpose="More young people take part.",
        description="Support for projects.",
        what_to_attach="Budget\nStatutes",
        min_members=10,
        who_may_apply="associations_and_groups",
        calculator="fixed",
        calculator_params={"amount": "5000"},
        delegation_limit=50000,
        delegation_point="4.2",
        payment_plan=[{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}],
        follow_up_required=True,
        priority_areas=["Children and young people"],
        target_groups=["Girls"],
        eligibility_questions=[
            {
                "question": "Is the activity open to all?",
                "answer": "ja",
                "otherwise": "The activity must be open to all.",
            }
        ],
    )
    Call.objects.create(
        programme=programme,
        title="Spring round",
        year=today.year,
        opens_on=today - dt.timedelta(days=10),
        closes_on=today + dt.timedelta(days=20),
        max_amount=100000,
        budget=1000000,
    )
    Call.objects.create(
        programme=programme,
        title="Autumn round",
        year=today.year,
        opens_on=today + dt.timedelta(days=30),
        closes_on=today + dt.timedelta(days=60),
        max_amount=100000,
        budget=1000000,
    )
    return programme


def _page(client, url, *, method="get", data=None, status=200):
    response = getattr(client, method)(url, data or {})
    assert response.status_code == status, (url, response.status_code)
    html = response.content.decode()
    assert '<html lang="en">' in html, url
    return html


def public_pages(client, programme):
    """(name, html) of each public page in its states: the catalogue (with and without
    hits), a programme, the eligibility check (blank, with errors, each verdict), the
    accessibility statement (blank and with errors), the login page (blank and failed)."""
    eligibility = f"/bidrag/{programme.slug}/kan-vi-soka/"
    return [
        ("catalogue", _page(client, "/bidrag/")),
        ("catalogue, no hits", _page(client, "/bidrag/", data={"q": "nothing-like-this", "open_only": "on"})),
        ("programme", _page(client, f"/bidrag/{programme.slug}/")),
        ("eligibility", _page(client, eligibility)),
        ("eligibility, nothing answered", _page(client, eligibility, data={"check": "1"}, status=400)),
        (
            "eligibility, a group",
            _page(client, eligibility, data={"check": "1", "registered": "nej", "question_0": "ja"}),
        ),
        (
            "eligibility, too few members",
            _page(client, eligibility, data={"check": "1", "registered": "ja", "members": "3", "question_0": "nej"}),
        ),
        (
            "eligibility, yes",
            _page(client, eligibility, data={"check": "1", "registered": "ja", "members": "30", "question_0": "ja"}),
        ),
        ("accessibility", _page(client, "/tillganglighet/")),
        (
            "accessibility, errors",
            _page(
                client,
                "/tillganglighet/",
                method="post",
                status=400,
                data={"page": "", "description": "", "email": "not-an-address"},
            ),
        ),
        ("login", _page(client, "/konto/logga-in/")),
        (
            "login, failed",
            _page(client, "/konto/logga-in/", method="post", data={"username": "nobody", "password": "wrong"}),
        ),
        ("register", _page(client, "/konto/registrera/")),
    ]


@pytest.mark.django_db
def test_the_public_pages_in_english_have_no_swedish_left(in_english, ascii_programme):
    left = {name: lines for name, html in public_pages(in_english, ascii_programme) if (lines := swedish_left(html))}
    assert left == {}


@pytest.mark.django_db
def test_the_public_pages_in_swedish_are_swedish(client, ascii_programme):
    """The check above would pass on an empty page: in Swedish, the same pages do show the
    tell-tale words."""
    html = client.get("/bidrag/").content.decode()
    assert '<html lang="sv">' in html and swedish_left(html)
    assert "Bidrag att söka" in html


@pytest.fixture
def ascii_applicant(db, ascii_programme):
    """Alex of Sunset Sports Club (ASCII data), with a draft to the open call."""
    from grants.models import Membership, Organisation
    from grants.services import apply
    from tests import factories

    alex = factories.user("alex", first_name="Alex")
    club = Organisation.objects.create(name="Sunset Sports Club", org_number="802412-1231", bankgiro="5050-1055")
    Membership.objects.create(user=alex, organisation=club)
    call = ascii_programme.calls.order_by("opens_on").first()
    draft = apply.application_save_draft(
        call=call,
        organisation=club,
        by=alex,
        title="Homework club",
        description="Homework help.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=5000,
        budget_lines=[("cost", "Leaders", 5000)],
    )
    return alex, club, call, draft


def portal_pages(client, club, call, draft):
    """(name, html) of the applicant's pages as they stand: settings, Min förening and its
    forms, a new application's first step, each step of a draft, the draft's case page and
    the withdrawal page."""
    pages = [
        ("settings", _page(client, "/portal/installningar/")),
        ("organisations", _page(client, "/portal/forening/")),
        ("association create", _page(client, "/portal/forening/ny/")),
        ("group create", _page(client, "/portal/forening/ny-grupp/")),
        ("join", _page(client, "/portal/forening/ga-med/")),
        ("organisation", _page(client, f"/portal/forening/{club.pk}/")),
        ("new application", _page(client, f"/portal/utlysningar/{call.pk}/ansok/")),
    ]
    pages += [
        (f"step {step}", _page(client, f"/portal/ansokningar/{draft.pk}/steg/{step}/"))
        for step in ("sokande", "belopp", "bilagor", "granska")
    ]
    pages += [
        ("draft", _page(client, f"/portal/ansokningar/{draft.pk}/")),
        ("withdraw", _page(client, f"/portal/ansokningar/{draft.pk}/ata-tillbaka/")),
    ]
    return pages


@pytest.mark.django_db
def test_the_applicants_pages_in_english_have_no_swedish_left(in_english, ascii_applicant):
    alex, club, call, draft = ascii_applicant
    in_english.force_login(alex)
    left = {name: lines for name, html in portal_pages(in_english, club, call, draft) if (lines := swedish_left(html))}
    assert left == {}


@pytest.mark.django_db
def test_the_portal_start_page_in_english_has_no_swedish_left(in_english, ascii_applicant):
    alex, *_ = ascii_applicant
    in_english.force_login(alex)
    assert swedish_left(_page(in_english, "/portal/")) == []


@pytest.mark.django_db
def test_a_granted_cases_page_in_english_has_no_swedish_left(in_english, ascii_programme, olle):
    from grants.models import Membership, Organisation
    from tests import factories

    alex = factories.user("alex", first_name="Alex")
    club = Organisation.objects.create(name="Sunset Sports Club", org_number="802412-1231", bankgiro="5050-1055")
    Membership.objects.create(user=alex, organisation=club)
    case = factories.granted_case(
        ascii_programme.calls.order_by("opens_on").first(), club, alex, olle, amount="5000", title="Homework club"
    )
    case.description = "Homework help."
    case.save(update_fields=["description"])
    case.budget_lines.update(label="Leaders")
    in_english.force_login(alex)
    html = _page(in_english, f"/portal/ansokningar/{case.pk}/")
    assert swedish_left(html) == []
    assert "Application received" in html and "Decision: Granted" in html  # the history, translated


def test_the_swedish_text_finder_finds_it():
    html = (
        '<html lang="en"><body><p>Grants</p><form><button lang="sv">På svenska</button></form>'
        '<a aria-label="Hoppa till innehållet"></a><p>Logga in</p><script>var å;</script></body></html>'
    )
    assert swedish_left(html) == ["Hoppa till innehållet", "Logga in"]


def test_the_compiled_catalogue_is_the_committed_one():
    """The .mo Django reads (compiled by `make messages`, not committed) says what the .po
    says: run `make messages` after changing the .po."""
    stale = []
    with translation.override("en"):
        for entry in po_entries(EN_CATALOGUE):
            if entry["msgid_plural"]:
                got = [translation.ngettext(entry["msgid"], entry["msgid_plural"], count) for count in (1, 2)]
            elif entry["msgctxt"]:
                got = [translation.pgettext(entry["msgctxt"], entry["msgid"])]
            else:
                got = [translation.gettext(entry["msgid"])]
            if got != entry["msgstr"]:
                stale.append(entry["msgid"])
    assert stale == [], "Run `make messages`: the compiled catalogue is older than locale/en/LC_MESSAGES/django.po"


# --- a case's pages in English, at each stage ----------------------------------------------


def _ascii(case):
    """The factories' Swedish data (description, budget) made ASCII: Swedish left is ours."""
    case.description = "Homework help."
    case.save(update_fields=["description"])
    case.budget_lines.update(label="Leaders")
    return case


def case_page(client, case, *, status=200):
    """The Swedish left on the case page. The municipality's letters are Swedish documents,
    and their file names say so: those are data here."""
    html = _page(client, f"/portal/ansokningar/{case.pk}/", status=status)
    return swedish_left(html, data=[doc.filename for doc in case.documents.all()])


def untranslated_events(case):
    """The case's history rows whose stored (Swedish) action has no English text."""
    with translation.override("en"):
        return [event.action for event in case.events.all() if event.label == event.action]


def _through(case, officer, *, outcome, amount, reasons="Thank you."):
    """Olle takes a submitted case through completeness, assessment and his decision."""
    from decimal import Decimal

    from grants.services import assess, decide

    assess.completeness_confirm(application=case, by=officer)
    assess.assessment_record(
        application=case,
        by=officer,
        no_conflict=True,
        proposal=outcome,
        proposed_amount=Decimal(amount),
        justification=reasons,
    )
    decide.decision_make(application=case, by=officer, outcome=outcome, amount=Decimal(amount), reasons=reasons)


def _left(pages):
    return {name: lines for name, lines in pages.items() if lines}


@pytest.mark.django_db
def test_a_case_awaiting_completion_in_english_has_no_swedish_left(in_english, ascii_applicant, olle, in_a_week):
    from grants.services import apply, assess

    alex, _club, _call, draft = ascii_applicant
    case = apply.application_submit(application=draft, by=alex)
    assess.completion_request(application=case, by=olle, message="Send the minutes.", due_on=in_a_week)
    in_english.force_login(alex)
    answer = f"/portal/ansokningar/{case.pk}/komplettering/"
    pages = {
        "awaiting completion": case_page(in_english, case),
        "answer, empty": swedish_left(_page(in_english, answer, method="post", data={"answer": ""}, status=400)),
    }
    assert in_english.post(answer, {"answer": "The minutes are attached."}).status_code == 302
    pages["answered"] = case_page(in_english, case)
    assert _left(pages) == {}
    assert untranslated_events(case) == []


@pytest.mark.django_db
def test_a_rejected_case_in_english_has_no_swedish_left(
    in_english, ascii_applicant, olle, django_capture_on_commit_callbacks
):
    from grants.services import apply

    alex, _club, _call, draft = ascii_applicant
    with django_capture_on_commit_callbacks(execute=True):  # the receipt and the decision letter
        case = apply.application_submit(application=draft, by=alex)
        _through(case, olle, outcome="rejected", amount="0", reasons="The budget is too thin.")
    case.refresh_from_db()
    assert case.status == "rejected" and case.documents.count() == 2
    in_english.force_login(alex)
    html = _page(in_english, f"/portal/ansokningar/{case.pk}/")
    assert "Decision: Rejected" in html and "Decision letter sent" in html
    assert case_page(in_english, case) == []
    assert swedish_left(_page(in_english, "/portal/")) == []
    assert untranslated_events(case) == []


@pytest.mark.django_db
def test_a_paid_case_and_its_follow_up_report_in_english_have_no_swedish_left(in_english, ascii_applicant, olle, fia):
    """Part 1 paid, part 2 withheld until the report, which is due, saved half-done, submitted."""
    from decimal import Decimal

    from grants.models import FollowUpReport
    from grants.services import follow_up

    alex, club, call, _draft = ascii_applicant
    case = _ascii(factories.report_owed(call, club, alex, olle, fia, amount="5000", title="Homework club"))
    in_english.force_login(alex)
    pages = {"report due": case_page(in_english, case)}
    report = FollowUpReport.objects.get(application=case)
    follow_up.follow_up_save_draft(report=report, by=alex, what_was_done="Homework help every week.")
    pages["report saved"] = case_page(in_english, case)
    follow_up.follow_up_submit(
        report=case.follow_up,
        by=alex,
        outcome="Goals met.",
        own_contribution=Decimal("0"),
        cost_lines=[("Leaders", Decimal("5000"), Decimal("4000"))],
    )
    pages["report submitted"] = case_page(in_english, case)
    pages["start page"] = swedish_left(_page(in_english, "/portal/"))
    assert _left(pages) == {}
    assert untranslated_events(case) == []


@pytest.mark.django_db
def test_the_follow_up_report_form_in_english_has_no_swedish_left(in_english, ascii_applicant, olle, fia):
    """The form blank, refused, saved half-done (and the case page saying so), and the report as sent."""
    alex, club, call, _draft = ascii_applicant
    case = _ascii(factories.report_owed(call, club, alex, olle, fia, amount="5000", title="Homework club"))
    in_english.force_login(alex)
    report = f"/portal/ansokningar/{case.pk}/aterrapport/"
    data = factories.report_form_data(case, what_was_done="Homework help every week.", outcome="Goals met.")
    pages = {
        "report form": swedish_left(_page(in_english, report)),
        "report form, refused": swedish_left(
            _page(in_english, report, method="post", status=400, data={**data, "what_was_done": "", "outcome": ""})
        ),
    }
    assert in_english.post(report, {**data, "outcome": "", "action": "save"}).status_code == 302
    pages["report saved"] = case_page(in_english, case)
    pages["report form, saved"] = swedish_left(_page(in_english, report))
    assert in_english.post(report, data).status_code == 302
    pages["report submitted"] = case_page(in_english, case)
    pages["report as sent"] = swedish_left(_page(in_english, report))
    assert _left(pages) == {}


@pytest.mark.django_db
def test_a_reviewed_follow_up_report_in_english_has_no_swedish_left(in_english, ascii_applicant, olle, fia):
    """Olle asks for more in the report, then rejects it: a repayment claim, paid back in part."""
    from decimal import Decimal

    from grants.models import FollowUpReport, RepaymentClaim
    from grants.services import follow_up, repayments

    alex, club, call, _draft = ascii_applicant
    case = _ascii(factories.report_owed(call, club, alex, olle, fia, amount="5000", title="Homework club"))
    complete = dict(
        what_was_done="Homework help.",
        outcome="Goals met.",
        own_contribution=Decimal("0"),
        cost_lines=[("Leaders", Decimal("5000"), Decimal("4000"))],
    )

    def review(verdict, note, **kwargs):
        follow_up.follow_up_review(
            report=FollowUpReport.objects.get(application=case), by=olle, verdict=verdict, note=note, **kwargs
        )

    follow_up.follow_up_submit(report=case.follow_up, by=alex, **complete)
    review("completion", "Add the receipts.")
    in_english.force_login(alex)
    pages = {"report completion requested": case_page(in_english, case)}
    follow_up.follow_up_submit(report=case.follow_up, by=alex, **complete)
    review("reject", "The money went elsewhere.", reclaim_amount=Decimal("1000"))
    repayments.repayment_register(
        claim=RepaymentClaim.objects.get(application=case),
        by=fia,
        amount=Decimal("400"),
        received_on=timezone.localdate(),
    )
    pages["report rejected, claim"] = case_page(in_english, case)
    assert _left(pages) == {}
    assert untranslated_events(case) == []


@pytest.mark.django_db
def test_a_drafts_steps_refused_in_english_have_no_swedish_left(in_english, ascii_applicant):
    """The first step posted empty, and the check page of a draft that cannot be sent."""
    alex, _club, _call, draft = ascii_applicant
    in_english.force_login(alex)
    Programme.objects.filter(pk=draft.call.programme_id).update(calculator="requested")  # needs a budget
    draft.budget_lines.all().delete()
    response = in_english.post(f"/portal/ansokningar/{draft.pk}/steg/sokande/", {})
    assert response.status_code in (200, 400) and 'class="error-summary"' in response.content.decode()
    pages = {"details, empty": swedish_left(response.content.decode())}
    pages["check, not ready"] = swedish_left(_page(in_english, f"/portal/ansokningar/{draft.pk}/steg/granska/"))
    pages["submit, refused"] = swedish_left(
        _page(in_english, f"/portal/ansokningar/{draft.pk}/skicka-in/", method="post", status=400)
    )
    assert _left(pages) == {}


@pytest.mark.django_db
def test_the_sponsors_pages_in_english_have_no_swedish_left(in_english, ascii_applicant):
    """Nina's group applies with Sunset Sports Club as its sponsor: Alex, in the club, reads,
    and refuses to decline without a reason; Nina's case page and withdrawal page meanwhile."""
    from grants.services import apply

    alex, club, call, _draft = ascii_applicant
    nina = factories.user("nina", first_name="Nina")
    group = factories.informal_group(club, name="Night Walkers", members=[nina])
    draft = apply.application_save_draft(
        call=call,
        organisation=group,
        by=nina,
        title="Safe evenings",
        description="Walks on Fridays.",
        period_start="2026-01-01",
        period_end="2026-12-31",
        stated_amount=5000,
        budget_lines=[("cost", "Vests", 5000), ("income", "Own work", 500)],
    )
    waiting = apply.application_ask_sponsor(application=draft, by=nina)
    in_english.force_login(alex)
    sponsor = f"/portal/medsokare/{waiting.pk}/"
    pages = {
        "sponsor": swedish_left(_page(in_english, sponsor)),
        "sponsor, decline refused": swedish_left(
            _page(in_english, f"{sponsor}avboj/", method="post", data={"reason": ""}, status=400)
        ),
    }
    in_english.force_login(nina)
    pages["group's case"] = case_page(in_english, waiting)
    pages["group's withdrawal"] = swedish_left(_page(in_english, f"/portal/ansokningar/{waiting.pk}/ata-tillbaka/"))
    assert _left(pages) == {}


@pytest.mark.django_db
def test_withdrawing_a_case_in_english_shows_no_swedish(in_english, ascii_applicant):
    from grants.services import apply

    alex, _club, _call, draft = ascii_applicant
    case = apply.application_submit(application=draft, by=alex)
    in_english.force_login(alex)
    withdraw = f"/portal/ansokningar/{case.pk}/ata-tillbaka/"
    pages = {
        "withdraw": swedish_left(_page(in_english, withdraw)),
        "withdraw, unconfirmed": swedish_left(_page(in_english, withdraw, method="post", data={}, status=400)),
    }
    assert in_english.post(withdraw, {"confirm": "on", "note": "We found other money."}).status_code == 302
    assert _left(pages) == {}
    assert untranslated_events(case) == []


@pytest.mark.django_db
def test_a_withdrawn_cases_page_in_english_has_no_swedish_left(in_english, ascii_applicant):
    from grants.services import apply

    alex, _club, _call, draft = ascii_applicant
    case = apply.application_withdraw(
        application=apply.application_submit(application=draft, by=alex), by=alex, note="We found other money."
    )
    in_english.force_login(alex)
    assert case_page(in_english, case) == []


@pytest.mark.django_db
def test_min_forening_in_english_has_no_swedish_left(in_english, ascii_applicant):
    """The association's page with a person waiting, an invitation and its statutes, each of
    its forms refused; what the waiting person and the invited one see."""
    from grants.files import Upload
    from grants.models import Invitation
    from grants.services import organisations

    alex, club, *_ = ascii_applicant
    bo = factories.user("bo", first_name="Bo")
    factories.pending_member(bo, club)
    organisations.invitation_create(organisation=club, by=alex, email="cy@example.org", site_url="http://testserver")
    organisations.organisation_file_add(
        organisation=club,
        by=alex,
        kind="statutes",
        upload=Upload("statutes.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    in_english.force_login(alex)
    home = f"/portal/forening/{club.pk}/"
    pages = {"organisation": swedish_left(_page(in_english, home))}
    for name, path, data in (
        ("details", "uppgifter/", {"profile-name": "", "profile-email": "not-an-address", "profile-postal_code": "1"}),
        (
            "board",
            "styrelse/",
            {"board-TOTAL_FORMS": "1", "board-INITIAL_FORMS": "0", "board-0-name": "Bo", "board-0-role": ""},
        ),
        ("bank account", "bankkonto/", {"bank-account_scheme": "bankgiro", "bank-account_number": ""}),
        ("file", "dokument/", {"file-kind": "statutes"}),
        ("invitation", "bjud-in/", {"invite-email": "not-an-address", "invite-role": "member"}),
    ):
        response = in_english.post(home + path, data)
        assert response.status_code in (200, 400), (name, response.status_code)
        pages[f"{name}, refused"] = swedish_left(response.content.decode())
    in_english.force_login(bo)
    pages["waiting to be confirmed"] = swedish_left(_page(in_english, home))
    in_english.force_login(factories.user("cy", first_name="Cy"))
    token = Invitation.objects.get().token
    pages["invitation"] = swedish_left(_page(in_english, f"/konto/inbjudan/{token}/"))
    assert _left(pages) == {}


@pytest.mark.django_db
def test_a_refused_account_number_in_english_has_no_swedish_left(in_english, ascii_applicant):
    alex, club, *_ = ascii_applicant
    in_english.force_login(alex)
    response = in_english.post(
        f"/portal/forening/{club.pk}/bankkonto/", {"bank-account_scheme": "bankgiro", "bank-account_number": "123"}
    )
    assert response.status_code in (200, 400)
    assert swedish_left(response.content.decode()) == []


# --- the case history: stored in Swedish, shown translated ------------------------------


def _recorded_actions():
    """Each action the code writes into a case's history, as the code spells it: a string,
    an f-string's or format_lazy's template ("{}" where a value goes), a .format() template."""
    found = set()
    for path in [*ROOT.glob("grants/**/*.py"), *ROOT.glob("documents/**/*.py"), *ROOT.glob("workflows/**/*.py")]:
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("record_event", "_events", "CaseEvent"):
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    found.add((path.relative_to(ROOT).as_posix(), _template(keyword.value)))
    return found


def _template(value):
    if isinstance(value, ast.Constant):  # "Utbetalning del {p.sequence} attesterad" is formatted by _events
        return re.sub(r"\{[^}]*\}", "{}", value.value)
    if isinstance(value, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in value.values)
    if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "format_lazy":
        return value.args[0].value
    return None  # a name (action.format(p=…) in _events, a verdict's action): its callers are found


def _samples(template):
    """The actions a template writes, with each choice label (or a part number) filled in."""
    from grants.models import Decision, Document

    if "{}" not in template:
        return [template]
    with translation.override("sv"):
        labels = [str(label) for label in (*Decision.Outcome.labels, *Document.Kind.labels)]
    values = ["2"] if template.startswith("Utbetalning del") else labels
    return [template.replace("{}", value) for value in values]


def action_label(action):
    """The stored action as the case history shows it (CaseEvent.label)."""
    from grants.models import CaseEvent

    return CaseEvent(action=action).label


def test_every_action_the_code_records_reads_in_english():
    """A new record_event(action=…) needs its text in grants/events.py (ACTIONS or PATTERNS)
    and in the catalogue; otherwise the applicant's history shows it in Swedish."""
    recorded = _recorded_actions()
    assert {template for _path, template in recorded} >= {
        "Utkast skapat",
        "Beslut: {}",
        "{} skickat",
        "Utbetalning del {} utbetald",
    }
    untranslated = []
    with translation.override("en"):
        for path, template in sorted(recorded, key=str):
            if template is None:
                continue
            untranslated += [(path, action) for action in _samples(template) if action_label(action) == action]
    assert untranslated == []


def test_the_history_keeps_its_swedish_record_and_shows_it_in_english():
    from grants.events import in_swedish
    from grants.models import Document

    with translation.override("en"):
        assert action_label("Utbetalning del 2 utbetald") == "Payment part 2 paid"
        assert action_label("Beslut: Beviljas delvis") == "Decision: Granted in part"
        assert action_label("Beslut om återkrav skickat") == "Repayment claim decision sent"
        assert action_label("Something from before") == "Something from before"  # unknown: as stored
        assert in_swedish(Document.Kind.DECISION_LETTER.label) == "Beslutsbrev"
    with translation.override("sv"):
        assert action_label("Ansökan inkommen") == "Ansökan inkommen"


# --- the person's choice: the settings page, the switcher, the next login ------------------


@pytest.fixture
def alex(db):
    from tests import factories

    return factories.user("alex", first_name="Alex")


def test_the_settings_page_saves_the_language_and_the_optional_mails(client, alex):
    client.force_login(alex)
    html = client.get("/portal/installningar/").content.decode()
    assert '<html lang="sv">' in html and "E-post som alltid skickas" in html
    assert not ApplicantSettings.objects.exists()  # looking saves nothing

    response = client.post("/portal/installningar/", {"language": "en"})  # the optional mails unticked
    assert response.status_code == 302 and response.url == "/portal/installningar/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    saved = ApplicantSettings.objects.get(user=alex)
    assert (saved.language, saved.optional_emails) == ("en", False)

    html = client.get(response.url).content.decode()  # the pages switch at once
    assert '<html lang="en">' in html and "Your settings have been saved." in html

    client.post("/portal/installningar/", {"language": "sv", "optional_emails": "on"})
    saved.refresh_from_db()
    assert (saved.language, saved.optional_emails) == ("sv", True)
    assert ApplicantSettings.objects.count() == 1


def test_a_bad_language_is_refused_at_the_field(client, alex):
    client.force_login(alex)
    response = client.post("/portal/installningar/", {"language": "de"})
    assert response.status_code == 400 and 'class="error-summary"' in response.content.decode()
    assert not ApplicantSettings.objects.exists()


def test_the_settings_page_needs_a_login(client):
    response = client.get("/portal/installningar/")
    assert response.status_code == 302 and response.url.startswith("/konto/logga-in/")


def test_the_header_switcher_remembers_a_logged_in_persons_choice(client, alex):
    client.force_login(alex)
    response = client.post("/sprak/", {"language": "en", "next": "/bidrag/"})
    assert response.status_code == 302 and response.url == "/bidrag/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert ApplicantSettings.objects.get(user=alex).language == "en"
    assert '<html lang="en">' in client.get("/bidrag/").content.decode()


def test_the_header_switcher_saves_nothing_for_a_visitor(client, db):
    response = client.post("/sprak/", {"language": "en", "next": "/bidrag/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert not ApplicantSettings.objects.exists()


def test_logging_in_on_another_browser_brings_the_saved_language(client, alex):
    ApplicantSettings.objects.create(user=alex, language="en")
    assert '<html lang="sv">' in client.get("/konto/logga-in/").content.decode()  # who it is, is not known yet
    response = client.post("/konto/logga-in/", {"username": "alex", "password": "demo"}, follow=True)
    assert '<html lang="en">' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies  # the session carries it
    client.post("/konto/logga-ut/")
    assert '<html lang="sv">' in client.get("/bidrag/").content.decode()


def test_a_language_chosen_in_this_browser_wins_over_the_saved_one(client, alex):
    ApplicantSettings.objects.create(user=alex, language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = client.post("/konto/logga-in/", {"username": "alex", "password": "demo"}, follow=True)
    assert '<html lang="sv">' in response.content.decode()


def test_a_first_visit_costs_no_query_for_the_language(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get("/tillganglighet/")
