from django.contrib import admin

from atende.core.models import SiteConfiguration


@admin.register(SiteConfiguration)
class SiteConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "primary_color", "accent_color"]

    def has_add_permission(self, request):
        return not SiteConfiguration.objects.exists()
