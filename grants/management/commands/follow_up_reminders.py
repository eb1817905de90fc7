"""Send the day's follow-up report reminders (14 days before the last day, and on it).
Run once a day, e.g. from cron; running it twice sends nothing twice."""

from django.core.management.base import BaseCommand

from grants.services.follow_up import follow_up_reminders_send


class Command(BaseCommand):
    help = "Skickar dagens påminnelser om återrapporter (14 dagar före och på sista dagen)."

    def handle(self, *args, **options):
        sent = follow_up_reminders_send()
        self.stdout.write(f"{sent} påminnelser om återrapport skickade.")
