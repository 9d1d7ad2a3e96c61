"""Settings, read from the environment (or a `.env` file) through django-environ.

Every value has a safe default for a laptop; a malformed value stops start-up with
ImproperlyConfigured instead of being guessed at.
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _bool(name, default):
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _int(name, default):
    raw = env.str(name, default=str(default))
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}")


def _float(name, default):
    raw = env.str(name, default=str(default))
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}")


def _secret_key():
    """A stable local key: generated once into `.secret_key` when none is configured."""
    if key := env.str("SECRET_KEY", default=""):
        return key
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = _bool("DEBUG", False)
SECRET_KEY = _secret_key()
# Former keys, still accepted: sessions, signatures and stored secrets survive a rotation.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])


def _secrets_keys():
    """Keys for stored secrets (core/vault.py): the first encrypts, all decrypt."""
    keys = env.list("SECRETS_KEYS", default=[])
    if any(len(key) < 32 for key in keys):
        raise ImproperlyConfigured(
            "SECRETS_KEYS must be comma-separated random strings of at least 32 characters, "
            "e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return keys


# Empty: stored secrets use a key derived from SECRET_KEY, as before SECRETS_KEYS existed.
SECRETS_KEYS = _secrets_keys()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.web.errors.csrf_failure"


def _proxy_ssl_header():
    """`X-Forwarded-Proto` -> ("HTTP_X_FORWARDED_PROTO", "https"): only for a proxy that
    sets (and overwrites) that header, else anyone could claim https."""
    name = env.str("SECURE_PROXY_SSL_HEADER", default="").strip()
    if not name:
        return None
    if not all(part.isalnum() for part in name.split("-")):
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER must be a header name, not {name!r}")
    return ("HTTP_" + name.upper().replace("-", "_"), "https")


# HTTPS. Off by default so that http://127.0.0.1 works; set them behind TLS (README).
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers check over plain HTTP
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()

# Scripts only from our own files: no inline <script>, no onclick=, no eval (htmx is told
# so in templates/base.html). Style attributes stay allowed (widths and bar lengths are
# data), <style> elements do not.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "ninja",  # serves its Swagger UI from static files: the API docs work offline
    "core",
    "builder",
    "runner",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "builder.webhooks.shortcut",  # /hooks/ skips the rest (webhook deliveries, hot path)
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP below
    "core.api.strict_query.strict_query",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.request_context.request_context",  # the audit log's actor, address, user agent
    "allauth.account.middleware.AccountMiddleware",
    "core.web.two_factor.owners_need_two_factor",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"

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
                "core.context_processors.workspace",
                "core.context_processors.accounts",
            ],
        },
    },
]


def _database():
    try:
        db = env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    except Exception as error:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {error}")
    if not db["ENGINE"].startswith("django.db.backends."):
        raise ImproperlyConfigured(
            f"DATABASE_URL: unknown database scheme {db['ENGINE']!r}; use postgres:// or sqlite://"
        )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + IMMEDIATE transactions let the web process and the worker threads
        # share one SQLite file without "database is locked" on upgrade.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        db["ENGINE"] = "core.postgresql"  # Django's, with a health check of no round trip
        db.setdefault("CONN_MAX_AGE", _int("CONN_MAX_AGE", 60))
        db["CONN_HEALTH_CHECKS"] = True
        if _bool("DATABASE_PREPARED", True):
            # Server-side binding and prepared statements: the engine repeats the same few
            # statements, so PostgreSQL parses and plans them once (a step's transaction
            # takes a third less time). Off behind a pooler that cannot keep them.
            db.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _broker_url():
    url = env.str("BROKER_URL", default="") or env.str("REDIS_URL", default="")
    url = url or "redis://127.0.0.1:6379/0"
    if urlsplit(url).scheme not in ("redis", "rediss", "unix", "amqp", "amqps"):
        raise ImproperlyConfigured(f"BROKER_URL/REDIS_URL must be redis:// or amqp://, not {url!r}")
    return url


BROKER_URL = _broker_url()
# Redis used for coordination (idempotency locks, heartbeats); the broker's own
# Redis unless the broker is RabbitMQ.
REDIS_URL = env.str("REDIS_URL", default="") or (
    BROKER_URL if BROKER_URL.startswith(("redis", "unix")) else "redis://127.0.0.1:6379/0"
)
BROKER_QUEUE = env.str("BROKER_QUEUE", default="brickwork")


def _mailers():
    url = env.str("EMAIL_URL", default="")
    if not url:
        return {"default": {"BACKEND": "core.mail.EmailBackend"}}  # prints headers only
    try:
        parsed = environ.Env.email_url_config(url)
    except Exception as error:
        raise ImproperlyConfigured(f"EMAIL_URL is not a valid e-mail URL: {error}")
    backend = parsed["EMAIL_BACKEND"]
    if backend != "django.core.mail.backends.smtp.EmailBackend":
        return {"default": {"BACKEND": backend}}
    options = {
        "host": parsed.get("EMAIL_HOST"),
        "port": parsed.get("EMAIL_PORT"),
        "username": parsed.get("EMAIL_HOST_USER") or None,
        "password": parsed.get("EMAIL_HOST_PASSWORD") or None,
        "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
        "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
        "timeout": 10,
    }
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = _mailers()
# Without EMAIL_URL, messages are printed instead of sent: whole only when this is true.
EMAIL_CONSOLE_BODIES = _bool("EMAIL_CONSOLE_BODIES", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="brickwork@localhost")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Plain storage: no manifest to build before tests or `make run`.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Engine tuning (seconds). See runner/sweeper.py for what each one guards.
SWEEP_INTERVAL_S = _float("SWEEP_INTERVAL_S", 1)
# Pure actions (@action(pure=True)) that follow each other run and commit together.
INLINE_PURE_STEPS = env.bool("INLINE_PURE_STEPS", default=True)
# PostgreSQL: a step's transitions (claim, success, failure) commit without waiting for
# the WAL flush. A PostgreSQL crash may then forget the last fraction of a second of
# them: those steps run again, as after a worker crash. Run starts, webhook deliveries,
# approvals and everything else stay durable.
ASYNC_STEP_COMMIT = env.bool("ASYNC_STEP_COMMIT", default=False)
WORKER_DEAD_AFTER_S = _float("WORKER_DEAD_AFTER_S", 10)
LOST_MESSAGE_AFTER_S = _float("LOST_MESSAGE_AFTER_S", 30)
MAX_REQUEST_BYTES = 1024 * 1024
# Webhook deliveries are kept this many days (the sweeper deletes older ones).
WEBHOOK_DELIVERY_RETENTION_DAYS = _int("WEBHOOK_DELIVERY_RETENTION_DAYS", 30)
if WEBHOOK_DELIVERY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("WEBHOOK_DELIVERY_RETENTION_DAYS must be at least 1")
# Seconds a web process reuses a webhook's trigger and latest version (0: look up each time);
# a change made in another process reaches this one within it (builder/webhook_cache.py).
# Modules whose @action functions become actions of every workspace (besides the built-ins).
ACTION_MODULES = env.list("ACTION_MODULES", default=[])
# Anyone who reaches the server may create an account (and a workspace) unless off.
# Where actions may send requests (core/outbound.py): hosts, addresses or CIDRs, each
# optionally with :port. ALLOW lifts the default deny list (loopback, private, metadata...);
# DENY refuses even what ALLOW permits.
OUTBOUND_ALLOW = env.list("OUTBOUND_ALLOW", default=[])
OUTBOUND_DENY = env.list("OUTBOUND_DENY", default=[])

SIGNUP_OPEN = env.bool("SIGNUP_OPEN", default=True)
# Audit entries are kept this many days (the sweeper's pruning pass deletes older ones).
AUDIT_RETENTION_DAYS = _int("AUDIT_RETENTION_DAYS", 365)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1")
SIGN_IN_FAILURES_PER_NAME = _int("SIGN_IN_FAILURES_PER_NAME", 10)  # 0: no limit
SIGN_IN_FAILURES_PER_ADDRESS = _int("SIGN_IN_FAILURES_PER_ADDRESS", 100)
SIGN_IN_WINDOW_MIN = _int("SIGN_IN_WINDOW_MIN", 15)
if SIGN_IN_WINDOW_MIN < 1:
    raise ImproperlyConfigured("SIGN_IN_WINDOW_MIN must be at least 1")

# Accounts (django-allauth): core/web/accounts.py.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "core.web.accounts.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "core.web.accounts.SocialAccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "core.web.signup_form.WorkspaceSignupForm"
ACCOUNT_FORMS = {"login": "core.web.login_form.UsernameOrEmailLoginForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
# New addresses are confirmed by a link; "mandatory" (no sign-in before) needs a real
# mailer, so it is the default only when EMAIL_URL is set.
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION",
    default="mandatory" if env.str("EMAIL_URL", default="") else "optional",
)
if ACCOUNT_EMAIL_VERIFICATION not in ("mandatory", "optional", "none"):
    raise ImproperlyConfigured("ACCOUNT_EMAIL_VERIFICATION must be mandatory, optional or none")
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Brickwork] "
# Failed sign-ins are braked by core/sign_in_brake.py (shared through Redis) instead.
ACCOUNT_RATE_LIMITS = {"login_failed": None}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Brickwork"
# Owners of a workspace must turn on two-factor sign-in before they can go on.
TWO_FACTOR_REQUIRED_FOR_OWNERS = _bool("TWO_FACTOR_REQUIRED_FOR_OWNERS", False)
# People of the identity provider are who it says: their address needs no second check.
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False


def _oidc_providers():
    """Sign-in through an OpenID Connect provider, when OIDC_SERVER_URL is set."""
    server_url = env.str("OIDC_SERVER_URL", default="")
    if not server_url:
        return {}
    client_id = env.str("OIDC_CLIENT_ID", default="")
    if not client_id:
        raise ImproperlyConfigured("OIDC_SERVER_URL is set: OIDC_CLIENT_ID is needed too")
    app = {
        "provider_id": "oidc",
        "name": env.str("OIDC_NAME", default="Single sign-on"),
        "client_id": client_id,
        "secret": env.str("OIDC_CLIENT_SECRET", default=""),
        "settings": {"server_url": server_url},
    }
    return {"openid_connect": {"APPS": [app], "OAUTH_PKCE_ENABLED": True}}


SOCIALACCOUNT_PROVIDERS = _oidc_providers()
if SOCIALACCOUNT_PROVIDERS:
    # Signing in with the provider posts a form here that redirects there, and CSP's
    # form-action covers redirects: the provider's origin must be allowed.
    _provider = urlsplit(env.str("OIDC_SERVER_URL"))
    SECURE_CSP["form-action"] = [CSP.SELF, f"{_provider.scheme}://{_provider.netloc}"]
WEBHOOK_CACHE_S = _float("WEBHOOK_CACHE_S", 2)
if not 0 <= WEBHOOK_CACHE_S <= 60:
    raise ImproperlyConfigured("WEBHOOK_CACHE_S must be between 0 and 60")
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES + 1024
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_PUBLIC = _bool("METRICS_PUBLIC", False)  # /metrics without a token, for anyone
# Requests per minute per API key (0: no limit); answered 429 beyond it.
API_RATE_LIMIT_PER_MINUTE = _int("API_RATE_LIMIT_PER_MINUTE", 6000)

LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {
            "()": "core.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s",
        },
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
