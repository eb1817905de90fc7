from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "grants.identity"
    label = "identity"
    verbose_name = "Inloggning och behörigheter"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from . import (
            middleware,  # noqa: F401  (connects the sign-in's session start)
            signals,
        )

        auth_signals.user_logged_in.connect(signals.signed_in, dispatch_uid="identity-sign-in")
        auth_signals.user_login_failed.connect(signals.sign_in_failed, dispatch_uid="identity-sign-in-failed")
        auth_signals.user_logged_out.connect(signals.signed_out, dispatch_uid="identity-sign-out")
