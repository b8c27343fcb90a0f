from django.contrib.auth import views as auth_views
from django.urls import path

from atende.accounts import views
from atende.accounts.forms import LoginForm

app_name = "accounts"
# Sign-up, verification, magic link and password reset are the portal's; config/urls.py serves them under the
# same "accounts" namespace, since agents and customers share the log-in pages.
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.language, name="language"),
]
