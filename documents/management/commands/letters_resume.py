import datetime as dt

from django.core.management.base import BaseCommand

from documents.batches import letters_resume
from documents.tasks import receipts_resume


class Command(BaseCommand):
    help = (
        "Köar om beslutsbrev och mottagningskvitton som en avbruten arbetsprocess lämnade ofärdiga. Kör före "
        "db_worker (make run gör det). / Re-queues meeting letters and receipts a killed or restarted worker left "
        "unfinished; run it before starting the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-minutes",
            type=float,
            default=0,
            help="Treat a task as abandoned only when it has been running this long. 0 (the default) "
            "treats every running task as abandoned: use it only while no worker runs.",
        )

    def handle(self, *args, stale_minutes, **options):
        stale_after = dt.timedelta(minutes=stale_minutes)
        resumed = letters_resume(stale_after=stale_after)
        for meeting, count in resumed.items():
            self.stdout.write(f"{meeting}: {count} beslutsbrev köade på nytt.")
        if not resumed:
            self.stdout.write("Inga ofärdiga beslutsbrev att återuppta.")
        receipts = receipts_resume(stale_after=stale_after)
        self.stdout.write(
            f"{len(receipts)} mottagningskvitton köade på nytt."
            if receipts
            else "Inga ofärdiga mottagningskvitton att återuppta."
        )
