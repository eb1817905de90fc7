from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The public record: the register (diarium), retention (gallring) and the e-archive."""

    name = "grants.records"
    label = "records"
    verbose_name = "Diarium och arkiv"

    def ready(self) -> None:
        from . import signals

        signals.connect()
