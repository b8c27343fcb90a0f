from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.chat.models import ChatAgentSetting, ChatSession, Widget


@admin.register(Widget)
class WidgetAdmin(AuditedAdmin):
    """Widgets are edited on the console's page (Settings → Chat widgets), which goes through the service."""

    list_display = ("name", "team", "is_active", "bot_enabled", "offline_mode")
    readonly_fields = [f.name for f in Widget._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "widget", "status", "outcome", "name", "email", "agent", "ticket", "created_at")
    list_filter = ("status", "outcome", "widget")
    readonly_fields = [f.name for f in ChatSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChatAgentSetting)
class ChatAgentSettingAdmin(AuditedAdmin):
    list_display = ("agent", "max_chats")
    raw_id_fields = ("agent",)
