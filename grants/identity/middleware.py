"""Two rules for staff sessions, in one place each: a session ends after a while without a
request and a while after sign-in (StaffSessionLimitMiddleware), and a staff member who
signed in with a password gives a second factor before the staff pages and the admin
(StaffSecondFactorMiddleware; single sign-on counts as the provider's own second factor)."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import access
from .audit import Kind, record
from .session import PASSWORD, signed_in_with

# The session's record of a sign-in: {"staff": bool, "start": seconds, "seen": seconds}.
SESSION_KEY = "staff_session"
# Last activity is written at most this often (seconds), so that a page does not cost a
# session save on every request.
QUIET_SECONDS = 60
# The pages behind the second factor; the admin's own login and logout stay open.
STAFF_PAGES = ("/staff/", "/admin/")
OPEN_PAGES = ("/admin/login/", "/admin/logout/")


def is_verified(request: HttpRequest) -> bool:
    """Whether this session has given a second factor (django-otp's middleware knows)."""
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _now() -> int:
    return int(timezone.now().timestamp())


def session_start(request: HttpRequest, user: Any) -> dict[str, Any]:
    """Note in the session when its person signed in, and whether the staff limits apply
    (asked once: an applicant's requests cost nothing more afterwards)."""
    now = _now()
    state = {"staff": bool(access.is_staff_person(user)), "start": now, "seen": now}
    request.session[SESSION_KEY] = state
    return state


@receiver(user_logged_in, dispatch_uid="grants.identity.staff_session_start")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_start(request, user)


class StaffSessionLimitMiddleware:
    """A staff member's session ends STAFF_SESSION_IDLE_MINUTES after the last request and
    STAFF_SESSION_MAX_HOURS after sign-in: signed out, told why on the login page, and a
    SESSION_EXPIRED row in the audit trail. Applicants' sessions are left as they are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.expired(request) or self.get_response(request)

    def expired(self, request: HttpRequest) -> HttpResponse | None:
        state = request.session.get(SESSION_KEY)
        if state is None:
            if not request.user.is_authenticated:
                return None
            state = session_start(request, request.user)  # a session from before these limits
        if not state["staff"]:
            return None
        now = _now()
        idle_minutes: int = settings.STAFF_SESSION_IDLE_MINUTES
        max_hours: int = settings.STAFF_SESSION_MAX_HOURS
        if now - state["start"] > max_hours * 3600:
            reason = "absolute"
            message = _("Du har loggats ut efter %(hours)s timmar. Logga in igen.") % {"hours": max_hours}
        elif now - state["seen"] > idle_minutes * 60:
            reason = "idle"
            message = _("Du har loggats ut efter %(minutes)s minuter utan aktivitet. Logga in igen.") % {
                "minutes": idle_minutes
            }
        else:
            if now - state["seen"] >= QUIET_SECONDS:
                request.session[SESSION_KEY] = {**state, "seen": now}
            return None
        record(
            Kind.SESSION_EXPIRED,
            request=request,
            user=request.user,
            details={"reason": reason, "method": signed_in_with(request)},
        )
        logout(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path())


def _gated(path: str) -> bool:
    return path.startswith(STAFF_PAGES) and not path.startswith(OPEN_PAGES)


def second_factor_url(request: HttpRequest, next_url: str) -> str:
    """Where a staff member without a verified second factor goes: to set one up when they
    have none, otherwise to type the code."""
    from django_otp import user_has_device

    name = "second_factor:verify" if user_has_device(request.user) else "second_factor:setup"
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class StaffSecondFactorMiddleware:
    """With STAFF_REQUIRE_SECOND_FACTOR, the staff pages and the admin send a staff member
    who signed in with a password and has not given a second factor in this session to set
    one up or to give it, and back to where they were going."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.STAFF_REQUIRE_SECOND_FACTOR
            and _gated(request.path_info)
            and request.user.is_authenticated
            and signed_in_with(request) == PASSWORD
            and not is_verified(request)
            and access.is_staff_person(request.user)
        ):
            return HttpResponseRedirect(second_factor_url(request, request.get_full_path()))
        return self.get_response(request)
