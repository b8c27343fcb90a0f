"""Settings shared by every environment. Everything configurable comes from the environment (or ``.env``)."""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = BASE_DIR / "atende"
load_dotenv(BASE_DIR / ".env")

VAR_DIR = Path(os.environ.get("ATENDE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne_placeholder",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django_htmx",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "atende.core",
    "atende.accounts",
    "atende.audit",
    "atende.signin",
    "atende.tickets",
    "atende.rules",
    "atende.outbound",
    "atende.email_channel",
    "atende.kb",
    "atende.sla",
    "atende.automation",
    "atende.surveys",
    "atende.reports",
    "atende.integrations",
    "atende.triage",
    "atende.chat",
    "atende.api",
    "atende.portal",
    "atende.contact",
    "atende.messaging",
    "atende.console",
]
INSTALLED_APPS.remove("daphne_placeholder")

MIDDLEWARE = [
    "atende.core.request_limits.RequestLimitMiddleware",  # first: refuses oversized bodies before anything reads them
    "atende.core.request_limits.BusyMiddleware",  # a database too busy to take the request: 503 + Retry-After
    "django.middleware.security.SecurityMiddleware",
    "atende.core.csp.CSPMiddleware",  # django-csp's, with the settings' policy built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "atende.audit.context.AuditContextMiddleware",
    "atende.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "atende.signin.middleware.SignInSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "atende.config.urls"
ASGI_APPLICATION = "atende.config.asgi.application"
WSGI_APPLICATION = "atende.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atende.core.context_processors.site",
            ],
        },
    },
]

# Database: SQLite (WAL) under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'atende.sqlite3'}"
# Under ASGI each request runs in a thread of its own, so Django's per-thread persistent connections are never
# reused: connections are pooled instead (PostgreSQL: Django's pool; SQLite: atende.core.sqlite_pool).
# DATABASE_POOL=0 opens one per request.
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and DATABASE_POOL:
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": int(os.environ.get("DATABASE_POOL_SIZE", 10)),
                                                "timeout": 20}}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool then replaces a connection the server dropped
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # The hot reads of atende.core.prepared are prepared on the server after this many runs on a connection (their
    # plan kept); off for a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASE_POOL:
        DATABASES["default"]["ENGINE"] = "atende.core.sqlite_pool"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
            " PRAGMA mmap_size=268435456;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["atende.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # OWASP ASVS 4.0.3 V2.1.1-V2.1.3: at least 12 characters, up to 128, kept whole (PBKDF2 does not truncate).
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "atende.signin.services.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "atende.signin.services.passwords.BreachedPasswordValidator"},  # only when the admin turns it on
]
# Sign-in security (atende.signin; docs/security.md). Session lifetime and idle timeout are the admin's policy.
ATENDE_BREACHED_PASSWORD_API = os.environ.get("BREACHED_PASSWORD_API", "https://api.pwnedpasswords.com/range")
ATENDE_BREACHED_PASSWORD_TIMEOUT = float(os.environ.get("BREACHED_PASSWORD_TIMEOUT", 3))
OTP_TOTP_THROTTLE_FACTOR = 0  # wrong codes are limited by atende.core.throttle ("signin.mfa") instead
OTP_STATIC_THROTTLE_FACTOR = 0
# WebAuthn relying party: the host name people use (never an IP address); empty: the request's host.
ATENDE_WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
# SAML needs the xmlsec1 program (Debian package xmlsec1).
ATENDE_XMLSEC_BINARY = os.environ.get("XMLSEC_BINARY", "/usr/bin/xmlsec1")
SESSION_ENGINE = "atende.signin.session_store"
SESSION_COOKIE_AGE = 14 * 24 * 3600  # the policy's lifetime is set on each session at sign-in

# Internationalisation: English and Brazilian Portuguese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt-br", _("Brazilian Portuguese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Trained triage models (atende triage train): one file per version; see docs/triage.md.
TRIAGE_MODEL_DIR = Path(os.environ.get("TRIAGE_MODEL_DIR", VAR_DIR / "models"))
MEDIA_URL = "/media-not-served/"  # attachments are only served through access-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Uploads
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))
ATTACHMENT_ALLOWED_TYPES = env_list(
    "ATTACHMENT_ALLOWED_TYPES",
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,"
    "application/zip,application/json,message/rfc822,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/msword,application/vnd.ms-excel",
)
# Remote images in messages, fetched on an agent's request (docs/security.md).
IMAGE_PROXY_MAX_BYTES = int(os.environ.get("IMAGE_PROXY_MAX_BYTES", 5 * 1024 * 1024))
IMAGE_PROXY_TIMEOUT_SECONDS = float(os.environ.get("IMAGE_PROXY_TIMEOUT_SECONDS", 10))
IMAGE_PROXY_MAX_REDIRECTS = int(os.environ.get("IMAGE_PROXY_MAX_REDIRECTS", 3))
IMAGE_PROXY_URL_MAX_AGE = int(os.environ.get("IMAGE_PROXY_URL_MAX_AGE", 24 * 3600))  # seconds a signed URL is valid
IMAGE_PROXY_ALLOW_LOOPBACK = env_bool("IMAGE_PROXY_ALLOW_LOOPBACK", False)  # tests only: never in production
# Request bodies (atende.core.request_limits; docs/api.md "Limits"): JSON and form bodies, and multipart uploads.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("REQUEST_BODY_MAX_BYTES", 5 * 1024 * 1024))
REQUEST_UPLOAD_MAX_BYTES = int(os.environ.get("REQUEST_UPLOAD_MAX_BYTES", 3 * ATTACHMENT_MAX_BYTES))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("REQUEST_MAX_FIELDS", 1000))
API_JSON_MAX_DEPTH = int(os.environ.get("API_JSON_MAX_DEPTH", 32))  # nesting of JSON request bodies
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Requests running at once per web process (atende.core.asgi.RequestGate; docs/configuration.md "Web processes"):
# the others wait their turn, at most REQUEST_QUEUE of them for at most REQUEST_QUEUE_SECONDS, then 503 "busy".
# REQUEST_THREADS=0: no bound (a thread per request, as Django does).
ATENDE_REQUEST_THREADS = int(os.environ.get("REQUEST_THREADS", 8))
ATENDE_REQUEST_QUEUE = int(os.environ.get("REQUEST_QUEUE", 1000))
ATENDE_REQUEST_QUEUE_SECONDS = float(os.environ.get("REQUEST_QUEUE_SECONDS", 30))

# Redis: channel layer and cache when several processes serve.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Names of this desk's keys and channels in Redis, for several desks on one Redis database (empty: the defaults).
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "atende.core.redis_layer.WaitingPoolRedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL]} | ({"prefix": REDIS_PREFIX} if REDIS_PREFIX else {})}}
    CACHES = {"default": {"BACKEND": "atende.core.cache.SharedPoolRedisCache", "LOCATION": REDIS_URL}
              | ({"KEY_PREFIX": REDIS_PREFIX} if REDIS_PREFIX else {})}
    CACHES["presence"] = CACHES["default"]
else:
    # One machine: in memory in the web process, which other local processes (the events worker, the scheduler,
    # commands) reach over a unix socket under VAR_DIR/run (atende.core.channel_layer).
    CHANNEL_LAYERS = {"default": {"BACKEND": "atende.core.channel_layer.LocalChannelLayer",
                                  "CONFIG": {"path": os.environ.get("CHANNEL_SOCKET", "")}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
              # Live chat's presence: written by the web process, read by the events worker too.
              "presence": {"BACKEND": "atende.core.localcache.LocalSharedCache",
                           "LOCATION": str(VAR_DIR / "cache" / "presence"), "OPTIONS": {"MAX_ENTRIES": 100_000}}}
# Tokens every process reads to know its copies of rarely changed rows are current (atende.core.generations), read
# on every ticket created: on SQLite every process is on this machine, and a file under VAR_DIR is read without
# the round trip (and the wait for the Redis server's turn on a busy machine) that Redis would cost.
CACHES["shared"] = (CACHES["default"] if REDIS_URL and not DATABASE_URL.startswith("sqlite") else
                    {"BACKEND": "atende.core.localcache.LocalSharedCache", "LOCATION": str(VAR_DIR / "cache" / "shared")})

# Throttling (atende.core.throttle): counts live in the shared cache when there is one (Redis), else in the
# database, so every process counts together. Rates are "N/period" limits, all of which must have room.
ATENDE_THROTTLE_STORE = os.environ.get("THROTTLE_STORE", "")  # "database" | "cache" | "" (chosen as above)
ATENDE_THROTTLE_RATES = {
    "signin.account": os.environ.get("THROTTLE_SIGNIN_ACCOUNT", "5/15m"),  # failed sign-ins per account
    "signin.ip": os.environ.get("THROTTLE_SIGNIN_IP", "20/15m,200/day"),  # failed sign-ins per client IP
    "signin.mfa": os.environ.get("THROTTLE_SIGNIN_MFA", "5/15m"),  # wrong second-factor codes per account
    "signin.alert": "1/hour",  # "someone is trying your password" emails per account
    "auth_email.address": os.environ.get("THROTTLE_AUTH_EMAIL_ADDRESS", "1/min,10/day"),  # reset/log-in links
    "auth_email.ip": os.environ.get("THROTTLE_AUTH_EMAIL_IP", "10/15m,50/day"),
    # REST API requests per token (or per signed-in user); "0/…" or an empty value: unlimited
    "api.token": "{}/{}s".format(os.environ.get("API_RATE_LIMIT", "600"), os.environ.get("API_RATE_WINDOW", "60")),
    # The inbound per-sender limit is set per desk (EmailSettings.rate_limit_per_hour), scope "email.sender".
}
# Counted in the cache even without a shared one: a database write per API read (or per chat message, inside
# the message's own write transaction) would queue SQLite's one writer. These are counted only by the web process
# (the chat's websockets and uploads arrive there); on one machine it is one process (its cache is shared by all
# its requests and connections); with REDIS_URL the cache is Redis, shared by every process.
ATENDE_THROTTLE_STORE_BY_SCOPE = {"api.token": "cache", "chat.message.visitor": "cache", "chat.message.ip": "cache",
                                  "chat.suggest.ip": "cache"}

# Background work: Django's Tasks API with the database backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]}}

# The events dispatcher (docs/configuration.md "Workers and events"): events per batch and subscriber, ticket
# partitions per subscriber (units of work shared out among workers), how long a worker's lease lasts without
# renewal, how long an id missing from the stream is looked for, attempts before an event is parked and the first
# retry delay (doubling), and the lag above which /healthz reports "degraded".
# On SQLite a batch holds the one write lock while it runs, so web requests wait for it: smaller batches there
# (50 set-wise events take tens of milliseconds; benchmarks chose 50 over 20 and 100, docs/benchmarks.md).
ATENDE_EVENTS_BATCH = int(os.environ.get("EVENTS_BATCH",
                                         200 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 50))
ATENDE_EVENTS_PARTITIONS = int(os.environ.get("EVENTS_PARTITIONS", 1))
ATENDE_EVENTS_LEASE_SECONDS = float(os.environ.get("EVENTS_LEASE_SECONDS", 15))
ATENDE_EVENTS_GAP_SECONDS = float(os.environ.get("EVENTS_GAP_SECONDS", 60))
ATENDE_EVENTS_MAX_ATTEMPTS = int(os.environ.get("EVENTS_MAX_ATTEMPTS", 6))
ATENDE_EVENTS_BACKOFF_SECONDS = float(os.environ.get("EVENTS_BACKOFF_SECONDS", 5))
ATENDE_EVENTS_LAG_DEGRADED_SECONDS = float(os.environ.get("EVENTS_LAG_DEGRADED_SECONDS", 300))
# A worker pass's batches in one write transaction, a savepoint each (atende/core/outbox/rounds.py): one turn of
# SQLite's writers' lock per pass. Off by default: while tickets are being created, the creating requests then wait
# for a whole pass instead of one batch (in-process creation p95 25-29 ms → 79-109 ms, docs/benchmarks.md).
ATENDE_EVENTS_SHARED_TRANSACTION = env_bool("EVENTS_SHARED_TRANSACTION", False)
# A background task RUNNING under a worker that never sent a heartbeat is run again after this long.
ATENDE_TASKS_LEASE_SECONDS = float(os.environ.get("TASKS_LEASE_SECONDS", 600))

# Mail
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 30))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@atende.test")
# ``atende mail-import`` commits up to this many messages together, or what it did in this many milliseconds
# (the transaction holds SQLite's one writer lock meanwhile; docs/email.md). PostgreSQL's blocks no other writer,
# and each group costs a commit and a dozen statements (its look-ups, the search index), a round trip each: 200 ms
# there held about ten messages, a group of 100 takes about a second.
ATENDE_MAIL_IMPORT_BATCH = int(os.environ.get("MAIL_IMPORT_BATCH", 100))
ATENDE_MAIL_IMPORT_BATCH_MS = int(os.environ.get("MAIL_IMPORT_BATCH_MS",
                                                 1000 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 200))
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy of every page (django-csp; docs/security.md "Content-Security-Policy"). No inline
# script, style or event handler anywhere: behaviour lives in static files, branding colours in /branding.css.
# frame-ancestors is loosened per view only (atende.core.csp.frame_ancestors).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # remote images only through the desk's own image proxy
        "font-src": ["'self'"],
        "connect-src": ["'self'"],  # htmx requests and the console's websocket (same origin)
        "frame-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *os.environ.get("CSP_FORM_ACTION", "").split()],  # e.g. an SSO provider's origin
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_tasks": {"level": "WARNING"},
                "django_tasks_db": {"level": "WARNING"},
                "xmlschema": {"level": "WARNING"},  # pysaml2's schema loader reports every schema it reads
                "flufl.bounce": {"level": "CRITICAL"},  # it logs every detector that chokes on a message
                # A line per webhook call at INFO: the delivery's attempt rows already record each call.
                "httpx": {"level": "WARNING"}},
}

# Portal, knowledge base and surveys (atende.portal, atende.kb, atende.surveys)
PORTAL_VERIFY_MAX_AGE = int(os.environ.get("PORTAL_VERIFY_MAX_AGE", 3 * 24 * 3600))  # email verification link
PORTAL_MAGIC_LINK_MAX_AGE = int(os.environ.get("PORTAL_MAGIC_LINK_MAX_AGE", 15 * 60))  # one-time log-in link
KB_DEFLECTION_WINDOW = int(os.environ.get("KB_DEFLECTION_WINDOW", 30 * 60))  # seconds; see docs/knowledge-base.md
SURVEY_TOKEN_MAX_AGE = int(os.environ.get("SURVEY_TOKEN_MAX_AGE", 30 * 24 * 3600))  # satisfaction survey link

# Ticket search: how many of the newest matches are ranked (docs/console.md, "At 1,000,000 tickets").
ATENDE_SEARCH_WINDOW = int(os.environ.get("ATENDE_SEARCH_WINDOW", 2000))

# api / integrations: REST API (Swagger UI assets come from the "ninja" app; its rate limit is the throttle
# scope "api.token" above), webhooks.
INSTALLED_APPS += ["ninja"]
ATENDE_WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 10))
# A webhook send's lease is its timeout plus this margin: a worker killed mid-send leaves the row to another
# worker after that long.
ATENDE_WEBHOOK_LEASE_MARGIN = float(os.environ.get("WEBHOOK_LEASE_MARGIN", 30))
ATENDE_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", 8))
ATENDE_WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", 10))

# Email channel (atende.email_channel)
# Amazon SES bounce/complaint notifications via SNS HTTPS: POST /email/ses/<this secret>/ (empty: endpoint off)
EMAIL_SES_WEBHOOK_TOKEN = os.environ.get("EMAIL_SES_WEBHOOK_TOKEN", "")
EMAIL_OUTBOUND_MAX_ATTEMPTS = int(os.environ.get("EMAIL_OUTBOUND_MAX_ATTEMPTS", 6))
EMAIL_OUTBOUND_RETRY_BASE_SECONDS = int(os.environ.get("EMAIL_OUTBOUND_RETRY_BASE_SECONDS", 60))

# The outbound engine's transports (atende/outbound, docs/architecture.md "Outbound deliveries"): name → class.
# Imported at start-up; a transport that cannot be imported stops the process with the reason.
OUTBOUND_TRANSPORTS = {
    "mail": "atende.email_channel.transports.MailTransport",
    "webhook": "atende.integrations.transports.WebhookTransport",
    "messaging": "atende.messaging.transports.MessagingTransport",  # Telegram and WhatsApp
}

# Live chat (atende.chat, docs/chat.md)
CHAT_DEFAULT_MAX_CHATS = int(os.environ.get("CHAT_DEFAULT_MAX_CHATS", 3))  # chats at once per agent
CHAT_OFFER_SECONDS = int(os.environ.get("CHAT_OFFER_SECONDS", 30))  # an unanswered offer moves on after this
# Chat messages arriving together are written in one transaction (chat/writer.py): an idle writer waits this long
# for company, and a group holds at most this many messages.
CHAT_WRITE_GATHER_SECONDS = float(os.environ.get("CHAT_WRITE_GATHER_SECONDS", 0.003))
CHAT_WRITE_GROUP_MAX = int(os.environ.get("CHAT_WRITE_GROUP_MAX", 100))
CHAT_MAX_MESSAGE_CHARS = 4000
CHAT_VISITOR_TOKEN_MAX_AGE = 30 * 86400
CHAT_ANSWERER = os.environ.get("CHAT_ANSWERER", "atende.chat.answerer.KnowledgeBaseAnswerer")
ATENDE_THROTTLE_RATES |= {
    "chat.start.ip": os.environ.get("THROTTLE_CHAT_START_IP", "10/10m,60/day"),  # conversations per client IP
    "chat.message.visitor": os.environ.get("THROTTLE_CHAT_MESSAGE_VISITOR", "20/min,300/hour"),
    "chat.message.ip": os.environ.get("THROTTLE_CHAT_MESSAGE_IP", "120/min"),
    "chat.offline.ip": os.environ.get("THROTTLE_CHAT_OFFLINE_IP", "5/15m,20/day"),
    "chat.suggest.ip": os.environ.get("THROTTLE_CHAT_SUGGEST_IP", "120/min"),
}
# Contact identities: phone numbers typed without a country code (e.g. "(11) 91234-5678") are read as numbers
# of this region (ISO 3166 code); empty: only numbers in international form (+55 11 …) are accepted.
ATENDE_PHONE_REGION = os.environ.get("ATENDE_PHONE_REGION", "BR")

# Public contact form (atende.contact): submissions per client IP and per email address/phone number; a form
# must have been shown at least CONTACT_FORM_MIN_SECONDS before it is sent, and its token works once within
# CONTACT_FORM_TOKEN_MAX_AGE seconds.
ATENDE_THROTTLE_RATES |= {
    "contact.ip": os.environ.get("THROTTLE_CONTACT_IP", "5/10m,30/day"),
    "contact.address": os.environ.get("THROTTLE_CONTACT_ADDRESS", "3/10m,10/day"),
    "contact.token": "1/day",  # each form token is accepted once
}
CONTACT_FORM_MIN_SECONDS = float(os.environ.get("CONTACT_FORM_MIN_SECONDS", 2))
CONTACT_FORM_TOKEN_MAX_AGE = int(os.environ.get("CONTACT_FORM_TOKEN_MAX_AGE", 2 * 3600))

# Messaging apps (atende.messaging, docs/channels.md). Credentials come from the environment only; a connector is
# on when its secrets are set. *_API_BASE points at the platform (or, in tests, at a stand-in on loopback).
ATENDE_MESSAGING = {
    "telegram": {
        "bot_token": os.environ.get("TELEGRAM_BOT_TOKEN", ""),
        "webhook_secret": os.environ.get("TELEGRAM_WEBHOOK_SECRET", ""),
        "api_base": os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org"),
    },
    "whatsapp": {
        "access_token": os.environ.get("WHATSAPP_ACCESS_TOKEN", ""),
        "app_secret": os.environ.get("WHATSAPP_APP_SECRET", ""),
        "verify_token": os.environ.get("WHATSAPP_VERIFY_TOKEN", ""),
        "phone_number_id": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
        "api_base": os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0"),
    },
}
MESSAGING_WHATSAPP_WINDOW_HOURS = 24
