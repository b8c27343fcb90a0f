"""``atende privacy-erase EMAIL``: anonymise a customer for good, keeping the ticket statistics."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.integrations.services.privacy import privacy_erase


class Command(BaseCommand):
    help = "Erase a customer's personal data (irreversible). Tickets stay, anonymised."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, email, yes, **options):
        person = User.objects.filter(email__iexact=email.strip()).first()
        if person is None:
            raise CommandError(f"No person with the address {email}")
        if not yes and input(f"Erase {person.email} for good? Type 'erase' to confirm: ").strip() != "erase":
            raise CommandError("Not confirmed; nothing was changed.")
        try:
            summary = privacy_erase(actor=Actor.system(), person=person)
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(self.style.SUCCESS(
            f"Erased: {summary['tickets']} tickets anonymised, {summary['messages']} messages and "
            f"{summary['attachments']} attachments removed."))
