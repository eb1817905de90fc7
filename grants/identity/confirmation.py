"""The link that shows an e-mail address belongs to the person who gave it: a signed token
naming the account, the address and how far its confirmation has come, so that it works
once (a confirmed address no longer matches it), only for the address it was sent to (a
changed address needs its own link), and for EMAIL_CONFIRMATION_DAYS days."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import ConfirmedEmail

SALT = "grants.identity.email-confirmation"


def is_confirmed(user: Any) -> bool:
    """Whether the account's current e-mail address is the one it confirmed (one query per
    user object: Django caches the reverse one-to-one, a missing row too)."""
    if not getattr(user, "is_authenticated", False) or not user.email:
        return False
    try:
        confirmed: ConfirmedEmail = user.confirmed_email
    except ObjectDoesNotExist:
        return False
    return confirmed.email.lower() == user.email.lower()


def _state(user: Any) -> str:
    try:
        confirmed: ConfirmedEmail = user.confirmed_email
    except ObjectDoesNotExist:
        return ""
    return f"{confirmed.email.lower()}@{confirmed.confirmed_at.timestamp()}"


def confirmation_token(user: Any) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower(), "s": _state(user)}, salt=SALT, compress=True)


def email_confirm(*, token: str, request: HttpRequest | None = None) -> Any:
    """Confirm the address the token was sent to; the account, or a ValidationError saying
    why the link does not work (expired, used, for an older address, or not ours)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CONFIRMATION_DAYS * 24 * 3600)
    except signing.SignatureExpired:
        raise ValidationError(
            _("Länken har gått ut. Logga in och be om en ny länk, så skickar vi den till dig."), code="expired"
        )
    except signing.BadSignature:
        raise ValidationError(_("Länken fungerar inte. Kontrollera att du har kopierat hela länken."), code="bad")
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(pk=payload.get("u")).first()
        if user is None or user.email.lower() != payload.get("e"):
            raise ValidationError(
                _("Länken gäller en e-postadress som inte längre hör till kontot. Logga in och be om en ny länk."),
                code="changed",
            )
        if is_confirmed(user) or _state(user) != payload.get("s"):
            raise ValidationError(_("Länken är redan använd. Din e-postadress är bekräftad."), code="used")
        ConfirmedEmail.objects.update_or_create(
            user=user, defaults={"email": user.email, "confirmed_at": timezone.now()}
        )
        audit.record(audit.Kind.EMAIL_CONFIRMED, request=request, user=user, details={"email": user.email})
    return user
