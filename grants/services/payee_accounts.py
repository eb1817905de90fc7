"""The payee's account: an association asks for a new bank account, finance approves it.

Money goes only to an account approved by someone other than the person who asked for it
(DESIGN.md, invariant 8). So the account on the Organisation is the approved one, and a
change — the first account too — is an AccountChangeRequest that a signatory or treasurer
of the association makes and someone in finance who did not make it approves or refuses.
Until then payments use the approved account.

Approval locks the Organisation row, and attestation (grants.services.pay) reads the
payee's account under the same lock, so a payment is always attested to the account that
was approved at that moment.

Every request, approval and refusal is its row (the audit trail: who, when, old and new
account), an event on each of the association's cases with money still to pay, and an
e-mail to every confirmed member, in their language, with the account masked.
"""

from collections.abc import Callable, Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Expression, Q, Value
from django.db.models.functions import Replace, Upper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .. import access
from ..models import AccountChangeRequest, Application, CaseEvent, Membership, Organisation, PayeeScheme, Payment
from ..models import account_masked as masked
from ..validators import compact_account
from ._base import transition
from .organisations import _clean_account, _confirmed_recipients, _display_name, _footer, _mail_after_commit

__all__ = [
    "account_change_request",
    "account_change_approve",
    "account_change_refuse",
    "pending_request",
    "shared_accounts",
    "masked",
]

# How long finance's attestation list flags an account as new.
NEW_ACCOUNT_DAYS = 30
# The cases an account change concerns: those with money still to pay.
UNPAID = (Payment.Status.WITHHELD, *Payment.OPEN)
EVENT_REQUESTED = gettext_noop("Ändring av bankkonto begärd")
EVENT_APPROVED = gettext_noop("Ändring av bankkonto godkänd")
EVENT_REFUSED = gettext_noop("Ändring av bankkonto avslagen")


def pending_request(organisation: Organisation) -> AccountChangeRequest | None:
    return organisation.account_requests.filter(status=AccountChangeRequest.Status.PENDING).first()


def shared_accounts(accounts: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """The associations whose approved account is one of `accounts` ([(scheme, number)]),
    as {(scheme, compact number): [(organisation id, name)]}. One query for any number of
    accounts; numbers are compared without hyphens and spaces, however they were stored."""
    wanted = {(str(scheme), compact_account(str(scheme), number)) for scheme, number in accounts if number}
    if not wanted:
        return {}

    def compact(field: str) -> Expression:
        return Upper(Replace(Replace(field, Value("-"), Value("")), Value(" "), Value("")))

    matches = Q()
    for scheme in PayeeScheme:
        numbers = [number for wanted_scheme, number in wanted if wanted_scheme == scheme.value]
        if numbers:
            matches |= Q(**{f"compact_{scheme.value}__in": numbers})
    rows = (
        Organisation.objects.filter(kind=Organisation.Kind.ASSOCIATION)
        .annotate(**{f"compact_{scheme.value}": compact(scheme.value) for scheme in PayeeScheme})
        .filter(matches)
        .order_by("name", "pk")
        .values_list("pk", "name", *(f"compact_{scheme.value}" for scheme in PayeeScheme))
    )
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for pk, name, *numbers in rows:
        for scheme, number in zip(PayeeScheme, numbers):
            if (scheme.value, number) in wanted:
                found.setdefault((scheme.value, number), []).append((pk, name))
    return found


def _record_on_cases(organisation: Organisation, *, by: User, action: str, note: str) -> None:
    """The event on every case of the association (or of a group it is sponsor for) that
    still has money to pay: the account is what those payments will go to."""
    ids = (
        Application.objects.filter(
            Q(organisation=organisation) | Q(organisation__sponsor=organisation), payments__status__in=UNPAID
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    CaseEvent.objects.bulk_create([CaseEvent(application_id=pk, actor=by, action=action, note=note) for pk in ids])


def _tell_members(organisation: Organisation, compose: Callable[[], tuple[str, str]]) -> None:
    _mail_after_commit(_confirmed_recipients(organisation), compose)


def account_change_request(
    *, organisation: Organisation, by: User, bank_account: tuple[str, str | None]
) -> AccountChangeRequest:
    """A signatory or treasurer asks for a new account, (PayeeScheme value, number). A
    pending request of the same association is replaced (and says so). Nothing is paid to
    the new account until finance approves it."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.kind != Organisation.Kind.ASSOCIATION:
            _clean_account(bank_account, organisation=organisation)  # says why a group has no account
        membership = (
            Membership.objects.filter(organisation=organisation, user=by).first() if by.is_authenticated else None
        )
        access.require(access.may_act_for_money(membership))
        fields = _clean_account(bank_account, organisation=organisation)
        scheme = next(field for field, value in fields.items() if value)
        number = fields[scheme]
        old = organisation.account()
        if old is not None and (old[0].value, compact_account(old[0].value, old[1])) == (
            scheme,
            compact_account(scheme, number),
        ):
            raise ValidationError(
                {
                    "account_number": [
                        _("%(account)s är redan föreningens godkända konto.")
                        % {"account": f"{PayeeScheme(scheme).label} {number}"}
                    ]
                }
            )
        now = timezone.now()
        replaced = (
            AccountChangeRequest.objects.select_for_update()
            .filter(organisation=organisation, status=AccountChangeRequest.Status.PENDING)
            .first()
        )
        if replaced is not None:
            replaced.replace(now)
            replaced.save(update_fields=["status", "decided_at"])
        request = AccountChangeRequest.objects.create(
            organisation=organisation,
            scheme=scheme,
            number=number,
            old_scheme=old[0].value if old else "",
            old_number=old[1] if old else "",
            requested_by=by,
            requested_at=now,
        )
        new_masked, old_masked = masked(scheme, number), masked(*old) if old else ""
        _record_on_cases(
            organisation,
            by=by,
            action=EVENT_REQUESTED,
            note=f"{old_masked or 'Inget konto'} → {new_masked}. Väntar på ekonomis godkännande."
            + (" Ersätter en tidigare begäran som inte var godkänd." if replaced else ""),
        )
        who = _display_name(by)
        _tell_members(
            organisation,
            lambda: (
                _("Nytt bankkonto begärt för %(name)s") % {"name": organisation.name},
                _(
                    "%(person)s har begärt att bidrag till %(name)s ska betalas till %(new)s i stället för %(old)s.\n\n"
                    "Ändringen gäller först när kommunens ekonomienhet har godkänt den. Till dess betalas bidrag till det "
                    "nuvarande kontot. Känner ni inte till ändringen, kontakta kommunen genast.\n\n%(footer)s\n"
                )
                % {
                    "person": who,
                    "name": organisation.name,
                    "new": new_masked,
                    "old": old_masked or _("inget konto"),
                    "footer": _footer(),
                },
            ),
        )
    return request


def _lock_for_decision(request: AccountChangeRequest, by: User) -> tuple[Organisation, AccountChangeRequest]:
    """The organisation and the request, locked in that order (as a new request locks them),
    after checking that `by` may decide: finance, neither the requester nor a member."""
    access.require(access.is_finance(by), "Bankkonton godkänns av ekonomi (attestanter).")
    organisation = Organisation.objects.select_for_update().get(pk=request.organisation_id)
    request = AccountChangeRequest.objects.select_for_update().select_related("requested_by").get(pk=request.pk)
    access.require(access.may_decide_account_change(by, request))
    return organisation, request


def account_change_approve(*, request: AccountChangeRequest, by: User) -> AccountChangeRequest:
    """Finance approves: the account becomes the association's, from now on."""
    with transaction.atomic():
        organisation, request = _lock_for_decision(request, by)
        now = timezone.now()
        transition(request, "approve", by=by, what="godkänna kontot", args=(by, now))
        request.save(update_fields=["status", "decided_by", "decided_at"])
        for scheme in PayeeScheme:
            setattr(organisation, scheme.value, request.number if scheme.value == request.scheme else "")
        organisation.account_approved_at = now
        organisation.full_clean()
        organisation.save(update_fields=[*(scheme.value for scheme in PayeeScheme), "account_approved_at"])
        new_masked = masked(request.scheme, request.number)
        _record_on_cases(
            organisation,
            by=by,
            action=EVENT_APPROVED,
            note=f"Bidrag betalas nu till {new_masked}, begärt av {_display_name(request.requested_by)}.",
        )
        _tell_members(
            organisation,
            lambda: (
                _("Det nya bankkontot för %(name)s är godkänt") % {"name": organisation.name},
                _(
                    "Kommunen har godkänt %(new)s som konto för bidrag till %(name)s. Bidrag som attesteras från och med nu "
                    "betalas dit.\n\n%(footer)s\n"
                )
                % {"new": new_masked, "name": organisation.name, "footer": _footer()},
            ),
        )
    return request


def account_change_refuse(*, request: AccountChangeRequest, by: User, reason: str | None) -> AccountChangeRequest:
    """Finance refuses, with the reason the association is told: the approved account stays."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": ["Skriv varför kontot inte godkänns. Föreningen får se skälet."]})
    with transaction.atomic():
        organisation, request = _lock_for_decision(request, by)
        transition(request, "refuse", by=by, what="avslå begäran", args=(by, timezone.now(), reason))
        request.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
        new_masked = masked(request.scheme, request.number)
        _record_on_cases(organisation, by=by, action=EVENT_REFUSED, note=f"{new_masked}: {reason}")
        current = organisation.account()
        _tell_members(
            organisation,
            lambda: (
                _("Det nya bankkontot för %(name)s godkändes inte") % {"name": organisation.name},
                _(
                    "Kommunen har inte godkänt %(new)s som konto för bidrag till %(name)s. Skäl: %(reason)s\n\n"
                    "Bidrag betalas som tidigare till %(old)s.\n\n%(footer)s\n"
                )
                % {
                    "new": new_masked,
                    "name": organisation.name,
                    "reason": reason,
                    "old": masked(*current) if current else _("inget konto"),
                    "footer": _footer(),
                },
            ),
        )
    return request
