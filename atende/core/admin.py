from django.contrib import admin

from atende.core.models import SiteConfiguration, ThrottleBucket


@admin.register(SiteConfiguration)
class SiteConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "primary_color", "accent_color"]

    def has_add_permission(self, request):
        return not SiteConfiguration.objects.exists()


@admin.register(ThrottleBucket)
class RefusedAttemptAdmin(admin.ModelAdmin):
    """The throttle's record of refused attempts (read only: windows come and go with the traffic)."""

    list_display = ["scope", "subject", "refused", "last_refused_at", "period"]
    list_filter = ["scope"]
    search_fields = ["subject"]
    ordering = ["-last_refused_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(refused__gt=0)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
