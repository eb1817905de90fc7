"""Signing in with OpenID Connect: e-legitimation for applicants (/konto/e-legitimation/…)
and the municipality's single sign-on for staff (/konto/personal/…), and the login page
that offers them. Every refusal is a page that says, in Swedish first, that the sign-in
failed and where to go; what went wrong is in the audit trail (SIGN_IN_FAILED)."""

import logging
import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.ratelimit import limit_login_failures

from ..web import error_summary, refusal_messages, refusal_to_form
from . import accounts, audit, oidc
from .models import Identity
from .session import EID, EID_BACKEND, SSO, SSO_BACKEND

log = logging.getLogger("grants.identity")
Kind = audit.Kind

# The session's keys: why the browser went to the e-legitimation service (sign in or link),
# the answer waiting for a choice of account, and the number of the person signed in.
PURPOSE = "identity_eid_purpose"
PENDING = "identity_eid_pending"
PERSONNUMMER = "identity_eid_personnummer"
# Where the person was going when the login page sent them (its `next`), kept over the round trip.
NEXT = "identity_next"
# How long an unknown e-legitimation waits for the person to pick or make an account.
PENDING_SECONDS = 10 * 60


class LoginView(auth_views.LoginView):
    """Django's login page, offering the OpenID Connect sign-ins that are configured."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.conf import settings

        context = super().get_context_data(**kwargs)
        context.update(
            eid_enabled=oidc.enabled(oidc.EID),
            staff_sso_enabled=oidc.enabled(oidc.STAFF),
            applicant_password_login=settings.APPLICANT_PASSWORD_LOGIN,
        )
        return context


def _failed(request: HttpRequest, reason: str, *, method: str, message: str = "", status: int = 400) -> HttpResponse:
    audit.record(Kind.SIGN_IN_FAILED, request=request, details={"method": method, "reason": reason})
    log.info("OpenID Connect sign-in (%s) refused: %s", method, reason)
    return render(
        request,
        "identity/failed.html",
        {"message": message or _("Inloggningen misslyckades. Försök igen, eller kontakta kommunen om det inte går.")},
        status=status,
    )


def _signed_in(request: HttpRequest, user: User, *, method: str, backend: str) -> None:
    """Sign in through Django (its signals, a new session key) and write the audit row
    ourselves: the password sign-in's signal handler skips these backends."""
    login(request, user, backend=backend)
    request.sign_in_method = method  # type: ignore[attr-defined]
    audit.record(Kind.SIGN_IN, request=request, user=user, details={"method": method})


def _remember_next(request: HttpRequest) -> None:
    """Keep the login page's `next` (a page of this site only) for after the provider."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[NEXT] = target
    else:
        request.session.pop(NEXT, None)


def _onwards(request: HttpRequest) -> HttpResponse:
    """After signing in: where the login page was sent from, or home (which routes by role)."""
    return redirect(request.session.pop(NEXT, "") or "home")


def _provider_or_404(name: str) -> None:
    if not oidc.enabled(name):
        raise Http404(_("Den här inloggningen används inte här."))


# --- e-legitimation ------------------------------------------------------------------------


@require_POST
def eid_start(request: HttpRequest) -> HttpResponse:
    """To the e-legitimation service: to sign in, or (signed in, from the settings) to link it."""
    _provider_or_404(oidc.EID)
    linking = request.POST.get("purpose") == "link" and request.user.is_authenticated
    request.session[PURPOSE] = "link" if linking else "sign_in"
    _remember_next(request)
    try:
        return oidc.authorize_redirect(request, oidc.EID, request.build_absolute_uri(reverse("identity:eid_callback")))
    except oidc.SignInFailed as failure:
        return _failed(request, failure.reason, method=EID)


@require_GET
def eid_callback(request: HttpRequest) -> HttpResponse:
    _provider_or_404(oidc.EID)
    purpose = request.session.pop(PURPOSE, "sign_in")
    try:
        claims = oidc.callback_claims(request, oidc.EID)
        personnummer = accounts.personnummer_from_claims(claims)
    except oidc.SignInFailed as failure:
        return _failed(request, failure.reason, method=EID)
    if purpose == "link" and request.user.is_authenticated:
        try:
            accounts.eid_link(user=request.user, personnummer=personnummer, request=request)
        except ValidationError as exc:
            return _failed(request, "link refused", method=EID, message=" ".join(refusal_messages(exc)))
        messages.success(request, _("Din e-legitimation är kopplad. Nästa gång kan du logga in med den."))
        return redirect("portal:settings")
    identity = accounts.eid_identity(personnummer)
    if identity is not None:
        if not identity.user.is_active:
            return _failed(request, "inactive account", method=EID)
        accounts.used(identity)
        _signed_in(request, identity.user, method=EID, backend=EID_BACKEND)
        request.session[PERSONNUMMER] = personnummer
        return _onwards(request)
    request.session[PENDING] = {
        "personnummer": personnummer,
        "given_name": str(claims.get("given_name") or ""),
        "family_name": str(claims.get("family_name") or ""),
        "at": time.time(),
    }
    return redirect("identity:eid_link")


class LinkPasswordForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("E-postadress eller användarnamn"), max_length=254)
    password = forms.CharField(label=gettext_lazy("Lösenord"), widget=forms.PasswordInput, strip=False)


class NewAccountForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("Förnamn"), max_length=150)
    last_name = forms.CharField(label=gettext_lazy("Efternamn"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("E-postadress"), max_length=254)


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending: dict[str, Any] | None = request.session.get(PENDING)
    if pending and time.time() - float(pending.get("at", 0)) <= PENDING_SECONDS:
        return pending
    request.session.pop(PENDING, None)
    return None


@require_http_methods(["GET", "POST"])
@limit_login_failures
def eid_link(request: HttpRequest) -> HttpResponse:
    """An e-legitimation no account has yet: link it to the person's account (proved with
    its password here, within PENDING_SECONDS of the e-legitimation) or make a new one."""
    _provider_or_404(oidc.EID)
    pending = _pending(request)
    if pending is None:
        messages.error(request, _("Det tog för lång tid. Logga in med e-legitimation igen."))
        return redirect("login")
    personnummer = pending["personnummer"]
    action = request.POST.get("action")
    password_form = LinkPasswordForm(request.POST if action == "password" else None, prefix="password")
    account_form = NewAccountForm(
        request.POST if action == "create" else None,
        prefix="account",
        initial={"first_name": pending["given_name"], "last_name": pending["family_name"]},
    )
    user: User | None = None
    if action == "password" and password_form.is_valid():
        found = authenticate(
            request,
            username=password_form.cleaned_data["username"],
            password=password_form.cleaned_data["password"],
        )
        if found is None:  # authenticate() has sent user_login_failed: the audit trail hears of it there
            password_form.add_error(None, _("Fel användarnamn eller lösenord. Försök igen."))
        else:
            try:
                accounts.eid_link(user=found, personnummer=personnummer, request=request)
            except ValidationError as exc:
                refusal_to_form(password_form, exc)
            else:
                user = found
    elif action == "create" and account_form.is_valid():
        try:
            user = accounts.eid_account_create(
                personnummer=personnummer, language=request.LANGUAGE_CODE, request=request, **account_form.cleaned_data
            )
        except ValidationError as exc:
            refusal_to_form(account_form, exc)
    if user is not None:
        request.session.pop(PENDING, None)
        _signed_in(request, user, method=EID, backend=EID_BACKEND)
        request.session[PERSONNUMMER] = personnummer
        messages.success(request, _("Din e-legitimation är kopplad till kontot och du är inloggad."))
        return _onwards(request)
    bound = password_form if action == "password" else account_form
    return render(
        request,
        "identity/eid_link.html",
        {
            "password_form": password_form,
            "account_form": account_form,
            "display": accounts.personnummer_whole(personnummer),
            "summary": error_summary(bound) if action else [],
        },
        status=400 if action else 200,
    )


@login_required
@require_POST
def eid_unlink(request: HttpRequest) -> HttpResponse:
    try:
        accounts.eid_unlink(user=request.user, request=request)  # type: ignore[arg-type]
    except ValidationError as exc:
        for message in refusal_messages(exc):
            messages.error(request, message)
    else:
        request.session.pop(PERSONNUMMER, None)
        messages.success(request, _("E-legitimationen är borttagen från ditt konto."))
    return redirect("portal:settings")


def eid_for_settings(request: HttpRequest) -> dict[str, Any]:
    """What the settings page shows of the person's e-legitimation: whole only to the
    person signed in with it (from this session), masked otherwise."""
    identity = Identity.objects.filter(user=request.user, provider=Identity.Provider.EID).first()  # type: ignore[misc]
    whole = request.session.get(PERSONNUMMER)
    return {
        "eid_enabled": oidc.enabled(oidc.EID),
        "eid_identity": identity,
        "eid_shown": accounts.personnummer_whole(whole)
        if identity and whole
        else (identity.display if identity else ""),
    }


# --- single sign-on for staff --------------------------------------------------------------


@require_POST
def staff_start(request: HttpRequest) -> HttpResponse:
    _provider_or_404(oidc.STAFF)
    _remember_next(request)
    try:
        return oidc.authorize_redirect(
            request, oidc.STAFF, request.build_absolute_uri(reverse("identity:staff_callback"))
        )
    except oidc.SignInFailed as failure:
        return _failed(request, failure.reason, method=SSO)


@require_GET
def staff_callback(request: HttpRequest) -> HttpResponse:
    _provider_or_404(oidc.STAFF)
    try:
        claims = oidc.callback_claims(request, oidc.STAFF)
        user = accounts.staff_sign_in(claims=claims, request=request)
    except oidc.SignInFailed as failure:
        if failure.reason == "no role":
            return _failed(
                request,
                f"no role (groups {accounts.staff_groups(claims)})",
                method=SSO,
                status=403,
                message=_(
                    "Ditt konto hos kommunens inloggning ger ingen roll i bidragssystemet. Kontakta systemförvaltaren."
                ),
            )
        return _failed(request, failure.reason, method=SSO)
    if not user.is_active:
        return _failed(request, "inactive account", method=SSO)
    _signed_in(request, user, method=SSO, backend=SSO_BACKEND)
    return _onwards(request)
