from django.urls import path

from atende.sla.views import settings

app_name = "sla"
urlpatterns = [
    path("", settings.policy_list, name="policies"),
    path("policies/new/", settings.policy_edit, name="policy_new"),
    path("policies/<int:policy_id>/", settings.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/delete/", settings.policy_remove, name="policy_delete"),
    path("policies/<int:policy_id>/move/", settings.policy_reorder, name="policy_move"),
    path("policies/<int:policy_id>/test/", settings.policy_preview, name="policy_preview"),
    path("calendars/", settings.calendar_list, name="calendars"),
    path("calendars/new/", settings.calendar_edit, name="calendar_new"),
    path("calendars/<int:calendar_id>/", settings.calendar_edit, name="calendar_edit"),
    path("calendars/<int:calendar_id>/delete/", settings.calendar_remove, name="calendar_delete"),
]
