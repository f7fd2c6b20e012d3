"""Settings for cshub, read from the environment only (STYLE 14).

DATABASE_URL   default: SQLite file var/cshub.sqlite3 in WAL mode
REDIS_URL      optional: Huey uses Redis when set, SQLite otherwise
CSHUB_VAR_DIR  where the embedded database, the queue, uploaded files and demo secrets live (default ./var)
DJANGO_SECRET_KEY  required when CSHUB_DEBUG is off; in demo/dev one is generated once into var/secret_key
CSHUB_SFTP_ROOT      the per-organization inbox/outbox folders (default var/sftp; docs/sftp.md)
CSHUB_SFTP_HOST      address `cshub sftp` listens on (default 127.0.0.1)
CSHUB_SFTP_PORT      port `cshub sftp` listens on (default 8022)
CSHUB_SFTP_HOST_KEY  the SFTP server's host key, made on first start, mode 0600 (default var/sftp_host_key)
CSHUB_SFTP_PUBLIC_HOST, CSHUB_SFTP_PUBLIC_PORT  what the key page tells organizations to connect to
                     (default: CSHUB_SFTP_HOST and CSHUB_SFTP_PORT)
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent  # the cshub package
VAR_DIR = Path(os.environ.get("CSHUB_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or os.environ.get("CSHUB_TESTING") == "1"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("CSHUB_DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("CSHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSHUB_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "cshub.core",
    "cshub.accounts",
    "cshub.catalog",
    "cshub.members",
    "cshub.notifications",
    "cshub.referrals",
    "cshub.authorizations",
    "cshub.network",
    "cshub.contracts",
    "cshub.capacity",
    "cshub.directory",
    "cshub.claims",
    "cshub.exchange",
    "cshub.reports",
    "cshub.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cshub.core.middleware.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cshub.core.middleware.RequestContextMiddleware",
    "cshub.core.middleware.RequireMfaForPlanStaffMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cshub.config.urls"
WSGI_APPLICATION = "cshub.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cshub.web.context_processors.navigation",
                "cshub.notifications.context_processors.notifications",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "cshub.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if TESTING else 60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and the SFTP ingest read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "cshub.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Community Supports Hub"
# DESIGN: MFA is mandatory for plan staff in production; the demo turns it off so its printed logins work.
CSHUB_MFA_REQUIRED_FOR_PLAN = env_bool("CSHUB_MFA_REQUIRED_FOR_PLAN", not DEBUG and not TESTING)

AXES_FAILURE_LIMIT = int(os.environ.get("CSHUB_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_ENABLED = not TESTING or env_bool("CSHUB_AXES_IN_TESTS", False)
AXES_RESET_ON_SUCCESS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_SECURE = env_bool("CSHUB_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("CSHUB_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("CSHUB_FROM_EMAIL", "Community Supports Hub <no-reply@cshub.local>")
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Links in notification emails point here (the address users open the app at).
CSHUB_BASE_URL = os.environ.get("CSHUB_BASE_URL", "http://127.0.0.1:8000")

# --- Queue ----------------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "cshub", "url": REDIS_URL, "immediate": TESTING}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "cshub",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }
HUEY["consumer"] = {"workers": 2, "worker_type": "thread", "periodic": True}

# --- Cache (rate limits) --------------------------------------------------------------------------------
# Shared by every web node through Redis when REDIS_URL is set; in-process memory otherwise (one server).
if REDIS_URL and not TESTING:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cshub",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cshub"}}
# The public self-referral form: successful submissions per client address, "count/period" with the
# period in s, m, h or d. Over the limit the form answers 429 until the period ends.
CSHUB_SELF_REFERRAL_RATE_LIMIT = os.environ.get("CSHUB_SELF_REFERRAL_RATE_LIMIT", "5/h")
# Rule N1: the public Provider Interest Form, same "count/period" shape.
CSHUB_INTEREST_FORM_RATE_LIMIT = os.environ.get("CSHUB_INTEREST_FORM_RATE_LIMIT", "5/h")
# Rule R6: a referral whose status has not changed for this many days reminds the provider (and the member
# when email is their preferred contact).
CSHUB_REFERRAL_REMINDER_DAYS = int(os.environ.get("CSHUB_REFERRAL_REMINDER_DAYS", "7"))
# Rule D3: staffing and capacity reports are due on these month-days, each for the quarter that ended
# before it (Q4 on January 31 of the next year); reminders go to the provider's leadership this many
# calendar days before the due date (comma-separated); after the due date the quarter is flagged late.
CSHUB_CAPACITY_DUE_DATES = os.environ.get("CSHUB_CAPACITY_DUE_DATES", "01-31,04-30,07-31,10-31")
CSHUB_CAPACITY_REMINDER_DAYS = os.environ.get("CSHUB_CAPACITY_REMINDER_DAYS", "14,3")
# The largest document accepted (faxes, signed consents, attachments), checked by cshub.core.uploads.
CSHUB_UPLOAD_MAX_BYTES = int(os.environ.get("CSHUB_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
# Rule A8 (Reference Guide §8.2.2; policy_updates item 9): the regulatory clocks of authorization requests,
# computed by cshub.authorizations.clocks on core.clock's business calendar.
CSHUB_AUTH_EXPEDITED_HOURS = int(os.environ.get("CSHUB_AUTH_EXPEDITED_HOURS", "72"))
CSHUB_AUTH_ROUTINE_BUSINESS_DAYS = int(os.environ.get("CSHUB_AUTH_ROUTINE_BUSINESS_DAYS", "5"))
CSHUB_AUTH_ROUTINE_MAX_CALENDAR_DAYS = int(os.environ.get("CSHUB_AUTH_ROUTINE_MAX_CALENDAR_DAYS", "14"))
CSHUB_AUTH_EXTENSION_MAX_CALENDAR_DAYS = int(os.environ.get("CSHUB_AUTH_EXTENSION_MAX_CALENDAR_DAYS", "14"))
# An extension of an ongoing service asked for at least this many hours before its authorization ends is
# an urgent concurrent review, decided within CSHUB_AUTH_CONCURRENT_REVIEW_HOURS.
CSHUB_AUTH_CONCURRENT_NOTICE_HOURS = int(os.environ.get("CSHUB_AUTH_CONCURRENT_NOTICE_HOURS", "24"))
CSHUB_AUTH_CONCURRENT_REVIEW_HOURS = int(os.environ.get("CSHUB_AUTH_CONCURRENT_REVIEW_HOURS", "24"))
# The review queue colors a request amber when less than this share of its clock is left.
CSHUB_AUTH_QUEUE_WARN_FRACTION = float(os.environ.get("CSHUB_AUTH_QUEUE_WARN_FRACTION", "0.25"))

# Claims (rules C2, C3, C5; Reference Guide §9). Payer IDs the 837P intake accepts (2010BB NM109 or GS03):
# "95567" Medi-Cal direct, "68069" through Availity. An entry "ID=PLANCODE" routes that payer ID to the plan
# with that DHCS plan code; a plain ID routes by the member's eligibility (or the provider's only plan).
CSHUB_CLAIMS_PAYER_IDS = os.environ.get("CSHUB_CLAIMS_PAYER_IDS", "95567,68069")
CSHUB_CLAIMS_TIMELY_FILING_DAYS = int(os.environ.get("CSHUB_CLAIMS_TIMELY_FILING_DAYS", "180"))
CSHUB_CLAIMS_PAYMENT_BUSINESS_DAYS = int(os.environ.get("CSHUB_CLAIMS_PAYMENT_BUSINESS_DAYS", "45"))
# The aging page calls an unpaid claim "at risk" when its payment deadline is this many business days away.
CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS = int(os.environ.get("CSHUB_CLAIMS_AT_RISK_BUSINESS_DAYS", "10"))
# 837P files are validated by pyx12 one transaction set per process when a file has several (0: one per core).
CSHUB_CLAIMS_X12_WORKERS = int(os.environ.get("CSHUB_CLAIMS_X12_WORKERS", "1"))
# Rule D6: the monthly utilization job also makes any report missed in this many months before this one.
CSHUB_UTILIZATION_CATCHUP_MONTHS = int(os.environ.get("CSHUB_UTILIZATION_CATCHUP_MONTHS", "3"))
# --- File exchange (SFTP) ------------------------------------------------------------------------------
# Each organization's folder is CSHUB_SFTP_ROOT/<organization uuid>/ with inbox/ and outbox/
# (cshub.exchange.folders); `cshub sftp` serves it, or OpenSSH with ChrootDirectory (docs/sftp.md).
CSHUB_SFTP_ROOT = Path(os.environ.get("CSHUB_SFTP_ROOT", VAR_DIR / "sftp")).resolve()
CSHUB_SFTP_HOST = os.environ.get("CSHUB_SFTP_HOST", "127.0.0.1")
CSHUB_SFTP_PORT = int(os.environ.get("CSHUB_SFTP_PORT", "8022"))
CSHUB_SFTP_HOST_KEY = Path(os.environ.get("CSHUB_SFTP_HOST_KEY", VAR_DIR / "sftp_host_key"))
CSHUB_SFTP_PUBLIC_HOST = os.environ.get("CSHUB_SFTP_PUBLIC_HOST", CSHUB_SFTP_HOST)
CSHUB_SFTP_PUBLIC_PORT = int(os.environ.get("CSHUB_SFTP_PUBLIC_PORT", str(CSHUB_SFTP_PORT)))
# The largest file the embedded server accepts into an inbox (the worker reads a file whole).
CSHUB_SFTP_MAX_UPLOAD_BYTES = int(os.environ.get("CSHUB_SFTP_MAX_UPLOAD_BYTES", str(256 * 1024 * 1024)))
# The periodic sweep takes an inbox file only once it has not changed for this many seconds, so a file
# still being written by another server (OpenSSH) is left alone; the embedded server's uploads are
# taken at once when they close.
CSHUB_INBOX_SETTLE_SECONDS = int(os.environ.get("CSHUB_INBOX_SETTLE_SECONDS", "60"))
# Who takes an inbox file: dotted paths of handler(organization, filename, data) -> InboxOutcome | None,
# asked in this order (cshub.exchange.inbox). Code, not deployment configuration, so not read from the
# environment; each app that ingests files adds its handler here.
CSHUB_INBOX_HANDLERS: list[str] = ["cshub.claims.ingest.inbox_handler", "cshub.exchange.csprtf.inbox_handler"]
# Rule D2 (Reference Guide §12.2): the CSPRTF for a month is accepted until the end of this day of the next
# month, Pacific time (a day the month lacks: its last day); a later file is refused and its updates go in
# the next month's file. A weekend or holiday does not move it.
CSHUB_CSPRTF_CUTOFF_DAY = int(os.environ.get("CSHUB_CSPRTF_CUTOFF_DAY", "5"))

# --- Files, static, i18n --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "files"},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
CSHUB_MAX_UPLOAD_BYTES = int(os.environ.get("CSHUB_MAX_UPLOAD_BYTES", str(50 * 1024 * 1024)))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"  # display; stored values are UTC (USE_TZ)
USE_I18N = True
USE_TZ = True

# --- API ------------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
CSHUB_PAGE_SIZE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("CSHUB_LOG_LEVEL", "WARNING" if TESTING else "INFO"),
    },
    "loggers": {
        "django.server": {"level": "WARNING"},
        "huey": {"level": "INFO"},
        # WeasyPrint logs every layout step at INFO; a letter is worth a line only when something is wrong.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
