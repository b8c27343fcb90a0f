"""Sign-in pages, served under /accounts/ in the "accounts" namespace (see atende/config/urls.py)."""

from django.urls import path

from atende.signin.views import login, security, sso

urlpatterns = [
    path("login/", login.login_view, name="login"),
    path("logout/", login.logout_view, name="logout"),
    path("login/verify/", login.mfa_verify, name="mfa_verify"),
    path("login/passkey/options/", login.passkey_options, name="mfa_passkey_options"),
    path("login/passkey/verify/", login.passkey_finish, name="mfa_passkey_verify"),
    path("login/setup/", login.mfa_setup, name="mfa_setup"),
    path("login/setup/qr.svg", login.mfa_setup_qr, name="mfa_setup_qr"),
    path("security/", security.security, name="security"),
    path("security/totp/", security.totp_add, name="security_totp"),
    path("security/totp/qr.svg", security.totp_qr, name="security_totp_qr"),
    path("security/recovery-codes/", security.recovery_codes_show, name="security_recovery_codes"),
    path("security/recovery-codes/new/", security.recovery_codes_new, name="security_recovery_codes_new"),
    path("security/devices/<str:kind>/<int:device_id>/remove/", security.device_remove,
         name="security_device_remove"),
    path("security/passkeys/options/", security.passkey_options, name="security_passkey_options"),
    path("security/passkeys/add/", security.passkey_add, name="security_passkey_add"),
    path("security/sessions/<int:session_id>/end/", security.session_end_view, name="security_session_end"),
    path("security/password/", security.password_change_view, name="security_password"),
    path("oidc/<slug:slug>/login/", sso.oidc_login, name="oidc_login"),
    path("oidc/<slug:slug>/callback/", sso.oidc_callback, name="oidc_callback"),
    path("saml/<slug:slug>/login/", sso.saml_login, name="saml_login"),
    path("saml/<slug:slug>/acs/", sso.saml_acs, name="saml_acs"),
    path("saml/<slug:slug>/metadata/", sso.saml_metadata, name="saml_metadata"),
]
