from django.urls import path

from atende.chat import views

app_name = "chat"

urlpatterns = [
    path("widget.js", views.widget_script, name="widget_script"),
    path("widget.css", views.widget_stylesheet, name="widget_stylesheet"),
    path("widget/<str:key>/config", views.widget_config, name="widget_config"),
    path("widget/<str:key>/files", views.visitor_file_upload, name="file_upload"),
    path("widget/<str:key>/files/<int:attachment_id>", views.visitor_file_download, name="file_download"),
    path("demo/", views.demo_page, name="demo"),
]

console_urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("<int:session_id>/files", views.agent_file_upload, name="file_upload"),
    path("widgets/", views.widget_list, name="widgets"),
    path("widgets/new/", views.widget_edit, name="widget_new"),
    path("widgets/<int:widget_id>/", views.widget_edit, name="widget_edit"),
]
