import hashlib
import time

from django.core.cache import cache
from django.db.models import QuerySet
from django.urls import reverse

from atende.core.exceptions import PermissionDenied
from atende.core.models import EventRetry, EventRetryState, SiteConfiguration

BRANDING_CACHE_KEY = "atende:branding"
# Every page renders the branding: each process also keeps it a few seconds in memory, saving a cache round trip
# (Redis, with several processes) per request; another process sees a change at most this much later.
BRANDING_LOCAL_SECONDS = 5
_local: dict[str, tuple[float, dict]] = {}


def site_configuration() -> SiteConfiguration | None:
    """The one configuration row, or None before an admin first saves it."""
    return SiteConfiguration.objects.filter(pk=1).first()


def site_branding() -> dict:
    """Branding for every page; cached because every request renders it."""
    held = _local.get(BRANDING_CACHE_KEY)
    if held is not None and held[0] > time.monotonic():
        return held[1]
    data = cache.get(BRANDING_CACHE_KEY)
    if data is None:
        config = site_configuration() or SiteConfiguration()
        data = {
            "name": config.name,
            # MEDIA_URL is not served; the portal serves the logo through a view.
            "logo_url": f"{reverse('portal:branding_logo')}?v={config.logo.name.rsplit('/', 1)[-1]}" if config.logo else "",
            "primary_color": config.primary_color,
            "accent_color": config.accent_color,
            # /branding.css?v=…: a new URL whenever the colours change, so the stylesheet can be cached long.
            "css_version": hashlib.sha256(f"{config.primary_color}{config.accent_color}".encode()).hexdigest()[:12],
        }
        cache.set(BRANDING_CACHE_KEY, data, 60)
    _local[BRANDING_CACHE_KEY] = (time.monotonic() + BRANDING_LOCAL_SECONDS, data)
    return data


def site_branding_forget() -> None:
    """Drop this process's copy (the service that changes the branding calls it after commit)."""
    _local.pop(BRANDING_CACHE_KEY, None)


def parked_event_list(*, user) -> QuerySet[EventRetry]:
    """The events a subscriber gave up on (parked, or skipped as unknown), newest first: administrators only."""
    if not (user.is_authenticated and user.is_admin):
        raise PermissionDenied("Only administrators see the parked events.")
    return EventRetry.objects.filter(state__in=[EventRetryState.PARKED, EventRetryState.SKIPPED]).order_by(
        "-updated_at")
