from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "Bidrag"

    def ready(self):
        from .roles import roles_ensure

        post_migrate.connect(roles_ensure, sender=self)

        # The public catalogue's cache (grants/portal/cache.py) is out of date after any change
        # of what it shows.
        from django.db.models.signals import post_delete, post_save

        from .portal.cache import catalogue_changed

        for model in ("Programme", "Call", "Committee"):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalogue_changed, sender=self.get_model(model), dispatch_uid=f"catalogue:{model}:{signal}"
                )
