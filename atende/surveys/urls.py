from django.urls import path

from atende.surveys import views

app_name = "surveys"
urlpatterns = [
    path("rate/<str:token>/", views.survey_rate, name="rate"),
]
