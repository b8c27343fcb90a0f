"""``atende privacy-export EMAIL``: everything Atende holds about a person, as JSON (a data access request)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.integrations.services.privacy import privacy_export


class Command(BaseCommand):
    help = "Export a person's data as JSON (privacy / data access request)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--output", "-o", default="-")

    def handle(self, *args, email, output, **options):
        person = User.objects.filter(email__iexact=email.strip()).first()
        if person is None:
            raise CommandError(f"No person with the address {email}")
        data = json.dumps(privacy_export(actor=Actor.system(), person=person), indent=2, ensure_ascii=False)
        if output == "-":
            self.stdout.write(data)
        else:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(data)
            self.stderr.write(f"Written to {output}.")
