from django.contrib.auth import views as auth_views
from django.urls import path

from atende.accounts import views
from atende.accounts.forms import LoginForm
from atende.portal.views import auth as portal_auth

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm,
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    # Sign-up, verification, magic link and password reset (atende.portal)
    path("signup/", portal_auth.signup, name="signup"),
    path("signup/done/", portal_auth.signup_done, name="signup_done"),
    path("verify/<str:token>/", portal_auth.verify_email, name="verify_email"),
    path("magic-link/", portal_auth.magic_link_request, name="magic_link"),
    path("magic-link/sent/", portal_auth.magic_link_sent, name="magic_link_sent"),
    path("magic-link/<str:token>/", portal_auth.magic_link_login, name="magic_link_login"),
    path("password-reset/", portal_auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/done/", portal_auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", portal_auth.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/complete/", portal_auth.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
