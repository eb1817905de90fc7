"""Issuing, checking and revoking the REST API's keys (ApiToken)."""

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Committee, StaffScope
from ..roles import ROLES
from .audit import Kind, record
from .models import ApiToken

PREFIX_LENGTH = 8
# The roles a key may have: the staff roles that read cases and pay, not the administrator's.
API_ROLES = [name for name in ROLES if name != "Systemförvaltare"]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(
    *,
    name: str,
    role: str,
    committees: Iterable[Committee] = (),
    by: Any = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new key for the integration `name`, with `role` in `committees` (none: every
    committee). Returns the token and the key, which is never shown again."""
    if role not in API_ROLES:
        raise ValidationError(f"Rollen måste vara en av {', '.join(API_ROLES)}.")
    if not name.strip():
        raise ValidationError("Ge integrationen ett namn.")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    committees = list(committees)
    account = get_user_model().objects.create_user(username=f"api-{prefix}", first_name=f"API: {name.strip()}"[:150])
    account.set_unusable_password()
    account.save(update_fields=["password"])
    account.groups.add(Group.objects.get(name=role))
    scope = StaffScope.objects.create(user=account, all_committees=not committees)
    scope.committees.set(committees)
    token = ApiToken.objects.create(
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash(key),
        role=Group.objects.get(name=role),
        account=account,
        created_by=by if getattr(by, "pk", None) else None,
        expires_at=expires_at,
    )
    token.committees.set(committees)
    record(
        Kind.ROLE_CHANGE,
        user=account,
        actor=by,
        details={"api_token": prefix, "name": token.name, "role": role, "committees": [c.code for c in committees]},
    )
    return token, key


def token_for_key(key: str) -> ApiToken | None:
    """The valid token this key belongs to, or None (unknown, revoked or expired)."""
    prefix, _, _secret = key.partition(".")
    if len(prefix) != PREFIX_LENGTH:
        return None
    token = ApiToken.objects.select_related("account").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(key)) or not token.is_valid():
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken, by: Any = None) -> None:
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        get_user_model().objects.filter(pk=token.account_id).update(is_active=False)
        record(Kind.ROLE_CHANGE, user=token.account, actor=by, details={"api_token": token.prefix, "revoked": True})
