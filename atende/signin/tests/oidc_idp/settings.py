"""A small OpenID Connect provider (django-oidc-provider) that tests run as their own process on loopback.

Accounts whose username names a fault make the provider misbehave the way a hostile or broken one would:
``wrong_aud``, ``wrong_iss``, ``bad_nonce``, ``expired`` change the ID token's claims, ``bad_sig`` corrupts its
signature, ``unverified`` says the email address is not verified."""

import os

BASE = os.path.dirname(__file__)
SECRET_KEY = "oidc-test-idp"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", "oidc_provider"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "atende.signin.tests.oidc_idp.faults.CorruptSignatureMiddleware",
]
ROOT_URLCONF = "atende.signin.tests.oidc_idp.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [os.path.join(BASE, "templates")],
              "APP_DIRS": True, "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["IDP_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_URL = "/login/"
SITE_URL = os.environ["IDP_SITE_URL"]
# The relying party runs on the same host (another port): cookies do not separate ports, so the names differ.
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OIDC_USERINFO = "atende.signin.tests.oidc_idp.faults.userinfo"
OIDC_IDTOKEN_PROCESSING_HOOK = "atende.signin.tests.oidc_idp.faults.id_token_hook"
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_SKIP_CONSENT_EXPIRE = 365
