from django.core.cache import cache
from django.db import transaction

from atende.core.actor import Actor
from atende.core.exceptions import full_clean_or_raise
from atende.core.models import SiteConfiguration
from atende.core.selectors import BRANDING_CACHE_KEY, site_branding_forget


@transaction.atomic
def site_configuration_update(*, actor: Actor, **fields) -> SiteConfiguration:
    config = SiteConfiguration.load()
    for name, value in fields.items():
        setattr(config, name, value)
    full_clean_or_raise(config)
    config.save()
    transaction.on_commit(lambda: (cache.delete(BRANDING_CACHE_KEY), site_branding_forget()))
    return config
