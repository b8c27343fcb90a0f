"""Widget configuration (the admin's page)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction

from atende.accounts.models import Team
from atende.audit.services import audit_settings_change, model_snapshot
from atende.chat.models import Widget, new_widget_secret
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError, full_clean_or_raise

EDITABLE = ("name", "allowed_origins", "is_active", "team", "primary_color", "text_color", "position", "greeting",
            "language", "ask_name", "ask_email", "email_required", "bot_enabled", "offline_mode")


def normalize_origins(text: str) -> str:
    """One ``scheme://host[:port]`` per line; anything else is refused with the offending line."""
    cleaned = []
    for line in (text or "").splitlines():
        line = line.strip().rstrip("/")
        if not line:
            continue
        parts = urlsplit(line)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ValidationError(f"“{line}” is not an origin like https://www.example.com.",
                                  code="invalid_origin", details={"allowed_origins": line})
        if line.lower() not in cleaned:
            cleaned.append(line.lower())
    return "\n".join(cleaned)


@transaction.atomic
def widget_save(*, actor: Actor, widget: Widget | None = None, rotate_secret: bool = False, **fields) -> Widget:
    """Create or change a widget (admins only). ``rotate_secret`` issues a new identify secret."""
    if actor.user is None or not actor.user.is_admin:
        raise PermissionDenied("Only administrators configure chat widgets.")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown widget fields: {', '.join(sorted(unknown))}.", code="unknown_fields")
    if "allowed_origins" in fields:
        fields["allowed_origins"] = normalize_origins(fields["allowed_origins"])
    team = fields.get("team")
    if team is not None and not isinstance(team, Team):
        raise ValidationError("Choose a team.", code="invalid_team")
    widget = Widget.objects.select_for_update().get(pk=widget.pk) if widget is not None else Widget()
    before = model_snapshot(widget, exclude=["secret"]) if widget.pk else {}
    created = widget.pk is None
    for name, value in fields.items():
        setattr(widget, name, value)
    if rotate_secret:
        widget.secret = new_widget_secret()
    full_clean_or_raise(widget)
    widget.save()
    after = model_snapshot(widget, exclude=["secret"]) | ({"secret": "rotated"} if rotate_secret else {})
    audit_settings_change(actor=actor, target=widget, operation="created" if created else "updated",
                          before=before, after=after)
    return widget
