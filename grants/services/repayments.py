"""Repayment claims (återkrav) after a rejected follow-up report: finance registers what the
grantee pays back until nothing is outstanding. The claim itself is decided in follow_up."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import access
from ..models import ZERO, RepaymentClaim
from . import ledger
from ._base import record_event, transition


def kronor(amount: Decimal) -> str:
    """An amount as Swedish text: "12 500,00 kr"."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " kr"


def repayment_register(
    *, claim: RepaymentClaim, by: User, amount: Decimal | None, received_on: dt.date | None
) -> RepaymentClaim:
    """Finance registers `amount` received on `received_on`. A part is fine; when the whole
    claim has come back it is settled (open → repaid). More than is outstanding is refused."""
    access.require(access.is_finance(by), "Återbetalningar registreras av ekonomi (attestanter).")
    if received_on is None:
        raise ValidationError({"received_on": "Ange dagen då pengarna kom in."})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": "Dagen då pengarna kom in kan inte ligga i framtiden."})
    with transaction.atomic():
        claim = (
            RepaymentClaim.objects.select_for_update(of=("self",))
            .select_related("application__call__programme__committee")
            .get(pk=claim.pk)
        )
        if claim.status != RepaymentClaim.Status.OPEN:
            raise ValidationError(
                f"Återkravet är redan helt återbetalt ({claim.repaid_on:%Y-%m-%d}). Inget har registrerats."
            )
        if received_on < claim.decided_at.date():
            raise ValidationError(
                {
                    "received_on": f"Återkravet beslutades {claim.decided_at:%Y-%m-%d}; "
                    "en återbetalning kan inte ha kommit in före det."
                }
            )
        outstanding = claim.outstanding
        if amount is None or amount <= ZERO:
            raise ValidationError({"amount": "Beloppet ska vara större än 0 kr."})
        if amount > outstanding:
            raise ValidationError(
                {
                    "amount": f"Beloppet är större än det som återstår att betala, "
                    f"{kronor(outstanding)}. Inget har registrerats."
                }
            )
        before = claim.status
        claim.repaid_amount += amount
        note = f"{kronor(amount)} inbetalt {received_on:%Y-%m-%d}, kvar att betala {kronor(claim.outstanding)}."
        if claim.outstanding == ZERO:
            transition(claim, "settle", by=by, what=_("registrera återbetalningen"), kwargs={"on": received_on})
        claim.full_clean(exclude=["application", "decided_by"])
        claim.save()
        ledger.repayment_book(claim=claim, amount=amount, received_on=received_on, by=by)
        record_event(
            claim.application,
            by=by,
            action="Återbetalning registrerad",
            note=note,
            from_state=before if claim.status != before else "",
            to_state=claim.status if claim.status != before else "",
        )
    return claim
