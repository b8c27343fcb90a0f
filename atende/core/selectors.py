from django.core.cache import cache

from atende.core.models import SiteConfiguration

BRANDING_CACHE_KEY = "atende:branding"


def site_branding() -> dict:
    """Branding for every page; cached because every request renders it."""
    data = cache.get(BRANDING_CACHE_KEY)
    if data is None:
        config = SiteConfiguration.objects.filter(pk=1).first() or SiteConfiguration()
        data = {
            "name": config.name,
            "logo_url": config.logo.url if config.logo else "",
            "primary_color": config.primary_color,
            "accent_color": config.accent_color,
        }
        cache.set(BRANDING_CACHE_KEY, data, 60)
    return data
