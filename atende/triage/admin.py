from django.contrib import admin

from atende.audit.admin import AuditedAdmin
from atende.triage.models import PredictableField, TriageModel


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    """Read only: models come from ``atende triage train``."""

    list_display = ["version", "trained_at", "tickets", "fit_seconds", "is_active"]
    readonly_fields = ["version", "trained_at", "tickets", "fields", "file_name", "sha256", "fit_seconds",
                       "is_active", "trained_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PredictableField)
class PredictableFieldAdmin(AuditedAdmin):
    """Dropdown custom fields the next training also learns to predict."""

    list_display = ["custom_field", "created_at"]
