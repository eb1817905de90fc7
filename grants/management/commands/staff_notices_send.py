"""Staff e-mail, once a day (e.g. 07:00 from cron): first a notice for every staff task that has
waited longer than its programme's service target (once per task and person), then one digest
per person of her unsent notices (grants.staff_notices). Running it twice sends nothing twice."""

from django.core.management.base import BaseCommand

from grants.staff_notices import digests_send, overdue_notices_create


class Command(BaseCommand):
    help = "Skickar personalens dagliga sammanfattning och påminnelser om uppgifter över servicemålet."

    def handle(self, *args, **options):
        overdue = overdue_notices_create()
        sent = digests_send()
        self.stdout.write(f"{overdue} uppgifter över servicemålet noterade, {sent} sammanfattningar skickade.")
