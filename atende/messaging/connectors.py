"""The connectors' configuration, read from ``settings.ATENDE_MESSAGING`` (filled from the environment): whether
each is on, and its secrets shown to admins only as a masked hint."""

from __future__ import annotations

from django.conf import settings

SECRET_KEYS = {"bot_token", "webhook_secret", "access_token", "app_secret", "verify_token"}
REQUIRED = {"telegram": ("bot_token", "webhook_secret"),
            "whatsapp": ("access_token", "app_secret", "verify_token", "phone_number_id")}


def connector_config(platform: str) -> dict[str, str]:
    return dict(settings.ATENDE_MESSAGING.get(platform) or {})


def connector_enabled(platform: str) -> bool:
    config = connector_config(platform)
    return bool(REQUIRED.get(platform)) and all(config.get(key) for key in REQUIRED[platform])


def masked(value: str) -> str:
    """Enough to recognise a secret, never enough to use it: ``••••1a2b`` (nothing at all for short ones)."""
    if not value:
        return ""
    return "••••" + (value[-4:] if len(value) >= 16 else "")


def connector_summary(platform: str) -> dict:
    config = connector_config(platform)
    return {"platform": platform, "enabled": connector_enabled(platform),
            "settings": [(key, masked(value) if key in SECRET_KEYS else value, bool(value))
                         for key, value in config.items()],
            "missing": [key for key in REQUIRED.get(platform, ()) if not config.get(key)]}
