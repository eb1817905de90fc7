from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "Bidrag"

    def ready(self):
        from .roles import roles_ensure

        post_migrate.connect(roles_ensure, sender=self)
