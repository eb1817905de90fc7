"""The administrator shapes a programme in the admin without typing JSON (issue 18): its
questions, payment plan, attachments and eligibility questions as blocks of inputs, its lists
one item a line, its calculator's parameters as typed fields. The posts are the forms as a
browser sends them: every input the page has, with what the administrator changed."""

from html.parser import HTMLParser

import pytest

from grants.models import Committee, Programme
from workflows.management.commands.load_demo import PROGRAMMES as DEMO_PROGRAMMES

from .. import factories

pytestmark = pytest.mark.django_db

ADD = "/admin/grants/programme/add/"
CONFIGURATION = (
    "application_questions",
    "payment_plan",
    "calculator",
    "calculator_params",
    "required_attachments",
    "priority_areas",
    "target_groups",
    "eligibility_questions",
    "follow_up_parts",
)


class FormReader(HTMLParser):
    """What a browser would post from the page's form: each input's name and value(s)."""

    def __init__(self):
        super().__init__()
        self.data, self.ids, self.label_for = {}, [], set()
        self._select = self._textarea = None
        self._options = []

    def add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.ids.append(attrs.get("id"))
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.add(name, attrs.get("value", "on"))
            else:
                self.add(name, attrs.get("value") or "")
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea":
            self._textarea = name
            self.add(name, "")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected] or [self._options[0][0]]
            self.data[self._select] = chosen[:1]
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = self.data[self._textarea][-1]
            self.data[self._textarea][-1] = text[1:] if text.startswith("\n") else text  # as browsers read it
            self._textarea = None


def read_form(response):
    assert response.status_code == 200
    reader = FormReader()
    reader.feed(response.content.decode())
    return reader


def posted(form, **changes):
    """The form's data with `changes` (a value, or a list of values; None leaves an input out)."""
    data = dict(form.data)
    for name, value in changes.items():
        name = name.replace("__", "-")
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    data["_save"] = ["Spara"]
    return data


KULTURBIDRAG = dict(
    committee=None,  # the committee's pk, set in the test
    name="Kulturbidrag",
    slug="kulturbidrag",
    description="Bidrag till kulturprojekt för alla åldrar.",
    calculator="fixed",
    calculator_params__fixed__amount="10 000",
    delegation_limit="50000",
    delegation_point="4.5",
    # Two questions, the second shown only when the first is answered "ja".
    questions__0__label="Samarbetar ni med en skola?",
    questions__0__label_en="Do you work with a school?",
    questions__0__type="yesno",
    questions__0__key="school",
    questions__1__label="Vilken skola?",
    questions__1__type="text",
    questions__1__help="Skolans namn och ort.",
    questions__1__key="school_name",
    questions__1__show_if_question="school",
    questions__1__show_if_equals="Ja",
    # 85 % at the decision, 15 % after the approved report.
    payment_plan__0__percent="85",
    payment_plan__0__release="decision",
    payment_plan__1__percent="15",
    payment_plan__1__release="follow_up",
    attachments__0__label="Projektbudget",
    attachments__0__label_en="Project budget",
    priority_areas="Barn och unga\r\nKulturarv\r\n\r\n",
    target_groups="Alla åldrar",
)


def kulturbidrag_form(admin_client, committee, **changes):
    form = read_form(admin_client.get(ADD))
    return posted(form, **{**KULTURBIDRAG, "committee": str(committee.pk), **changes})


def test_the_administrator_creates_the_kulturbidrag_without_json(admin_client):
    kfn = factories.committee()
    page = admin_client.get(ADD).content.decode()
    for field in ("application_questions", "payment_plan", "calculator_params", "required_attachments"):
        assert f'name="{field}"' not in page, field  # no JSON box: inputs named after their rows
    assert "[]" not in page and '"release"' not in page
    assert 'name="questions-0-label"' in page and 'name="calculator_params-fixed-amount"' in page

    response = admin_client.post(ADD, kulturbidrag_form(admin_client, kfn))

    assert response.status_code == 302, response.context["adminform"].form.errors
    programme = Programme.objects.get(slug="kulturbidrag")
    assert programme.calculator == "fixed"
    assert programme.calculator_params == {"amount": "10000"}
    assert programme.application_questions == [
        {
            "key": "school",
            "label": "Samarbetar ni med en skola?",
            "label_en": "Do you work with a school?",
            "type": "yesno",
        },
        {
            "key": "school_name",
            "label": "Vilken skola?",
            "type": "text",
            "help": "Skolans namn och ort.",
            "show_if": {"question": "school", "equals": "ja"},
        },
    ]
    assert programme.payment_plan == [{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}]
    assert programme.required_attachments == [
        {"key": "projektbudget", "label": "Projektbudget", "label_en": "Project budget", "required": True}
    ]
    assert programme.priority_areas == ["Barn och unga", "Kulturarv"]
    assert programme.target_groups == ["Alla åldrar"]
    assert programme.follow_up_parts == ["financial_statement"]  # the default, as a ticked box
    assert programme.eligibility_questions == []
    assert programme.get_calculator().compute(programme.calculator_params, {}, None) == 10000


def test_a_question_is_removed_and_one_made_optional(admin_client):
    programme = factories.programme("inkludering", application_questions=DEMO_PROGRAMMES[0]["application_questions"])
    url = f"/admin/grants/programme/{programme.pk}/change/"
    form = read_form(admin_client.get(url))
    response = admin_client.post(url, posted(form, questions__0__delete="on", questions__1__required=None))
    assert response.status_code == 302
    programme.refresh_from_db()
    assert [(q["key"], q.get("required", True)) for q in programme.application_questions] == [
        ("participants", False),
        ("partner", True),
    ]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"payment_plan__1__percent": "10"},
            "payment_plan",
            "Utbetalningsplanens delar blir 95 %, de ska bli 100 %.",
        ),
        (
            {"payment_plan__1__percent": "femton"},
            "payment_plan",
            "Del 2: skriv andelen som ett heltal i procent, t.ex. 85.",
        ),
        ({"questions__1__type": ""}, "application_questions", "Fråga 2: välj typ av svar."),
        (
            {"questions__1__key": "school"},
            "application_questions",
            "Fråga 2: nyckeln ”school” används redan av fråga 1. Varje fråga behöver en egen.",
        ),
        (
            {"questions__1__key": "skolans namn"},
            "application_questions",
            "Fråga 2: nyckeln ”skolans namn” får bara ha bokstäver a–z, siffror, - och _ (högst 40 tecken, inga "
            "mellanslag eller å, ä, ö), t.ex. ”meeting_place”.",
        ),
        (
            {"questions__1__show_if_equals": "kanske"},
            "application_questions",
            "Fråga 2: frågan ”school” besvaras med ja eller nej.",
        ),
        (
            {"questions__1__show_if_question": "skola"},
            "application_questions",
            "Fråga 2: ”visas bara om” ska ange nyckeln för en annan fråga i listan (nycklar: school).",
        ),
        (
            {"questions__1__show_if_equals": ""},
            "application_questions",
            "Fråga 2: ange både vilken fråga och vilket svar som visar frågan, eller inget av dem (då visas den "
            "alltid).",
        ),
        (
            # Programme.clean()'s own check, mapped onto the questions' field.
            {"questions__1__choices": "Nackaskolan\r\nSaltsjöskolan"},
            "application_questions",
            'Fråga 2 (”school_name”): "choices" gäller bara frågor av typen choice.',
        ),
        (
            {"calculator_params__fixed__amount": "tiotusen"},
            "calculator_params",
            "”Belopp (kr)” under ”Fast belopp”: skriv ett belopp i kronor, t.ex. 10 000 eller 12,50.",
        ),
        (
            {"calculator_params__fixed__amount": ""},
            "calculator_params",
            "Fyll i ”Belopp (kr)” under ”Fast belopp”, den beräkning som är vald.",
        ),
        (
            {"attachments__1__label_en": "Annual report"},
            "required_attachments",
            "Bilaga 2: skriv bilagans namn, t.ex. ”Projektbudget”.",
        ),
        (
            {"attachments__1__label": "Projektbudget"},
            "required_attachments",
            "Bilaga 2: nyckeln ”projektbudget” används redan av bilaga 1. Varje bilaga behöver en egen.",
        ),
        ({"priority_areas": "Kulturarv\r\nKulturarv"}, "priority_areas", "Listan innehåller samma val två gånger."),
        (
            {"eligibility_questions__0__question": "Har ni verksamhet i kommunen?"},
            "eligibility_questions",
            "Fråga 1: välj vilket svar som krävs, ja eller nej.",
        ),
        (
            {"follow_up_required": None},
            "payment_plan",
            "En del som betalas ut efter återrapportering kräver att återrapportering är påslagen.",
        ),
    ],
)
def test_a_bad_row_is_refused_at_its_field_in_swedish(admin_client, changes, field, message):
    kfn = factories.committee()
    response = admin_client.post(ADD, kulturbidrag_form(admin_client, kfn, **changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in errors.get(field, []), errors
    assert not Programme.objects.exists()
    # The page shows the message, and the rows as they were typed, for the administrator to correct.
    page = response.content.decode()
    assert message.replace('"', "&quot;") in page
    assert 'value="Vilken skola?"' in page


def changed_and_back(admin_client, programme):
    """Saves the programme's change page as the admin shows it, changing nothing."""
    url = f"/admin/grants/programme/{programme.pk}/change/"
    before = {field: getattr(programme, field) for field in CONFIGURATION}
    form = read_form(admin_client.get(url))
    response = admin_client.post(url, posted(form))
    assert response.status_code == 302, response.context["adminform"].form.errors
    programme.refresh_from_db()
    return before, {field: getattr(programme, field) for field in CONFIGURATION}


@pytest.mark.parametrize("slug", sorted(factories.PROGRAMMES))
def test_the_test_programmes_are_saved_unchanged(admin_client, slug):
    before, after = changed_and_back(admin_client, factories.programme(slug))
    assert after == before


@pytest.mark.parametrize("spec", DEMO_PROGRAMMES, ids=[spec["key"] for spec in DEMO_PROGRAMMES])
def test_the_demo_programmes_are_saved_unchanged(admin_client, spec):
    spec = dict(spec)
    spec.pop("key")
    committee = Committee.objects.create(code=spec.pop("committee"), name="Nämnden")
    programme = Programme.objects.create(committee=committee, **spec)
    before, after = changed_and_back(admin_client, programme)
    assert after == before
    assert after["calculator_params"] == spec["calculator_params"]  # "12" stays a text, 3 a number


def test_the_kulturbidrag_is_saved_unchanged(admin_client):
    kfn = factories.committee()
    admin_client.post(
        ADD,
        kulturbidrag_form(
            admin_client,
            kfn,
            eligibility_questions__0__question="Är ni en förening?",
            eligibility_questions__0__answer="ja",
            eligibility_questions__0__otherwise="Bidraget går till föreningar.",
        ),
    )
    programme = Programme.objects.get(slug="kulturbidrag")
    assert programme.eligibility_questions == [
        {"question": "Är ni en förening?", "answer": "ja", "otherwise": "Bidraget går till föreningar."}
    ]
    before, after = changed_and_back(admin_client, programme)
    assert after == before


def test_only_the_chosen_calculators_parameters_are_stored(admin_client):
    programme = factories.programme("verksamhet")
    url = f"/admin/grants/programme/{programme.pk}/change/"
    form = read_form(admin_client.get(url))
    assert form.data["calculator_params-base_plus_per_member-base"] == ["5000"]
    assert form.data["calculator_params-fixed-amount"] == [""]
    response = admin_client.post(
        url,
        posted(
            form,
            calculator="sessions_participants",
            calculator_params__sessions_participants__per_participant_session="12,50",
            calculator_params__sessions_participants__min_participants="4",
        ),
    )
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.calculator_params == {"per_participant_session": "12.50", "min_participants": 4}


def test_every_input_has_its_own_label(admin_client):
    programme = factories.programme("verksamhet", application_questions=DEMO_PROGRAMMES[1]["application_questions"])
    for url in (ADD, f"/admin/grants/programme/{programme.pk}/change/"):
        form = read_form(admin_client.get(url))
        unlabelled = [
            id_
            for id_ in form.ids
            if id_ and id_.startswith(("id_questions", "id_calculator", "id_attach")) and id_ not in form.label_for
        ]
        assert unlabelled == []
        assert sum(1 for id_ in form.ids if id_ and id_.startswith("id_questions-")) > 20
