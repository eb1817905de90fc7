"""Who an OpenID Connect answer is: the applicant's account behind a personal identity
number (e-legitimation), or the staff member's account and roles behind the municipality's
subject and groups (single sign-on). Every change of a link or a role is in the audit trail."""

import hashlib
import hmac
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.se import personnummer as personnummer_rules

from ..roles import ROLES
from . import audit
from .models import Identity, StaffRoleMapping
from .oidc import SignInFailed

Kind = audit.Kind

# The role whose holders open the admin (is_staff).
ADMINISTRATOR = "Systemförvaltare"


# --- e-legitimation ------------------------------------------------------------------------


def personnummer_from_claims(claims: dict[str, Any]) -> str:
    """The personal identity number of the ID token, as 12 digits (YYYYMMDDNNNN), or SignInFailed."""
    value = str(claims.get(settings.OIDC_EID_PERSONNUMMER_CLAIM) or "")
    digits = re.sub(r"[-+ ]", "", value)
    if not (re.fullmatch(r"\d{12}", digits) and personnummer_rules.is_valid(digits)):
        raise SignInFailed("no valid personnummer in the ID token")
    return digits


def personnummer_key(personnummer: str) -> str:
    """The look-up key: a keyed hash, so that the stored key tells nothing without the key."""
    return hmac.new(settings.IDENTITY_HASH_KEY.encode(), personnummer.encode(), hashlib.sha256).hexdigest()


def personnummer_masked(personnummer: str) -> str:
    """What others may see of it: the date of birth only ("19850312-****")."""
    return f"{personnummer[:8]}-****"


def personnummer_whole(personnummer: str) -> str:
    return f"{personnummer[:8]}-{personnummer[8:]}"


def eid_identity(personnummer: str) -> Identity | None:
    return (
        Identity.objects.select_related("user")
        .filter(provider=Identity.Provider.EID, key=personnummer_key(personnummer))
        .first()
    )


def eid_link(*, user: User, personnummer: str, request: HttpRequest | None = None) -> Identity:
    """Link e-legitimation to an account; refused when the number is another account's or
    the account already has another one."""
    key = personnummer_key(personnummer)
    existing = Identity.objects.filter(provider=Identity.Provider.EID).filter(key=key).first()
    if existing is not None and existing.user_id != user.pk:
        raise ValidationError(
            _(
                "Din e-legitimation är redan kopplad till ett annat konto. Logga in med e-legitimation för att nå det kontot."
            )
        )
    if existing is not None:
        return existing
    if Identity.objects.filter(provider=Identity.Provider.EID, user=user).exists():
        raise ValidationError(
            _("Kontot har redan en annan e-legitimation kopplad. Ta bort den under Inställningar först.")
        )
    try:
        with transaction.atomic():
            identity = Identity.objects.create(
                user=user, provider=Identity.Provider.EID, key=key, display=personnummer_masked(personnummer)
            )
    except IntegrityError:  # linked a moment before, by another request
        raise ValidationError(_("Din e-legitimation kopplades nyss till ett konto. Försök logga in igen."))
    audit.record(Kind.IDENTITY_LINKED, request=request, user=user, details={"provider": "eid"})
    return identity


def eid_unlink(*, user: User, request: HttpRequest | None = None) -> None:
    """Take e-legitimation off an account; refused when it would leave no way to sign in."""
    if not user.has_usable_password():
        raise ValidationError(
            _("Kontot har inget lösenord, så e-legitimationen är ditt enda sätt att logga in. Den kan inte tas bort.")
        )
    deleted, _rows = Identity.objects.filter(provider=Identity.Provider.EID, user=user).delete()
    if deleted:
        audit.record(Kind.IDENTITY_LINKED, request=request, user=user, details={"provider": "eid", "unlinked": True})


def eid_account_create(
    *, personnummer: str, first_name: str, last_name: str, email: str, language: str, request: HttpRequest | None = None
) -> User:
    """A new applicant's account for e-legitimation only (no usable password). The provider
    vouches for the person, not for the e-mail address typed: it gets its confirmation link,
    as a password registration's does."""
    from ..services.organisations import account_create, email_confirmation_send

    with transaction.atomic():
        user = account_create(name=f"{first_name} {last_name}", email=email, password=None, language=language)
        eid_link(user=user, personnummer=personnummer, request=request)
        if request is not None:
            email_confirmation_send(user=user, site_url=request.build_absolute_uri("/"))
    return user


def used(identity: Identity) -> None:
    Identity.objects.filter(pk=identity.pk).update(last_used_at=timezone.now())


# --- single sign-on for staff --------------------------------------------------------------


def staff_groups(claims: dict[str, Any]) -> list[str]:
    value = claims.get(settings.OIDC_STAFF_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return [str(item) for item in value]


def _username_free(wanted: str) -> str:
    """The provider's user name, or with a number after it when a local account has it
    (a local account is never taken over by a name that happens to match)."""
    User = get_user_model()
    candidate, number = wanted[:140], 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{wanted[:140]}-{number}"
    return candidate


@transaction.atomic
def staff_sign_in(*, claims: dict[str, Any], request: HttpRequest | None = None) -> User:
    """The staff member's account for the provider's subject, made on the first sign-in, with
    exactly the roles its groups map to (StaffRoleMapping); other groups are left alone.
    SignInFailed("no role") when the groups give no role: nothing is made or changed then."""
    mappings = StaffRoleMapping.objects.filter(claim_value__in=staff_groups(claims), group__name__in=ROLES)
    roles = set(mappings.values_list("group__name", flat=True))
    if not roles:
        raise SignInFailed("no role")
    sub = str(claims["sub"])
    identity = Identity.objects.select_related("user").filter(provider=Identity.Provider.STAFF, key=sub).first()
    email = str(claims.get("email") or "")
    name = str(claims.get("preferred_username") or email or sub)
    if identity is None:
        User = get_user_model()
        user = User.objects.create_user(_username_free(name), email, None)
        identity = Identity.objects.create(user=user, provider=Identity.Provider.STAFF, key=sub, display=name[:150])
        audit.record(Kind.IDENTITY_LINKED, request=request, user=user, details={"provider": "staff"})
    user = identity.user
    user.first_name = str(claims.get("given_name") or user.first_name)[:150]
    user.last_name = str(claims.get("family_name") or user.last_name)[:150]
    user.email = email or user.email
    user.is_staff = ADMINISTRATOR in roles or user.is_superuser
    user.save()
    before = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if before != roles:
        user.groups.remove(*Group.objects.filter(name__in=before - roles))
        user.groups.add(*Group.objects.filter(name__in=roles - before))
        audit.record(
            Kind.ROLE_CHANGE,
            request=request,
            user=user,
            details={"from": sorted(before), "to": sorted(roles), "by": "sso"},
        )
    _scope_from_mappings(user, mappings, request)
    Identity.objects.filter(pk=identity.pk).update(last_used_at=timezone.now(), display=name[:150])
    return user


ALL_COMMITTEES = "alla"


def _scope_from_mappings(user: User, mappings: QuerySet[StaffRoleMapping], request: HttpRequest | None) -> None:
    """The committees the person works in (grants.StaffScope), as her matched mappings say:
    all of them if any mapping says so, otherwise the union of theirs. Mappings that name no
    committee leave the scope as the administrator set it in the admin. A change is audited
    as a role change, with the committees' codes before and after ("alla": all committees)."""
    from ..models import Committee, StaffScope

    every = mappings.filter(all_committees=True).exists()
    ids: set[int] = set()
    if not every:
        ids = set(
            StaffRoleMapping.committees.through.objects.filter(staffrolemapping__in=mappings).values_list(
                "committee_id", flat=True
            )
        )
    if not every and not ids:
        return
    scope = StaffScope.objects.filter(user=user).first()
    before_every = scope is not None and scope.all_committees
    before_ids = set(scope.committees.values_list("pk", flat=True)) if scope is not None else set()
    if scope is not None and (before_every, before_ids) == (every, ids):
        return
    if scope is None:
        scope = StaffScope.objects.create(user=user, all_committees=every)
    else:
        scope.all_committees = every
        scope.save(update_fields=["all_committees"])
    scope.committees.set(ids)
    codes = dict(Committee.objects.filter(pk__in=before_ids | ids).values_list("pk", "code"))

    def described(all_of_them: bool, pks: set[int]) -> list[str]:
        return [ALL_COMMITTEES] if all_of_them else sorted(codes[pk] for pk in pks)

    audit.record(
        Kind.ROLE_CHANGE,
        request=request,
        user=user,
        details={
            "committees_from": described(before_every, before_ids),
            "committees_to": described(every, ids),
            "by": "sso",
        },
    )
