"""The one settings module. Everything a deployment changes comes from the environment."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SUPPORTDESK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def demo_secret_key(var_dir: Path) -> str:
    """`supportdesk demo`'s key: random per installation, kept in the var directory (0600)."""
    path = var_dir / "demo-secret-key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# Set by `supportdesk demo` only: a local key and a local PUBLIC_BASE_URL are then allowed.
# Every other way of serving refuses to start without SECRET_KEY and PUBLIC_BASE_URL
# (supportdesk/core/startup.py). Commands that do not serve (migrate, createadmin, the tests)
# run with a throw-away random key when none is set; no key is ever built in.
DEMO = env_bool("SUPPORTDESK_DEMO", False)
if os.environ.get("SECRET_KEY"):
    SECRET_KEY, SECRET_KEY_SOURCE = os.environ["SECRET_KEY"], "environment"
elif DEMO:
    SECRET_KEY, SECRET_KEY_SOURCE = demo_secret_key(VAR_DIR), "demo"
else:
    SECRET_KEY, SECRET_KEY_SOURCE = secrets.token_urlsafe(50), "ephemeral"
# Keys that encrypt stored provider secrets (IMAP passwords, SMS/voice tokens) at rest
# (supportdesk.core.crypto): comma-separated Fernet keys, the first encrypts, all decrypt, so a
# new key is put first and `supportdesk rotatesecrets` re-encrypts. Unset: a key derived from
# SECRET_KEY (changing SECRET_KEY then makes stored secrets unreadable; docs/configuration.md).
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEYS", "")
# The public https://host people and providers reach: every link in mail and SMS and every
# provider callback is built from it (supportdesk.core.links.absolute_url). Required outside
# the demo when DEBUG is off.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
_public_host = urlsplit(PUBLIC_BASE_URL).hostname or ""
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", f"127.0.0.1,localhost,testserver,{_public_host}")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", PUBLIC_BASE_URL)

INSTALLED_APPS = [
    "supportdesk.core.admin_site.SuperuserAdminConfig",  # the Django admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files, never a CDN
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "supportdesk.core",
    "supportdesk.accounts",
    "supportdesk.customers",
    "supportdesk.contracts",
    "supportdesk.tickets",
    "supportdesk.notifications",
    "supportdesk.sla",
    "supportdesk.oncall",
    "supportdesk.intake",
    "supportdesk.console",
    "supportdesk.portal",
    "supportdesk.billing",
    "supportdesk.monitoring",
    "supportdesk.onboarding",
    "supportdesk.assets",
    "supportdesk.kb",
]

MIDDLEWARE = [
    # Provider webhooks and bearer-token API calls leave here for LEAN_EDGE_MIDDLEWARE below.
    "supportdesk.core.edge.LeanEdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "supportdesk.core.csp.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "supportdesk.core.middleware.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "supportdesk.accounts.middleware.TwoFactorMiddleware",
    "supportdesk.console.middleware.ConsoleTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "supportdesk.accounts.throttling.PasswordResetThrottleMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]
# The chain machine requests take instead (supportdesk/core/edge.py, docs/security.md): the
# guarantees that hold for them too, in the same order; nothing that serves browser sessions.
LEAN_EDGE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "supportdesk.core.csp.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "supportdesk.core.middleware.InputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # TIME_ZONE: the zone pages render in (the agent's own on console pages, 10.9).
                "django.template.context_processors.tz",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'supportdesk.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so concurrent writers queue on the busy timeout instead of failing mid-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
elif env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # 0: the statements supportdesk compiles once (core/queries.py) are prepared on their first
    # run on a connection; the rest of the ORM binds on the client and is never prepared.
    # Off behind a pooler that can't keep them (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes refuses sign-ins of a locked-out account or address before the password check.
    "supportdesk.accounts.throttling.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Files (attachments, release files) on any S3-compatible object store by configuration alone
# (django-storages, the `s3` extra): SUPPORTDESK_STORAGE=s3 and the bucket; the endpoint for
# MinIO, Ceph and the like; keys from the environment (or the machine's IAM role when unset).
if os.environ.get("SUPPORTDESK_STORAGE", "filesystem") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", ""),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = True

# Attachments: hard limit per file; uploads above it are refused with a 413 message. The API and
# mail carry files base64-encoded (4/3 of their size), so a request body may be that large plus
# room for the rest of the request (issue 17.3: the documented limit is the real one).
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))
# Configuration backups (H-4): largest backup an engineer or a device may store; larger: 413.
BACKUP_MAX_BYTES = int(os.environ.get("BACKUP_MAX_BYTES", 20 * 1024 * 1024))
# Outgoing mail carries a reply's attachments up to this total; larger ones become portal links.
MAIL_ATTACHMENT_MAX_BYTES = int(os.environ.get("MAIL_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
# Invitation links work once, for this many seconds; password-reset links for
# PASSWORD_RESET_TIMEOUT seconds.
INVITATION_TIMEOUT = int(os.environ.get("INVITATION_TIMEOUT", 7 * 24 * 3600))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", 24 * 3600))
DATA_UPLOAD_MAX_MEMORY_SIZE = -(-ATTACHMENT_MAX_BYTES * 4 // 3) + 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Release files (K-3): the largest file the console or the API accepts, and how long a download
# link works.
RELEASE_FILE_MAX_BYTES = int(os.environ.get("RELEASE_FILE_MAX_BYTES", 4 * 1024**3))
DOWNLOAD_LINK_TTL = int(os.environ.get("DOWNLOAD_LINK_TTL", 3600))
# Monitoring webhooks (N-1): larger request bodies are refused with 413 before they are read.
MONITORING_MAX_BODY_BYTES = int(os.environ.get("MONITORING_MAX_BODY_BYTES", 1024 * 1024))

# With no SMTP server configured (the embedded demo), mail is written to files under var/.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "outgoing-mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 1025))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 20))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@supportdesk.localhost")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Outbox delivery: attempts and the base of the exponential backoff between them.
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", 8))
OUTBOX_BACKOFF_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_SECONDS", 30))
SCHEDULER_INTERVAL_SECONDS = float(os.environ.get("SCHEDULER_INTERVAL_SECONDS", 10))

# Telephony / SMS provider (O-5, docs/oncall.md): Twilio's REST API and webhook signatures.
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# Step 0 of an emergency is sent from the web process right after commit (else by workers).
ONCALL_SEND_ON_COMMIT = env_bool("ONCALL_SEND_ON_COMMIT", True)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Transport (docs/configuration.md, "Production settings"). Cookies are secure by default when
# the public address is https; HSTS and the redirect are opt-in because they outlive a mistake.
_https = PUBLIC_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# A load balancer's plain-http health probe is answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# "HTTP_X_FORWARDED_PROTO,https": the header (as Django names it) and value by which the
# TLS-terminating proxy says the request came over https. Only set it behind such a proxy.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ValueError(
        "SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = (
    (_proxy_ssl_header[0], _proxy_ssl_header[1]) if _proxy_ssl_header else None
)
# Proxies in front of the app that append to X-Forwarded-For (0: use the socket's address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

# Content-Security-Policy on every response (django-csp; docs/security.md). Scripts and style
# sheets come from this origin only, never inline; style *attributes* are allowed because
# sanitised customer mail keeps its formatting in them (templates have none).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Sign-in throttling (django-axes; supportdesk/accounts/throttling.py): every authenticate()
# (/login/, /admin/login/, password-reset sign-in) and every bearer token is counted per
# account and per client address; reaching a limit refuses further tries until the cool-off
# has passed (HTTP 429), even with the right password.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", 15)))
AXES_HANDLER = "supportdesk.accounts.throttling.SignInAttempts"
AXES_LOCKOUT_PARAMETERS = "supportdesk.accounts.throttling.lockout_parameters"
AXES_USERNAME_CALLABLE = "supportdesk.accounts.throttling.sign_in_name"
AXES_USERNAME_FORM_FIELD = "username"  # what authenticate() and the login forms call it
AXES_CLIENT_IP_CALLABLE = "supportdesk.accounts.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "supportdesk.accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Password-reset requests (form posts to the URL named "password_reset"): at most this many per
# address and per client address in an hour; more get a 429 and send no mail.
PASSWORD_RESET_LIMIT_PER_EMAIL = int(os.environ.get("PASSWORD_RESET_LIMIT_PER_EMAIL", 3))
PASSWORD_RESET_LIMIT_PER_ADDRESS = int(os.environ.get("PASSWORD_RESET_LIMIT_PER_ADDRESS", 10))

# Two-factor authentication for staff (django-otp; docs/security.md).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "supportdesk")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"supportdesk": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# Email intake (T-2..T-5, T-7). /hooks/mail/inbound requires the header
# `X-Supportdesk-Signature: sha256=<hex HMAC-SHA256 of the body with this secret>`; unset
# disables the hook (403).
MAIL_WEBHOOK_SECRET = os.environ.get("MAIL_WEBHOOK_SECRET", "")
# Fax intake (T-1, docs/fax.md). /hooks/fax/inbound takes Telnyx `fax.received` events signed
# with Ed25519: the base64 public key from the Telnyx portal (unset disables the hook: 401).
FAX_TELNYX_PUBLIC_KEY = os.environ.get("FAX_TELNYX_PUBLIC_KEY", "")
FAX_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("FAX_WEBHOOK_TOLERANCE_SECONDS", 300))
# Hosts the fax document may be fetched from (comma-separated; `host` or `host:port` means
# https; `http://127.0.0.1:PORT` allows plain http to this machine only). Nothing else is fetched.
FAX_MEDIA_HOSTS = [h for h in os.environ.get("FAX_MEDIA_HOSTS", "").split(",") if h.strip()]
FAX_MEDIA_MAX_BYTES = min(
    int(os.environ.get("FAX_MEDIA_MAX_BYTES", 20 * 1024 * 1024)), ATTACHMENT_MAX_BYTES
)
FAX_MEDIA_TIMEOUT_SECONDS = float(os.environ.get("FAX_MEDIA_TIMEOUT_SECONDS", 20))
# Vendor slug used when a message's recipients match no queue, vendor or staff address.
MAIL_DEFAULT_VENDOR = os.environ.get("MAIL_DEFAULT_VENDOR", "")
# `supportdesk fetchmail`: a JSON list of mailboxes, each {"host", "port", "user", "password",
# "folder" (INBOX), "ssl" (true), "vendor" (slug), "move_to" (folder; else flagged \Seen)}.
IMAP_MAILBOXES = json.loads(os.environ.get("IMAP_MAILBOXES", "[]") or "[]")
IMAP_POLL_SECONDS = int(os.environ.get("IMAP_POLL_SECONDS", 60))
# A customer's mail to a *closed* ticket: "reopen" it, or open a "new" ticket that refers to it.
MAIL_CLOSED_TICKET_POLICY = os.environ.get("MAIL_CLOSED_TICKET_POLICY", "reopen")
# T-11: authserv-ids (comma-separated) of the receiving MTAs whose RFC 8601
# Authentication-Results header intake trusts, e.g. "mx.vendor.example". Unset: no header is
# trusted, customer mail is taken as it comes and staff mail needs the tokenised reply address.
MAIL_TRUSTED_AUTHSERV_IDS = [
    item.strip().lower()
    for item in os.environ.get("MAIL_TRUSTED_AUTHSERV_IDS", "").split(",")
    if item.strip()
]
# T-2: automatic details requests to unidentified senders, at most this many per vendor per
# hour (besides one per address per day).
MAIL_DETAILS_REPLIES_PER_HOUR = int(os.environ.get("MAIL_DETAILS_REPLIES_PER_HOUR", 30))
