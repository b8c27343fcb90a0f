from django.urls import path

from atende.reports import views, views_schedules

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("schedules/", views_schedules.schedule_list, name="schedules"),
    path("schedules/new/", views_schedules.schedule_edit, name="schedule_new"),
    path("schedules/<int:schedule_id>/", views_schedules.schedule_edit, name="schedule_edit"),
    path("schedules/<int:schedule_id>/delete/", views_schedules.schedule_remove, name="schedule_delete"),
]
