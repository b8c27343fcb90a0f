from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    """What a personal API token may do. Each scope includes the ones before it."""

    READ = "read", _("Read")
    WRITE = "write", _("Read and write")
    ADMIN = "admin", _("Administration")


SCOPE_RANK = {TokenScope.READ: 0, TokenScope.WRITE: 1, TokenScope.ADMIN: 2}


def scope_allows(granted: str, needed: str) -> bool:
    return SCOPE_RANK[TokenScope(granted)] >= SCOPE_RANK[TokenScope(needed)]
