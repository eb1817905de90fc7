"""Forgotten and changed passwords: Django's own views, with our pages, a rate limit on the
reset e-mails per typed address and an audit row when a password is set anew.

The reset answers the same whether or not the address has an account (Django's view sends
nothing to an unknown one); its link works once (it is signed with the password it
replaces) for PASSWORD_RESET_TIMEOUT seconds. A changed password keeps the session it was
changed in (Django's view updates the session's hash), and signs out the others."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse_lazy
from django.utils.decorators import method_decorator

from config.ratelimit import limit_posts

from ..identity import audit


def _typed_email(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("email", "")).strip().lower()


@method_decorator(limit_posts("password-reset", setting="RATE_LIMIT_PASSWORD_RESET", key=_typed_email), name="post")
class PasswordReset(auth_views.PasswordResetView):
    template_name = "portal/accounts/password_reset.html"
    email_template_name = "portal/accounts/password_reset_email.txt"
    subject_template_name = "portal/accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "portal/accounts/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "portal/accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(audit.Kind.PASSWORD_RESET, request=self.request, user=form.user)
        return response


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "portal/accounts/password_reset_complete.html"


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "portal/accounts/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(audit.Kind.PASSWORD_CHANGED, request=self.request, user=form.user)
        return response


class PasswordChangeDone(auth_views.PasswordChangeDoneView):
    template_name = "portal/accounts/password_change_done.html"


# Under /konto/losenord/, with Django's names (its views and e-mails find each other by them).
urlpatterns = [
    path("glomt/", PasswordReset.as_view(), name="password_reset"),
    path("glomt/skickat/", PasswordResetDone.as_view(), name="password_reset_done"),
    path("nytt/<uidb64>/<token>/", PasswordResetConfirm.as_view(), name="password_reset_confirm"),
    path("nytt/klart/", PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("byt/", PasswordChange.as_view(), name="password_change"),
    path("byt/klart/", PasswordChangeDone.as_view(), name="password_change_done"),
]
