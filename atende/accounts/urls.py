from django.urls import path

from atende.accounts import views

app_name = "accounts"
# Sign-in and its security pages are atende.signin's; sign-up, verification, magic link and password reset are
# the portal's. config/urls.py serves them all under the same "accounts" namespace.
urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("language/", views.language, name="language"),
]
