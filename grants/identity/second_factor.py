"""The staff member's second factor (django-otp): set up an authenticator app (TOTP) by
scanning a QR code and typing a code, get ten single-use backup codes once, give a code
when the staff pages ask (grants/identity/middleware.py), and remove or replace the app
from the settings page. URLs under /konto/tvastegsverifiering/."""

import re
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import access
from .audit import Kind, record
from .middleware import SESSION_KEY, is_verified

BACKUP_CODES = 10
# The backup codes just made, kept in the session until the page that shows them once.
CODES_KEY = "second_factor_backup_codes"
# A code from the app is six digits; a backup code is eight letters and digits.
APP_CODE = re.compile(r"\d{6}")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Kod"),
        max_length=20,
        help_text=gettext_lazy("Sex siffror från appen, eller en av dina reservkoder."),
        error_messages={"required": gettext_lazy("Skriv koden.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "size": 10}
        ),
    )

    def clean_code(self) -> str:
        return re.sub(r"[\s-]", "", self.cleaned_data["code"]).lower()


def _next(request: HttpRequest) -> str:
    """Where to continue afterwards: `next` when it is on this site, else the start page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _staff_only(request: HttpRequest) -> None:
    access.require(access.is_staff_person(request.user), _("Tvåstegsverifiering behövs bara för kommunens personal."))


def _refusal(device: Any, code: str) -> str:
    """Check the code against the device: "" when it is right, else why not: too many wrong
    ones lately (django-otp's throttling, which waits longer after each), or wrong."""
    if device is None:
        return _("Koden stämmer inte. Försök igen.")
    allowed, _data = device.verify_is_allowed()
    if not allowed:
        return _("För många felaktiga koder. Vänta en stund och försök sedan igen.")
    if device.verify_token(code):
        return ""
    return _("Koden stämmer inte. Kontrollera att du skriver den senaste koden från appen och försök igen.")


def _grouped(secret: str) -> str:
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: the QR code (and the secret as text) of a device that
    counts once a code from it has been typed. Someone who already has one must give a code
    first (a password alone must not replace it)."""
    _staff_only(request)
    user: Any = request.user
    next_url = _next(request)
    if user_has_device(user) and not is_verified(request):
        return redirect(_with_next("second_factor:verify", next_url))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=_("Autentiseringsapp"), confirmed=False
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        refusal = _refusal(device, form.cleaned_data["code"])
        if not refusal:
            request.session[CODES_KEY] = _device_confirm(request, device)
            return redirect(_with_next("second_factor:codes", next_url))
        form.add_error("code", refusal)
    secret = b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m").svg_inline(
        scale=4, title=_("QR-kod för autentiseringsappen"), svgclass="qr"
    )
    context = {"form": form, "qr": qr, "secret": _grouped(secret), "next": next_url}
    return render(request, "identity/second_factor_setup.html", context, status=400 if form.is_bound else 200)


@transaction.atomic
def _device_confirm(request: HttpRequest, device: TOTPDevice) -> list[str]:
    """The app now counts, in place of any earlier one, with ten new backup codes (returned)."""
    user: Any = request.user
    replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0] > 0
    StaticDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    backup = StaticDevice.objects.create(user=user, name=_("Reservkoder"))
    codes = [StaticToken.random_token() for _index in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    record(Kind.SECOND_FACTOR, request=request, user=user, details={"action": "totp_set_up", "replaced": replaced})
    record(
        Kind.SECOND_FACTOR, request=request, user=user, details={"action": "backup_codes_made", "count": BACKUP_CODES}
    )
    otp_login(request, device)
    return codes


@login_required
def codes(request: HttpRequest) -> HttpResponse:
    """The backup codes just made, shown this once."""
    made = request.session.pop(CODES_KEY, None)
    next_url = _next(request)
    if not made:
        return redirect(next_url)
    return render(request, "identity/second_factor_codes.html", {"codes": made, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Give the second factor for this session: a code from the app, or a backup code (used once)."""
    _staff_only(request)
    user: Any = request.user
    next_url = _next(request)
    if is_verified(request):
        return redirect(next_url)
    if not user_has_device(user):
        return redirect(_with_next("second_factor:setup", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        kind = TOTPDevice if APP_CODE.fullmatch(code) else StaticDevice
        device = kind.objects.filter(user=user, confirmed=True).first()
        refusal = _refusal(device, code)
        if not refusal:
            otp_login(request, device)
            if kind is StaticDevice:
                left = device.token_set.count()
                record(
                    Kind.SECOND_FACTOR, request=request, user=user, details={"action": "backup_code_used", "left": left}
                )
                messages.warning(
                    request, _("Du använde en reservkod. Du har %(left)s reservkoder kvar.") % {"left": left}
                )
            return redirect(next_url)
        form.add_error("code", refusal)
    context = {"form": form, "next": next_url}
    return render(request, "identity/second_factor_verify.html", context, status=400 if form.is_bound else 200)


@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    """Remove the app and the backup codes (lost phone, new phone): only in a session that
    has given the second factor."""
    _staff_only(request)
    if not is_verified(request):
        return redirect(_with_next("second_factor:verify", reverse("portal:settings")))
    user: Any = request.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        record(Kind.SECOND_FACTOR, request=request, user=user, details={"action": "removed"})
    if settings.STAFF_REQUIRE_SECOND_FACTOR:
        messages.success(
            request,
            _("Tvåstegsverifieringen är borttagen. Du ställer in den igen nästa gång du öppnar handläggarsidorna."),
        )
    else:
        messages.success(request, _("Tvåstegsverifieringen är borttagen."))
    return redirect("portal:settings")


def status(request: HttpRequest) -> dict[str, bool] | None:
    """What the settings page says about the second factor: None for a person who is not
    staff (as noted at sign-in), else whether they have one and gave it in this session."""
    if not request.session.get(SESSION_KEY, {}).get("staff"):
        return None
    return {"has_device": user_has_device(request.user), "verified": is_verified(request)}


app_name = "second_factor"
urlpatterns = [
    path("", verify, name="verify"),
    path("ny/", setup, name="setup"),
    path("ny/koder/", codes, name="codes"),
    path("ta-bort/", remove, name="remove"),
]
