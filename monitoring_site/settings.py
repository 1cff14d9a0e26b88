"""Driftwatch settings: one module, every knob from the environment with a safe default.

Embedded default (no variables set): SQLite file, Celery tasks run eagerly in-process.
Production: set DATABASE_URL, CELERY_BROKER_URL, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
DJANGO_CSRF_TRUSTED_ORIGINS. The README lists every variable.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# The fallback key exists so the embedded demo runs with no set-up; production must set its own,
# and `check --deploy` flags this one (it starts with "django-insecure").
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-driftwatch-demo-key-change-me"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drift",
    "governance",
]

MIDDLEWARE = [
    # Outermost: gives the request its id and logs it with its status and duration.
    "monitoring_site.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (the rest is SecurityMiddleware's).
    "monitoring_site.security.SecurityHeadersMiddleware",
    # 400 for NUL characters in the URL (the parsers refuse them in bodies).
    "monitoring_site.security.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 429 on the sign-in forms after repeated failures.
    "monitoring_site.security.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database that does not answer is a 503 with Retry-After (also handler500 in urls.py).
    "monitoring_site.db_errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "monitoring_site.urls"
WSGI_APPLICATION = "monitoring_site.wsgi.application"

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
            ],
        },
    },
]

DATA_DIR = Path(os.environ.get("DRIFTWATCH_DATA_DIR", BASE_DIR / "var"))
DATABASES = {
    # An empty DATABASE_URL means "not set", so the embedded default applies.
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'driftwatch.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the dashboard read while a batch is being written.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "drift:portfolio"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (strict unless DEBUG; each can be relaxed behind a TLS-terminating proxy) ---
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Probes and the metrics scraper come from inside the network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The ingestion endpoints enforce their own, larger limit (DRIFTWATCH_MAX_BODY_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- Email (console in development; SMTP when EMAIL_HOST is set) ---
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "driftwatch@localhost")

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "monitoring_site.auth.TokenOrIntegrationKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["monitoring_site.permissions.ReadOnlyForViewers"],
    "DEFAULT_PARSER_CLASSES": [
        "monitoring_site.parsers.LimitedOrjsonParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "monitoring_site.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Driftwatch API",
    "DESCRIPTION": "Register models, stream prediction telemetry, read analyses and serving decisions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and docs describe the API; they reveal no data, so integrators may read them signed out.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # No call-out to the public validator badge: the docs work offline and leak no schema URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "PredictionStatusEnum": "drift.models.telemetry.PredictionStatus",
        "RunStatusEnum": "drift.models.analysis.RunStatus",
        "RunKindEnum": "drift.models.analysis.RunKind",
        "EventStatusEnum": "governance.models.EventStatus",
        "IncidentStatusEnum": "governance.models.IncidentStatus",
        "DeliveryStatusEnum": "governance.models.DeliveryStatus",
        "SeverityEnum": "governance.models.Severity",
        "IncidentSeverityEnum": "governance.models.IncidentSeverity",
        "ChannelKindEnum": "governance.models.ChannelKind",
        "TimelineKindEnum": "governance.models.TimelineKind",
        "ServingModeEnum": "governance.models.ServingMode",
        "ExperimentDecisionEnum": "drift.models.experiments.Decision",
        "ExperimentModeEnum": "drift.models.experiments.ExperimentMode",
        "PostmortemStatusEnum": "governance.models.postmortems.PostmortemStatus",
        "DrillStatusEnum": "governance.models.drills.DrillStatus",
        "RetrainingStatusEnum": "governance.models.retraining.RetrainingStatus",
        "ActionItemStatusEnum": "governance.models.postmortems.ActionItemStatus",
        "ImprovementTaskStatusEnum": "governance.models.annotations.TaskStatus",
    },
}

# --- Celery: a real broker when CELERY_BROKER_URL is set, otherwise eager in-process ---
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Claims due analyses per model schedule; safe to run often (runs are unique per window).
    "analyses-dispatch": {"task": "drift.tasks.analyses_dispatch", "schedule": 300.0},
    "holdout-evaluate": {"task": "drift.tasks.holdout_evaluate", "schedule": 24 * 3600.0},
    # Escalates incidents nobody acknowledged within their escalation step's minutes.
    "incidents-escalate": {"task": "governance.tasks.incidents_escalate", "schedule": 60.0},
    # Re-sends notifications whose task message was lost (a broker outage when they were created).
    "deliveries-resend": {"task": "governance.tasks.deliveries_resend", "schedule": 300.0},
    # Looks at each running experiment (at most every 15 minutes) and applies its stopping rules.
    "experiments-evaluate": {"task": "drift.tasks.experiments_evaluate", "schedule": 900.0},
    # PostgreSQL: creates the weekly prediction partitions ahead (also done by every `migrate`).
    "partitions-ensure": {"task": "drift.tasks.partitions_ensure", "schedule": 24 * 3600.0},
    # Drops raw predictions older than DRIFTWATCH_RAW_RETENTION_DAYS (does nothing while that is 0).
    "raw-data-prune": {"task": "drift.tasks.raw_data_prune", "schedule": 24 * 3600.0},
}

# --- Driftwatch ---
DRIFTWATCH = {
    # Largest number of records in one ingestion batch.
    "MAX_BATCH_RECORDS": env_int("DRIFTWATCH_MAX_BATCH_RECORDS", 10_000),
    # Largest request body on the API, in bytes (answers 413 above it).
    "MAX_BODY_BYTES": env_int("DRIFTWATCH_MAX_BODY_BYTES", 32 * 1024 * 1024),
    # Records whose timestamp is older than this when received are stored and flagged late.
    "LATENESS_HOURS": env_int("DRIFTWATCH_LATENESS_HOURS", 48),
    # Timestamps further in the future than this are refused (a client clock gone wrong).
    "FUTURE_TOLERANCE_MINUTES": env_int("DRIFTWATCH_FUTURE_TOLERANCE_MINUTES", 10),
    # Key of the HMAC that replaces features marked pii=hash; defaults to one derived from SECRET_KEY.
    "PII_HASH_KEY": os.environ.get("DRIFTWATCH_PII_HASH_KEY", ""),
    # Update profile sketches with every batch. Only the ingest benchmark turns this off, to measure
    # what profiles cost; analyses and dashboards read profiles, so production keeps it on.
    "PROFILES_AT_INGEST": env_bool("DRIFTWATCH_PROFILES_AT_INGEST", True),
    # Seconds a notification delivery may wait for the receiver before it counts as failed.
    "NOTIFY_TIMEOUT_SECONDS": env_int("DRIFTWATCH_NOTIFY_TIMEOUT_SECONDS", 10),
    # Cache-Control max-age of the serving decision (clients revalidate with its ETag).
    "SERVING_DECISION_MAX_AGE": env_int("DRIFTWATCH_SERVING_DECISION_MAX_AGE", 5),
    # PagerDuty Events v2 endpoint (override for a proxy or an EU account).
    "PAGERDUTY_EVENTS_URL": os.environ.get(
        "DRIFTWATCH_PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue"
    ),
    # Largest reference dataset accepted, in rows.
    "MAX_REFERENCE_ROWS": env_int("DRIFTWATCH_MAX_REFERENCE_ROWS", 200_000),
    # Raw predictions (and their outcomes) older than this many days are dropped daily; profiles,
    # label fragments and results stay. 0 keeps raw data forever.
    "RAW_RETENTION_DAYS": env_int("DRIFTWATCH_RAW_RETENTION_DAYS", 0),
    # PostgreSQL: weekly prediction partitions kept created ahead of the current week.
    "PARTITIONS_AHEAD_WEEKS": env_int("DRIFTWATCH_PARTITIONS_AHEAD_WEEKS", 8),
}

# DJANGO_LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id and the
# record's structured fields); the default is plain text. Request bodies are never logged.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "plain").strip().lower()
# Celery workers keep this configuration in JSON mode instead of installing their own text format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "monitoring_site.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"()": "monitoring_site.logging.PlainFormatter"},
        "json": {"()": "monitoring_site.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The request line (driftwatch.request) replaces the development server's own.
        "django.server": {"level": "WARNING"},
    },
}

# --- Operations: cache, sign-in limits, metrics, broker redelivery ---
def cache_from_url(url: str) -> dict[str, object]:
    """`redis://…` → Redis (shared by every process); anything else, or nothing → this process's memory."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "driftwatch",
            # A cache that does not answer must not hold requests up (callers treat errors as misses).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    # The pages cache each analysed window's summary and cells and each rendered model-page body here
    # (drift.page_selectors.run_cache): a model page holds ~60 entries, more than Django's default 300
    # leaves room for across a portfolio. Still bounded: ~20 MB when full of such entries (a few KB
    # each; the rendered bodies, up to ~100 KB, are one per page state).
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "driftwatch",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }


# The sign-in limit and the metrics answer live here; with several web processes use Redis.
CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", ""))}
DRIFTWATCH.update(
    {
        # Failed sign-ins (dashboards and admin) per client address and username, and per address,
        # within the window (seconds), before the form answers 429 with Retry-After.
        "LOGIN_FAILURE_LIMIT": env_int("DRIFTWATCH_LOGIN_FAILURE_LIMIT", 5),
        "LOGIN_FAILURE_LIMIT_PER_ADDRESS": env_int("DRIFTWATCH_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 50),
        "LOGIN_FAILURE_WINDOW": env_int("DRIFTWATCH_LOGIN_FAILURE_WINDOW", 900),
        # Bearer token a Prometheus scraper sends to GET /metrics (staff users may read it signed in).
        "METRICS_TOKEN": os.environ.get("DRIFTWATCH_METRICS_TOKEN", ""),
        "METRICS_CACHE_SECONDS": env_int("DRIFTWATCH_METRICS_CACHE_SECONDS", 10),
    }
)
# A task message a worker took and never acknowledged (the worker was killed) goes back to the queue
# after this many seconds. It must exceed the longest task, or a slow analysis is handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
