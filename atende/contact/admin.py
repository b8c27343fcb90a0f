from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.contact.models import ContactFormSettings


@admin.register(ContactFormSettings)
class ContactFormSettingsAdmin(AuditedAdmin):
    list_display = ["mode", "accept_phone", "ticket_form", "updated_at"]
    fields = ["mode", "accept_phone", "ticket_form", "allowed_origins"]

    def has_add_permission(self, request):
        return not ContactFormSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
