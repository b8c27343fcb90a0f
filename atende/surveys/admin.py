from django.contrib import admin

from atende.surveys.models import SatisfactionSurvey


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "customer", "rating", "answered_at", "created_at"]
    list_filter = ["rating"]
    list_select_related = ["ticket", "customer"]
    readonly_fields = ["ticket", "customer", "rating", "comment", "answered_at", "team_id", "assignee_id",
                       "times_changed"]

    def has_add_permission(self, request):
        return False
