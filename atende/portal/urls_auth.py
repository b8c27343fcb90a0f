"""Sign-up, email verification, magic link and password reset: served under /accounts/ in the "accounts"
namespace (see atende/config/urls.py), beside the log-in page they share with agents."""

from django.urls import path

from atende.portal.views import auth as portal_auth

urlpatterns = [
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
