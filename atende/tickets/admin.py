from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.tickets.models import (
    TICKET_SETTINGS,
    Category,
    CustomField,
    Tag,
    Ticket,
    TicketEvent,
    TicketForm,
    TicketFormField,
    TicketSettings,
)
from atende.tickets.selectors import CATEGORIES_AND_FIELDS


@admin.register(TicketSettings)
class TicketSettingsAdmin(AuditedAdmin):
    outdates = (TICKET_SETTINGS,)
    list_display = ["__str__", "autoclose_after_hours", "require_resolution_summary", "on_hold_pauses_sla"]

    def has_add_permission(self, request):
        return not TicketSettings.objects.exists()


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    outdates = (CATEGORIES_AND_FIELDS,)
    list_display = ["__str__", "default_team", "is_active"]
    list_select_related = ["parent"]


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    search_fields = ["name"]


@admin.register(CustomField)
class CustomFieldAdmin(AuditedAdmin):
    outdates = (CATEGORIES_AND_FIELDS,)
    list_display = ["key", "label", "kind", "required_to_solve", "customer_visible", "is_active"]


class TicketFormFieldInline(admin.TabularInline):
    model = TicketFormField
    extra = 1


@admin.register(TicketForm)
class TicketFormAdmin(AuditedAdmin):
    list_display = ["name", "ticket_type", "customer_visible", "is_default"]
    inlines = [TicketFormFieldInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tickets change only through the services (console, portal, API), never by editing rows here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "subject", "status", "priority", "team", "assignee", "created_at"]
    list_filter = ["status", "priority", "channel", "type"]
    search_fields = ["=number", "subject"]
    list_select_related = ["team", "assignee"]
    show_full_result_count = False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "ticket", "type", "actor_kind", "actor_user"]
    list_filter = ["type", "actor_kind"]
    list_select_related = ["ticket", "actor_user"]
    show_full_result_count = False
