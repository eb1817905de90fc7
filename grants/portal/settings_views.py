"""The applicant's own settings: the language of the pages and e-mails, and whether to get
the e-mails that are not required (grants/notifications.py says which are). Also the
header's language switcher, which keeps a logged-in person's choice in those settings so
that their e-mail follows it too."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy
from django.views.i18n import set_language

from config.language import language_cookie_set, remember_language

from ..identity import second_factor
from ..identity.views import eid_for_settings
from ..models import ApplicantSettings


class ApplicantSettingsForm(forms.ModelForm):
    class Meta:
        model = ApplicantSettings
        fields = ["language", "optional_emails"]
        widgets = {"language": forms.RadioSelect}
        labels = {
            "language": gettext_lazy("Språk på sidorna och i e-posten"),
            "optional_emails": gettext_lazy("Skicka e-post om ärendets gång (inte obligatoriska meddelanden)"),
        }


def _settings_save(user, values):
    """Save a person's settings, creating them on the first save (a concurrent first save
    finds the row the other made)."""
    saved, _created = ApplicantSettings.objects.update_or_create(user=user, defaults=values)
    return saved


@login_required
def settings_edit(request):
    current = ApplicantSettings.objects.filter(user=request.user).first() or ApplicantSettings(user=request.user)
    form = ApplicantSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        saved = _settings_save(request.user, form.cleaned_data)
        remember_language(request, saved.language)
        with translation.override(saved.language):  # the thanks in the language just chosen
            messages.success(request, gettext("Dina inställningar är sparade."))
        response = redirect("portal:settings")
        language_cookie_set(response, saved.language)
        return response
    context = {"form": form, "second_factor": second_factor.status(request), **eid_for_settings(request)}
    return render(request, "portal/settings.html", context, status=400 if form.is_bound else 200)


def language_choose(request):
    """Django's set_language (the header's switcher); a logged-in person's choice is also
    saved in their settings, for their e-mail and their next login elsewhere."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        _settings_save(request.user, {"language": language})
        remember_language(request, language)
    return response
