"""Settings for newsportal, read from the environment.

Every deployment-specific value comes from an environment variable so the same
code runs on a laptop (SQLite, DEBUG) and in production (PostgreSQL, no DEBUG).
"""

from pathlib import Path
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Only the environment is read here, never a file: a developer's `.env` is
# loaded by manage.py alone (see load_developer_env there), so the WSGI and
# ASGI applications a server runs cannot pick up its DJANGO_DEBUG=1.


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# `manage.py runserver` refuses DEBUG on an address other machines can reach (debug pages show
# settings and code to the network; newsportal/management/commands/runserver.py), unless this says
# it is meant. Loopback binds (`make run`) never need it.
NEWSPORTAL_RUNSERVER_ALLOW_PUBLIC_DEBUG = env_bool("NEWSPORTAL_RUNSERVER_ALLOW_PUBLIC_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production mode)."
        )
    # Development only: a fixed, clearly-labelled key so sessions survive restarts.
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    # Django's admin, with a view-on-site shortcut that checks who asks (editorial/site.py).
    "editorial.site.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "taggit",
    "django_filters",
    "simple_history",
    "django_prose_editor",
    "csp",
    # The domain apps, lowest layer first (docs/ARCHITECTURE.md). Receivers of
    # the same signal run in this order: articles' own, then the newsroom's
    # (bylines, revisions), then the search index.
    "articles",
    "newsroom",
    "search",
    "importing",
    "editorial",
    "api",
    # Last, as its documentation asks: it wraps the authentication backends.
    "axes",
]

MIDDLEWARE = [
    # A request id for every log line and the X-Request-ID response header (#20 C, newsportal/request_id.py).
    "newsportal.request_id.RequestIdMiddleware",
    # /healthz and /readyz (#20 C), before anything reads the Host header or redirects to
    # https: load balancers probe by IP address over plain http (newsportal/health.py).
    "newsportal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Text responses gzipped for clients that accept it (after WhiteNoise, which
    # serves static files precompressed). Django's padding against BREACH covers
    # pages with CSRF tokens; cached pages are stored gzipped once (articles.page_cache).
    "django.middleware.gzip.GZipMiddleware",
    # Anonymous readers' cache hits, answered before the middleware below.
    "articles.page_cache.CachedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A 404 for an imported article's old address (a Hexo permalink) becomes a 301 to it.
    "articles.legacy_urls.LegacyURLMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Lets a revision name its user on every save made during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns axes' lockout signal into the 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsportal.urls"

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
                "articles.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "newsportal.wsgi.application"
ASGI_APPLICATION = "newsportal.asgi.application"

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (the site) keep serving while an import writes; the busy
    # timeout makes a second writer wait instead of failing with "database is
    # locked"; IMMEDIATE transactions take the write lock up front so two
    # writers cannot deadlock upgrading from a read lock.
    # Connections are kept (DJANGO_CONN_MAX_AGE) as on PostgreSQL: opening one
    # parses the whole schema, ~5 ms a request at 100,000 articles, more than
    # serving a cached page takes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "30")),
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the related-articles query is a UNION of up to 51 small indexed
    # lookups. Where the statistics overestimate the tables (after a bulk load
    # and a delete, or before autovacuum), its estimated cost passes
    # jit_above_cost and every article page spent seconds compiling it, for
    # lookups that take milliseconds. No page gains from JIT (docs/BENCHMARKS.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

# A read replica for the public pages (articles.replica): only reads of pages
# served to anonymous readers go there; writes, the admin and commands use the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests see one database
    DATABASE_ROUTERS = ["articles.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
# CACHE_URL: locmem:// (default; one cache per process), redis://host:port/db
# (shared by every app server; Django's RedisCache), or dummy:// (no caching).


def cache_from_url(url: str) -> dict:
    from urllib.parse import urlsplit

    scheme = urlsplit(url).scheme.lower()
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": urlsplit(url).netloc or "newsportal",
                "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("CACHE_MAX_ENTRIES", "5000"))}}
    if scheme in ("redis", "rediss", "unix"):
        # Redis is a cache, not a dependency (#20 C, newsportal/cache.py): short socket timeouts,
        # and a Redis that is down or hung is a cache miss, never a 500. A CACHE_URL's own
        # ?socket_timeout=…&socket_connect_timeout=… (redis-py reads them) win over these.
        return {"BACKEND": "newsportal.cache.TolerantRedisCache", "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": float(os.environ.get("NEWSPORTAL_CACHE_CONNECT_TIMEOUT", "0.25")),
                            "socket_timeout": float(os.environ.get("NEWSPORTAL_CACHE_TIMEOUT", "0.5"))}}
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(f"CACHE_URL: unsupported cache {url!r} (use locmem://, redis://host:port/db or dummy://)")


CACHES = {"default": {**cache_from_url(os.environ.get("CACHE_URL") or "locmem://"),
                      # A new release (say, changed templates) starts with a fresh cache.
                      "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "newsportal")}}
# The API rate limit's counters (api.throttling) must be seen by every
# process that serves a client, or each of N workers allows the whole rate. A
# shared cache (CACHE_URL=redis://…) holds them for every machine; otherwise
# they are small files on this machine, shared by all its workers, in
# NEWSPORTAL_THROTTLE_DIR (default: newsportal-throttle-<uid> in the temp dir).
# Never the per-process local-memory cache.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["throttle"] = dict(CACHES["default"])
else:
    import tempfile

    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ.get("NEWSPORTAL_THROTTLE_DIR")
        or os.path.join(tempfile.gettempdir(), f"newsportal-throttle-{os.getuid()}"),
        "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"],
        # One file per client address seen in the last minute (hour, day: the rate's period).
        "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("NEWSPORTAL_THROTTLE_MAX_ENTRIES", "10000"))},
    }
# The most-read counters (articles.hot): in the shared cache with Redis (every process counts
# into one place, the task worker flushes them); otherwise a per-process local-memory cache of
# their own, so that one entry per reader and article does not push pages out of the page cache.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["hot"] = dict(CACHES["default"])
else:
    CACHES["hot"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "newsportal-hot",
                     "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"],
                     "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("NEWSPORTAL_HOT_MAX_ENTRIES", "100000"))}}
# Seconds a cached page may live; entries are keyed by the content version
# (articles.content_version), so this only bounds memory, never staleness.
NEWSPORTAL_PAGE_CACHE_SECONDS = int(os.environ.get("NEWSPORTAL_PAGE_CACHE_SECONDS", "3600"))
# How long a process may reuse the content version it read (seconds, at most 1;
# 0: read it on every request). Other processes see a change that much later.
NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS = float(os.environ.get("NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS", "0.5"))
# Cache-Control max-age for browsers and CDNs; 0 makes them revalidate every
# time (a 304 when nothing changed), so no reader sees a stale page.
NEWSPORTAL_HTTP_MAX_AGE = int(os.environ.get("NEWSPORTAL_HTTP_MAX_AGE", "0"))
# Varnish nodes (or other shared caches taking xkey PURGEs) in front of the app,
# comma-separated, e.g. "http://127.0.0.1:6081/": after each write a task sends
# them purges of the content keys it changed (articles.purges; docs/DEPLOY.md,
# "Varnish in front"). Empty (the default): no purging.
NEWSPORTAL_PURGE_URLS = env_list("NEWSPORTAL_PURGE_URLS", "")

# 热门, the most-read lists (articles.hot): reads counted by a beacon in the cache, flushed to the
# database once per NEWSPORTAL_HOT_FLUSH_SECONDS; the lists (home page, /hot/) cover the last
# NEWSPORTAL_HOT_HOURS and change at most every NEWSPORTAL_HOT_REFRESH_SECONDS (each change renders
# the home page again); one read per address and article per NEWSPORTAL_HOT_DEDUPE_SECONDS (0: all).
NEWSPORTAL_HOT_HOURS = int(os.environ.get("NEWSPORTAL_HOT_HOURS", "24"))
NEWSPORTAL_HOT_FLUSH_SECONDS = int(os.environ.get("NEWSPORTAL_HOT_FLUSH_SECONDS", "60"))
NEWSPORTAL_HOT_REFRESH_SECONDS = int(os.environ.get("NEWSPORTAL_HOT_REFRESH_SECONDS", "300"))
NEWSPORTAL_HOT_DEDUPE_SECONDS = int(os.environ.get("NEWSPORTAL_HOT_DEDUPE_SECONDS", "1800"))

# --- Background tasks ---------------------------------------------------------
# Django's task framework (the django-tasks backport of Django 6's django.tasks):
# keyword suggestions and the like run in a worker, never in the request.
# NEWSPORTAL_TASK_BACKEND picks where tasks wait:
#   db (default)  the database (django-tasks-db): no extra service; run
#                 `manage.py db_worker` (make run starts one beside runserver).
#   rq            RQ on Redis (django-tasks-rq) at NEWSPORTAL_REDIS_URL (default:
#                 CACHE_URL when that is a Redis); run `manage.py rqworker --with-scheduler`.
#   immediate     run each task at once, in the process that enqueues it (no worker).
# The task tables (django_tasks_db) exist whichever is chosen, so switching needs no migration.
NEWSPORTAL_TASK_BACKEND = os.environ.get("NEWSPORTAL_TASK_BACKEND", "db").strip().lower() or "db"
# Times a failing task runs at most (the first run and its retries), and the wait
# before the first retry in seconds (doubled before each next one).
NEWSPORTAL_TASK_ATTEMPTS = int(os.environ.get("NEWSPORTAL_TASK_ATTEMPTS", "3"))
NEWSPORTAL_TASK_RETRY_SECONDS = float(os.environ.get("NEWSPORTAL_TASK_RETRY_SECONDS", "30"))
# A task still marked running by a worker on another machine for longer than
# this (seconds) is taken as lost and run again by the next db_worker that
# starts (a worker on this machine that died is seen at once: see newsportal/tasks.py).
NEWSPORTAL_TASK_LOST_SECONDS = int(os.environ.get("NEWSPORTAL_TASK_LOST_SECONDS", "3600"))
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
if NEWSPORTAL_TASK_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif NEWSPORTAL_TASK_BACKEND == "rq":
    _cache_url = os.environ.get("CACHE_URL") or ""
    NEWSPORTAL_REDIS_URL = os.environ.get("NEWSPORTAL_REDIS_URL") or (
        _cache_url if _cache_url.split(":", 1)[0].lower() in ("redis", "rediss", "unix") else "")
    if not NEWSPORTAL_REDIS_URL:
        raise ImproperlyConfigured("NEWSPORTAL_TASK_BACKEND=rq needs NEWSPORTAL_REDIS_URL (or a redis:// CACHE_URL)")
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": NEWSPORTAL_REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    # RQ's worker runs django-tasks-rq's jobs with its Job class (so `rqworker` needs no --job-class).
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    TASKS = {"default": {"BACKEND": "newsportal.rq.RetryingRQBackend", "QUEUES": ["default"]}}
elif NEWSPORTAL_TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    raise ImproperlyConfigured(
        f"NEWSPORTAL_TASK_BACKEND: unknown backend {NEWSPORTAL_TASK_BACKEND!r} (use db, rq or immediate)")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes checks every login (the admin's included) against its failure
# records before Django's own backend is asked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Internationalisation ------------------------------------------------
# The admin speaks Chinese; LocaleMiddleware switches to English for a browser
# (or a user's django_language cookie) that asks for it. Our translations live
# in locale/ (`make messages` regenerates them).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and imported files (a Hexo site's post asset folders, importing.assets):
# Django's default storage, a folder on disk unless STORAGES["default"] names an
# object store (docs/DEPLOY.md, "Media files"). The app serves MEDIA_URL itself
# only with DEBUG on; in production the web server or the object store does.
MEDIA_ROOT = Path(os.environ.get("NEWSPORTAL_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = os.environ.get("NEWSPORTAL_MEDIA_URL", "/media/")
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

# --- Releases (issue #20, part D: releases without downtime) ------------------
# The page cache's keys carry the release (newsportal/release.py): pages rendered by
# one release's code, templates and static file names are never served by another's
# processes, even through one shared Redis, and nobody changes CACHE_KEY_PREFIX by
# hand. NEWSPORTAL_RELEASE names it (a git commit); by default it is a hash of what
# the release ships, the same on every server of it. Only the default cache (pages,
# API answers, derived figures): the API's rate-limit and most-read counters, set
# up above from the same prefix, carry on across a release.
from newsportal.release import computed_release  # noqa: E402

NEWSPORTAL_RELEASE = os.environ.get("NEWSPORTAL_RELEASE", "").strip() or computed_release(BASE_DIR, STATIC_ROOT)
CACHES["default"]["KEY_PREFIX"] = f"{CACHES['default']['KEY_PREFIX']}:{NEWSPORTAL_RELEASE}"

# --- Tags -------------------------------------------------------------------
# 'ETF' and 'etf' are one tag in a newsroom; slugs keep Chinese characters.
TAGGIT_CASE_INSENSITIVE = True
TAGGIT_STRIP_UNICODE_WHEN_SLUGIFYING = False

# --- The site -----------------------------------------------------------------
NEWSPORTAL_SITE_NAME = os.environ.get("NEWSPORTAL_SITE_NAME", "财经新闻门户")
NEWSPORTAL_SITE_DESCRIPTION = os.environ.get(
    "NEWSPORTAL_SITE_DESCRIPTION", "金融、证券与科技行业的最新资讯、深度报道与数据"
)

# --- Import -----------------------------------------------------------------
NEWSPORTAL_IMPORT_MAX_BYTES = int(os.environ.get("NEWSPORTAL_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
# The largest image a Hexo post's asset folder may hold; larger ones are refused, each with a warning.
NEWSPORTAL_ASSET_MAX_BYTES = int(os.environ.get("NEWSPORTAL_ASSET_MAX_BYTES", 10 * 1024 * 1024))

# Uploads on the admin's import page (importing.upload). A request larger than
# NEWSPORTAL_UPLOAD_MAX_BYTES is refused before its body is read; smaller ones
# are streamed by Django (kept in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then
# spooled to a temporary file), at most DATA_UPLOAD_MAX_NUMBER_FILES (100) files
# a request. Each post must also be within NEWSPORTAL_IMPORT_MAX_BYTES; a .zip may
# hold at most NEWSPORTAL_UPLOAD_MAX_ENTRIES entries whose posts unpack to at most
# NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES together (zip bombs are refused unread).
NEWSPORTAL_UPLOAD_MAX_BYTES = int(os.environ.get("NEWSPORTAL_UPLOAD_MAX_BYTES", 50 * 1024 * 1024))
NEWSPORTAL_UPLOAD_MAX_ENTRIES = int(os.environ.get("NEWSPORTAL_UPLOAD_MAX_ENTRIES", 10_000))
NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES = int(
    os.environ.get("NEWSPORTAL_UPLOAD_MAX_UNPACKED_BYTES", 500 * 1024 * 1024))
# Where uploads wait for the task worker that imports them (importing.tasks): a
# private folder, never under MEDIA_ROOT (public). Every web server and task
# worker must see the same folder (a shared disk when they are several machines).
NEWSPORTAL_IMPORT_SPOOL_DIR = Path(os.environ.get("NEWSPORTAL_IMPORT_SPOOL_DIR", BASE_DIR / "var" / "import-spool"))
# Hosts of placeholder image services (the mirror bot's random picsum.photos
# pictures): a thumbnail or head image from one of them (or a subdomain) says
# nothing about the story, so listings give the story a text card instead and
# its page shows no head image (articles.images). Comma-separated; empty for none.
NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS = env_list("NEWSPORTAL_PLACEHOLDER_IMAGE_HOSTS", "picsum.photos")
# The front page (articles.front). The wire (快讯: the home page's column, /wire/ and
# its feeds) holds the articles of the categories named here, at any level: a name
# (电报) or a category path (金融/财联社/电报). Comma-separated.
NEWSPORTAL_WIRE_CHANNELS = env_list("NEWSPORTAL_WIRE_CHANNELS", "电报,快讯")
# Where the 要闻 block's empty headline slots are filled from: the newest articles of
# these categories (names or paths, as above); empty: of every channel but the wire.
NEWSPORTAL_LEAD_CHANNELS = env_list("NEWSPORTAL_LEAD_CHANNELS", "")
# --- Security: HTTPS, cookies, headers -------------------------------------
# Production defaults are strict; each can be changed from the environment
# (docs/SECURITY.md explains when). With DEBUG on (development over plain
# http) they are off.
PRODUCTION = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a reverse proxy that terminates TLS, Django sees plain http; set
# DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO (and make the proxy
# overwrite, never pass on, that header) so it knows the request was https.
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["DJANGO_SECURE_PROXY_SSL_HEADER"], "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Article images set their own `no-referrer` (articles.sanitize).
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4). No inline script or style anywhere
# in our templates; the nonce is only added to the header when a page asks
# for one (the admin's import maps, see templates/admin/change_form.html).
# Images: articles hot-link pictures from many news CDNs, so img-src allows any
# https: image unless NEWSPORTAL_CSP_IMG_HOSTS lists the allowed hosts
# (docs/SECURITY.md weighs the two).
from csp.constants import NONCE, NONE, SELF  # noqa: E402

# Inline styles of the packages the admin uses, each a fixed string allowed by
# its hash, so no other inline style can apply.
CSP_STYLE_HASHES = [
    "'unsafe-hashes'",  # lets a hash match a style *attribute*, never a script
    # the <style> element tiptap (django-prose-editor's editor) injects
    "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='",
    # style="border-top: 0" on django-simple-history's history paginator
    "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
]
CSP_IMG_HOSTS = env_list("NEWSPORTAL_CSP_IMG_HOSTS", "") or ["https:"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, *CSP_STYLE_HASHES],
        "img-src": [SELF, "data:", *CSP_IMG_HOSTS],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        # http:// image URLs in old articles are fetched over https.
        "upgrade-insecure-requests": SECURE_SSL_REDIRECT,
    },
}

# Staff log in only at /admin/login/: a login whose ?next= is unusable (off-site)
# goes to the admin, not to Django's /accounts/profile/, which does not exist.
LOGIN_REDIRECT_URL = "admin:index"

# --- Admin login rate limit (django-axes) ------------------------------------
# After AXES_FAILURE_LIMIT failed logins from one address for one user name,
# that pair is locked out (HTTP 429) for AXES_COOLOFF_TIME hours; a success
# resets the count. Other users from the same office address keep working.
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSPORTAL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("NEWSPORTAL_LOGIN_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
# The client address: REMOTE_ADDR, or behind NEWSPORTAL_TRUSTED_PROXIES
# reverse proxies the address the outermost of them saw (articles.client_ip).
NEWSPORTAL_TRUSTED_PROXIES = int(os.environ.get("NEWSPORTAL_TRUSTED_PROXIES", "0"))
# #20 C: X-Forwarded-For (and nginx's X-Request-ID) are believed only from these peers: addresses
# or networks (10.0.0.0/24), `unix` for a Unix socket. Anyone reaching an app server directly is
# counted by their own address, whatever they send.
NEWSPORTAL_TRUSTED_PROXY_ADDRESSES = env_list("NEWSPORTAL_TRUSTED_PROXY_ADDRESSES", "127.0.0.1,::1,unix")
AXES_CLIENT_IP_CALLABLE = "articles.client_ip.client_ip"


def _not_a_second_error(record) -> bool:
    """psycopg also logs "error ignored terminating <Pipeline …>" when a batch fails
    (a full disk, a read-only database): the first error is raised and reported,
    so this echo of it would only be a confusing extra line for the operator."""
    return not record.getMessage().startswith("error ignored terminating")


# --- Logs, error reports (#20 C: failure tolerance and observability) ----------------------
# One line per event: UTC ISO 8601 time, level, logger, request id (newsportal/logs.py);
# NEWSPORTAL_LOG_FORMAT=json: one JSON object a line, tracebacks inside it.
NEWSPORTAL_LOG_FORMAT = os.environ.get("NEWSPORTAL_LOG_FORMAT", "text").strip().lower() or "text"
if NEWSPORTAL_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"NEWSPORTAL_LOG_FORMAT: {NEWSPORTAL_LOG_FORMAT!r} (use text or json)")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"not_a_second_error": {"()": "django.utils.log.CallbackFilter", "callback": _not_a_second_error},
                "request_id": {"()": "newsportal.logs.RequestIdFilter"},
                "disallowed_host_once": {"()": "newsportal.logs.DisallowedHostOnce"}},
    "formatters": {"text": {"()": "newsportal.logs.TextFormatter"},
                   "json": {"()": "newsportal.logs.JSONFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": NEWSPORTAL_LOG_FORMAT,
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {"psycopg": {"filters": ["not_a_second_error"]},
                # Probes with other Host headers: one line per host and minute, no traceback.
                "django.security.DisallowedHost": {"filters": ["disallowed_host_once"]}},
}
# Error reports to Sentry (or a compatible service) when SENTRY_DSN is set; off by default,
# and sentry_sdk is not even imported then.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT") or "production",
                    release=os.environ.get("SENTRY_RELEASE") or NEWSPORTAL_RELEASE, send_default_pii=False,
                    traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")))

# --- Start-up safety (#20 A: install and settings) ----------------------------
# newsportal.checks: a weak DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS '*', no static files
# manifest in STATIC_ROOT are errors of `check --deploy`, and the WSGI/ASGI applications
# refuse to start with them (docs/DEPLOY.md, "Before the first start").
# Before whitenoise.runserver_nostatic: the first app with a command names it, and newsportal's
# `runserver` (whitenoise's and staticfiles', refusing DEBUG on a public address) must be the one.
INSTALLED_APPS.insert(INSTALLED_APPS.index("whitenoise.runserver_nostatic"), "newsportal.apps.ProjectConfig")
# Stored media in an object store without editing this file (docs/DEPLOY.md, "Media files"):
# NEWSPORTAL_MEDIA_STORAGE names the storage class (django-storages' S3Storage, …),
# NEWSPORTAL_MEDIA_STORAGE_OPTIONS its OPTIONS as a JSON object.
if os.environ.get("NEWSPORTAL_MEDIA_STORAGE"):
    import json

    try:
        _media_options = json.loads(os.environ.get("NEWSPORTAL_MEDIA_STORAGE_OPTIONS") or "{}")
    except ValueError as exc:
        raise ImproperlyConfigured(f"NEWSPORTAL_MEDIA_STORAGE_OPTIONS is not JSON: {exc}") from exc
    if not isinstance(_media_options, dict):
        raise ImproperlyConfigured("NEWSPORTAL_MEDIA_STORAGE_OPTIONS must be a JSON object ({...})")
    STORAGES["default"] = {"BACKEND": os.environ["NEWSPORTAL_MEDIA_STORAGE"], "OPTIONS": _media_options}

# --- Content API (/api/v1/, api) -------------------------------------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar", "corsheaders"]
# CORS headers must be added before anything (CommonMiddleware, WhiteNoise) can answer.
MIDDLEWARE.insert(MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware"), "corsheaders.middleware.CorsMiddleware")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    # A read-only public API: nobody logs in, so every client is throttled as anonymous.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AnonymousRateThrottle"],
    # Behind N reverse proxies, the client is the Nth address from the right of
    # X-Forwarded-For; with 0 it is REMOTE_ADDR (a client cannot spoof it).
    "NUM_PROXIES": int(os.environ.get("NEWSPORTAL_API_NUM_PROXIES", "0")),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests per second/minute/hour/day for each client address; empty turns throttling off.
NEWSPORTAL_API_ANON_RATE = os.environ.get("NEWSPORTAL_API_ANON_RATE", "120/min") or None
# How long clients and shared caches may reuse an API response, and how long the
# server keeps a rendered list (a change to any article makes a new one at once).
NEWSPORTAL_API_CACHE_SECONDS = int(os.environ.get("NEWSPORTAL_API_CACHE_SECONDS", "60"))

SPECTACULAR_SETTINGS = {
    "TITLE": "newsportal content API",
    "DESCRIPTION": "Read-only access to the published articles, categories, tags and authors.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Browsers may call the API from these origins only (comma-separated, e.g.
# https://app.example.com); none by default. Only /api/ answers CORS at all.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]

# --- Prometheus metrics (#20 C: failure tolerance and observability) --------------------------
# /metrics (newsportal/metrics.py) when NEWSPORTAL_METRICS=1, answered only to the addresses or
# networks in NEWSPORTAL_METRICS_ALLOWED (others get a 404). Off by default: nothing is imported.
NEWSPORTAL_METRICS = env_bool("NEWSPORTAL_METRICS", False)
NEWSPORTAL_METRICS_ALLOWED = env_list("NEWSPORTAL_METRICS_ALLOWED", "127.0.0.1,::1")
if NEWSPORTAL_METRICS:
    # After the request id and health checks; django-prometheus' pair around everything else,
    # its "after" half (ours: newsportal.metrics) just outside the page cache's middleware so that
    # it counts hits by view too, and outside AxesMiddleware so that it sees the lockout's 429.
    MIDDLEWARE.insert(MIDDLEWARE.index("newsportal.health.HealthCheckMiddleware") + 1, "newsportal.metrics.MetricsMiddleware")
    MIDDLEWARE.insert(MIDDLEWARE.index("newsportal.metrics.MetricsMiddleware") + 1,
                      "django_prometheus.middleware.PrometheusBeforeMiddleware")
    MIDDLEWARE.insert(MIDDLEWARE.index("articles.page_cache.CachedPageMiddleware"),
                      "newsportal.metrics.PrometheusAfterMiddleware")
