from django.urls import path

from atende.contact import views

app_name = "contact"
urlpatterns = [
    path("", views.contact_form, name="form"),
    path("embed/", views.contact_embed, name="embed"),
]
