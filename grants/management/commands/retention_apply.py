"""Apply the document management plan (gallring): cull or anonymise what has passed its
period since the case closed. Run once a day, e.g. from cron; running it twice does nothing
twice. With --dry-run it only lists what it would do."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants.records.models import RetentionRule
from grants.records.retention import retention_apply

WOULD: dict[str, str] = {
    RetentionRule.Action.CULL: "Skulle gallra",
    RetentionRule.Action.ANONYMISE: "Skulle avidentifiera",
}
DID: dict[str, str] = {RetentionRule.Action.CULL: "Gallrade", RetentionRule.Action.ANONYMISE: "Avidentifierade"}


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Ange datumet som ÅÅÅÅ-MM-DD, inte {value!r}.") from exc


class Command(BaseCommand):
    help = "Gallrar och avidentifierar enligt dokumenthanteringsplanen det som har passerat sin tid."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Visa bara vad som skulle göras.")
        parser.add_argument("--today", type=_day, help="Räkna som om det vore denna dag (ÅÅÅÅ-MM-DD).")

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        run = retention_apply(today=today, dry_run=options["dry_run"])
        verbs = WOULD if run.dry_run else DID
        for item in run.done:
            self.stdout.write(f"{verbs[item.action]}: {item.describe()}")
        for item, reason in run.failed:
            self.stderr.write(f"Kunde inte gallra: {item.describe()}: {reason}")
        cases = len({item.application.pk for item in run.done})
        if run.dry_run:
            summary = f"Torrkörning {today:%Y-%m-%d}: {len(run.done)} handlingar i {cases} ärenden skulle gallras eller avidentifieras."
        else:
            summary = f"{today:%Y-%m-%d}: {len(run.done)} handlingar i {cases} ärenden gallrade eller avidentifierade."
        if run.failed:
            summary += f" {len(run.failed)} kunde inte gallras och försöks igen nästa körning."
        self.stdout.write(summary)
