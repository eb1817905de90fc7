"""The follow-up report asks what the decision letter says it will (issue 18): the letter
names what every report asks and each of the programme's follow_up_parts, and the portal's
report form has the fields of exactly those parts, for every programme of the demo and of
the tests."""

import pytest

from documents.letters import decision_letter_html, render_pdf
from grants.models import FOLLOW_UP_PARTS, BudgetLine, Programme
from grants.portal.forms import FollowUpReportForm
from grants.services import follow_up
from workflows.management.commands.load_demo import PROGRAMMES as DEMO_PROGRAMMES

from .. import factories
from ..staff import read_pdf_text

pytestmark = pytest.mark.django_db

# The report form's fields that each part asks, by how their names begin.
PART_FIELDS = {
    "participants_by_age_gender": ("participants_",),
    "sessions": ("sessions",),
    "financial_statement": ("actual_", "own_contribution"),
}
ALWAYS = {"what_was_done", "outcome", "attachment"}


def part_of(field_name):
    return next(part for part, prefixes in PART_FIELDS.items() if field_name.startswith(prefixes))


def letter_parts(text):
    """The parts the letter's follow-up paragraph names."""
    return {part for part, words in follow_up.PART_ASKED.items() if words in text}


def form_parts(parts):
    line = BudgetLine(pk=1, kind="cost", label="Ledararvoden", amount=1000)
    form = FollowUpReportForm(parts=parts, budget_lines=[line])
    assert set(form.fields) >= ALWAYS
    return {part_of(name) for name in form.fields if name not in ALWAYS}


CONFIGURATIONS = [(spec["key"], spec["follow_up_parts"]) for spec in DEMO_PROGRAMMES] + [
    (f"tests:{slug}", Programme._meta.get_field("follow_up_parts").get_default()) for slug in factories.PROGRAMMES
]


def test_every_part_has_its_words_and_fields():
    assert set(follow_up.PART_ASKED) == set(FOLLOW_UP_PARTS) == set(PART_FIELDS)


@pytest.mark.parametrize("name, parts", CONFIGURATIONS, ids=[name for name, _parts in CONFIGURATIONS])
def test_the_form_asks_exactly_what_the_letter_names(name, parts):
    text = follow_up.report_contents_text(parts)
    assert text.startswith("vad ni har genomfört, resultatet jämfört med målen i ansökan")
    assert letter_parts(text) == set(parts)
    assert form_parts(parts) == set(parts)


def test_the_inclusion_grants_letter_asks_for_participants_and_its_form_has_the_grid():
    spec = next(spec for spec in DEMO_PROGRAMMES if spec["key"] == "inkludering")
    assert "antal deltagare" in follow_up.report_contents_text(spec["follow_up_parts"])
    fields = FollowUpReportForm(parts=spec["follow_up_parts"]).fields
    assert "participants_1_girls" in fields and "own_contribution" in fields


@pytest.mark.parametrize(
    "parts",
    [["financial_statement"], ["participants_by_age_gender", "financial_statement"], ["sessions"]],
)
def test_the_sent_decision_letter_names_the_parts_of_its_programme(parts, anna, olle, fisksatra, inclusion_call):
    programme = inclusion_call.programme
    programme.follow_up_parts = parts
    programme.save()
    application = factories.granted_case(inclusion_call, fisksatra, anna, olle)
    text = " ".join(read_pdf_text(render_pdf(decision_letter_html(application.decision)))[0].split())
    assert "Återrapportering" in text
    assert letter_parts(text) == set(parts), text
    assert ("antal deltagare" in text) == ("participants_by_age_gender" in parts)
    assert set(FollowUpReportForm(parts=application.call.programme.follow_up_parts).fields) - ALWAYS == {
        name for name in FollowUpReportForm(parts=parts).fields if name not in ALWAYS
    }
