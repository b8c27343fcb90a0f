"""Demo data: one mailbox per team (no IMAP host, so nothing is fetched; the listener and mail-import use it)."""

from atende.accounts.models import Team
from atende.email_channel.models import Mailbox


def load_demo() -> None:
    for team in Team.objects.order_by("id"):
        address = team.email or f"{team.slug}@atende.test"
        Mailbox.objects.get_or_create(address=address.lower(), defaults={"name": team.name, "team": team})
