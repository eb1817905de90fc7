from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "grants.identity"
    label = "identity"
    verbose_name = "Inloggning och behörigheter"
