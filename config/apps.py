"""The installed packages' applications under Swedish names, for the administrator's
/admin/ (issue 15): the packages name them and some of their models in English, outside
gettext, so our catalogue cannot translate them. Their labels, tables and migrations are
unchanged; only the names shown change (model names set at start-up are not model options
a migration records)."""

from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig
from django.db.models import Model
from django_otp.plugins.otp_static.apps import DefaultConfig as OtpStaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpConfig
from django_tasks_db.apps import TasksAppConfig


def _named(model: type[Model], singular: str, plural: str) -> None:
    model._meta.verbose_name = singular
    model._meta.verbose_name_plural = plural


class BackgroundTasksConfig(TasksAppConfig):
    # The model's own names ("Task Result") are gettext strings: locale/sv translates them.
    verbose_name = "Bakgrundsjobb"


class AuthenticatorAppsConfig(OtpTotpConfig):
    verbose_name = "Tvåstegsverifiering: autentiseringsappar"

    def ready(self) -> None:
        super().ready()
        _named(self.get_model("TOTPDevice"), "autentiseringsapp", "autentiseringsappar")


class BackupCodesConfig(OtpStaticConfig):
    verbose_name = "Tvåstegsverifiering: reservkoder"

    def ready(self) -> None:
        super().ready()
        _named(self.get_model("StaticDevice"), "uppsättning reservkoder", "uppsättningar reservkoder")
        _named(self.get_model("StaticToken"), "reservkod", "reservkoder")


class StaticFilesConfig(DjangoStaticFilesConfig):
    """collectstatic without the copies of npm packages that viewflow ships under
    node_modules/: no page links them, and their CSS names fonts the packages left out, which
    the manifest storage (hashed names, config/settings.py) would refuse to start with."""

    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, "node_modules"]
