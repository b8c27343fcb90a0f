from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.messaging.models import ConversationMessage, InboundWebhook, WhatsAppTemplate


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(AuditedAdmin):
    list_display = ["name", "language", "is_active"]
    list_filter = ["is_active", "language"]


@admin.register(InboundWebhook)
class InboundWebhookAdmin(admin.ModelAdmin):
    """Read only: what arrived, kept for inspection."""

    list_display = ["received_at", "platform", "outcome", "reason", "remote_ip"]
    list_filter = ["platform", "outcome"]
    readonly_fields = ["received_at", "platform", "outcome", "reason", "body", "remote_ip"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConversationMessage)
class ConversationMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "platform", "direction", "address", "ticket_id", "state"]
    list_filter = ["platform", "direction", "state"]
    readonly_fields = [f for f in ["platform", "direction", "external_id", "address", "customer", "ticket",
                                   "message", "state", "error", "created_at"]]

    def has_add_permission(self, request):
        return False
