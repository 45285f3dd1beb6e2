"""One settings module for every environment, switched by environment variables.

Every variable read here is listed, with its default, in `.env.example` and the README.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, found {raw!r}")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: expected a whole number, found {raw!r}") from exc


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


CSAS_ENV = os.environ.get("CSAS_ENV", "development")
if CSAS_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"CSAS_ENV: expected development or production, found {CSAS_ENV!r}")
PRODUCTION = CSAS_ENV == "production"

DATA_DIR = Path(os.environ.get("CSAS_DATA_DIR", "var")).resolve()

DEBUG = _env_bool("CSAS_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("CSAS_DEBUG must be false when CSAS_ENV=production")


def _kept_key(key_file: Path, make: Callable[[], str]) -> str:
    """The key kept in `key_file`, made with `make` and written there first if missing.

    Written whole or not at all (a temporary file linked into place), so that processes
    starting together on a new data folder (test workers, a server and a command) all read
    the one key the first of them wrote, never an empty or half-written file.
    """
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=DATA_DIR, prefix=f".{key_file.name}-")
        try:
            with os.fdopen(descriptor, "w") as handle:  # mkstemp's file is already 0600
                handle.write(make())
            with contextlib.suppress(FileExistsError):  # another process got there first
                os.link(temporary, key_file)
        finally:
            os.unlink(temporary)
    return key_file.read_text().strip()


def _secret_key() -> str:
    key = os.environ.get("CSAS_SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("CSAS_SECRET_KEY must be set when CSAS_ENV=production")
    # Development: one random key per data folder, kept beside the database so sessions
    # survive restarts; never committed.
    return _kept_key(DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = _env_list("CSAS_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSAS_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "csas.config.apps.CsasAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "axes",
    "csp",
    "csas.accounts",
    "csas.strategy",
    "csas.portal",
    "csas.engagement",
    "csas.progress",
    "csas.insight",
    "csas.safetylab",
    "csas.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csas.api.api.ReadOnlyCors",
    # axes must be last: it answers locked-out logins before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csas.config.urls"
WSGI_APPLICATION = "csas.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csas.portal.context_processors.site",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_bool(
        "CSAS_DB_PREPARED_STATEMENTS", default=True
    ):
        # Lets the survey submit (a server-side-binding cursor) run as a prepared statement;
        # Django's own cursors bind on the client and are never prepared. Set
        # CSAS_DB_PREPARED_STATEMENTS=false behind a pooler that cannot keep them (PgBouncer
        # in transaction mode before 1.21).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "csas.sqlite3"),
            "OPTIONS": {
                # WAL lets readers work while one writer writes; Django's SQLite backend
                # already turns foreign keys on for every connection.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and security ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "manage:home"
LOGOUT_REDIRECT_URL = "portal:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AXES_FAILURE_LIMIT = _env_int("CSAS_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _env_int("CSAS_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("CSAS_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = _env_int("CSAS_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("CSAS_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS preload is a choice for the city's domain owner, not the application.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content Security Policy: nothing from other hosts; map tiles are off by default (offline).
MAP_TILE_URL = os.environ.get("CSAS_MAP_TILE_URL", "")
_img_src = ["'self'", "data:"]
if MAP_TILE_URL:
    # Allow images from the tile host only; a "{s}." subdomain template becomes "*.".
    _scheme, _separator, _rest = MAP_TILE_URL.partition("://")
    _host = _rest.split("/", 1)[0].replace("{s}.", "*.")
    if _scheme not in {"http", "https"} or not _host or "{" in _host:
        raise ImproperlyConfigured(
            "CSAS_MAP_TILE_URL: expected https://host/{z}/{x}/{y}.png, "
            f"found {MAP_TILE_URL!r}"
        )
    _img_src.append(f"{_scheme}://{_host}")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": _img_src,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("vi", "Tiếng Việt"),
    ("km", "ខ្មែរ"),
    ("ko", "한국어"),
    ("ru", "Русский"),
    ("uk", "Українська"),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("CSAS_TIME_ZONE", "America/Los_Angeles")

# --- static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "media"},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production static files are served straight from the package (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

# --- cache (rate limits; shared by every server process through the data folder) -------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

# --- engagement ---------------------------------------------------------------------------
# Public writes allowed per client address per hour.
SURVEY_STARTS_PER_HOUR = _env_int("CSAS_SURVEY_STARTS_PER_HOUR", 60)


def _contact_key() -> str:
    """Fernet key for follow-up contact details. Development keeps one in the data folder."""
    key = os.environ.get("CSAS_CONTACT_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "CSAS_CONTACT_KEY must be set when CSAS_ENV=production "
            "(make one with: csas manage generate_contact_key)"
        )
    from cryptography.fernet import Fernet

    return _kept_key(DATA_DIR / "contact_key", lambda: Fernet.generate_key().decode())


CONTACT_KEY = _contact_key()
# Days after which follow-up contact details are deleted by `csas manage purge_contacts`.
CONTACT_RETENTION_DAYS = _env_int("CSAS_CONTACT_RETENTION_DAYS", 365)
MAP_COMMENTS_PER_HOUR = _env_int("CSAS_MAP_COMMENTS_PER_HOUR", 10)
# Anonymous requests to the public API allowed per client per minute.
API_ANON_RATE_PER_MINUTE = _env_int("CSAS_API_RATE_PER_MINUTE", 120)
# Observations one API key may write per minute, and failed keys allowed per address per minute.
API_WRITE_RATE_PER_MINUTE = _env_int("CSAS_API_WRITE_RATE_PER_MINUTE", 30)
API_AUTH_FAILURES_PER_MINUTE = _env_int("CSAS_API_AUTH_FAILURES_PER_MINUTE", 10)
# The API's per-address limits use the connecting address, never a client-sent X-Forwarded-For
# (behind a proxy, the proxy's address: rate-limit at the proxy too).
NINJA_NUM_PROXIES = 0
# Public PDF reports cost seconds of CPU each: generated PDFs are kept in the cache until the
# data behind them changes, and each client may ask for this many new ones per hour.
REPORT_PDFS_PER_HOUR = _env_int("CSAS_REPORT_PDFS_PER_HOUR", 30)
# Public aggregates hide any cell of fewer people or events than this.
SUPPRESSION_THRESHOLD = _env_int("CSAS_SUPPRESSION_THRESHOLD", 10)
# Largest file staff may import (megabytes); larger uploads are refused with a message.
IMPORT_MAX_MB = _env_int("CSAS_IMPORT_MAX_MB", 50)
# Requests larger than this never reach a view (uploads are streamed to disk below it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- e-mail (reminders); the console backend prints messages instead of sending them ----------
EMAIL_BACKEND = os.environ.get(
    "CSAS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("CSAS_FROM_EMAIL", "csas@localhost")
EMAIL_HOST = os.environ.get("CSAS_EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("CSAS_EMAIL_PORT", 25)

# --- site ---------------------------------------------------------------------------------
CSAS_SITE_NAME = os.environ.get("CSAS_SITE_NAME", "Community Safety Action Strategy")
CSAS_STRATEGY_SLUG = os.environ.get("CSAS_STRATEGY_SLUG", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CSAS_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
