"""The amount an outcome allows, one rule for the proposal and the decision."""

from decimal import Decimal

from django.core.exceptions import ValidationError

from ..models import Application


def check_amount_fits_outcome(application: Application, outcome: str, amount: Decimal | None) -> None:
    """The same rule for an officer's proposal (assess) and a decision (decide): what the outcome says
    about the amount."""
    requested = application.requested_amount
    if amount is None or amount < 0:
        raise ValidationError("Ange ett belopp (0 kr vid avslag).")
    if outcome == "rejected" and amount != 0:
        raise ValidationError("Vid avslag är beloppet 0 kr.")
    if outcome == "approved" and amount != requested:
        raise ValidationError(
            f"Att bevilja fullt ut betyder det sökta beloppet, {requested} kr. "
            "Välj ”Bevilja delvis” för ett lägre belopp."
        )
    if outcome == "partly_approved" and not Decimal(0) < amount < requested:
        raise ValidationError(f"Vid delvis bifall ska beloppet vara mellan 0 och {requested} kr.")
    if amount > application.call.max_amount:
        raise ValidationError(f"Beloppet är högre än utlysningens högsta belopp {application.call.max_amount} kr.")
