from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.integrations.models import ExternalRecord, PrivacyRequest, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdmin):
    list_display = ["name", "url", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]


@admin.register(ExternalRecord)
class ExternalRecordAdmin(admin.ModelAdmin):
    list_display = ["system", "kind", "external_id", "object_id", "created_at"]
    list_filter = ["system", "kind"]
    search_fields = ["external_id"]


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    list_display = ["action", "subject_user_id", "subject_email", "requested_by", "created_at"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in PrivacyRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
