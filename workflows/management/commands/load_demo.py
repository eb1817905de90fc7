"""Load a small, believable municipality to try the product on: `make run` runs it after migrate.

Why: a fresh install is empty, and an empty grant system shows nothing of what it does.
The demo gives every screen something to show — cases in every state, open tasks in each
staff queue, decision letters, payments at each step, follow-up reports — for Nacka kommun,
three committees and the three grant programmes of the brief.

How: every case is walked through the real services, each of which takes its step in the
real flow (grants.process): the applicant's steps as the portal takes them, the staff tasks
worked as their task pages would — never by writing a state into the database. So each
case's state, its open tasks, its history and its letters agree exactly as if people had
done the work. The load is deliberately not one transaction: the flow
produces each decision letter once the decision has committed, as in the product; the
committee's letters are made for each meeting at the end, as Kim does on the meeting page.

Safety: it refuses to run outside the embedded default (SQLite, not production). Accounts
whose password is "demo" must never reach a real database.
"""

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.test.utils import override_settings
from django.utils import timezone
from lxml import etree
from stdnum import luhn

from documents import batches, ledger_files, payment_files
from grants.identity.models import ConfirmedEmail
from grants.models import (
    AccountChangeRequest,
    AnnualBudget,
    Application,
    Assessment,
    AttestationLimit,
    Call,
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    Decision,
    Document,
    Membership,
    Organisation,
    OrganisationFile,
    Payment,
    Programme,
    RepaymentClaim,
    StaffScope,
)
from grants.records.models import RetentionRule
from grants.roles import roles_ensure
from grants.services import (
    apply,
    assess,
    decide,
    follow_up,
    organisations,
    pay,
    payee_accounts,
    repayments,
)
from grants.services import committee as committee_work
from grants.services.organisations import Upload
from grants.validators import validate_orgnr

PASSWORD = "demo"
URL = "http://127.0.0.1:8000/"
MUNICIPALITY = "Nacka kommun"
# The demo makes its letters and receipts at once, in the loading process, instead of
# queueing them for the background worker.
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


# --- the cast --------------------------------------------------------------------------

# username, first name, last name, group (None: an applicant)
STAFF = [
    ("olle", "Olle", "Lindqvist", "Handläggare"),
    ("otto", "Otto", "Berg", "Handläggare"),
    ("kim", "Kim", "Nyström", "Beslutsfattare"),
    ("fia", "Fia", "Holm", "Ekonomi"),
    ("lena", "Lena", "Sjöberg", "Ledning"),
    ("siv", "Siv", "Åberg", "Nämndsekreterare"),
]
APPLICANTS = [
    ("anna", "Anna", "Svensson"),
    ("bengt", "Bengt", "Karlsson"),
    ("leyla", "Leyla", "Hassan"),
    ("nadia", "Nadia", "Ali"),
    ("erik", "Erik", "Johansson"),
    ("sara", "Sara", "Lind"),
    ("johan", "Johan", "Ek"),
]

# The committees of the staff who do not work for all of them (StaffScope).
SCOPED_STAFF = {"otto": ["SN"]}

# What the accounts table says about each staff role.
ROLE_TEXT = {
    "olle": "Handläggare",
    "otto": "Handläggare i Socialnämnden (tar ärenden där Olle är jävig)",
    "kim": "Beslutsfattare (nämnden)",
    "fia": "Ekonomi / attestant",
    "lena": "Ledning (årsrapporten om bidrag)",
    "siv": "Nämndsekreterare (föredragningslista och protokoll)",
    "admin": "Systemförvaltare (superuser)",
}

# Each committee's members: (name, party, role); the first is the chair.
MEMBERS = [
    ("Maria Lund", "S", CommitteeMember.Role.CHAIR),
    ("Per Ahlin", "M", CommitteeMember.Role.VICE_CHAIR),
    ("Lena Ek", "L", CommitteeMember.Role.MEMBER),
    ("Omar Said", "MP", CommitteeMember.Role.MEMBER),
    ("Eva Björk", "C", CommitteeMember.Role.MEMBER),
    ("Sten Wall", "KD", CommitteeMember.Role.SUBSTITUTE),
    ("Nora Falk", "V", CommitteeMember.Role.SUBSTITUTE),
]

# The document management plan (dokumenthanteringsplan) as the demo's committees adopted it.
RETENTION_PLAN = [
    ("attachment", "cull", 10, "KFN 2026-03-12 § 14"),
    ("completion", "cull", 10, "KFN 2026-03-12 § 14"),
    ("follow_up", "cull", 10, "KFN 2026-03-12 § 14"),
    ("message", "cull", 10, "KFN 2026-03-12 § 14"),
    ("message_text", "anonymise", 2, "KFN 2026-03-12 § 14"),
    ("receipt", "cull", 2, "KFN 2026-03-12 § 14"),
    ("decision_letter", "keep", None, "KFN 2026-03-12 § 14"),
    ("repayment_letter", "keep", None, "KFN 2026-03-12 § 14"),
    ("officer_report", "keep", None, "KFN 2026-03-12 § 14"),
    ("protocol_extract", "keep", None, "KFN 2026-03-12 § 14"),
]

COMMITTEES = [
    # code, name, e-mail, phone
    ("KFN", "Kultur- och fritidsnämnden", "kultur.fritid@nacka.example", "08-718 80 00"),
    ("SN", "Socialnämnden", "socialnamnden@nacka.example", "08-718 90 00"),
    ("UBN", "Utbildningsnämnden", "utbildning@nacka.example", "08-718 70 00"),
]

# The parts of the municipality, for the programmes' questions.
DISTRICTS = ["Boo", "Ektorp", "Fisksätra", "Nacka kyrka", "Nacka strand", "Orminge", "Saltsjöbaden", "Sickla", "Älta"]

PROGRAMMES = [
    dict(
        key="inkludering",
        committee="SN",
        slug="projektbidrag-inkludering",
        name="Projektbidrag för inkludering",
        description=(
            "Stöd till tidsbegränsade projekt som bryter utanförskap och får fler barn, unga och vuxna att "
            "delta i föreningslivet. Föreningar kan söka, liksom nätverk och grupper utan organisationsnummer "
            "tillsammans med en medsökande förening. Ansökan ska ha en budget. 85 % betalas ut efter beslut "
            "och 15 % när återrapporten är godkänd."
        ),
        who_may_apply=Programme.ApplicantKind.ASSOCIATIONS_AND_GROUPS,
        calculator="requested",
        calculator_params={},
        delegation_limit="50000",
        delegation_point="3.4",
        accounting_code="P-INKL",  # the project in the ledger; the others use their slug
        payment_plan=[{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}],
        follow_up_required=True,
        # The decision letter asks for what these say, and the report's form asks exactly that.
        follow_up_parts=["participants_by_age_gender", "financial_statement"],
        priority_areas=["Barn och unga", "Nyanlända", "Trygghet", "Jämställdhet"],
        target_groups=["Barn 7–12 år", "Unga 13–25 år", "Föräldrar", "Alla åldrar"],
        application_questions=[
            {
                "key": "reach",
                "type": "textarea",
                "label": "Hur når ni dem som i dag inte deltar i föreningslivet?",
                "label_en": "How will you reach those who do not take part in associations today?",
                "help": "T.ex. samarbete med skolan eller fritidsgården, information på flera språk.",
                "help_en": "For example working with the school or the youth centre, information in several languages.",
            },
            {
                "key": "participants",
                "type": "number",
                "label": "Hur många deltagare räknar ni med?",
                "label_en": "How many participants do you expect?",
            },
            {
                "key": "partner",
                "type": "yesno",
                "label": "Samarbetar ni med någon annan organisation i projektet?",
                "label_en": "Do you work with another organisation in the project?",
            },
        ],
    ),
    dict(
        key="verksamhet",
        committee="UBN",
        slug="verksamhetsbidrag",
        name="Verksamhetsbidrag",
        description=(
            "Årligt bidrag till föreningar med verksamhet för barn och unga i kommunen: ett grundbelopp på "
            "5 000 kr och 150 kr per betalande medlem. Föreningen lämnar en återrapport efter verksamhetsåret."
        ),
        who_may_apply=Programme.ApplicantKind.ASSOCIATIONS,
        calculator="base_plus_per_member",
        calculator_params={"base": "5000", "per_member": "150"},
        delegation_limit="30000",
        delegation_point="5.1",
        payment_plan=[{"percent": 100, "release": "decision"}],
        follow_up_required=True,
        follow_up_parts=["participants_by_age_gender"],
        priority_areas=["Barn och unga", "Folkhälsa", "Kultur"],
        target_groups=["Barn 7–12 år", "Unga 13–20 år", "Alla åldrar"],
        application_questions=[
            {
                "key": "district",
                "type": "choice",
                "label": "Var i kommunen har ni er verksamhet?",
                "label_en": "Where in the municipality are you active?",
                "choices": DISTRICTS + ["Flera kommundelar"],
                "choices_en": DISTRICTS + ["Several districts"],
            },
            {
                "key": "annual_meeting",
                "type": "date",
                "label": "När hölls föreningens senaste årsmöte?",
                "label_en": "When was the association's last annual meeting?",
            },
        ],
    ),
    dict(
        key="aktivitet",
        committee="KFN",
        slug="aktivitetsstod",
        name="Föreningsbidrag – aktivitetsstöd",
        description=(
            "Stöd per sammankomst och deltagare i åldern 7–25 år (12 kr per deltagartillfälle). En sammankomst "
            "räknas när minst tre deltagare i åldern är med och den varar minst 45 minuter. Söks i efterhand "
            "för varje halvår; ingen särskild återrapport krävs."
        ),
        who_may_apply=Programme.ApplicantKind.ASSOCIATIONS,
        calculator="sessions_participants",
        calculator_params={"per_participant_session": "12", "min_participants": 3},
        delegation_limit="100000",
        delegation_point="4.2",
        payment_plan=[{"percent": 100, "release": "decision"}],
        follow_up_required=False,
        # Reported per session as it is sought afterwards; were a report asked for, it would count them.
        follow_up_parts=["sessions"],
        priority_areas=["Barn och unga", "Folkhälsa"],
        target_groups=["Barn 7–12 år", "Unga 13–25 år"],
        application_questions=[
            {
                "key": "lok_rules",
                "type": "yesno",
                "label": "Uppfyller alla sammankomster villkoren: 7–25 år, minst tre deltagare och minst 45 minuter?",
                "label_en": "Does every session meet the conditions: ages 7–25, at least three participants and at "
                "least 45 minutes?",
            },
            {
                "key": "attendance_lists",
                "type": "text",
                "required": False,
                "label": "Var förvaras närvarolistorna?",
                "label_en": "Where are the attendance lists kept?",
                "help": "Handläggaren kan be att få se dem.",
                "help_en": "The officer may ask to see them.",
            },
        ],
    ),
]

# key, programme, title, opens (days from today), closes, max amount, budget
CALLS = [
    ("inkludering", "inkludering", "Ansökningsomgång {year}", -45, 40, "150000", "1200000"),
    ("verksamhet", "verksamhet", "Verksamhetsbidrag {year}", -60, 30, "60000", "600000"),
    ("aktivitet", "aktivitet", "Aktivitetsstöd hösten {year}", -30, 45, "50000", "400000"),
    # A round that is over: shown as closed in the portal, nobody can apply to it.
    ("aktivitet_var", "aktivitet", "Aktivitetsstöd våren {year}", -230, -170, "50000", "400000"),
]

# The previous budget year's rounds, for the annual report: key, programme, title, max amount,
# budget. They are open while the demo walks their cases and closed afterwards.
PREVIOUS_YEAR_CALLS = [
    ("verksamhet_fjol", "verksamhet", "Verksamhetsbidrag {year}", "60000", "600000"),
    ("inkludering_fjol", "inkludering", "Ansökningsomgång {year}", "150000", "1000000"),
]

# key, name, first nine digits of the organisationsnummer (the check digit is computed),
# bankgiro or plusgiro without its check digit, district, members (username, role)
ORGANISATIONS = [
    ("fisksatra", "Fisksätra IF", "802412123", ("bg", "5050105"), "Fisksätra", [("anna", "signatory")]),
    ("scout", "Saltsjöbadens scoutkår", "802437496", ("bg", "5123477"), "Saltsjöbaden", [("bengt", "contact")]),
    ("schack", "Nacka schackklubb", "802501773", ("pg", "4417203"), "Sickla", [("bengt", "signatory")]),
    (
        "foraldrar",
        "Somaliska föräldraföreningen i Nacka",
        "802419650",
        ("bg", "5287910"),
        "Fisksätra",
        [("leyla", "contact")],
    ),
    ("boo", "Boo fotbollsförening", "802478334", ("bg", "5331862"), "Boo", [("erik", "contact")]),
    ("alta", "Älta innebandyklubb", "802490127", ("bg", "5419046"), "Älta", [("erik", "member")]),
    ("orminge", "Orminge kulturförening", "802466218", ("pg", "2280114"), "Orminge", [("sara", "contact")]),
    ("dans", "Sickla dansförening", "802533905", ("bg", "5560738"), "Sickla", [("sara", "signatory")]),
    ("laxhjalp", "Ektorps läxhjälpsförening", "802520341", ("bg", "5602281"), "Ektorp", [("johan", "contact")]),
    ("sim", "Nacka simsällskap", "802444562", ("bg", "5744193"), "Nacka strand", [("johan", "signatory")]),
    ("hembygd", "Nacka hembygdsförening", "802453889", ("pg", "1866305"), "Nacka kyrka", [("johan", "member")]),
    (
        "tornet",
        "Kulturföreningen Tornet i Fisksätra",
        "802487012",
        ("bg", "5871264"),
        "Fisksätra",
        [("johan", "contact")],
    ),
]
# An informal group without organisationsnummer: applies with a sponsor, which receives the money.
INFORMAL_GROUPS = [
    ("nattvandrarna", "Nattvandrarna i Fisksätra", "fisksatra", "Fisksätra", [("nadia", "contact")]),
]


# --- the cases -------------------------------------------------------------------------

# How far a case's story goes. Each stage includes the ones before it that apply.
STAGES = (
    "draft",
    "withdrawn",
    "awaiting_sponsor",
    "submitted",
    "withdrawn_after_submission",
    "awaiting_completion",
    "in_assessment",
    "assessed",
    "decided",
    "attested",
    "payment_failed",
    "paid",
    "report_draft",
    "report_submitted",
    "report_completion",
    "report_rejected",
    "closed",
)


@dataclass
class Case:
    who: str  # the applicant's username
    org: str  # organisation key
    call: str  # call key
    title: str
    description: str
    until: str  # one of STAGES
    amount: int | None = None  # project grants: the amount asked for …
    budget: tuple = ()  # … backed by (kind, label, amount) lines
    inputs: dict = field(default_factory=dict)  # other programmes: what the calculator needs
    period: tuple | None = None  # (start, end) in days from today
    completion: str = ""  # the officer asks for this first …
    answer: str = ""  # … and the applicant answers
    conflict: str = ""  # Olle declares jäv; Otto takes over
    officer: str = "olle"
    proposal: str = "approved"
    proposed: int | None = None  # default: the requested amount (0 when rejecting)
    withdraw_note: str = "Ansökan skapades av misstag."
    reasons: str = "Ansökan uppfyller bidragsformens villkor och stämmer med nämndens mål."
    conditions: str = ""
    payment_fails: str = ""  # the bank returns the payment with this reason
    report: dict = field(default_factory=dict)  # see report_fields(): texts, participants, spent, sessions
    report_completion: str = ""  # the officer asks for more in the follow-up report
    reclaim: int = 0  # a rejected report: the repayment claim …
    repaid: int = 0  # … and what has come back of it so far
    priority: str = ""  # default: one of the programme's priority areas
    target: str = ""  # default: one of its target groups


def _budget(*lines):
    return tuple((kind, label, Decimal(amount)) for kind, label, amount in lines)


REPORT = dict(
    what_was_done="Verksamheten genomfördes enligt planen med träffar varje vecka under perioden.",
    outcome="Vi nådde fler deltagare än vi räknat med, särskilt flickor 10–15 år.",
    participants=45,  # in all, spread over the age bands and genders
    spent=Decimal("0.95"),  # each budgeted cost's outcome as a share of its budget
    sessions=36,
)

CASES = [
    # --- Fisksätra IF (Anna): one case in each part of the story ---
    Case(
        "anna",
        "fisksatra",
        "aktivitet",
        "Aktivitetsstöd för ungdomslagen",
        "Fotbollsträningar och matcher för ungdomslagen, P10–P16 och F12.",
        "closed",
        inputs={"sessions": 70, "participants": 18},
        reasons="Sammankomsterna är redovisade och uppfyller villkoren för aktivitetsstöd.",
    ),
    Case(
        "anna",
        "fisksatra",
        "inkludering",
        "Fotboll och läxhjälp för tjejer i Fisksätra",
        "Två kvällar i veckan: läxhjälp en timme, sedan fotbollsträning. Ledare från föreningen och "
        "frivilliga studenter. Målet är att 40 flickor 10–15 år som i dag inte idrottar deltar regelbundet.",
        "report_draft",
        amount=60000,
        period=(-210, -30),
        priority="Jämställdhet",
        target="Barn 7–12 år",
        budget=_budget(
            ("cost", "Ledararvoden", "42000"),
            ("cost", "Hallhyra", "18000"),
            ("cost", "Material och mellanmål", "6000"),
            ("income", "Egen insats", "6000"),
        ),
        reasons="Projektet når flickor som i dag står utanför föreningslivet och har en realistisk budget.",
        conditions="Kommunens logotyp ska synas i projektets kommunikation.",
    ),
    Case(
        "anna",
        "fisksatra",
        "inkludering",
        "Sommarlovsfotboll för nyanlända familjer",
        "Öppen fotboll fyra veckor under sommarlovet, med föräldrafika och information om föreningslivet "
        "på flera språk.",
        "awaiting_completion",
        amount=35000,
        budget=_budget(
            ("cost", "Ledararvoden", "24000"),
            ("cost", "Material", "8000"),
            ("cost", "Fika och tolkning", "5000"),
            ("income", "Egen insats", "2000"),
        ),
        completion="Bifoga föreningens senaste årsmötesprotokoll och en tidsplan för de fyra veckorna.",
    ),
    Case(
        "anna",
        "fisksatra",
        "verksamhet",
        "Verksamhetsbidrag för ungdomsverksamheten",
        "Bidrag till föreningens barn- och ungdomsverksamhet i fotboll och futsal.",
        "submitted",
        inputs={"members": 180},
        period=(40, 405),
    ),
    Case(
        "anna",
        "fisksatra",
        "inkludering",
        "Simskola för barn som inte kan simma",
        "Simskola i Nacka simhall för barn 7–12 år i samarbete med simsällskapet.",
        "draft",
        amount=25000,
        budget=_budget(
            ("cost", "Simlärare", "18000"), ("cost", "Bassänghyra", "9000"), ("income", "Egen insats", "2000")
        ),
    ),
    # --- Projektbidrag för inkludering ---
    Case(
        "nadia",
        "nattvandrarna",
        "inkludering",
        "Nattvandring fredagar och lördagar",
        "Vuxna nattvandrar i Fisksätra centrum fredag och lördag kväll, med västar, telefoner och "
        "utbildning för nya nattvandrare.",
        "attested",
        amount=25000,
        budget=_budget(
            ("cost", "Västar, ficklampor och telefoner", "9000"),
            ("cost", "Utbildning", "12000"),
            ("cost", "Fika", "4000"),
        ),
        reasons="Gruppen gör en viktig insats för tryggheten i centrum; Fisksätra IF är medsökare.",
    ),
    Case(
        "leyla",
        "foraldrar",
        "inkludering",
        "Föräldrastöd och språkcafé",
        "Språkcafé varannan vecka och kurser i föräldraskap på somaliska och svenska.",
        "report_submitted",
        amount=45000,
        proposal="partly_approved",
        proposed=30000,
        period=(-200, -20),
        budget=_budget(("cost", "Kursledare", "30000"), ("cost", "Lokal", "10000"), ("cost", "Fika", "5000")),
        reasons="Språkcaféet beviljas. Kurserna i föräldraskap erbjuds redan av familjecentralen och "
        "beviljas därför inte.",
        report=dict(REPORT, participants=38, spent=Decimal("0.70")),
    ),
    Case(
        "johan",
        "laxhjalp",
        "inkludering",
        "Läxhjälp på arabiska och somaliska",
        "Läxhjälp tre eftermiddagar i veckan med studiehandledare på modersmålen, för elever i årskurs 4–9.",
        "assessed",
        amount=80000,
        budget=_budget(
            ("cost", "Studiehandledare", "70000"), ("cost", "Lokal", "15000"), ("income", "Egen insats", "5000")
        ),
        reasons="Verksamheten svarar mot ett tydligt behov; beloppet ligger över delegationen.",
    ),
    Case(
        "sara",
        "orminge",
        "inkludering",
        "Teater för alla",
        "En teatergrupp för unga med och utan funktionsnedsättning som sätter upp en föreställning i maj.",
        "assessed",
        amount=40000,
        officer="otto",
        budget=_budget(
            ("cost", "Regissör", "25000"),
            ("cost", "Lokal och teknik", "15000"),
            ("cost", "Kostym", "4000"),
            ("income", "Biljettintäkter", "4000"),
        ),
    ),
    Case(
        "erik",
        "boo",
        "inkludering",
        "Fotboll utan gränser",
        "Turnering en lördag för lag från hela kommunen.",
        "decided",
        amount=35000,
        proposal="rejected",
        budget=_budget(("cost", "Domare och planhyra", "20000"), ("cost", "Priser och mat", "15000")),
        reasons="En enstaka turnering är inte ett projekt som når nya grupper över tid, vilket "
        "bidragsformen kräver. Föreningen kan söka aktivitetsstöd för den ordinarie verksamheten.",
    ),
    Case(
        "bengt",
        "scout",
        "inkludering",
        "Scouting för nyanlända barn",
        "Scoutavdelning på lördagar för barn som nyss kommit till Sverige, med hajk i Nackareservatet.",
        "closed",
        amount=48000,
        period=(-220, -25),
        officer="otto",
        budget=_budget(
            ("cost", "Ledarutbildning", "15000"),
            ("cost", "Utrustning", "22000"),
            ("cost", "Hajker och resor", "14000"),
            ("income", "Egen insats", "3000"),
        ),
        reasons="Projektet ger barn en väg in i föreningslivet och har en rimlig budget.",
        report=dict(REPORT, participants=26, spent=Decimal("0.93")),
    ),
    Case(
        "erik",
        "alta",
        "inkludering",
        "Innebandy för nyanlända ungdomar",
        "Prova-på-innebandy varje lördag för ungdomar som nyss kommit till Nacka, med skjuts från boendena.",
        "report_rejected",
        amount=30000,
        period=(-230, -40),
        priority="Nyanlända",
        target="Unga 13–25 år",
        budget=_budget(
            ("cost", "Ledararvoden", "18000"),
            ("cost", "Hallhyra", "8000"),
            ("cost", "Skjuts", "6000"),
            ("income", "Egen insats", "2000"),
        ),
        report=dict(
            REPORT,
            what_was_done="Sex lördagar i mars och april; sedan tog hallen slut.",
            participants=9,
            outcome="Få deltagare och verksamheten upphörde i april.",
            spent=Decimal("0.40"),
        ),
        reclaim=12000,
        repaid=5000,
    ),
    Case(
        "sara",
        "dans",
        "inkludering",
        "Dans för unga med funktionsnedsättning",
        "Danslektioner i anpassad lokal med assistent, en gång i veckan under ett år.",
        "in_assessment",
        amount=30000,
        conflict="Min syster sitter i föreningens styrelse.",
        budget=_budget(("cost", "Danslärare", "20000"), ("cost", "Lokal", "10000")),
    ),
    Case(
        "nadia",
        "nattvandrarna",
        "inkludering",
        "Trygga sommarkvällar i Fisksätra",
        "Nattvandring varje kväll under sommarlovet och grillkvällar i parken där unga och vuxna möts.",
        "awaiting_sponsor",
        amount=18000,
        priority="Trygghet",
        target="Unga 13–25 år",
        budget=_budget(
            ("cost", "Grillkvällar", "8000"),
            ("cost", "Västar och ficklampor", "6000"),
            ("cost", "Utbildning för nya nattvandrare", "4000"),
        ),
    ),
    Case(
        "johan",
        "tornet",
        "inkludering",
        "Kulturkväll för unga och seniorer",
        "En kväll med musik och berättelser där unga intervjuar äldre i Fisksätra.",
        "withdrawn_after_submission",
        amount=20000,
        budget=_budget(("cost", "Artister", "15000"), ("cost", "Lokal", "5000")),
        withdraw_note="Artisterna kan inte komma i år; vi söker igen till nästa omgång.",
    ),
    # --- Verksamhetsbidrag ---
    Case(
        "bengt",
        "schack",
        "verksamhet",
        "Verksamhetsbidrag för schackskolan",
        "Schackskola för barn 7–16 år två dagar i veckan och deltagande i ungdoms-SM.",
        "submitted",
        inputs={"members": 60},
        period=(40, 405),
        completion="Medlemsantalet: ange hur många av de 60 som betalat medlemsavgift det senaste året.",
        answer="Alla 60 har betalat avgift för innevarande år. Medlemsförteckning bifogas.",
    ),
    Case(
        "erik",
        "alta",
        "verksamhet",
        "Verksamhetsbidrag för innebandyn",
        "Träning och seriespel för tolv ungdomslag.",
        "in_assessment",
        inputs={"members": 140},
        period=(40, 405),
    ),
    Case(
        "johan",
        "sim",
        "verksamhet",
        "Verksamhetsbidrag för simskolan",
        "Simskola och tävlingsverksamhet för barn och unga i Nacka simhall.",
        "decided",
        inputs={"members": 250},
        proposal="partly_approved",
        proposed=35000,
        period=(40, 405),
        reasons="Bidraget beräknas på de 200 medlemmar som är under 26 år, enligt riktlinjerna.",
    ),
    Case(
        "sara",
        "orminge",
        "verksamhet",
        "Verksamhetsbidrag för kulturskolan",
        "Teater, bild och musik för unga i Orminge.",
        "report_completion",
        inputs={"members": 90},
        period=(-320, -30),
        report=dict(REPORT, participants=90),
        report_completion="Redovisa hur bidraget fördelades mellan teater, bild och musik.",
    ),
    Case(
        "johan",
        "hembygd",
        "verksamhet",
        "Verksamhetsbidrag för hembygdsgården",
        "Öppet hus, skolbesök och sommarverksamhet för barn på hembygdsgården.",
        "closed",
        inputs={"members": 120},
        period=(-330, -40),
        officer="olle",
        report=dict(REPORT, participants=310),
    ),
    Case(
        "leyla",
        "foraldrar",
        "verksamhet",
        "Verksamhetsbidrag för läxläsning",
        "Läxläsning och föräldraträffar varje vecka.",
        "awaiting_completion",
        inputs={"members": 40},
        period=(40, 405),
        officer="olle",
        completion="Bifoga verksamhetsberättelsen och bokslutet för förra året.",
    ),
    Case(
        "erik",
        "boo",
        "verksamhet",
        "Verksamhetsbidrag för barn- och ungdomsfotbollen",
        "Träning och matcher för 25 lag, pojkar och flickor 6–19 år.",
        "assessed",
        inputs={"members": 300},
        period=(40, 405),
        reasons="Föreningen uppfyller villkoren; beloppet ligger över delegationen.",
    ),
    Case(
        "johan",
        "tornet",
        "verksamhet",
        "Verksamhetsbidrag för kulturföreningen",
        "Föreningens verksamhet under året.",
        "decided",
        inputs={"members": 25},
        proposal="rejected",
        period=(40, 405),
        reasons="Föreningen har ingen verksamhet riktad till barn och unga, vilket bidragsformen kräver.",
    ),
    Case(
        "bengt",
        "scout",
        "verksamhet",
        "Verksamhetsbidrag för scoutkåren",
        "Kårens verksamhet under året.",
        "draft",
        inputs={"members": 95},
        period=(40, 405),
    ),
    # --- Föreningsbidrag – aktivitetsstöd (sought afterwards for the half-year) ---
    Case(
        "erik",
        "alta",
        "aktivitet",
        "Aktivitetsstöd för innebandyns ungdomslag",
        "Träningar för ungdomslagen.",
        "payment_failed",
        inputs={"sessions": 80, "participants": 14},
        payment_fails="Betalningen returnerades av banken: bankgirot är avslutat. Föreningen har meddelats.",
    ),
    Case(
        "bengt",
        "scout",
        "aktivitet",
        "Aktivitetsstöd för scoutmötena",
        "Veckomöten för spårare, upptäckare och äventyrare.",
        "in_assessment",
        inputs={"sessions": 30, "participants": 12},
        officer="olle",
    ),
    Case(
        "sara",
        "dans",
        "aktivitet",
        "Aktivitetsstöd för dansgrupperna",
        "Danslektioner för barn och unga.",
        "submitted",
        inputs={"sessions": 60, "participants": 10},
    ),
    Case(
        "johan",
        "laxhjalp",
        "aktivitet",
        "Aktivitetsstöd för läxhjälpsgrupperna",
        "Läxhjälp med fotboll efteråt.",
        "draft",
        inputs={"sessions": 120, "participants": 15},
    ),
    Case(
        "erik",
        "boo",
        "aktivitet",
        "Aktivitetsstöd (dubblett)",
        "Skapad av misstag.",
        "withdrawn",
        inputs={"sessions": 10, "participants": 10},
    ),
    Case(
        "erik",
        "boo",
        "aktivitet",
        "Aktivitetsstöd för barn- och ungdomslagen",
        "Träningar för barn- och ungdomslagen.",
        "closed",
        inputs={"sessions": 90, "participants": 22},
        proposal="partly_approved",
        proposed=20000,
        reasons="Tolv sammankomster saknar närvarolista och räknas inte; övriga beviljas.",
    ),
    Case(
        "sara",
        "orminge",
        "aktivitet",
        "Aktivitetsstöd för teater- och bildgrupperna",
        "Teater- och bildgrupper.",
        "decided",
        inputs={"sessions": 40, "participants": 5},
        proposal="rejected",
        officer="olle",
        reasons="Deltagarna är i huvudsak över 25 år och sammankomsterna räknas därför inte för aktivitetsstöd.",
    ),
    Case(
        "johan",
        "sim",
        "aktivitet",
        "Aktivitetsstöd för tävlingsgrupperna",
        "Simträningar för ungdomsgrupperna.",
        "closed",
        inputs={"sessions": 100, "participants": 16},
        officer="olle",
    ),
    Case(
        "johan",
        "hembygd",
        "aktivitet",
        "Aktivitetsstöd för barngruppen",
        "Barngruppens träffar på hembygdsgården.",
        "decided",
        inputs={"sessions": 20, "participants": 8},
    ),
    # --- the previous budget year: granted, reported and closed (for the annual report) ---
    Case(
        "anna",
        "fisksatra",
        "verksamhet_fjol",
        "Verksamhetsbidrag för ungdomsverksamheten",
        "Bidrag till föreningens barn- och ungdomsverksamhet i fotboll.",
        "closed",
        inputs={"members": 160},
        period=(-690, -330),
        report=dict(REPORT, participants=150),
    ),
    Case(
        "johan",
        "sim",
        "verksamhet_fjol",
        "Verksamhetsbidrag för simskolan",
        "Simskola för barn och unga i Nacka simhall.",
        "closed",
        inputs={"members": 140},
        period=(-690, -330),
        officer="olle",
        report=dict(REPORT, participants=120),
    ),
    Case(
        "leyla",
        "foraldrar",
        "inkludering_fjol",
        "Språkcafé för föräldrar",
        "Språkcafé varannan vecka för föräldrar som är nya i Sverige.",
        "closed",
        amount=24000,
        period=(-600, -420),
        budget=_budget(("cost", "Kursledare", "18000"), ("cost", "Lokal", "6000")),
        report=dict(REPORT, participants=30, spent=Decimal("1.00")),
    ),
]


# --- small helpers ---------------------------------------------------------------------


def with_check_digit(digits):
    return digits + luhn.calc_check_digit(digits)


# The smallest document the upload check takes as a PDF: the demo's statutes and minutes.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def orgnr(first_nine):
    number = with_check_digit(first_nine)
    formatted = f"{number[:6]}-{number[6:]}"
    validate_orgnr(formatted)
    return formatted


def giro(kind, digits):
    """A bankgiro (NNNN-NNNN) or plusgiro (NNNNNNN-N) with its Luhn check digit."""
    number = with_check_digit(digits)
    return f"{number[:-4]}-{number[-4:]}" if kind == "bg" else f"{number[:-1]}-{number[-1]}"


def days(n):
    return timezone.localdate() + dt.timedelta(days=n)


# How a report's participants spread over the age bands (the rest are 0) and the genders.
BAND_SHARES = {"7–12": 40, "13–16": 30, "17–20": 15, "21–25": 10, "26–64": 5}
GENDER_SHARES = {"girls": 52, "boys": 45, "other": 3}


def participant_grid(total):
    """`total` participants over AGE_BANDS × GENDERS, in whole people, summing to `total`."""
    grid = {
        band: {gender: total * band_share * share // 10000 for gender, share in GENDER_SHARES.items()}
        for band, band_share in BAND_SHARES.items()
    }
    grid["7–12"]["girls"] += total - sum(sum(genders.values()) for genders in grid.values())
    return grid


def bank_report(batch, references):
    """The bank's status report (pain.002.001.03) that every payment of the file is paid,
    each accepted on the file's execution date, as a bank sends it."""
    ns = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"

    def add(parent, tag, text=None):
        element = etree.SubElement(parent, f"{{{ns}}}{tag}")
        element.text = text
        return element

    document = etree.Element(f"{{{ns}}}Document", nsmap={None: ns})
    report = add(document, "CstmrPmtStsRpt")
    header = add(report, "GrpHdr")
    add(header, "MsgId", f"BANK-{batch.reference}")
    add(header, "CreDtTm", f"{batch.execution_date}T18:00:00")
    group = add(report, "OrgnlGrpInfAndSts")
    add(group, "OrgnlMsgId", batch.reference)
    add(group, "OrgnlMsgNmId", "pain.001.001.03")
    add(group, "GrpSts", "ACSC")
    block = add(report, "OrgnlPmtInfAndSts")
    add(block, "OrgnlPmtInfId", batch.reference)
    for reference in references:
        row = add(block, "TxInfAndSts")
        add(row, "OrgnlEndToEndId", reference)
        add(row, "TxSts", "ACSC")
        add(row, "AccptncDtTm", f"{batch.execution_date}T09:00:00")
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


class Demo:
    """Builds the world and walks each case; `self.users`, `self.orgs`, `self.calls` by key."""

    def __init__(self):
        self.users, self.orgs, self.calls = {}, {}, {}
        self.paragraph = 40

    # --- the world ---

    def build_world(self):
        roles_ensure()
        committees = {
            code: Committee.objects.create(
                code=code, name=name, municipality=MUNICIPALITY, contact_email=email, contact_phone=phone
            )
            for code, name, email, phone in COMMITTEES
        }
        programmes = {}
        for spec in PROGRAMMES:
            spec = dict(spec)
            key, committee = spec.pop("key"), committees[spec.pop("committee")]
            spec["delegation_limit"] = Decimal(spec["delegation_limit"])
            programmes[key] = Programme.objects.create(committee=committee, **spec)  # save() runs full_clean
        for key, programme, title, opens, closes, max_amount, budget in CALLS:
            self.calls[key] = Call.objects.create(
                programme=programmes[programme],
                title=title.format(year=days(opens).year),
                year=days(opens).year,
                opens_on=days(opens),
                closes_on=days(closes),
                max_amount=Decimal(max_amount),
                budget=Decimal(budget),
            )
        last_year = timezone.localdate().year - 1
        for key, programme, title, max_amount, budget in PREVIOUS_YEAR_CALLS:
            # Open while the demo walks its cases (applications go in only while a call is open);
            # close_previous_year() closes it afterwards.
            self.calls[key] = Call.objects.create(
                programme=programmes[programme],
                title=title.format(year=last_year),
                year=last_year,
                opens_on=dt.date(last_year, 1, 15),
                closes_on=days(1),
                max_amount=Decimal(max_amount),
                budget=Decimal(budget),
            )
        # Each committee's grant budget for the year, with room above its calls.
        for committee in committees.values():
            for year, total in (
                Call.objects.filter(programme__committee=committee).values_list("year").annotate(total=Sum("budget"))
            ):
                AnnualBudget.objects.create(committee=committee, year=year, amount=total + 250000)
        for committee in committees.values():
            for name, party, role in MEMBERS:
                email = f"{name.split()[0].lower()}.{committee.code.lower()}@politik.nacka.example"
                CommitteeMember.objects.create(committee=committee, name=name, party=party, role=role, email=email)
        for subject, action, years, reference in RETENTION_PLAN:
            RetentionRule.objects.create(subject=subject, action=action, years=years, decision_reference=reference)
        self.build_people()
        AttestationLimit.objects.create(user=self.users["fia"], max_amount=Decimal("500000"))

    def build_people(self):
        password = make_password(PASSWORD)  # hashed once: every demo account has the same password
        for username, first, last, group in STAFF:
            person = self.person(username, first, last, password, email=f"{username}@nacka.example")
            person.groups.add(Group.objects.get(name=group))
            # The demo's staff work for every committee, except Otto, who works for the social
            # committee only and so sees none of the others' cases (an administrator narrows
            # a person to her committees in the admin: "Nämnder för personal").
            if username in SCOPED_STAFF:
                scope = StaffScope.objects.create(user=person)
                scope.committees.set(Committee.objects.filter(code__in=SCOPED_STAFF[username]))
            else:
                StaffScope.objects.create(user=person, all_committees=True)
        for username, first, last in APPLICANTS:
            self.person(username, first, last, password, email=f"{username}@example.se")
        admin = self.person(
            "admin", "Alex", "Admin", password, email="admin@nacka.example", is_staff=True, is_superuser=True
        )
        admin.groups.add(Group.objects.get(name="Systemförvaltare"))

        for key, name, first_nine, (kind, account), district, members in ORGANISATIONS:
            self.organisation(
                key,
                members,
                name=name,
                org_number=orgnr(first_nine),
                district=district,
                **{"bankgiro" if kind == "bg" else "plusgiro": giro(kind, account)},
            )
        for key, name, sponsor, district, members in INFORMAL_GROUPS:
            self.organisation(
                key,
                members,
                name=name,
                kind=Organisation.Kind.INFORMAL_GROUP,
                sponsor=self.orgs[sponsor],
                district=district,
            )
        fisksatra = self.orgs["fisksatra"]
        assert (fisksatra.org_number, fisksatra.bankgiro) == ("802412-1231", "5050-1055")

    def person(self, username, first, last, password, **fields):
        person = User.objects.create(username=username, first_name=first, last_name=last, password=password, **fields)
        if person.email:  # the demo's people have confirmed their addresses long ago
            ConfirmedEmail.objects.create(user=person, email=person.email)
        self.users[username] = person
        return person

    def organisation(self, key, members, **fields):
        org = Organisation(email=f"info@{key}.example.se", **fields)
        if org.account() is not None:
            # The account as finance approved it long ago: the request, by the first member,
            # and Fia's approval are written as they stand, not typed in.
            org.account_approved_at = timezone.now() - dt.timedelta(days=400)
        org.full_clean()  # organisationsnummer, bankgiro and plusgiro checks, association vs. group
        org.save()
        for username, role in members:
            Membership.objects.create(user=self.users[username], organisation=org, role=role)
        if org.account() is not None:
            scheme, number = org.account()
            AccountChangeRequest.objects.create(
                organisation=org,
                scheme=scheme.value,
                number=number,
                requested_by=self.users[members[0][0]],
                requested_at=org.account_approved_at - dt.timedelta(days=2),
                status=AccountChangeRequest.Status.APPROVED,
                decided_by=self.users["fia"],
                decided_at=org.account_approved_at,
            )
        self.orgs[key] = org
        return org

    def account_request(self):
        """Sara, signatory of Sickla dansförening, asks for a new bankgiro: it waits for finance
        (Fia) under Utbetalningar → Bankkonton, and payments still go to the approved one. It is
        Saltsjöbadens scoutkår's bankgiro, so the page warns that another association has it."""
        payee_accounts.account_change_request(
            organisation=self.orgs["dans"], by=self.users["sara"], bank_account=("bankgiro", giro("bg", "5123477"))
        )

    def associations_to_verify(self):
        """What Olle finds under Föreningar att verifiera: Leyla has registered Fisksätra
        kvinnoförening with its statutes and minutes, and it waits to be verified; Nadia typed
        Fisksätra IF's organisationsnummer, which Anna's profile already has, so her claim waits."""
        evidence = {
            OrganisationFile.Kind.STATUTES: Upload("stadgar.pdf", "application/pdf", DEMO_PDF),
            OrganisationFile.Kind.MINUTES: Upload("arsmotesprotokoll.pdf", "application/pdf", DEMO_PDF),
        }
        club = organisations.organisation_create(
            by=self.users["leyla"],
            kind=Organisation.Kind.ASSOCIATION,
            name="Fisksätra kvinnoförening",
            org_number=orgnr("802461234"),
            role=Membership.Role.SIGNATORY,
            evidence=evidence,
        )
        organisations.organisation_update(
            organisation=club,
            by=self.users["leyla"],
            board=[
                {"name": "Leyla Hassan", "role": "ordförande"},
                {"name": "Amina Yusuf", "role": "kassör"},
                {"name": "Karin Berg", "role": "sekreterare"},
            ],
        )
        organisations.organisation_create(
            by=self.users["nadia"],
            kind=Organisation.Kind.ASSOCIATION,
            name="Fisksätra IF",
            org_number=self.orgs["fisksatra"].org_number,
            role=Membership.Role.SIGNATORY,
            evidence=evidence,
        )

    # --- one case, walked as far as its story goes ---

    def play(self, case):
        applicant, officer = self.users[case.who], self.users[case.officer]
        until = case.until
        app = self.draft(case, applicant)
        if until == "draft":
            return app  # the programme's questions not answered yet
        if until == "withdrawn":
            return apply.application_withdraw(application=app, by=applicant, note=case.withdraw_note)
        app = apply.application_save_answers(application=app, by=applicant, answers=self.answers(case, app))
        if app.organisation.kind == Organisation.Kind.INFORMAL_GROUP:
            # The group sends it to its sponsor; a confirmed member of the sponsor (Anna, for
            # Fisksätra IF) confirms it, and only then does it reach the officer.
            apply.application_ask_sponsor(application=app, by=applicant)
            if until == "awaiting_sponsor":
                return app
            sponsor = app.organisation.sponsor.memberships.filter(status=Membership.Status.CONFIRMED).first().user
            apply.application_sponsor_confirm(application=app, by=sponsor)
        else:
            apply.application_submit(application=app, by=applicant)
        if until == "withdrawn_after_submission":
            return apply.application_withdraw(application=app, by=applicant, note=case.withdraw_note)
        if case.completion:
            assess.completion_request(application=app, by=officer, message=case.completion, due_on=days(14))
            if until == "awaiting_completion":
                return app
            apply.completion_answer(application=app, by=applicant, answer=case.answer)
        if until == "submitted":
            return app
        assess.completeness_confirm(application=app, by=officer)
        if case.conflict:
            assess.conflict_declare(application=app, by=self.users["olle"], reason=case.conflict)
            officer = self.users["otto"]
        if until == "in_assessment":
            return app
        app.refresh_from_db()
        amount = self.proposed_amount(case, app)
        assess.assessment_record(
            application=app,
            by=officer,
            no_conflict=True,
            proposal=case.proposal,
            proposed_amount=amount,
            justification=case.reasons,
        )
        if until == "assessed":
            return app
        self.decide(case, app, officer, amount)
        if until == "decided" or case.proposal == "rejected":
            return app
        self.announce(app)
        self.attest(app)
        if until == "attested":
            return app
        if case.payment_fails:
            self.confirm(app, failure=case.payment_fails)
            return app
        self.confirm(app)
        if until == "paid" or not app.call.programme.follow_up_required:
            return app  # without a follow-up the flow closes the case once it is paid
        if until == "report_draft":
            # Anna has begun the report and saved it, to come back to: what was done and two of
            # the costs, not yet the outcome or the rest.
            fields = self.report_fields(case, app)
            follow_up.follow_up_save_draft(
                report=app.follow_up,
                by=applicant,
                what_was_done=fields["what_was_done"],
                cost_lines=fields.get("cost_lines", [])[:2],
            )
            return app
        self.send_report(case, app, applicant)
        if until == "report_submitted":
            return app
        if case.report_completion:
            self.review(app, officer, "completion", case.report_completion)
            if until == "report_completion":
                return app
            self.send_report(case, app, applicant)
        if until == "report_rejected":
            # The claim's letter is made once the review has committed; Fia has since
            # registered a first part of the repayment.
            self.review(
                app,
                officer,
                "reject",
                "Projektet genomfördes bara till en liten del och bidraget användes inte som ansökan beskrev.",
                reclaim=Decimal(case.reclaim),
            )
            repayments.repayment_register(
                claim=RepaymentClaim.objects.get(application=app),
                by=self.users["fia"],
                amount=Decimal(case.repaid),
                received_on=days(0),
            )
            return app
        self.review(app, officer, "approve", "")
        if app.payments.filter(status=Payment.Status.PLANNED).exists():  # the part kept back until now
            self.attest(app)
            self.confirm(app)
        return app

    def draft(self, case, applicant):
        call = self.calls[case.call]
        start, end = case.period or (
            (-140, -10)
            if case.call.startswith("aktivitet")
            else (-200, -20)
            if STAGES.index(case.until) >= STAGES.index("paid")
            else (40, 220)
        )
        programme = call.programme
        # The programme's lists, a choice of its own for each case unless the story says.
        pick = lambda choices: choices[len(case.title) % len(choices)] if choices else ""  # noqa: E731
        return apply.application_save_draft(
            call=call,
            organisation=self.orgs[case.org],
            by=applicant,
            title=case.title,
            description=case.description,
            period_start=days(start),
            period_end=days(end),
            stated_amount=Decimal(case.amount) if case.amount else None,
            inputs=case.inputs,
            budget_lines=case.budget,
            priority_area=case.priority or pick(programme.priority_areas),
            target_group=case.target or pick(programme.target_groups),
        )

    @staticmethod
    def answers(case, app):
        """Believable answers to the programme's questions, a little different for each case."""
        turn = len(case.title)
        answers = {
            "reach": "Vi samarbetar med skolan och fritidsgården och bjuder in föräldrar till ett möte med "
            "information på svenska, arabiska och somaliska.",
            "participants": str(15 + turn % 30),
            "partner": "ja" if turn % 2 else "nej",
            "district": app.organisation.district if app.organisation.district in DISTRICTS else "Flera kommundelar",
            "annual_meeting": days(-60 - turn % 90).isoformat(),
            "lok_rules": "ja",
            "attendance_lists": "I föreningens pärm i klubbrummet." if turn % 3 else "",
        }
        return {q["key"]: answers[q["key"]] for q in app.call.programme.application_questions if answers.get(q["key"])}

    @staticmethod
    def proposed_amount(case, app):
        if case.proposal == "rejected":
            return Decimal("0")
        return Decimal(case.proposed) if case.proposed is not None else app.requested_amount

    def decide(self, case, app, officer, amount):
        fields = dict(outcome=case.proposal, amount=amount, reasons=case.reasons, conditions=case.conditions)
        if Assessment.objects.get(application=app).needs_committee:
            self.paragraph += 1
            kim = self.users["kim"]
            # Utbildningsnämnden met yesterday: its protocol is not yet announced, so Kim has a
            # meeting left whose letters he can make on the meeting page.
            held = days(-1) if app.call.programme.committee.code == "UBN" else days(-7)
            fields.update(meeting_date=held, protocol_paragraph=f"§ {self.paragraph}")
            decide.decision_make(application=app, by=kim, **fields)
        else:
            decide.decision_make(application=app, by=officer, **fields)

    def announce(self, app):
        """Nothing of a committee's decision is executed before the approval of its meeting's
        protocol is announced: Kim records it, three days after the meeting, before Fia attests.
        (Utbildningsnämnden's meeting of yesterday cannot be announced yet, so its cases stop
        at the decision.)"""
        decision = Decision.objects.select_related("meeting").get(application=app)
        if not decision.may_be_executed:
            batches.meeting_announce(
                meeting=decision.meeting,
                by=self.users["kim"],
                announced_on=decision.meeting.held_on + dt.timedelta(days=3),
            )

    def meeting_letters(self):
        """A committee's letters go out together once the approval of the meeting's protocol
        has been announced (documents.batches): Kim records the day and makes the letters,
        here at once instead of through the background worker."""
        kim = self.users["kim"]
        with override_settings(TASKS=IMMEDIATE_TASKS):
            for meeting in CommitteeMeeting.objects.filter(
                decisions__by_committee=True, held_on__lte=days(-7)
            ).distinct():
                batches.meeting_announce(meeting=meeting, by=kim, announced_on=meeting.held_on + dt.timedelta(days=3))
                batches.meeting_letters_start(meeting=meeting, by=kim)

    def next_meeting(self):
        """The committees meet in a week: Olle has made the cases waiting for them ready (their
        officer's reports written), and Siv has put them and the delegation report on each
        agenda, which she has not sent yet."""
        olle, siv = self.users["olle"], self.users["siv"]
        for kfn in Committee.objects.order_by("code"):
            waiting = [
                application
                for application in Application.objects.filter(
                    call__programme__committee=kfn, status=Application.Status.ASSESSED
                ).select_related("assessment", "call__programme")
                if application.assessment.needs_committee
            ]
            meeting = committee_work.meeting_plan(
                committee=kfn, held_on=days(7), by=siv, place="Nacka stadshus, sal Nacka"
            )
            for application in waiting:
                committee_work.committee_ready_mark(application=application, by=olle)
                committee_work.agenda_case_add(meeting=meeting, application=application, by=siv)
            committee_work.agenda_delegation_report_add(meeting=meeting, by=siv)

    def attest(self, app):
        planned = app.payments.filter(status=Payment.Status.PLANNED).values_list("pk", flat=True)
        pay.payments_attest(payment_ids=list(planned), by=self.users["fia"])

    def confirm(self, app, failure=""):
        """Fia puts the case's attested payments in a payment file; the bank's status report
        says they are paid (and they are booked), or Fia records that the bank returned them
        with a reason (a new planned payment then waits for attestation)."""
        fia = self.users["fia"]
        attested = list(app.payments.filter(status=Payment.Status.ATTESTED).values_list("pk", flat=True))
        batch = payment_files.payment_file_create(by=fia, payment_ids=attested)
        if failure:
            pay.payments_mark_failed(payment_ids=attested, by=fia, reason=failure)
        else:
            report = payment_files.pain002_read(bank_report(batch, [f"BIDRAG-{pk}" for pk in attested]))
            pay.status_report_apply(report=report, by=fia)

    @staticmethod
    def report_fields(case, app):
        """The report the programme asks for, from the case's story: participants spread over
        the age bands and genders, each budgeted cost's outcome, sessions."""
        story = {**REPORT, **case.report}
        parts = app.call.programme.follow_up_parts
        fields = {"what_was_done": story["what_was_done"], "outcome": story["outcome"]}
        if "participants_by_age_gender" in parts:
            fields["participants_by_group"] = participant_grid(story["participants"])
        if "sessions" in parts:
            fields["sessions"] = story["sessions"]
        if "financial_statement" in parts:
            lines = list(app.budget_lines.all())
            fields["cost_lines"] = [
                (line.label, line.amount, (line.amount * story["spent"]).quantize(Decimal("1")))
                for line in lines
                if line.kind == "cost"
            ]
            fields["own_contribution"] = sum((line.amount for line in lines if line.kind == "income"), Decimal("0"))
        return fields

    def send_report(self, case, app, applicant):
        follow_up.follow_up_submit(report=app.follow_up, by=applicant, **self.report_fields(case, app))

    def review(self, app, officer, verdict, note, reclaim=None):
        follow_up.follow_up_review(report=app.follow_up, by=officer, verdict=verdict, note=note, reclaim_amount=reclaim)

    def close_previous_year(self):
        """The previous year's rounds closed long ago: their last day back where it belongs."""
        last_year = timezone.localdate().year - 1
        Call.objects.filter(pk__in=[self.calls[key].pk for key, *_rest in PREVIOUS_YEAR_CALLS]).update(
            closes_on=dt.date(last_year, 3, 31)
        )


# --- the command -----------------------------------------------------------------------


class Command(BaseCommand):
    help = "Loads demo data (Nacka kommun, three programmes, ~30 cases in every state). Embedded default only."

    def handle(self, *args, **options):
        if not settings.EMBEDDED_DATABASE:
            raise CommandError(
                "Demodata laddas bara i den inbäddade standardmiljön (SQLite, inte produktion). "
                "/ Demo data never loads outside the embedded default (SQLite, not production)."
            )
        if User.objects.filter(username="anna").exists():
            self.stdout.write("Demodata finns redan. / Demo data is already loaded.")
            self.print_accounts()
            return

        started = time.monotonic()
        demo = Demo()
        # The demo's e-mails go to made-up addresses: don't print dozens of them on the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            with transaction.atomic():
                demo.build_world()
            current = None
            try:
                # Every case has its receipt when the demo is loaded.
                with override_settings(TASKS=IMMEDIATE_TASKS):
                    for current in CASES:
                        demo.play(current)
                demo.close_previous_year()
                demo.meeting_letters()
                demo.next_meeting()
                demo.account_request()
                demo.associations_to_verify()
                # What the bank has paid goes to the accounting system: one ledger file.
                ledger_files.ledger_file_create(by=demo.users["fia"])
            except Exception as exc:
                raise CommandError(
                    f"Demodata kunde inte laddas färdigt (vid ärendet ”{current.title}”): {exc}. "
                    f"Ta bort databasen {settings.DATABASES['default']['NAME']} och kör migrate och load_demo igen."
                ) from exc
        self.report(time.monotonic() - started)
        self.print_accounts()

    def report(self, seconds):
        counts = Counter(Application.objects.values_list("status", flat=True))
        labels = dict(Application.Status.choices)
        summary = ", ".join(f"{labels[status]} {counts[status]}" for status in Application.Status.values)
        self.stdout.write(
            self.style.SUCCESS(f"Demodata laddad på {seconds:.1f} s: {sum(counts.values())} ärenden ({summary}).")
        )
        missing = Decision.objects.exclude(application__documents__kind=Document.Kind.DECISION_LETTER).count()
        if missing:
            self.stdout.write(self.style.WARNING(f"{missing} beslut saknar beslutsbrev; se ärendenas historik."))

    def print_accounts(self):
        rows = [(username, ROLE_TEXT[username]) for username in ("olle", "otto", "kim", "fia", "lena", "siv", "admin")]
        for username, _first, _last in APPLICANTS:
            names = Organisation.objects.filter(memberships__user__username=username).values_list("name", flat=True)
            groups = Organisation.objects.filter(sponsor__memberships__user__username=username).values_list(
                "name", flat=True
            )
            sponsor = f" (medsökare för {', '.join(groups)})" if groups else ""
            rows.append((username, f"Sökande för {', '.join(names)}{sponsor}"))
        lines = [
            "",
            f"Demokonton / demo accounts — lösenord / password: {PASSWORD}",
            "",
            f"  {'Användare':<10} {'Lösenord':<9} Roll",
            f"  {'-' * 10} {'-' * 9} {'-' * 40}",
            *(f"  {username:<10} {PASSWORD:<9} {role}" for username, role in rows),
            "",
            f"  Öppna {URL}  — sökande: {URL}portal/  handläggning: {URL}staff/  systemförvaltning: {URL}admin/",
            "",
        ]
        self.stdout.write("\n".join(lines))
