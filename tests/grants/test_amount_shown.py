"""What a programme's amount rule gives, in words with its amounts: "Bidraget är 10 000 kr"
for a fixed amount, the calculation with its inputs for a calculated one; on the public
programme page and on the application's amount step, in Swedish and in English."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from grants import calculators

from .. import factories

pytestmark = pytest.mark.django_db


def text(response):
    """The page as text, the thousands separators in amounts as plain spaces."""
    assert response.status_code == 200
    return re.sub(r"(?<=\d)[\xa0\u202f](?=\d)", " ", response.content.decode())


@pytest.fixture
def fixed_call(db):
    programme = factories.programme(
        "verksamhet", name="Kulturbidrag", calculator="fixed", calculator_params={"amount": "10000"}
    )
    return factories.call(programme)


def test_the_rule_in_words():
    assert calculators.amount_rule("fixed", {"amount": "10000"}) == "Bidraget är 10\xa0000 kr."
    assert calculators.amount_rule("base_plus_per_member", {"base": "5000", "per_member": "150"}) == (
        "5\xa0000 kr + 150 kr per medlem × antal medlemmar."
    )
    assert calculators.amount_rule("sessions_participants", {"per_participant_session": "12"}).startswith(
        "12 kr per deltagare × antal deltagare 7–25 år × antal sammankomster"
    )
    assert calculators.amount_rule("requested", {}) == ""
    assert calculators.amount_rule("fixed", {}) == ""  # parameters it cannot use: nothing rather than an error


def test_the_programme_page_shows_the_fixed_amount(client, fixed_call):
    url = reverse("catalogue:programme", args=["verksamhet"])
    assert "Bidraget är 10 000 kr." in text(client.get(url))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "The grant is 10,000 kr." in text(client.get(url))


def test_the_programme_page_shows_the_calculation(client, activity_call):
    page = text(client.get(reverse("catalogue:programme", args=["verksamhet"])))
    assert "5 000 kr + 150 kr per medlem × antal medlemmar." in page


def test_the_amount_step_of_a_fixed_amount_says_the_amount(client, fixed_call, anna, fisksatra):
    draft = factories.draft(fixed_call, fisksatra, anna)
    client.force_login(anna)
    page = text(client.get(reverse("portal:step", args=[draft.pk, "belopp"])))
    assert "Bidraget är 10 000 kr." in page
    assert "från uppgifterna nedan" not in page
    assert "Du behöver inte fylla i något om beloppet." in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(reverse("portal:step", args=[draft.pk, "belopp"])))
    assert "The grant is 10,000 kr." in page


def test_the_amount_step_of_a_calculated_amount_shows_the_calculation_and_its_result(
    client, activity_call, anna, fisksatra
):
    draft = factories.draft(activity_call, fisksatra, anna)
    client.force_login(anna)
    page = text(client.get(reverse("portal:step", args=[draft.pk, "belopp"])))
    assert "5 000 kr + 150 kr per medlem × antal medlemmar." in page
    assert "från uppgifterna nedan" in page and "Antal medlemmar" in page
    assert "Med de uppgifter som är sparade" not in page  # nothing given yet

    draft.inputs = {"members": 40}
    draft.requested_amount = 11000
    draft.save()
    page = text(client.get(reverse("portal:step", args=[draft.pk, "belopp"])))
    assert "Med de uppgifter som är sparade blir bidraget 11 000 kr." in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(reverse("portal:step", args=[draft.pk, "belopp"])))
    assert "5,000 kr + 150 kr per member × number of members." in page
    assert "With the details saved, the grant is 11,000 kr." in page
