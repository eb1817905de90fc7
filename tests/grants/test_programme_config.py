"""Programme configuration is data an administrator edits: it is validated on every save
and refused in Swedish when it cannot work. The amount calculators compute öre-exact."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from grants import calculators
from grants.calculators import split_amount
from grants.models import Programme

from .. import factories


def refused(**overrides):
    """Save an inclusion programme with the overrides; return the errors per field."""
    with pytest.raises(ValidationError) as caught:
        factories.programme("inkludering", **overrides)
    assert not Programme.objects.exists()
    return caught.value.message_dict


# --- validated on save -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_configuration_saves():
    programme = factories.programme("inkludering")
    assert Programme.objects.get().payment_plan == [
        {"percent": 85, "release": "decision"},
        {"percent": 15, "release": "follow_up"},
    ]
    programme.delegation_point = "4.3"
    programme.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "plan, total",
    [
        ([{"percent": 85, "release": "decision"}, {"percent": 10, "release": "follow_up"}], 95),
        ([{"percent": 60, "release": "decision"}, {"percent": 60, "release": "decision"}], 120),
    ],
)
def test_a_payment_plan_not_adding_up_to_100_percent_is_refused(plan, total):
    assert refused(payment_plan=plan)["payment_plan"] == [
        f"Utbetalningsplanens delar blir {total} %, de ska bli 100 %."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "plan, message",
    [
        ([], "Utbetalningsplanen måste vara en lista med minst en del."),
        ({"percent": 100, "release": "decision"}, "Utbetalningsplanen måste vara en lista med minst en del."),
        ([{"percent": 100}], "Del 1: ange exakt 'percent' och 'release'."),
        ([{"percent": "100", "release": "decision"}], "Del 1: andelen måste vara ett heltal mellan 1 och 100."),
        (
            [{"percent": 0, "release": "decision"}, {"percent": 100, "release": "decision"}],
            "Del 1: andelen måste vara ett heltal mellan 1 och 100.",
        ),
        ([{"percent": 100, "release": "later"}], "Del 1: 'release' ska vara 'decision' eller 'follow_up'."),
        (
            [{"percent": 15, "release": "follow_up"}, {"percent": 85, "release": "decision"}],
            "Delar som betalas vid beslut ska komma före delar som betalas efter återrapport.",
        ),
    ],
)
def test_a_malformed_payment_plan_is_refused(plan, message):
    assert message in refused(payment_plan=plan)["payment_plan"]


@pytest.mark.django_db
def test_a_part_paid_after_the_report_needs_follow_up_switched_on():
    assert refused(follow_up_required=False)["payment_plan"] == [
        "En del som betalas ut efter återrapportering kräver att återrapportering är påslagen."
    ]


@pytest.mark.django_db
def test_without_follow_up_a_plan_paid_at_decision_saves():
    factories.programme("inkludering", follow_up_required=False, payment_plan=[{"percent": 100, "release": "decision"}])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "calculator, params, message",
    [
        ("base_plus_per_member", {"base": "5000"}, "Parametern 'per_member' (belopp per medlem) saknas."),
        ("base_plus_per_member", {"per_member": "50"}, "Parametern 'base' (grundbelopp) saknas."),
        (
            "base_plus_per_member",
            {"base": "fem tusen", "per_member": "50"},
            "Parametern 'base' (grundbelopp) måste vara ett belopp.",
        ),
        (
            "base_plus_per_member",
            {"base": "-1", "per_member": "50"},
            "Parametern 'base' (grundbelopp) får inte vara negativ.",
        ),
        ("sessions_participants", {}, "Parametern 'per_participant_session' (belopp per deltagartillfälle) saknas."),
        ("fixed", {}, "Parametern 'amount' (belopp) saknas."),
    ],
)
def test_missing_or_bad_calculator_parameters_are_refused(calculator, params, message):
    assert refused(calculator=calculator, calculator_params=params)["calculator_params"] == [message]


@pytest.mark.django_db
def test_an_unknown_calculator_is_refused():
    errors = refused(calculator="per_square_metre")
    assert errors["calculator"] == ["Värdet 'per_square_metre' är inget giltigt alternativ."]


@pytest.mark.django_db
def test_a_negative_delegation_limit_is_refused():
    assert "delegation_limit" in refused(delegation_limit=Decimal("-1"))


@pytest.mark.django_db
def test_an_existing_programme_edited_into_a_bad_configuration_is_not_saved():
    programme = factories.programme("inkludering")
    programme.payment_plan = [{"percent": 50, "release": "decision"}]
    with pytest.raises(ValidationError):
        programme.save()
    assert Programme.objects.get().payment_plan[0]["percent"] == 85


# --- calculators -----------------------------------------------------------------------


def compute(key, params, inputs, requested=Decimal("0")):
    return calculators.get(key).compute(params, inputs, requested)


def test_base_plus_per_member():
    params = {"base": "5000", "per_member": "150"}
    assert compute("base_plus_per_member", params, {"members": 40}) == Decimal("11000.00")
    assert compute("base_plus_per_member", params, {}) == Decimal("5000.00")
    assert compute("base_plus_per_member", params, {"members": -3}) == Decimal("5000.00")


def test_sessions_participants_counts_only_with_enough_participants():
    params = {"per_participant_session": "12"}
    assert compute("sessions_participants", params, {"sessions": 30, "participants": 8}) == Decimal("2880.00")
    assert compute("sessions_participants", params, {"sessions": 30, "participants": 3}) == Decimal("1080.00")
    assert compute("sessions_participants", params, {"sessions": 30, "participants": 2}) == Decimal("0.00")
    stricter = {**params, "min_participants": 5}
    assert compute("sessions_participants", stricter, {"sessions": 30, "participants": 4}) == Decimal("0.00")
    assert compute("sessions_participants", stricter, {"sessions": 30, "participants": 5}) == Decimal("1800.00")


def test_fixed_amount_ignores_what_is_asked_for():
    assert compute("fixed", {"amount": "2500.5"}, {}, Decimal("99999")) == Decimal("2500.50")


def test_requested_amount_is_what_the_applicant_states():
    assert compute("requested", {}, {}, Decimal("60000.00")) == Decimal("60000.00")


def test_split_amount_of_an_odd_amount_is_ore_exact():
    plan = [{"percent": 85, "release": "decision"}, {"percent": 15, "release": "follow_up"}]
    assert split_amount(Decimal("1000.01"), plan) == [Decimal("850.01"), Decimal("150.00")]
    thirds = [
        {"percent": 33, "release": "decision"},
        {"percent": 33, "release": "decision"},
        {"percent": 34, "release": "follow_up"},
    ]
    assert sum(split_amount(Decimal("0.05"), thirds)) == Decimal("0.05")


percent_plans = (
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5)
    .filter(lambda parts: sum(parts) <= 100)
    .map(
        lambda parts: (
            [{"percent": p, "release": "decision"} for p in parts[:-1]]
            + [{"percent": 100 - sum(parts[:-1]), "release": "decision"}]
        )
    )
)


@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000000"), places=2),
    plan=percent_plans.filter(lambda plan: all(part["percent"] > 0 for part in plan)),
)
def test_split_amount_always_adds_up_to_the_amount_to_the_ore(amount, plan):
    parts = split_amount(amount, plan)
    assert sum(parts) == amount
    assert len(parts) == len(plan)
    assert all(part == part.quantize(Decimal("0.01")) for part in parts)
    assert all(part >= 0 for part in parts)
