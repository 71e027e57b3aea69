"""Settings come from the environment (12-factor).

With nothing set the app runs on an embedded default: a SQLite file and a Celery broker kept in
folders on disk, so `make run` needs no server. DATABASE_URL and REDIS_URL switch to PostgreSQL
and Redis.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-development-only-key-never-use-in-production",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
# Set only when a TLS-terminating proxy is in front: then its X-Forwarded-Proto says whether
# the request came over HTTPS and its X-Forwarded-For says who the client is. Without a proxy
# those headers come from the client and must not be trusted.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "slaportal",
    "agreements",
    "discussions",
    "leads",
    "kpis",
    "captures",
    "integrations",
    "people",
]

MIDDLEWARE = [
    # First: the container health check answers whatever Host it sends (see the middleware).
    "slaportal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the person's chosen language comes before their browser's.
    "slaportal.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: every time a person sees is in the SLA calendar's zone.
    "slaportal.clock.SlaTimeZoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "slaportal.urls"
WSGI_APPLICATION = "slaportal.wsgi.application"
ASGI_APPLICATION = "slaportal.asgi.application"

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
                "slaportal.context_processors.roles",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'slaportal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # The web process and the Celery worker share the file: WAL lets readers run beside a
    # writer, and IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file, not SQLite's default in-memory database. With an in-memory one, the
    # live server's request threads all share the test's single connection, and two requests
    # at once (a page and its htmx call) deadlock inside SQLite when one runs a Python
    # function such as Django's REGEXP: a CI run on 2026-12-03 waited forever on it. With a
    # file each thread has its own connection, as in production. In RAM where there is a RAM
    # disk (no disk writes); one file per process, so runs side by side never share one.
    _TEST_DB_DIR = (
        Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    )
    DATABASES["default"]["TEST"] = {
        "NAME": str(_TEST_DB_DIR / f"slaportal-test-{os.getpid()}.sqlite3")
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: a web or worker process keeps its PostgreSQL connection between
# requests instead of opening one per request (a backend fork and an authentication, several
# milliseconds of both cores' time); the health check drops one the server closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parallel workers only for queries big enough to repay starting them: on two cores a
    # queue page's 25-lead score query took 8 ms with two workers and 3 ms without. Scans of
    # the whole table (rescores, backfills) still cost far more and still go parallel.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c parallel_setup_cost=" + env(
        "DATABASE_PARALLEL_SETUP_COST", default="20000"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The API throttles' counters (slaportal.security); shared by every web process on Redis.
CACHES["throttle"] = dict(CACHES["default"])
# {% cache %} fragments (the page head and menu in base.html): in each process's memory, as
# their keys name everything they depend on and reading them from Redis would cost a round trip.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused for the cool-off period. An administrator unlocks it early by deleting
# its "access attempts" in the admin, or with `manage.py axes_reset_username USERNAME`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "slaportal.security.login_lockout_response"
AXES_CLIENT_IP_CALLABLE = "slaportal.security.client_ip"
# Its start-up banner would print on every manage.py command.
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# English is the source language; Brazilian Portuguese is in locale/pt_BR (issue 13). Who sees
# which: slaportal.language.LanguageMiddleware. The workspace's default (slaportal.workspace)
# stands in for LANGUAGE_CODE wherever a person is known.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Times read "14h30" in Portuguese (slaportal/formats/pt_BR); the rest is Django's.
FORMAT_MODULE_PATH = ["slaportal.formats"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SLA Portal <sla@localhost>")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token authentication that answers 429 to an address sending too many wrong tokens.
        "slaportal.security.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "slaportal.security.AnonThrottle",
        "slaportal.security.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="1000/min"),
        "failed_auth": env("API_THROTTLE_FAILED_AUTH", default="20/min"),
    },
    # The client address of a throttle: REMOTE_ADDR, or the one the TLS proxy appended to
    # X-Forwarded-For. 0 matters: unset, DRF would key on the whole, client-written header.
    "NUM_PROXIES": 1 if BEHIND_TLS_PROXY else 0,
    # Refuses JSON too deep to decode and lone surrogates with a 400 instead of a 500.
    "DEFAULT_PARSER_CLASSES": [
        "leads.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": "Leads, activity and KPIs of the sales–marketing SLA.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for the API's users: a token or a login is needed to read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The docs page's JavaScript is served from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Each outbound webhook event and its payload (integrations/schema.py).
    "WEBHOOKS": [
        f"integrations.schema.{name}"
        for name in (
            "lead_created",
            "lead_mql",
            "lead_stage_changed",
            "handoff_created",
            "handoff_at_risk",
            "handoff_breached",
            "handoff_met",
            "handoff_accepted",
            "handoff_rejected",
            "handoff_returned",
            "handoff_reassigned",
            "nurture_enrolled",
            "sla_version_published",
            "test_ping",
        )
    ],
    # Two fields are called "stage" with different choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "LifecycleStageEnum": "leads.models.Stage",
        "CrmStageEnum": ["opportunity", "customer"],
        "WebhookEndpointStatusEnum": "integrations.models.WebhookEndpoint.Status",
    },
    # The 400/401/403/404/429 answers every operation can give, documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leads.api.schema.document_error_responses",
    ],
}

# Redis hands an unacknowledged message to another worker after the visibility timeout: it must
# be longer than the longest task (jobs run in chunks and the hard time limit here ends any
# task well before it), or a slow task would run twice at once.
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
_VISIBILITY_TIMEOUT = 2 * 60 * 60
# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, a broker made of
# two folders that needs no server, so `make run` has background jobs out of the box.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _VISIBILITY_TIMEOUT,
        # Sending retries once, briefly: with Redis down a request that enqueues answers at
        # once (its work is stored; the sweeper sends it later) instead of sleeping seconds.
        "max_retries": 1,
        "interval_start": 0.1,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
else:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (worker control) messages too, or kombu writes them to the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the task ran, and hand the message back when the process running it dies
# (kill -9, out of memory), so a crash re-runs the task instead of losing it. Tasks take ids
# and are idempotent, so running one twice is safe. One message at a time per process: a
# worker that dies holds no backlog of prefetched messages hostage.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker outage must not hang a web request that enqueues: fail fast, the sweeper catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The sweeper (leads.tasks.sweep_stuck_work) resends an import still waiting for its task after
# the grace, and starts over an import whose run stopped renewing its claim (its worker died).
IMPORT_PENDING_GRACE_SECONDS = env.int("IMPORT_PENDING_GRACE_SECONDS", default=60)
IMPORT_CLAIM_SECONDS = env.int("IMPORT_CLAIM_SECONDS", default=5 * 60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Content-Security-Policy (django-csp): scripts and styles only from our own static files,
# never inline — the templates keep their JavaScript in static/js/ and pass data through
# json_script. Bootstrap's CSS draws some icons from data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # fpdf2's font subsetting logs every step at INFO.
    "loggers": {"fontTools": {"level": "WARNING"}},
}

# Absolute links in e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# How nurture content reaches a lead; the console backend logs it (development).
NURTURE_DELIVERY_BACKEND = env("NURTURE_DELIVERY_BACKEND", default="leads.delivery.ConsoleDelivery")

# Outbound webhooks: hosts allowed even though they resolve to private or loopback addresses
# (tests allow 127.0.0.1); a timeout per attempt; failures in a row that pause an endpoint.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_PAUSE_AFTER_FAILURES = env.int("WEBHOOK_PAUSE_AFTER_FAILURES", default=20)

# One scheduler (beat) runs these; each job is incremental and safe to run twice.
CELERY_BEAT_SCHEDULE = {
    # Delivery is also enqueued when a notice is written; this catches up after an outage.
    "deliver-outbox": {"task": "slaportal.tasks.deliver_outbox", "schedule": 30.0},
    "score-new-activity": {"task": "leads.tasks.score_new_activity", "schedule": 30.0},
    "flag-breaches": {"task": "leads.tasks.flag_breaches", "schedule": 60.0},
    "apply-cadence": {"task": "leads.tasks.apply_cadence", "schedule": 15 * 60.0},
    "advance-nurture": {"task": "leads.tasks.advance_nurture", "schedule": 15 * 60.0},
    "rollup-kpis": {"task": "kpis.tasks.rollup_recent_days", "schedule": 10 * 60.0},
    # Hourly: each sends once per meeting or period (outbox keys), from its day on.
    "send-review-pack": {"task": "kpis.tasks.send_review_pack", "schedule": 60 * 60.0},
    "send-kpi-digests": {"task": "kpis.tasks.send_kpi_digests", "schedule": 60 * 60.0},
    "sweep-stuck-work": {"task": "leads.tasks.sweep_stuck_work", "schedule": 60.0},
    # Availability (issue 11): absences' on-start policy once each; waiting leads to free reps.
    "apply-absences": {"task": "people.tasks.apply_absences", "schedule": 60.0},
    "assign-waiting": {"task": "people.tasks.assign_waiting", "schedule": 60.0},
    "rescore-all-leads-for-decay": {
        "task": "leads.tasks.rescore_all_leads",
        "schedule": 24 * 60 * 60.0,
    },
}
