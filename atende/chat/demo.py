"""The demo's chat widget (``atende seed`` / ``make run``): routed to the demo agent's team, allowed on the desk's
own address so ``/chat/demo/`` works at once. Idempotent."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from atende.accounts.models import User
from atende.chat.models import Widget
from atende.chat.services import widget_save
from atende.core.actor import Actor

DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]


def load_demo() -> dict[str, int]:
    if Widget.objects.exists():
        return {"chat_widgets": 0}
    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    agent = User.objects.filter(email="agent@atende.test").first()
    if admin is None:
        return {"chat_widgets": 0}
    site = urlsplit(settings.SITE_URL)
    origins = [f"{site.scheme}://{site.netloc}", *DEMO_ORIGINS]
    widget_save(actor=Actor.for_user(admin), name="Atende demo", allowed_origins="\n".join(origins),
                team=agent.teams.order_by("id").first() if agent else None,
                greeting="Hi! Ask us anything: we answer from the knowledge base first, then a person takes over.")
    return {"chat_widgets": 1}
