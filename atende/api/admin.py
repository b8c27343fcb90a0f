from django.contrib import admin

from atende.api.models import ApiToken
from atende.audit.admin import AuditedAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["name", "user", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["prefix", "token_hash", "last_used_at", "last_used_ip", "created_at"]

    def has_add_permission(self, request):
        return False  # tokens are created where their secret can be shown once: the tokens page or the command
