"""manage.py api_token_create --name "Ekonomisystemet" --role Ekonomi [--committee KFN …] [--days 365]

A key for one integration to the REST API, printed once (only its hash is kept)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants.identity.tokens import API_ROLES, token_create
from grants.models import Committee


class Command(BaseCommand):
    help = "Skapar en API-nyckel för en integration och skriver ut den en gång."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="integrationens namn, t.ex. Ekonomisystemet")
        parser.add_argument("--role", required=True, choices=API_ROLES, help="nyckelns roll")
        parser.add_argument(
            "--committee", action="append", default=[], help="nämndens förkortning (flera går; ingen: alla nämnder)"
        )
        parser.add_argument("--days", type=int, default=0, help="dagar nyckeln gäller (0: tills den återkallas)")

    def handle(self, *args, name, role, committee, days, **options):
        committees = list(Committee.objects.filter(code__in=committee))
        unknown = set(committee) - {c.code for c in committees}
        if unknown:
            raise CommandError(f"Okänd nämnd: {', '.join(sorted(unknown))}.")
        expires = timezone.now() + dt.timedelta(days=days) if days > 0 else None
        try:
            token, key = token_create(name=name, role=role, committees=committees, expires_at=expires)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"API-nyckel för {token.name} ({role}). Spara den nu, den visas inte igen:\n{key}")
