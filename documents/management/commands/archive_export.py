from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from documents.archive import archive_export
from grants.models import Application


class Command(BaseCommand):
    help = (
        "Skriver ett avslutat ärendes arkivpaket (FGS Paketstruktur 2.0 med FGS Ärendehantering 2.0) som zip-fil. "
        "/ Writes a closed case's archive package (E-ARK CSIP/SIP with CITS ERMS) as a zip file."
    )

    def add_arguments(self, parser):
        parser.add_argument("case_number", help='Ärendets diarienummer, t.ex. "KFN 2026/0001".')
        parser.add_argument("--out", default=".", help="Mappen som zip-filen skrivs i (standard: den aktuella).")

    def handle(self, *args, case_number, out, **options):
        application = Application.objects.filter(case_number=case_number).first()
        if application is None:
            raise CommandError(f"Inget ärende har diarienumret {case_number}.")
        folder = Path(out)
        if not folder.is_dir():
            raise CommandError(f"Mappen {folder} finns inte.")
        try:
            filename, content = archive_export(application, by=None)
        except ValidationError as refusal:
            raise CommandError(" ".join(refusal.messages)) from refusal
        target = folder / filename
        target.write_bytes(content)
        self.stdout.write(f"Arkivpaketet för {case_number} skrevs till {target} ({len(content)} byte).")
