"""Rate limits on what anyone can do over and over from outside: the forms that send e-mail
(an invitation, a report of an accessibility barrier) or create accounts (registration),
and failed logins (password guessing).

The counting is django-ratelimit's (fixed windows in the cache, counted with the cache's
atomic add and incr); this module says what is counted and answers 429 with a page in the
visitor's language when a limit is reached, before the view runs, so nothing is sent or
created. The limits are settings (RATE_LIMIT_*, "count/period" such as "5/h" or "10/15m";
empty means no limit), read on every request.

The counts live in the default cache. The embedded default's cache is in the process's own
memory, so each server process counts on its own (a limit of 10 allows 10 per process);
that is enough for one machine. An installation with several processes or servers sets
CACHE_URL to a shared cache (redis://…), so that they all count together. If the cache
cannot be reached the forms stay open (RATELIMIT_FAIL_OPEN): a broken cache should not
stop people from registering.

Behind a reverse proxy REMOTE_ADDR is the proxy's address and every visitor would share one
count: RATE_LIMIT_CLIENT_IP_HEADER names the header in which the proxy puts the visitor's
address (e.g. X-Forwarded-For); the last address in it is the one our own proxy added.
"""

import logging
from functools import wraps

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

log = logging.getLogger("grants.ratelimit")


def client_ip(request):
    """The visitor's address, as RATELIMIT_IP_META_KEY: REMOTE_ADDR, or the last address of
    the header RATE_LIMIT_CLIENT_IP_HEADER names, when there is a proxy in front."""
    header = getattr(settings, "RATE_LIMIT_CLIENT_IP_HEADER", "")
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-1]
    address = request.META.get("REMOTE_ADDR", "")
    if not address:
        raise ImproperlyConfigured("The request has no REMOTE_ADDR: set RATE_LIMIT_CLIENT_IP_HEADER.")
    return address


def _rate(setting):
    def rate(group, request):
        return getattr(settings, setting, "") or None  # None: no limit

    return rate


def too_many(request, seconds_left=0):
    """The 429 answer: a page saying, in the visitor's language, to wait."""
    response = render(
        request,
        "ratelimited.html",
        {
            "message": _("För många försök. Vänta en stund och försök igen."),
        },
        status=429,
    )
    if seconds_left > 0:
        response["Retry-After"] = str(seconds_left)
    return response


def _usage(request, group, setting, key, *, increment):
    """django-ratelimit's count, or None (no limit) when the cache cannot be reached: it
    answers a missing count that way (RATELIMIT_FAIL_OPEN), but lets a cache server's own
    error (Redis down) through, which would be a server error on every form."""
    try:
        return get_usage(request, group=group, key=key, rate=_rate(setting), method="POST", increment=increment)
    except ImproperlyConfigured:
        raise
    except Exception:
        log.exception("The rate limit %s could not be counted; the form stays open.", group)
        return None


def limit_posts(group, *, setting, key="ip"):
    """A view decorator: every POST counts, by the visitor's address (key="ip"), by the
    logged-in person (key="user") or by what key(group, request) returns (such as the address
    typed in the form); the one past the limit gets 429 and the view never runs."""
    # django-ratelimit's keys: the address (client_ip(), masked to a /64 for IPv6), or the
    # person's id when logged in.
    key_name = key if callable(key) else {"ip": "ip", "user": "user_or_ip"}[key]

    def decorator(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            usage = _usage(request, group, setting, key_name, increment=True)
            if usage is not None and usage["should_limit"]:
                return too_many(request, usage["time_left"])
            return view(request, *args, **kwargs)

        return limited

    return decorator


def login_identifier(request):
    """The account a login is for, as typed: lower-cased and stripped, so that "Anna@Example.se "
    and "anna@example.se" count together, whether or not such an account exists. A form with
    a prefix names the field "<prefix>-username" (the e-legitimation's linking page)."""
    typed = next((value for name, value in request.POST.items() if name.split("-")[-1] == "username"), "")
    return typed.strip().lower()[:254]


def _pair(group, request):
    return f"{login_identifier(request)}|{client_ip(request)}"


def _account(group, request):
    return login_identifier(request)


# The failed-login counts: (group, setting, key). One person guessing wrong from an office
# address waits alone (the pair); a whole address is stopped only at a much higher count;
# an account guessed from many addresses is stopped across them. A post that names no
# account counts for its address only.
LOGIN_FAILURE_LIMITS = (
    ("login-failures", "RATE_LIMIT_LOGIN_FAILURES", _pair),
    ("login-failures-address", "RATE_LIMIT_LOGIN_FAILURES_PER_ADDRESS", "ip"),
    ("login-failures-account", "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", _account),
)


def limit_login_failures(view):
    """Wrap a login view (the portal's and the admin's): only failed logins count, per
    account and address, per address and per account (LOGIN_FAILURE_LIMITS). Once one count
    reaches its limit, a login it covers gets 429 without the password being tried, until
    the window ends; a successful login does not count."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        limits = LOGIN_FAILURE_LIMITS if login_identifier(request) else LOGIN_FAILURE_LIMITS[1:2]
        for group, setting, key in limits:
            usage = _usage(request, group, setting, key, increment=False)
            if usage is not None and (usage["should_limit"] or usage["count"] >= usage["limit"]):
                return too_many(request, usage["time_left"])
        response = view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            for group, setting, key in limits:
                _usage(request, group, setting, key, increment=True)
        return response

    return limited
