"""The language a person has chosen, Swedish until they choose English.

Django's LocaleMiddleware would follow the browser's Accept-Language header; a Swedish
municipality's service speaks Swedish unless the person picks another language: with the
switcher in the page header (Django's set_language view, wrapped in
grants.portal.settings_views.language_choose, which sets the cookie read here) or on the
portal's settings page. A logged-in person's choice is also kept in their ApplicantSettings
(for their e-mail); when they log in on a browser without the cookie, the language saved
there is put in the session at login, and the pages follow it."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

# The session's copy of the person's saved language, set at login.
SESSION_KEY = "chosen_language"


def chosen_language(request):
    """The cookie's language, else the one the logged-in person saved, else Swedish. The
    session is read only when there is no cookie (and is loaded then only if the browser
    has one: an anonymous first visit costs no query)."""
    languages = dict(settings.LANGUAGES)
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if language not in languages and hasattr(request, "session"):
        language = request.session.get(SESSION_KEY)
    return language if language in languages else settings.LANGUAGE_CODE


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


def language_cookie_set(response, language):
    """The cookie Django's set_language sets, for a choice made elsewhere (the settings page)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def remember_language(request, language):
    """Keep a logged-in person's newly chosen language in their session, so that it holds
    for the rest of the session even after the (browser-session) cookie is gone."""
    if language in dict(settings.LANGUAGES) and hasattr(request, "session"):
        request.session[SESSION_KEY] = language


@receiver(user_logged_in, dispatch_uid="config.language.saved_language_at_login")
def saved_language_at_login(sender, request, user, **kwargs):
    """On login, the language the person saved (one query per login, none per page). This
    module is loaded with the middleware, before any login request is handled."""
    from grants.models import ApplicantSettings

    if request is None or not hasattr(request, "session"):
        return
    language = ApplicantSettings.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_KEY] = language
