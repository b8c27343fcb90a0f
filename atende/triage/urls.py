from django.urls import path

from atende.triage import views

app_name = "triage"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("fields/<str:field>/", views.field_setting_save, name="field_setting_save"),
    path("predictable-fields/", views.predictable_fields_save, name="predictable_fields_save"),
    path("topics/", views.topics_page, name="topics"),
    path("tickets/<int:number>/", views.ticket_sidebar, name="ticket_sidebar"),
    path("tickets/<int:number>/apply/<str:field>/", views.suggestion_apply, name="suggestion_apply"),
    path("tickets/<int:number>/merge/<int:target>/", views.duplicate_merge, name="duplicate_merge"),
]
