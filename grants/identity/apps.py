from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "grants.identity"
    label = "identity"
    verbose_name = "Inloggning och behörigheter"

    def ready(self):
        from . import middleware  # noqa: F401  (connects the sign-in's session start)
