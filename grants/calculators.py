"""Amount calculators: how a programme turns an application into an amount.

A programme names its calculator and gives its parameters (Programme.calculator and
Programme.calculator_params); the calculator declares which inputs the applicant
must give. Adding a rule means adding a class here, not branching elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import limits

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A programme's calculator_params and an application's inputs, as stored in their JSON fields.
Params = Mapping[str, Any]
Inputs = Mapping[str, Any]

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Input:
    """A count the applicant gives (grants.limits has the plausible maxima)."""

    name: str
    label: StrOrPromise
    help_text: StrOrPromise = ""
    maximum: int = limits.MEMBERS


@dataclass(frozen=True)
class Param:
    """A number the programme gives its calculator, in Programme.calculator_params: an amount
    in kronor (stored as a decimal string, "5000") or, if `whole`, a count (stored as a number).
    The admin shows one input per parameter (grants.admin_rows); the label is for it."""

    name: str
    label: str
    whole: bool = False
    required: bool = True
    help_text: str = ""


class Calculator:
    """What every calculator gives: the parameters it takes, the inputs it asks for and the
    amount they make."""

    key: str
    label: StrOrPromise
    params: tuple[Param, ...] = ()
    inputs: tuple[Input, ...] = ()
    applicant_states_amount = False
    uses_budget = False

    def check_params(self, params: Params) -> None:
        """Refuse a programme's parameters the calculator cannot use (on the programme's save)."""

    def compute(self, params: Params, inputs: Inputs, requested: Decimal | None) -> Decimal | None:
        raise NotImplementedError

    def describe(self, params: Params) -> str:
        """The rule with the programme's amounts, in the current language, for the programme
        page and the amount step ("" when the applicant states the amount herself)."""
        return ""


def kronor(amount: Decimal | int | str) -> str:
    """An amount as the current language writes it (10 000 or 10,000), öre only if any."""
    amount = Decimal(str(amount))
    decimals = 0 if amount == amount.to_integral_value() else 2
    return number_format(amount, decimals, use_l10n=True, force_grouping=True)


def check_inputs(calculator: Calculator, inputs: Inputs) -> None:
    """Refuse, in Swedish, inputs that are not whole numbers from 0 to the input's maximum."""
    for item in calculator.inputs:
        value = inputs.get(item.name)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= item.maximum:
            raise ValidationError(
                gettext("%(label)s: ange ett heltal från 0 till %(max)s.")
                % {"label": item.label, "max": limits.count_text(item.maximum)}
            )


def _decimal(params: Params, key: str, label: str) -> Decimal:
    try:
        value = Decimal(str(params[key]))
    except KeyError:
        raise ValidationError(f"Parametern '{key}' ({label}) saknas.")
    except InvalidOperation:
        raise ValidationError(f"Parametern '{key}' ({label}) måste vara ett belopp.")
    if value < 0:
        raise ValidationError(f"Parametern '{key}' ({label}) får inte vara negativ.")
    return value


def _count(inputs: Inputs, key: str) -> int:
    try:
        value = int(inputs.get(key) or 0)
    except (TypeError, ValueError):
        return 0
    return max(value, 0)


class Requested(Calculator):
    """Project grants: the applicant asks for an amount backed by a budget."""

    key = "requested"
    label = _("Sökt belopp enligt budget")
    inputs = ()
    applicant_states_amount = True
    uses_budget = True

    def compute(self, params: Params, inputs: Inputs, requested: Decimal | None) -> Decimal | None:
        return requested


class Fixed(Calculator):
    key = "fixed"
    label = _("Fast belopp")
    params = (Param("amount", "Belopp (kr)", help_text="Det belopp varje beviljad ansökan får."),)
    inputs = ()
    applicant_states_amount = False
    uses_budget = False

    def check_params(self, params: Params) -> None:
        _decimal(params, "amount", "belopp")

    def compute(self, params: Params, inputs: Inputs, requested: Decimal | None) -> Decimal | None:
        return _decimal(params, "amount", "belopp").quantize(CENT)

    def describe(self, params: Params) -> str:
        return gettext("Bidraget är %(amount)s kr.") % {"amount": kronor(_decimal(params, "amount", "belopp"))}


class BasePlusPerMember(Calculator):
    """Activity grants: a base amount plus an amount per member."""

    key = "base_plus_per_member"
    label = _("Grundbelopp + belopp per medlem")
    params = (Param("base", "Grundbelopp (kr)"), Param("per_member", "Belopp per medlem (kr)"))
    inputs = (
        Input("members", _("Antal medlemmar"), _("Medlemmar som betalat avgift det senaste året."), limits.MEMBERS),
    )
    applicant_states_amount = False
    uses_budget = False

    def check_params(self, params: Params) -> None:
        _decimal(params, "base", "grundbelopp")
        _decimal(params, "per_member", "belopp per medlem")

    def compute(self, params: Params, inputs: Inputs, requested: Decimal | None) -> Decimal | None:
        base = _decimal(params, "base", "grundbelopp")
        per_member = _decimal(params, "per_member", "belopp per medlem")
        return (base + per_member * _count(inputs, "members")).quantize(CENT)

    def describe(self, params: Params) -> str:
        return gettext("%(base)s kr + %(per_member)s kr per medlem × antal medlemmar.") % {
            "base": kronor(_decimal(params, "base", "grundbelopp")),
            "per_member": kronor(_decimal(params, "per_member", "belopp per medlem")),
        }


class SessionsParticipants(Calculator):
    """Activity support (LOK): an amount per participant and session (sammankomst) for
    participants aged 7–25; a session counts only with at least three such participants."""

    key = "sessions_participants"
    label = _("Sammankomster × deltagare 7–25 år")
    params = (
        Param("per_participant_session", "Belopp per deltagartillfälle (kr)"),
        Param(
            "min_participants",
            "Minsta antal deltagare per sammankomst",
            whole=True,
            required=False,
            help_text="En sammankomst med färre deltagare i åldern räknas inte. Tomt: 3.",
        ),
    )
    inputs = (
        Input(
            "sessions",
            _("Antal sammankomster"),
            _("Sammankomster om minst 45 minuter under perioden."),
            limits.SESSIONS,
        ),
        Input(
            "participants",
            _("Deltagare 7–25 år per sammankomst"),
            _("Genomsnittligt antal, minst 3 räknas."),
            limits.PARTICIPANTS,
        ),
    )
    applicant_states_amount = False
    uses_budget = False

    def check_params(self, params: Params) -> None:
        _decimal(params, "per_participant_session", "belopp per deltagartillfälle")

    def compute(self, params: Params, inputs: Inputs, requested: Decimal | None) -> Decimal | None:
        rate = _decimal(params, "per_participant_session", "belopp per deltagartillfälle")
        minimum = int(params.get("min_participants", 3))
        participants = _count(inputs, "participants")
        if participants < minimum:
            return ZERO
        return (rate * _count(inputs, "sessions") * participants).quantize(CENT)

    def describe(self, params: Params) -> str:
        return gettext(
            "%(rate)s kr per deltagare × antal deltagare 7–25 år × antal sammankomster "
            "(en sammankomst räknas med minst %(minimum)s deltagare)."
        ) % {
            "rate": kronor(_decimal(params, "per_participant_session", "belopp per deltagartillfälle")),
            "minimum": int(params.get("min_participants", 3)),
        }


_CALCULATORS: dict[str, Calculator] = {
    cls.key: cls() for cls in (Requested, Fixed, BasePlusPerMember, SessionsParticipants)
}
CHOICES = [(key, calc.label) for key, calc in _CALCULATORS.items()]
REQUESTED = Requested.key


def get(key: str) -> Calculator:
    return _CALCULATORS[key]


def default_payment_plan() -> list[dict[str, Any]]:
    return [{"percent": 100, "release": "decision"}]


def split_amount(amount: Decimal, plan: Sequence[Mapping[str, Any]]) -> list[Decimal]:
    """Split an amount by the plan's percentages, öre-exact: the last part takes the rest."""
    parts: list[Decimal] = []
    remaining = amount
    for index, part in enumerate(plan):
        if index == len(plan) - 1:
            share = remaining
        else:
            share = (amount * part["percent"] / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
        parts.append(share)
        remaining -= share
    return parts


def amount_rule(calculator_key: str, params: Params) -> str:
    """The programme's amount rule in words with its amounts ("Bidraget är 10 000 kr."), or
    "" for a stated amount or parameters the calculator cannot use."""
    try:
        return get(calculator_key).describe(params or {})
    except (KeyError, ValidationError):
        return ""
