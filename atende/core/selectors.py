from django.core.cache import cache
from django.urls import reverse

from atende.core.models import SiteConfiguration

BRANDING_CACHE_KEY = "atende:branding"


def site_branding() -> dict:
    """Branding for every page; cached because every request renders it."""
    data = cache.get(BRANDING_CACHE_KEY)
    if data is None:
        config = SiteConfiguration.objects.filter(pk=1).first() or SiteConfiguration()
        data = {
            "name": config.name,
            # MEDIA_URL is not served; the portal serves the logo through a view.
            "logo_url": f"{reverse('portal:branding_logo')}?v={config.logo.name.rsplit('/', 1)[-1]}" if config.logo else "",
            "primary_color": config.primary_color,
            "accent_color": config.accent_color,
        }
        cache.set(BRANDING_CACHE_KEY, data, 60)
    return data
