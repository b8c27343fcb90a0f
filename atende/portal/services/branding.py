"""The admin's branding change: saved by core, recorded in the audit log with what changed."""

from django.db import transaction

from atende.audit.services import audit_settings_change, model_snapshot
from atende.core.actor import Actor
from atende.core.models import SiteConfiguration
from atende.core.services import site_configuration_update


@transaction.atomic
def branding_update(*, actor: Actor, **fields) -> SiteConfiguration:
    before = model_snapshot(SiteConfiguration.load())
    config = site_configuration_update(actor=actor, **fields)
    audit_settings_change(actor=actor, target=config, target_type="branding", operation="updated", before=before,
                          after=model_snapshot(config))
    return config
