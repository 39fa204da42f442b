"""Undersign's one settings module: every value comes from the environment (docs/settings.md)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import to_locale

from undersign.core.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_raw,
    env_str,
    env_witnesses,
    parse_email_url,
)
from undersign.core.keys import load_key_material
from undersign.core.site_address import DEFAULT_ADDR, allowed_host, parse_addr, site_url_for_addr, site_urls

PACKAGE_DIR = Path(__file__).resolve().parent

MODE = env_choice("UNDERSIGN_MODE", "embedded", ("embedded", "production"))
PRODUCTION = MODE == "production"
DATA_DIR = Path(env_str("UNDERSIGN_DATA_DIR", str(Path.cwd() / "data"))).resolve()

KEYS = load_key_material(production=PRODUCTION, data_dir=DATA_DIR)
SECRET_KEY = KEYS.secret_key

DEBUG = env_bool("DEBUG", False)
# Where `undersign run` listens (`undersign run --addr` and `make run ADDR=…` set it for every
# step); the site's address in links and e-mails follows it unless SITE_URL is set.
RUN_ADDR = env_str("UNDERSIGN_ADDR", DEFAULT_ADDR)
parse_addr(RUN_ADDR)  # a typo stops every process, not only `undersign run`
# Every address the site is served at (a clearnet name, a Tor onion address), the primary first:
# SITE_URL when set, else the first listed. Pages link to the address they were asked for
# (core.origins); e-mails, tasks and the log's default name use the primary.
SITE_URLS = site_urls(
    site_url=env_str("SITE_URL", ""), listed=env_list("SITE_URLS", []), default=lambda: site_url_for_addr(RUN_ADDR)
)
SITE_URL = SITE_URLS[0]
# The site answers to its own addresses whatever else is listed.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
for _site_host in map(allowed_host, SITE_URLS):
    if _site_host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_site_host)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("SITE_NAME", "Undersign")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    # Staff's second factor (site.second_factor): TOTP devices and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "undersign.core",
    "undersign.petitions",
    "undersign.signatures",
    "undersign.moderation",
    "undersign.verification",
    "undersign.transparency",
    "undersign.abuse",
    "undersign.counting",
    "undersign.retention",
    "undersign.api",
    "undersign.sharing",
    "undersign.site",
    "undersign.mirror",
]

MIDDLEWARE = [
    # Django's, except that onion origins are neither redirected to https:// nor given HSTS.
    "undersign.core.middleware.SecurityMiddleware",
    # With several SITE_URLS, a response whose links follow the Host says so (Vary: Host).
    "undersign.core.middleware.SiteOriginMiddleware",
    "undersign.core.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "undersign.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language from its URL prefix only (no cookie: core.languages).
    "undersign.core.languages.UrlLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "undersign.core.middleware.StaffIdleTimeoutMiddleware",
    "undersign.site.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "undersign.urls"
WSGI_APPLICATION = "undersign.wsgi.application"

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
                "undersign.core.context_processors.site",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'undersign.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600 if PRODUCTION else 0, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server's readers go on while the log's integrator writes. secure_delete
    # zeroes what a delete or an update frees, so the file's free pages keep no purged draft nor
    # a time from before its rounding (docs/threat-model.md).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# Read replicas of the primary for public reads only (core/db.py says which and why).
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", []), start=1):
    try:
        DATABASES[f"replica{_number}"] = dj_database_url.parse(
            _url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS: {exc}") from exc
    # Tests run against the primary: a replica in tests would see nothing the test wrote.
    DATABASES[f"replica{_number}"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["undersign.core.db.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: Celery with Redis as broker when REDIS_URL is set; otherwise in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://localhost/"
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff_home"
LOGOUT_REDIRECT_URL = "home"

# The site's languages, its default first: each has its own URL prefix (/en/, /ru/) and a
# catalogue in every app (docs/i18n.md says how to add one).
SITE_LANGUAGES = env_list("SITE_LANGUAGES", ["en", "ru"])
_UNKNOWN_LANGUAGES = [code for code in SITE_LANGUAGES if "name_local" not in LANG_INFO.get(code, {})]
if not SITE_LANGUAGES or _UNKNOWN_LANGUAGES:
    raise ImproperlyConfigured(
        "SITE_LANGUAGES must list language codes Django knows, such as en,ru "
        f"(unknown: {', '.join(_UNKNOWN_LANGUAGES) or 'none given'})"
    )
_UNTRANSLATED = [
    code
    for code in SITE_LANGUAGES
    if code != "en" and not (PACKAGE_DIR / "core" / "locale" / to_locale(code) / "LC_MESSAGES" / "django.mo").exists()
]
if _UNTRANSLATED:
    raise ImproperlyConfigured(
        f"SITE_LANGUAGES names languages Undersign has no catalogue for: {', '.join(_UNTRANSLATED)} "
        "(docs/i18n.md says how to add one)"
    )
LANGUAGES = [(code, LANG_INFO[code]["name_local"]) for code in SITE_LANGUAGES]
LANGUAGE_CODE = SITE_LANGUAGES[0]
# British English dates and numbers for "en" (Django's own "en" is American).
FORMAT_MODULE_PATH = ["undersign.core.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_URL = env_str("EMAIL_URL", f"file://{DATA_DIR / 'mail'}")
vars().update(parse_email_url(EMAIL_URL))
if PRODUCTION and urlsplit(EMAIL_URL).scheme not in ("smtp", "smtps", "smtp+tls"):
    # Mail kept in files, printed to the console or held in memory reaches no one, and leaves
    # signers' addresses and their confirmation links on a disk or in a log.
    raise ImproperlyConfigured(
        "EMAIL_URL must be an smtp://, smtps:// or smtp+tls:// URL in production mode "
        f"(not {urlsplit(EMAIL_URL).scheme}://): file, console and locmem mail reach no one"
    )
EMAIL_FILE_PATH: str  # set just above for file:// URLs only, the EmlFileBackend's folder (declared for mypy)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Undersign <no-reply@undersign.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "undersign.site.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# How many X-Forwarded-For entries, counted from the right, our own proxies appended: 1 for a
# load balancer alone, 2 for a CDN in front of it. The client is the entry that many hops from
# the right (core.http.client_ip); anything further left is whatever the client sent.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 1, minimum=1, maximum=5)
if env_raw("TRUSTED_PROXY_HOPS") is not None and not BEHIND_TLS_PROXY:
    # Without a trusted proxy the header is ignored: the operator who counts hops but forgot
    # BEHIND_TLS_PROXY would otherwise see every client share the proxy's address.
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS counts the trusted proxy's hops: set BEHIND_TLS_PROXY=true too")
# HTTPS only: plain HTTP requests are redirected to https:// and HTTPS answers carry HSTS, so a
# browser that has been here once never again sends a signer's request in the clear.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# Preloading asks browser makers to hard-code the domain as HTTPS-only, which takes months to
# undo: the operator's decision (docs/deployment.md), so off unless asked for.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Onion addresses (Tor) in SITE_URLS are served over plain HTTP, Tor itself encrypting and
# authenticating: requests for them are neither redirected nor given HSTS (core.middleware).
# ONION_HOSTS said so before SITE_URLS existed; it is refused rather than ignored, since an
# onion name left out of SITE_URLS would be redirected to an https:// that does not exist.
if env_raw("ONION_HOSTS") is not None:
    raise ImproperlyConfigured(
        "ONION_HOSTS was replaced by SITE_URLS: list the onion address there, e.g. "
        "SITE_URLS=https://petitions.example.org,http://<name>.onion (docs/deployment.md)"
    )
# security.W021 (HSTS without preload): preloading is left to the operator, see above.
# security.W001 (Django's SecurityMiddleware missing): ours replaces it, and core.checks runs
# Django's checks of its settings as if Django's were named, and warns if ours is missing.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W021"]
# The admin's URL prefix: one path segment and a slash, e.g. "staff-7f3a/" (docs/settings.md).
ADMIN_PATH = env_str("ADMIN_PATH", "admin/")
if not re.fullmatch(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*/", ADMIN_PATH):
    raise ImproperlyConfigured(
        f"ADMIN_PATH must be one path segment ending in '/' without a leading slash, like 'admin/', not {ADMIN_PATH!r}"
    )
# A staff member's session ends after this many minutes without a request.
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- Petition rules ---------------------------------------------------------------------
ACTION_MAX_LENGTH = env_int("ACTION_MAX_LENGTH", 80, minimum=10, maximum=500)
BACKGROUND_MAX_LENGTH = env_int("BACKGROUND_MAX_LENGTH", 300, minimum=10, maximum=5000)
ADDITIONAL_DETAILS_MAX_LENGTH = env_int("ADDITIONAL_DETAILS_MAX_LENGTH", 800, minimum=0, maximum=20000)
SPONSORS_REQUIRED = env_int("SPONSORS_REQUIRED", 5, minimum=0)
PETITION_DURATION_DAYS = env_int("PETITION_DURATION_DAYS", 180, minimum=1)
RESPONSE_THRESHOLD = env_int("RESPONSE_THRESHOLD", 10_000, minimum=1)
DEBATE_THRESHOLD = env_int("DEBATE_THRESHOLD", 100_000, minimum=1)
K_ANONYMITY = env_int("K_ANONYMITY", 5, minimum=1)
# The integrator appends pending entries to the transparency log, signs a checkpoint and applies
# their count changes, every LOG_INTEGRATE_INTERVAL seconds, at most LOG_BATCH_SIZE per batch.
LOG_INTEGRATE_INTERVAL = env_float("LOG_INTEGRATE_INTERVAL", 1.0, minimum=0.1)
LOG_BATCH_SIZE = env_int("LOG_BATCH_SIZE", 5000, minimum=1, maximum=100_000)
# Witnesses that cosign the log's checkpoints (c2sp.org/tlog-witness), each '<vkey> <url>'
# (core.env.env_witnesses). A periodic job, never the integrator, submits the latest checkpoint
# to each every LOG_WITNESS_INTERVAL seconds, and the current one again once its newest
# cosignature is LOG_WITNESS_REFRESH seconds old, so an idle log's cosignatures stay fresh;
# each request gives up after LOG_WITNESS_TIMEOUT seconds. None by default: nothing is sent.
LOG_WITNESSES = env_witnesses("LOG_WITNESSES")
LOG_WITNESS_INTERVAL = env_float("LOG_WITNESS_INTERVAL", 10.0, minimum=1.0)
LOG_WITNESS_REFRESH = env_float("LOG_WITNESS_REFRESH", 60.0, minimum=LOG_WITNESS_INTERVAL)
LOG_WITNESS_TIMEOUT = env_float("LOG_WITNESS_TIMEOUT", 5.0, minimum=0.5)
# The log's name in checkpoints and its key. The name is stored the first time the log is
# signed or published and never follows SITE_URL afterwards (transparency.keys.log_origin); a
# set LOG_ORIGIN must equal the stored name. Unset, a new log takes the site's host and "/log",
# as c2sp.org/tlog-tiles recommends (the URL prefix without its scheme): LOG_ORIGIN_DEFAULT.
LOG_ORIGIN = env_str("LOG_ORIGIN", "")
LOG_ORIGIN_DEFAULT = urlsplit(SITE_URL).netloc + "/log"
if any(c.isspace() or c == "+" for c in LOG_ORIGIN):
    raise ImproperlyConfigured("LOG_ORIGIN must be without spaces or '+' (it names the log's key)")
CONFIRMATION_GRACE_HOURS = env_int("CONFIRMATION_GRACE_HOURS", 24, minimum=0)
CONFIRMATION_LINK_DAYS = env_int("CONFIRMATION_LINK_DAYS", 30, minimum=1)
MODERATION_OVERDUE_DAYS = env_int("MODERATION_OVERDUE_DAYS", 7, minimum=1)
OUTBOX_SWEEP_AFTER_SECONDS = env_int("OUTBOX_SWEEP_AFTER_SECONDS", 60, minimum=1)
OUTBOX_DELIVERY_INTERVAL = env_float("OUTBOX_DELIVERY_INTERVAL", 1.0, minimum=0.1)
# Messages claimed, sent and marked sent together; also the most a worker process may send twice
# when the database fails between the sends and the commit (core.outbox.outbox_deliver_batch).
OUTBOX_DELIVERY_BATCH = env_int("OUTBOX_DELIVERY_BATCH", 100, minimum=1)
OUTBOX_DELIVERY_RUN_LIMIT = env_int("OUTBOX_DELIVERY_RUN_LIMIT", 5000, minimum=1)
# The territories signers choose from: a bundled set (core/data/territories/), or a site's own
# file, which wins when set.
REGION_SET = env_choice("REGION_SET", "uk", ("uk", "ru", "ru-cities"))
REGIONS_FILE = env_str("REGIONS_FILE", "")
try:  # TIME_ZONE (above): the site's clock, in which pages show times
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as _exc:
    raise ImproperlyConfigured(
        f"TIME_ZONE must name an IANA time zone (e.g. Europe/Moscow), not {TIME_ZONE!r}"
    ) from _exc
REJECTION_REASONS_FILE = env_str(
    "REJECTION_REASONS_FILE", str(PACKAGE_DIR / "moderation" / "data" / "rejection_reasons.json")
)
# Verified signatories: evidence signers give for a claim, and validators' rejection reasons.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 2 * 1024 * 1024, minimum=1024, maximum=20 * 1024 * 1024)
EVIDENCE_CONTENT_TYPES = env_list("EVIDENCE_CONTENT_TYPES", ["application/pdf", "image/jpeg", "image/png"])
EVIDENCE_RETENTION_DAYS = env_int("EVIDENCE_RETENTION_DAYS", 30, minimum=0)
CLAIM_REJECTION_REASONS_FILE = env_str(
    "CLAIM_REJECTION_REASONS_FILE", str(PACKAGE_DIR / "verification" / "data" / "claim_rejection_reasons.json")
)
# Signer protection (docs/threat-model.md).
# A creator's unfinished wizard draft lives this long, sealed under a key only their cookie holds.
DRAFT_MAX_AGE_HOURS = env_int("DRAFT_MAX_AGE_HOURS", 24, minimum=1, maximum=24 * 14)
# A day rather than Django's two weeks: long enough for a staff member's working day and for a
# wizard draft (which cannot outlive its session), short enough that little lingers; expired
# sessions are deleted daily (site.services.sessions_clear_expired).
SESSION_COOKIE_AGE = max(DRAFT_MAX_AGE_HOURS, 24) * 3600
# Per-region and per-territory breakdowns are published as snapshots, at most this often, and
# only once K_ANONYMITY region-private signatures have arrived since the last one.
BREAKDOWN_SNAPSHOT_MINUTES = env_int("BREAKDOWN_SNAPSHOT_MINUTES", 60, minimum=1)
# Mails to one address: per petition and site-wide, in any 24 hours (keyed limiter, no address kept).
MAIL_PER_ADDRESS_PETITION_DAY = env_int("MAIL_PER_ADDRESS_PETITION_DAY", 3, minimum=1)
MAIL_PER_ADDRESS_DAY = env_int("MAIL_PER_ADDRESS_DAY", 10, minimum=1)
# "Didn't get the e-mail?": resend requests one client network (IPv4 /24, IPv6 /64) may make
# in an hour, whatever addresses they name; over it nothing is sent and the page is the same.
RESEND_PER_NETWORK_HOUR = env_int("RESEND_PER_NETWORK_HOUR", 20, minimum=1)
# "You have already signed" goes to one address at most once in this many days per petition.
ALREADY_SIGNED_MAIL_DAYS = env_int("ALREADY_SIGNED_MAIL_DAYS", 7, minimum=1)
# Staff login: failed logins are counted per (account, client network) and per network alone
# (keyed limiter, no username or address kept). After the free failures each further attempt
# waits, doubling from LOGIN_DELAY_SECONDS up to LOGIN_DELAY_MAX_SECONDS, before it is checked;
# never a lockout. A count is forgotten LOGIN_FAILURE_MEMORY_HOURS after its last attempt.
LOGIN_FREE_FAILURES = env_int("LOGIN_FREE_FAILURES", 5, minimum=1)
LOGIN_NETWORK_FREE_FAILURES = env_int("LOGIN_NETWORK_FREE_FAILURES", 50, minimum=1)
LOGIN_DELAY_SECONDS = env_int("LOGIN_DELAY_SECONDS", 2, minimum=1)
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 900, minimum=LOGIN_DELAY_SECONDS)
LOGIN_FAILURE_MEMORY_HOURS = env_int(
    "LOGIN_FAILURE_MEMORY_HOURS", 24, minimum=max(1, math.ceil(LOGIN_DELAY_MAX_SECONDS / 3600))
)
# Abuse defence (docs/abuse.md). The sign path's limits, per petition, counted by keyed hash only
# (core.limiter; Redis in production): per client host (IPv4 /32, IPv6 /64), per network (IPv4
# /24, IPv6 /64) and per e-mail domain, each with a burst and a sustained window. A submission over
# any of them is stored held (not counted, no e-mail) and the page is the same. SIGN_LIMITS_ENABLED
# off only to measure the limiter's cost (bench/).
SIGN_LIMITS_ENABLED = env_bool("SIGN_LIMITS_ENABLED", True)
SIGN_BURST_SECONDS = env_int("SIGN_BURST_SECONDS", 60, minimum=1)
SIGN_SUSTAINED_SECONDS = env_int("SIGN_SUSTAINED_SECONDS", 3600, minimum=SIGN_BURST_SECONDS)
SIGN_PER_HOST_BURST = env_int("SIGN_PER_HOST_BURST", 3, minimum=1)
SIGN_PER_HOST_SUSTAINED = env_int("SIGN_PER_HOST_SUSTAINED", 10, minimum=SIGN_PER_HOST_BURST)
SIGN_PER_NETWORK_BURST = env_int("SIGN_PER_NETWORK_BURST", 5, minimum=1)
SIGN_PER_NETWORK_SUSTAINED = env_int("SIGN_PER_NETWORK_SUSTAINED", 15, minimum=SIGN_PER_NETWORK_BURST)
SIGN_PER_DOMAIN_BURST = env_int("SIGN_PER_DOMAIN_BURST", 5, minimum=1)
SIGN_PER_DOMAIN_SUSTAINED = env_int("SIGN_PER_DOMAIN_SUSTAINED", 8, minimum=SIGN_PER_DOMAIN_BURST)
# Large providers' domains are limited only relative to the petition's own traffic: within the
# sustained window one of them may bring at most LARGE_PROVIDER_SHARE_PERCENT of the petition's
# submissions, once it has brought more than LARGE_PROVIDER_FLOOR.
LARGE_PROVIDER_DOMAINS = env_list(
    "LARGE_PROVIDER_DOMAINS",
    [
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de",
        "yandex.ru", "ya.ru", "yandex.com", "mail.ru", "bk.ru", "inbox.ru", "list.ru", "internet.ru",
        "rambler.ru", "ukr.net",
    ],
)  # fmt: skip
LARGE_PROVIDER_SHARE_PERCENT = env_int("LARGE_PROVIDER_SHARE_PERCENT", 70, minimum=1, maximum=100)
LARGE_PROVIDER_FLOOR = env_int("LARGE_PROVIDER_FLOOR", 50, minimum=1)
# Above this many submissions from one network, or one domain that is not a large provider's, in
# the sustained window (site-wide) a submission is refused: not stored at all, same page.
SIGN_HARD_LIMIT = env_int("SIGN_HARD_LIMIT", 200, minimum=1)
# Held signatures nobody released are deleted this many days after their last submission.
HELD_RETENTION_DAYS = env_int("HELD_RETENTION_DAYS", 14, minimum=1)
# The other public forms, per client network (IPv4 /24, IPv6 /64): over a limit the visitor is
# asked to try again later and loses nothing (a link stays good, a draft stays).
CONFIRM_PER_NETWORK_HOUR = env_int("CONFIRM_PER_NETWORK_HOUR", 120, minimum=1)
PETITIONS_PER_NETWORK_DAY = env_int("PETITIONS_PER_NETWORK_DAY", 5, minimum=1)
CLAIM_SEARCH_PER_NETWORK_MINUTE = env_int("CLAIM_SEARCH_PER_NETWORK_MINUTE", 30, minimum=1)
SIGNER_REQUESTS_PER_NETWORK_HOUR = env_int("SIGNER_REQUESTS_PER_NETWORK_HOUR", 20, minimum=1)
# Bulk invalidation: an action touching more signatures than this needs a second moderator.
BULK_ACTION_SECOND_MODERATOR_OVER = env_int("BULK_ACTION_SECOND_MODERATOR_OVER", 50, minimum=0)
# Moderators are alerted (e-mail, and ABUSE_ALERT_WEBHOOK_URL if set: petition id and counts only)
# when an open petition's held signatures in an hour reach ABUSE_ALERT_PER_HOUR (once per petition
# and hour; moderation.alerts, every minute).
ABUSE_ALERT_PER_HOUR = env_int("ABUSE_ALERT_PER_HOUR", 50, minimum=1)
ABUSE_ALERT_WEBHOOK_URL = env_str("ABUSE_ALERT_WEBHOOK_URL", "")
# Attack mode: switched on for a petition whose held signatures in an hour reach this many (or by
# a moderator); it asks every signer for an Argon2id proof of work computed in the browser.
ATTACK_MODE_HELD_PER_HOUR = env_int("ATTACK_MODE_HELD_PER_HOUR", 100, minimum=1)
# A form loaded just before attack mode began asked for no proof of work: sent within this many
# seconds, it is judged by the ordinary limits (abuse.proof.proof_before_attack).
ATTACK_MODE_GRACE_SECONDS = env_int("ATTACK_MODE_GRACE_SECONDS", 120, minimum=0)
POW_MEMORY_KIB = env_int("POW_MEMORY_KIB", 16384, minimum=1024)
POW_ITERATIONS = env_int("POW_ITERATIONS", 2, minimum=1)
POW_DIFFICULTY_BITS = env_int("POW_DIFFICULTY_BITS", 5, minimum=0, maximum=20)
POW_CHALLENGE_SECONDS = env_int("POW_CHALLENGE_SECONDS", 300, minimum=30)
# Moderators, validators and admins must use a second factor (TOTP or a recovery code) to sign
# in; on by default in production.
STAFF_OTP_REQUIRED = env_bool("STAFF_OTP_REQUIRED", PRODUCTION)
# django-otp's own throttle doubles per device without a ceiling: anyone holding a staff password
# could keep its owner out for days. Wrong codes count towards the login's growing delays instead
# (site.second_factor), which never lock anyone out.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = SITE_NAME
# The admin lists devices without their keys or QR codes: a secret shown once, at enrolment.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# The data's lifecycle (docs/threat-model.md, "Lifecycle"): what is kept, and for how long.
# IP addresses are kept only for abuse review, then dropped (and anything derived from them).
IP_RETENTION_DAYS = env_int("IP_RETENTION_DAYS", 7, minimum=0)
# A closed petition's data key is destroyed this many days after it closed: names, addresses and
# claims become unreadable for good (crypto-shredding); counts and the log stay.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 90, minimum=0)
# Rejected or hidden petitions: their data key is destroyed this many days after the rejection.
REJECTED_PETITION_RETENTION_DAYS = env_int("REJECTED_PETITION_RETENTION_DAYS", 30, minimum=0)
# A petition whose creator never confirmed is deleted this many days after it was created.
UNCONFIRMED_PETITION_RETENTION_DAYS = env_int("UNCONFIRMED_PETITION_RETENTION_DAYS", 7, minimum=1)
# Sent outbox rows (kind and day only) are deleted after this many days.
SENT_MAIL_RETENTION_DAYS = env_int("SENT_MAIL_RETENTION_DAYS", 30, minimum=0)
# Validators' sealed decision notes are deleted this many days after the decision.
DECISION_NOTE_RETENTION_DAYS = env_int("DECISION_NOTE_RETENTION_DAYS", 365, minimum=0)
# Staff access records (who opened whose data, and why) are deleted after this many days.
STAFF_AUDIT_RETENTION_DAYS = env_int("STAFF_AUDIT_RETENTION_DAYS", 730, minimum=30)
# The retention jobs run together every RETENTION_INTERVAL_SECONDS (beat and the embedded
# runner alike; staff pages compute the next run from it), each changing at most
# RETENTION_BATCH_SIZE rows per transaction.
RETENTION_INTERVAL_SECONDS = 3600
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 1000, minimum=1, maximum=100_000)
# How long a process may keep using an unwrapped data key from memory: the bound on how long a
# destroyed key is still served by a running process.
DATA_KEY_CACHE_SECONDS = env_int("DATA_KEY_CACHE_SECONDS", 60, minimum=0, maximum=3600)
# A new PII master key is due this many days after the active one was first used; data keys are
# re-wrapped under the new one and the old one retired (docs/settings.md, "Rotating the keys").
MASTER_KEY_ROTATION_DAYS = env_int("MASTER_KEY_ROTATION_DAYS", 90, minimum=1)
# Where the integrator records the largest checkpoint it has signed, outside the database, so a
# restored older backup cannot make the log sign a smaller one (docs/deployment.md).
LOG_HIGH_WATER_FILE = env_str("LOG_HIGH_WATER_FILE", str(DATA_DIR / "log-high-water.json"))
# With integrators on several hosts: the mark in a persistent Redis instead (redis://…); the file
# is then not used.
LOG_HIGH_WATER_URL = env_str("LOG_HIGH_WATER_URL", "")
if LOG_HIGH_WATER_URL and urlsplit(LOG_HIGH_WATER_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured("LOG_HIGH_WATER_URL must be a redis://, rediss:// or unix:// URL")
# Safety in numbers: a signer may be named only together with a group of verified signers.
# The smallest group a creator may ask for is max(K_ANONYMITY, GROUP_MIN_NAMED).
GROUP_MIN_NAMED = env_int("GROUP_MIN_NAMED", 10, minimum=2)
GROUP_DEFAULT_NAMED = env_int("GROUP_DEFAULT_NAMED", 10, minimum=2)
GROUP_DEFAULT_TERRITORIES = env_int("GROUP_DEFAULT_TERRITORIES", 3, minimum=1)
GROUP_MAX_NAMED = env_int("GROUP_MAX_NAMED", 1000, minimum=2)
GROUP_MAX_TERRITORIES = env_int("GROUP_MAX_TERRITORIES", 100, minimum=1)
if GROUP_MAX_NAMED < max(K_ANONYMITY, GROUP_MIN_NAMED):
    # No group size would be allowed, and every new petition (which gets the default) refused.
    raise ImproperlyConfigured("GROUP_MAX_NAMED must be at least K_ANONYMITY and GROUP_MIN_NAMED")
# A signer's one-time link to see (and erase) what we hold about their signature.
SIGNER_DATA_LINK_MINUTES = env_int("SIGNER_DATA_LINK_MINUTES", 30, minimum=5, maximum=24 * 60)
# Run the periodic jobs (counting, closing, e-mail sweep) on a thread of `undersign run`.
INPROCESS_JOBS = env_bool("INPROCESS_JOBS", not REDIS_URL)
PUBLIC_CACHE_SECONDS = env_float("PUBLIC_CACHE_SECONDS", 5.0, minimum=0)
# count.json's per-process micro-cache of the encoded answer, per petition (at most 1 s; 0: off).
COUNT_MICROCACHE_SECONDS = env_float("COUNT_MICROCACHE_SECONDS", 1.0, minimum=0)

if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be false in production mode")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "undersign.core.logging.RedactSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "server": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
        # Replaces Django's own handler for the dev server's request log, to redact tokens.
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
}

CELERY_BEAT_SCHEDULE = {
    "integrate-log": {"task": "undersign.transparency.tasks.integrate_log", "schedule": LOG_INTEGRATE_INTERVAL},
    # Expires after one interval: ticks queued behind a busy worker are dropped, not replayed.
    "submit-to-witnesses": {
        "task": "undersign.transparency.tasks.submit_to_witnesses",
        "schedule": LOG_WITNESS_INTERVAL,
        "options": {"expires": LOG_WITNESS_INTERVAL},
    },
    "close-due-petitions": {"task": "undersign.petitions.tasks.close_due_petitions", "schedule": 60.0},
    # With a broker, e-mails go out in batches from here, not through a message per e-mail.
    "deliver-outbox": {"task": "undersign.core.tasks.deliver_outbox", "schedule": OUTBOX_DELIVERY_INTERVAL},
    # No less often than a message becomes due, so a held-up e-mail waits at most about twice
    # OUTBOX_SWEEP_AFTER_SECONDS.
    "sweep-outbox": {
        "task": "undersign.core.tasks.sweep_outbox",
        "schedule": float(min(30, OUTBOX_SWEEP_AFTER_SECONDS)),
    },
    # Every retention job (retention.services.retention_jobs_run_all), each run recorded.
    "apply-retention-rules": {
        "task": "undersign.retention.tasks.apply_retention_rules",
        "schedule": float(RETENTION_INTERVAL_SECONDS),
    },
    "clear-expired-sessions": {"task": "undersign.site.tasks.clear_expired_sessions", "schedule": 24 * 3600.0},
    "coarsen-signature-times": {"task": "undersign.signatures.tasks.coarsen_signature_times", "schedule": 3600.0},
    # Each petition's breakdown is due at most every BREAKDOWN_SNAPSHOT_MINUTES; looked at each minute.
    "take-breakdown-snapshots": {"task": "undersign.counting.tasks.take_breakdown_snapshots", "schedule": 60.0},
    # Attack mode on for petitions whose held signatures in the last hour reach ATTACK_MODE_HELD_PER_HOUR.
    "switch-attack-mode-on": {"task": "undersign.signatures.tasks.switch_attack_mode_on", "schedule": 60.0},
    # Bulk actions left running (a lost wake-up, a run cut short) are finished here.
    "resume-bulk-actions": {"task": "undersign.moderation.tasks.resume_bulk_actions", "schedule": 60.0},
    "raise-abuse-alerts": {"task": "undersign.moderation.tasks.raise_abuse_alerts", "schedule": 60.0},
}
