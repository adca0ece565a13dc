"""Settings for Hourglass, read from the environment through django-environ.

Every value a deployment changes comes from an environment variable (or a `.env`
file at the top of the checkout); the defaults are the embedded development set-up:
SQLite and a filesystem Celery broker under `var/`, console email.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=True)

# A development key is only acceptable while DEBUG is on; a deployment without
# its own key must refuse to start rather than sign sessions with a public one.
_DEV_SECRET_KEY = "dev-only-insecure-key-hourglass-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string) when DEBUG is off."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "hourglass",
    "systemmaps",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hourglass.languages.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hourglass.middleware.SessionIdleTimeoutMiddleware",
    "hourglass.middleware.PrivateAnswersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hourglass.urls"
WSGI_APPLICATION = "hourglass.wsgi.application"
ASGI_APPLICATION = "hourglass.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hourglass.context_processors.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if "DATABASE_URL" not in env:
    # The embedded default lives under var/, which a fresh clone does not have.
    VAR_DIR.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (the web server's threads, the Celery worker) wait for
    # each other instead of failing with "database is locked": WAL lets readers
    # and the one writer work at once; every transaction begins with BEGIN
    # IMMEDIATE, taking the write lock first, so a transaction that read first
    # never has to upgrade to a write lock (that fails at once, without the busy
    # wait); and a writer waits up to `timeout` seconds for the lock.
    # synchronous=NORMAL is safe in WAL mode (a power cut may lose the last
    # commits, never corrupts the file).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Cache (files under var/cache by default; CACHE_URL=redis://host:6379/1 in production)
# ---------------------------------------------------------------------------

# Holds the drawn maps (systemmaps/rendering.py: the worker draws them, the web
# process serves them), the weekly review's rendered figures and the rate
# limits' counts, so every web process and worker must see the same one: Redis
# when there is one; else files under CACHE_DIR, shared by the embedded
# default's web server and worker on one machine.
CACHE_URL = env.str("CACHE_URL", default="")
CACHE_DIR = Path(env.str("CACHE_DIR", default=str(VAR_DIR / "cache")))
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"CACHE_URL must be a Redis URL (redis://host:6379/1), not {CACHE_URL!r}."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "hourglass",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(CACHE_DIR),
            "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=3000)},
        }
    }
# How long a rendered weekly review is kept. Its key changes with every rollup
# and rename, so this only bounds how long superseded renderings take memory.
REVIEW_CACHE_SECONDS = env.int("REVIEW_CACHE_SECONDS", default=60 * 60 * 24)

# ---------------------------------------------------------------------------
# Map drawings and tidy-up (systemmaps/rendering.py)
# ---------------------------------------------------------------------------

# The worker draws a map (Graphviz) within this many seconds, else the drawing
# fails with a message and the failure is remembered for
# MAP_DRAWING_FAILURE_SECONDS, so a map that cannot draw does not tie up the
# workers again. A drawing not ready after MAP_DRAWING_PENDING_SECONDS (a lost
# job) is queued again.
MAP_DRAWING_TIMEOUT = env.float("MAP_DRAWING_TIMEOUT", default=20.0)
MAP_DRAWING_SECONDS = env.int("MAP_DRAWING_SECONDS", default=60 * 60 * 24)
MAP_DRAWING_FAILURE_SECONDS = env.int("MAP_DRAWING_FAILURE_SECONDS", default=60 * 60)
MAP_DRAWING_PENDING_SECONDS = env.int("MAP_DRAWING_PENDING_SECONDS", default=120)
# Tidy-up (and the editor's layout.json) run Graphviz in the request, so they
# refuse larger maps and stop Graphviz after MAP_TIDY_TIMEOUT seconds.
MAP_TIDY_MAX_STEPS = env.int("MAP_TIDY_MAX_STEPS", default=400)
MAP_TIDY_MAX_ARROWS = env.int("MAP_TIDY_MAX_ARROWS", default=800)
MAP_TIDY_TIMEOUT = env.float("MAP_TIDY_TIMEOUT", default=5.0)

# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

AUTH_USER_MODEL = "hourglass.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
# How long an invitation link stays valid.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
# Where the app is reached, for links in mail sent outside a request (the
# weekly reminders). Invitations take it from the request instead.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)
# A session unused this long is signed out (hourglass/middleware.py); the
# session cookie itself lasts at most SESSION_COOKIE_AGE (two weeks).
SESSION_IDLE_TIMEOUT = 60 * env.int("SESSION_IDLE_MINUTES", default=8 * 60)

# Login throttling (django-axes). Its backend goes first: it refuses an attempt
# while the account or the address is locked out, before any password is checked.
# Code that logs a user in without a password names MODEL_BACKEND.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AUTHENTICATION_BACKENDS = ["hourglass.throttling.LoginThrottleBackend", MODEL_BACKEND]
AXES_ENABLED = env.bool("LOGIN_THROTTLE_ENABLED", default=True)
# Failures in a row of one account from one address before that pair is locked
# out. The pair, not the account: failures from elsewhere never lock the owner
# out of their own account, whatever an attacker does from other addresses.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures from one address on any accounts (within the cool-off) before the
# address is locked out for every account (hourglass.throttling).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
# The lockout lasts this long after the last failure; a success resets the count.
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# The login form's field is "username" (it holds the email address), and the
# form normalises it before authenticate() sees it.
AXES_USERNAME_FORM_FIELD = "username"
# A locked-out person gets the login page again, saying how long to wait.
AXES_LOCKOUT_CALLABLE = "hourglass.throttling.lockout_response"
# The address a lockout counts: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse
# proxies the X-Forwarded-For entry the outermost of them saw (never one the
# client could forge). Without it, everyone behind a proxy shares one address.
AXES_CLIENT_IP_CALLABLE = "hourglass.throttling.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# No attempt log for successful logins: the failures are what throttling needs.
AXES_DISABLE_ACCESS_LOG = True

# Limits on what sends mail or costs work (invitations, password resets,
# sign-ups, imports, exports, recomputes): hourglass/ratelimit.py's RULES.
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)

# ---------------------------------------------------------------------------
# Email (console by default; EMAIL_URL=smtp://user:pass@host:587 in production)
# ---------------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
if not DEBUG and (
    "EMAIL_URL" not in env
    or _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
):
    # Console mail would print live password-reset and invitation links into a
    # production log, and nobody would receive them.
    raise ImproperlyConfigured(
        "EMAIL_URL is not set (or is consolemail://). Set EMAIL_URL to your mail "
        "server, e.g. smtp+tls://user:password@mail.example.com:587, when DEBUG "
        "is off (dummymail:// sends nothing)."
    )
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Hourglass <hourglass@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------
# Internationalisation and time
# ---------------------------------------------------------------------------

LANGUAGE_CODE = "en"
# The languages the app speaks: each has a complete catalogue in locale/
# (tests/test_translations.py fails on a missing or fuzzy entry).
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("ko", _("Korean")),
    ("pl", _("Polish")),
    ("ro", _("Romanian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and times by language (Django's, with English's one style and 24-hour
# times in hourglass/formats/en/): templates name a format, never letters.
FORMAT_MODULE_PATH = ["hourglass.formats"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files
# ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
BUNDLE_DIR = BASE_DIR / "var" / "build"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages installed by `npm ci`, served by the app (no CDN).
    ("vendor/x6", BASE_DIR / "node_modules" / "@antv" / "x6" / "dist"),
    # What `npm run build` bundles (package.json): the edit page's first script,
    # static-view.js with the modules it imports, in one file (make install builds
    # it; the test run rebuilds it when a source is newer, conftest.py).
    ("build", BUNDLE_DIR),
]
# axe-core, a development package (`npm ci` installs it, the image's
# `npm ci --omit=dev` does not): the accessibility test injects it into the
# pages as a same-origin file, under the app's real CSP. Never served in
# production.
AXE_DIR = BASE_DIR / "node_modules" / "axe-core"
if DEBUG and AXE_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor/axe", AXE_DIR))
# WhiteNoise serves collected files in production; in development (and in tests,
# which import these settings with DEBUG on) it finds them where they are.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
# With DEBUG off, collectstatic writes content-hashed, compressed copies (cached
# for a year by browsers); with DEBUG on (development, tests) names stay plain,
# so nothing needs collecting first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default=(
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if DEBUG
                else "hourglass.storage.ManifestStaticFilesStorage"
            ),
        )
    },
}

# ---------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------

# The embedded default is kombu's filesystem transport: one folder is both the
# in- and the out-box, so a worker and beat on this machine need no server.
CELERY_DATA_DIR = Path(env.str("CELERY_DATA_DIR", default=str(VAR_DIR / "celery")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR),
        "data_folder_out": str(CELERY_DATA_DIR),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Beat's crontab times are UTC (each business's week is worked out in its zone).
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-expired-invitations": {
        "task": "hourglass.tasks.invitations_purge_expired",
        "schedule": 60 * 60 * 24,
    },
    "purge-deleted-maps": {
        "task": "systemmaps.tasks.maps_purge_deleted",
        "schedule": 60 * 60 * 24,
    },
    # Metrics: every hour, each business whose week closed (Monday 00:00 in
    # its own zone) has it rolled up, and on Monday from 08:00 there its owners
    # are reminded of missing numbers, once; nightly, every stale week.
    "metrics-weeks-closed": {
        "task": "metrics.tasks.weeks_closed",
        "schedule": crontab(minute=5),
    },
    "metrics-rollup-catch-up": {
        "task": "metrics.tasks.rollup_catch_up",
        "schedule": crontab(minute=30, hour=2),
    },
    "metrics-reminders": {
        "task": "metrics.tasks.reminders_send",
        "schedule": crontab(minute=15),
    },
}

# ---------------------------------------------------------------------------
# Security (production values come from the environment)
# ---------------------------------------------------------------------------

# With DEBUG off every default is the safe one (`manage.py check --deploy` passes
# with no warning); each can be turned off for a set-up that needs it.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# HSTS: a year in production. Start lower (e.g. 300) on a new domain if unsure.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy that ends TLS and sets X-Forwarded-Proto (and strips any
# the client sent), Django must trust that header to know the request was HTTPS;
# otherwise SECURE_SSL_REDIRECT would redirect forever.
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Request sizes. The graph API and the JSON import refuse more than 1 MB with a
# message of their own; anything else larger than this is refused by Django (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024
)
# Uploads up to this size stay in memory; an import file is at most 1 MB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# Content Security Policy (django-csp): no inline script or style anywhere, so an
# injected <script> or style="" in user content does nothing. Pages keep their
# behaviour in static/*.js and their looks in static/*.css. A deployment may send
# it report-only first (CSP_REPORT_ONLY=1).
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every login at INFO; failures and lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

# ---------------------------------------------------------------------------
# Business archive import (hourglass.archive): a background job
# ---------------------------------------------------------------------------

# A job's soft limit (it then fails, rolled back, with a message) and hard one
# (the worker process is killed); a job still "running" after the hard limit
# is reported as failed.
ARCHIVE_IMPORT_SOFT_TIME_LIMIT = env.int("ARCHIVE_IMPORT_SOFT_TIME_LIMIT", default=600)
ARCHIVE_IMPORT_TIME_LIMIT = env.int("ARCHIVE_IMPORT_TIME_LIMIT", default=660)
# Finished jobs (and any upload left) are deleted after this many days.
ARCHIVE_IMPORT_KEEP_DAYS = env.int("ARCHIVE_IMPORT_KEEP_DAYS", default=7)
CELERY_BEAT_SCHEDULE["purge-archive-imports"] = {
    "task": "hourglass.tasks.archive_imports_purge",
    "schedule": 60 * 60,
}
# The live progress of a job (its counts move inside the import's one
# transaction, which nobody else can see): Redis when there is one, shared by
# the web processes and the workers; else files under var/, shared by the
# embedded default's web server and worker on one machine.
CACHES["archive-progress"] = (
    {**CACHES["default"], "KEY_PREFIX": "hourglass-import"}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "import-progress"),
    }
)
