"""Every queued delivery (mail, webhooks, messaging) with its attempts; actions call the engine's services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from atende.core.actor import Actor
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import delivery_cancel, delivery_retry


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "outcome", "status_code", "error", "duration_ms", "created_at"]
    exclude = ["response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Send now"))
def send_now(modeladmin, request, queryset):
    for row in queryset.exclude(status="sending"):
        delivery_retry(delivery=row, actor=Actor.for_user(request.user))


@admin.action(description=_("Cancel"))
def cancel(modeladmin, request, queryset):
    for row in queryset:
        delivery_cancel(delivery=row, actor=Actor.for_user(request.user))


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "transport", "kind", "target", "ticket_id", "status", "attempts", "next_attempt_at"]
    list_filter = ["transport", "status", "kind"]
    search_fields = ["target", "external_id", "key"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
    actions = [send_now, cancel]

    def has_add_permission(self, request):
        return False
