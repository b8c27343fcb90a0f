from django.urls import path

from atende.signin.views import admin

app_name = "signin"
urlpatterns = [
    path("", admin.security_settings, name="settings"),
    path("providers/new/", admin.provider_edit, name="provider_new"),
    path("providers/<int:provider_id>/", admin.provider_edit, name="provider_edit"),
    path("providers/<int:provider_id>/delete/", admin.provider_delete, name="provider_delete"),
    path("people/<int:user_id>/reset-second-factor/", admin.second_factor_reset, name="mfa_reset"),
]
