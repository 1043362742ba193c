"""wuye settings. What a deployment changes comes from the environment (README, Settings)."""

import json
import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("WUYE_VAR_DIR", BASE_DIR.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)  # WhiteNoise warns when STATIC_ROOT is missing


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get(
    "SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789"
)
# Keys for ID numbers at rest (Fernet, urlsafe base64 of 32 bytes), comma-separated: the first
# encrypts, all decrypt (rotation: wuye/core/crypto.py). Only the demo (DEBUG or WUYE_DEMO) and
# the tests may go without: their key is derived from SECRET_KEY. Production refuses to start,
# because rotating SECRET_KEY would then make every stored ID number unreadable.
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in os.environ.get("FIELD_ENCRYPTION_KEY", "").split(",") if k.strip()
]
TESTING = "pytest" in sys.modules
# Developers' commands that never read an encrypted value run anywhere.
_TOOLING = {"makemigrations", "makemessages", "compilemessages", "check", "help", "version"}
_COMMAND = (
    sys.argv[1] if len(sys.argv) > 1 and Path(sys.argv[0]).name in {"wuye", "manage.py"} else ""
)
if not FIELD_ENCRYPTION_KEYS and not (
    DEBUG or TESTING or env_bool("WUYE_DEMO", False) or _COMMAND in _TOOLING
):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is not set: production needs its own key for ID numbers "
        '(README, Settings). Make one with: python -c "from cryptography.fernet import Fernet; '
        "print(Fernet.generate_key().decode())\"; a demo or a developer's machine sets WUYE_DEMO=1"
    )
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
# The reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated;
# wuye/core/net.py). Empty: the client is REMOTE_ADDR.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "wuye.core",
    "wuye.audit",
    "wuye.scheduler",
    "wuye.accounts",
    "wuye.registry",
    "wuye.ledger",
    "wuye.fees",
    "wuye.billing",
    "wuye.notifications",
    "wuye.payments",
    "wuye.collection",
    "wuye.online",
    "wuye.portal",
    "wuye.reports",
    "wuye.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL byte in the address or a form is a 400, an id beyond a bigint a 404.
    "wuye.core.badinput.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "wuye.accounts.middleware.PasswordChangeRequired",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wuye.core.timeouts.DatabaseTimeoutMiddleware",
    "wuye.core.headers.NoStoreMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wuye.audit.middleware.AuditContextMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its own response.
    "axes.middleware.AxesMiddleware",
]

# Signed server-to-server callbacks (the payment providers' notify endpoints) and the short
# middleware list they go through under WSGI (wuye/core/callbacks.py): no session, locale,
# CSRF, login or throttling belongs to them.
CALLBACK_PATHS = ["/pay/notify/"]
CALLBACK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wuye.audit.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "wuye.urls"
WSGI_APPLICATION = "wuye.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wuye.core.context_processors.navigation",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# A web server process (gunicorn, uvicorn, runserver) or WUYE_PROCESS=web; anything else is the
# worker, the scheduler or a command.
WEB_PROCESS = os.environ.get("WUYE_PROCESS", "") == "web" or (
    _COMMAND == "runserver" or Path(sys.argv[0]).name in {"gunicorn", "uvicorn", "daphne"}
)

# --- Database ------------------------------------------------------------------------------
# SQLite out of the box (WAL, busy timeout: the web server and the worker share the file);
# PostgreSQL in production through DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'wuye.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Time limits (wuye/core/timeouts.py): short for web processes, long for the worker and
    # commands (a billing run, an import). PostgreSQL units: "30s", "10min"; "0" = none.
    _web = WEB_PROCESS
    _statement = os.environ.get(
        "DB_STATEMENT_TIMEOUT" if _web else "DB_WORKER_STATEMENT_TIMEOUT",
        "30s" if _web else "30min",
    )
    _lock = os.environ.get(
        "DB_LOCK_TIMEOUT" if _web else "DB_WORKER_LOCK_TIMEOUT", "10s" if _web else "2min"
    )
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={_statement} -c lock_timeout={_lock}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (Django's Tasks API via the django-tasks backport) -------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "bulk", "messages"],
    }
}

# --- Cache ---------------------------------------------------------------------------------
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "wuye.accounts.validators.MixedCharactersValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Five failed logins per user and address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "wuye.core.net.client_ip"  # X-Forwarded-For only from TRUSTED_PROXIES
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
SESSION_COOKIE_AGE = 60 * 60 * 10  # one working day
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind HTTPS (SECURE_COOKIES): browsers are told to use HTTPS only, for a year.
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0

# Content-Security-Policy (django-csp): scripts and <style> elements only from this site or
# carrying the request's nonce ({{ CSP_NONCE }}; templates never use on* attributes: wuye.js
# wires data-autosubmit and data-confirm). Style attributes stay allowed (progress bars, chart
# widths; they cannot run script). Images also as data: URLs (Bootstrap's icons, QR codes).
# CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only.
_CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'", NONCE],
    "style-src": ["'self'", NONCE],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_DIRECTIVES}

# --- Language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from installed packages without collectstatic
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["wuye.core.api_permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "wuye.core.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "wuye.core.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "wuye.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # Throttles key on REMOTE_ADDR, never on a client-sent X-Forwarded-For (wuye/core/net.py).
    "NUM_PROXIES": 0,
}
# The API's schema (/api/v1/schema/) and docs (/api/v1/docs/) open to anyone: on with DEBUG
# (the demo); in production only signed-in staff read them.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "wuye API",
    "DESCRIPTION": "Property fees: registry, billing, payments, collection.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs need a signed-in staff member unless API_DOCS_PUBLIC.
    "SERVE_PERMISSIONS": ["wuye.core.api_permissions.ApiDocsPermission"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # Every operation documents the errors any of them may answer (wuye/core/api_schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wuye.core.api_schema.add_error_responses",
        "wuye.core.api_schema.times_of_day",
    ],
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models name a choice field `kind` or `channel`; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "FeeItemKindEnum": "wuye.fees.models.FeeItem.Kind",
        "MeterKindEnum": "wuye.fees.models.Meter.Kind",
        "AccountKindEnum": "wuye.ledger.models.Account.Kind",
        "MessageChannelEnum": "wuye.notifications.models.Channel",
        "PaymentChannelEnum": "wuye.payments.models.Payment.Channel",
        "PartyChannelEnum": "wuye.registry.models.Party.Channel",
        "ConsentSourceEnum": "wuye.notifications.models.ChannelConsent.Source",
        "MandateStatusEnum": "wuye.online.models.DebitMandate.Status",
        "MessageLanguageEnum": "wuye.notifications.models.Language",
        "StaffRoleEnum": "wuye.core.roles.ROLES",
    },
}

# --- The business --------------------------------------------------------------------------
WUYE = {
    "COMPANY_NAME": os.environ.get("WUYE_COMPANY_NAME", "物业服务有限公司"),
    "BUSINESS_TIME_ZONE": TIME_ZONE,
}

# Message channels (SMS, WeChat, app push, e-mail, letters) and their credentials, as JSON in
# the environment; every key is described in wuye/notifications/README.md. Default: the demo
# backend that records messages in the outbox without sending.
WUYE_NOTIFY = json.loads(os.environ.get("WUYE_NOTIFY", "{}"))
# The owners' portal and app: sign-in limits and token lifetimes (wuye/portal/services.py DEFAULTS).
WUYE_PORTAL = json.loads(os.environ.get("WUYE_PORTAL", "{}"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
