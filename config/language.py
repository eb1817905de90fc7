"""The language a person has chosen, Swedish until they choose English.

Django's LocaleMiddleware would follow the browser's Accept-Language header; a Swedish
municipality's service speaks Swedish unless the person picks another language with the
switcher in the page header (Django's set_language view, which sets the cookie read here)."""

from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
