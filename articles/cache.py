"""Public pages, feeds and sitemaps from the cache, never stale.

Every cached thing is keyed by the *content version*, so nothing is ever
deleted from the cache: a change makes a new version, and old entries are
simply never asked for again (they age out).

The content version has two parts:

* the **generation**, one row in the database (`ContentVersion`). It is bumped
  by a database execute wrapper installed on every connection: any INSERT,
  UPDATE or DELETE on a table of the public content (this app's tables and
  taggit's) bumps it *inside the same transaction*. So no write path can
  forget to invalidate — admin saves, bulk admin actions, `QuerySet.update()`,
  merges, deletes, the importer's raw bulk INSERTs and raw SQL alike — and a
  rolled-back write leaves the generation alone. Readers see the new
  generation exactly when they see the new content. It lives in the database,
  not in the cache, so it is shared by every process (several gunicorn
  workers, the import command) even with the per-process local-memory cache;
* the **schedule**: the latest scheduled publication time (status published,
  time after the last write) that has passed. When a scheduled article's time
  comes, the version changes by itself, with no write and no cron job.

Both come from one small indexed query per request (`content_state`); cache
entries also expire when the next scheduled publication is due.

`public_page` wraps a view: anonymous GET/HEAD requests are answered from the
cache, with an ETag and Last-Modified, and a 304 when the client's copy is
current. A page is keyed on what was resolved — the script name and path apart,
and only the query parameters the view reads (the others are dropped before it
runs) — and stored gzipped as well as plain. `CachedPageMiddleware` answers the same hits before sessions, locale,
CSRF, auth, messages, history and axes run (they cost more than the hit).

Each process keeps the version it read for up to
NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS (default 0.5 s, at most 1 s), outside
transactions only: under load that saves the one query of a cached page. A
write in the process forgets it at once (and again when the write commits), so
the process that wrote sees its change at once; other processes may serve the
previous version for at most that long. A scheduled publication falling due
also ends it. Requests with a live session (logged-in staff; a bogus or expired
`sessionid` counts as none), non-GET requests,
and responses that set cookies, use the CSRF token, vary on Cookie or are
marked private are never cached.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
import datetime as dt
import gzip
import hashlib
from importlib import import_module
import re
import time
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, Callable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, quote_etag

from .replica import public_reads

# Writes to these tables change what readers see. Import bookkeeping and the
# version row itself do not.
CONTENT_TABLE_PREFIXES = ("articles_", "taggit_")
IGNORED_TABLES = frozenset({
    "articles_contentversion", "articles_importedfile", "articles_importrun", "articles_tagsuggestion",
    "articles_keywordterm", "articles_historicalarticle",
})
VERSION_TABLE = "articles_contentversion"
VERSION_ROW = 1

_WRITE_STATEMENT = re.compile(
    r"""^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)
        \s+[`"]?([\w.]+)""",
    re.IGNORECASE | re.VERBOSE,
)

# Paused while `migrate` runs: the version table may not exist yet.
_paused = False


@lru_cache(maxsize=1024)
def written_content_table(sql: str) -> str | None:
    """The content table a statement writes to, or None (reads, other tables)."""
    match = _WRITE_STATEMENT.match(sql)
    if not match:
        return None
    table = match.group(1).lower().rsplit(".", 1)[-1]
    if table in IGNORED_TABLES or not table.startswith(CONTENT_TABLE_PREFIXES):
        return None
    return table


def bump_generation(connection=default_connection) -> None:
    """Make a new content generation, in the current transaction.

    The generation grows with the clock (microseconds) as well as by one, so
    it never goes back to a value used before, even after a database restore
    or a cleared cache.
    """
    now = timezone.now()
    now_us = int(now.timestamp() * 1_000_000)
    table = connection.ops.quote_name(VERSION_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET generation = CASE WHEN generation >= %s THEN generation + 1 ELSE %s END,"
            " changed_at = %s WHERE id = %s",
            [now_us, now_us, now, VERSION_ROW],
        )
        if cursor.rowcount == 0:  # a flushed database: start again from the clock
            cursor.execute(
                f"INSERT INTO {table} (id, generation, changed_at) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                [VERSION_ROW, now_us, now],
            )
    forget_content_state()
    if connection.in_atomic_block:
        # Readers outside the transaction may remember the old version meanwhile.
        transaction.on_commit(forget_content_state, using=connection.alias)


def _watch_writes(execute, sql, params, many, context):
    if _paused or written_content_table(sql) is None:
        return execute(sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block:
        # Bump first: every writing transaction then takes the version row's
        # lock before any other, so two writers cannot deadlock over it.
        bump_generation(connection)
        return execute(sql, params, many, context)
    # Autocommit: the write must be visible before the new generation is,
    # or a reader could cache the old content under the new generation.
    result = execute(sql, params, many, context)
    bump_generation(connection)
    return result


@receiver(connection_created, dispatch_uid="articles.cache.watch_writes")
def _install_write_watcher(sender, connection, **kwargs) -> None:
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


@receiver(pre_migrate, dispatch_uid="articles.cache.pause_during_migrate")
def _pause(sender, **kwargs) -> None:
    global _paused
    _paused = True


@receiver(post_migrate, dispatch_uid="articles.cache.resume_after_migrate")
def _resume(sender, app_config, using, **kwargs) -> None:
    global _paused
    if app_config.label != "articles":
        return
    _paused = False
    # A migration may change what pages show (data, templates that come with it).
    from django.db import connections

    bump_generation(connections[using])


# --- reading the version -------------------------------------------------------


@dataclass(frozen=True)
class ContentState:
    version: str  # part of every cache key and ETag
    last_modified: dt.datetime
    next_change: dt.datetime | None  # the next scheduled publication, if any

    def seconds_until_next_change(self, now: dt.datetime) -> float | None:
        return None if self.next_change is None else max(0.0, (self.next_change - now).total_seconds())


_request_state: contextvars.ContextVar[ContentState | None] = contextvars.ContextVar("content_state", default=None)


# (database alias, monotonic time until which it holds, the state): see the module docstring.
_memo: tuple[str, float, ContentState | None] | None = None
MAX_MEMO_SECONDS = 1.0
_clock = time.monotonic


def forget_content_state() -> None:
    """Drop this process's remembered version: the next request reads it again."""
    global _memo
    _memo = None


def _memo_seconds() -> float:
    return min(MAX_MEMO_SECONDS, max(0.0, float(getattr(settings, "NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS", 0))))


def content_state() -> ContentState | None:
    """The current content version; None before any write.

    Outside a transaction, the version read by this process in the last
    NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS is reused (unless a scheduled
    publication fell due since); inside one, it is always read, so a
    transaction sees its own writes.
    """
    global _memo
    from django.db import connections, router

    from .models import ContentVersion

    # The database this request's reads go to (the replica for public pages, if any).
    connection = connections[router.db_for_read(ContentVersion)]
    seconds = _memo_seconds()
    if not seconds or connection.in_atomic_block:
        return _read_content_state(connection)
    memo, now = _memo, _clock()
    if memo is not None and memo[0] == connection.alias and now < memo[1]:
        state = memo[2]
        if state is None or state.next_change is None or state.next_change > timezone.now():
            return state
    state = _read_content_state(connection)
    _memo = (connection.alias, now + seconds, state)
    return state


def _read_content_state(connection) -> ContentState | None:
    """The current content version, in one query.

    Plain SQL: it runs on every request, cached pages included, and building
    the same query through the ORM took ~2 ms of Python, more than the rest
    of serving a cached page.
    """
    from .models import Article

    now = timezone.now()
    published = Article.Status.PUBLISHED.value
    when = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [published, when, published, when, VERSION_ROW])
        row = cursor.fetchone()
    if row is None:
        return None
    generation, changed_at, passed, upcoming = row[0], *map(_as_datetime, row[1:])
    version = f"{generation}.{int(passed.timestamp() * 1_000_000)}" if passed else str(generation)
    return ContentState(version, max(changed_at, passed or changed_at), upcoming)


# The latest scheduled time that has passed since the last write, and the next
# one to come: both read from the (status, published_at) index.
_STATE_SQL = """
SELECT v.generation, v.changed_at,
  (SELECT a.published_at FROM articles_article a WHERE a.status = %s AND a.published_at > v.changed_at
     AND a.published_at <= %s ORDER BY a.published_at DESC LIMIT 1),
  (SELECT a.published_at FROM articles_article a WHERE a.status = %s AND a.published_at > %s
     ORDER BY a.published_at ASC LIMIT 1)
FROM articles_contentversion v WHERE v.id = %s
"""


def _as_datetime(value) -> dt.datetime | None:
    """A timestamp column as an aware datetime (SQLite returns text)."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, dt.timezone.utc)
    parsed = parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.timezone.utc)


def current_state() -> ContentState | None:
    """The version this request is rendered at (read once per request)."""
    state = _request_state.get()
    return state if state is not None else content_state()


def remembered(name: str, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept in the cache for the current content version.

    For figures shared by many pages that are costly to count at scale (the
    category tree's article counts, the archive's months).
    """
    state = current_state()
    if state is None:
        return compute()
    key = f"derived:{state.version}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, _timeout(state))
    return value


# --- the page cache ----------------------------------------------------------------


def _timeout(state: ContentState) -> int:
    """Never outlive the next scheduled publication (the version changes then anyway)."""
    timeout = settings.NEWSPORTAL_PAGE_CACHE_SECONDS
    remaining = state.seconds_until_next_change(timezone.now())
    if remaining is not None:
        timeout = min(timeout, int(remaining) + 1)
    return max(1, timeout)


def _is_personal(request: HttpRequest) -> bool:
    """Requests that may get a page made for this one visitor (staff, logged-in users).

    Only a cookie naming a live session counts: a bogus or expired `sessionid`
    is treated like none (served from the cache), or any client could make
    every request skip the cache by sending one. Checking costs one indexed
    read, and only for requests that carry the cookie.
    """
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return False
    known = getattr(request, "_has_live_session", None)
    if known is None:
        known = request._has_live_session = bool(import_module(settings.SESSION_ENGINE).SessionStore(key).load())
    return known


def _is_shareable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code not in (200, 301, 302, 404):
        return False
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    if response.has_header("Vary") and "cookie" in response["Vary"].lower():
        return False
    cache_control = response.get("Cache-Control", "").lower()
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _language(request: HttpRequest) -> str:
    return getattr(request, "LANGUAGE_CODE", "")


def only_read_params(request: HttpRequest, names: tuple[str, ...]) -> None:
    """Make `request` carry only the query parameters its view reads (`names`), in that order.

    The page is then a function of its cache key: an extra parameter (?utm_source=,
    ?x=random) neither makes a new cache entry, nor skips the cache, nor ends up in
    a link (pagination, canonical) of a page that others are served.
    """
    kept = QueryDict(mutable=True)
    for name in names:
        values = request.GET.getlist(name)
        if values:
            kept.setlist(name, values)
    query = kept.urlencode()
    if query != request.META.get("QUERY_STRING", ""):
        kept._mutable = False
        request.GET = kept
        request.META["QUERY_STRING"] = query


def _page_key(request: HttpRequest, state: ContentState, bucket: str, language: str) -> str:
    # What was resolved (path_info) and the prefix its links were rendered with
    # (SCRIPT_NAME), kept apart: get_full_path() joins them, so "/search" + "/"
    # (a SCRIPT_NAME a proxy or a client sent) and "" + "/search/" were one key.
    # The query string holds only the parameters the view reads (only_read_params).
    script_name = request.path[: len(request.path) - len(request.path_info)]
    variant = "|".join((request.scheme, request.get_host(), language, script_name, request.path_info,
                        request.META.get("QUERY_STRING", "")))
    digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
    return f"page:{state.version}{bucket}:{digest}"


def _etag(state: ContentState, bucket: str, language: str) -> str:
    return quote_etag(f"{state.version}{bucket}-{language}")


_STORED_HEADERS = ("Content-Type", "Location", "X-Robots-Tag", "Content-Language")
# What GZipMiddleware compresses: not worth it below this size.
MIN_GZIP_BYTES = 200


def _freeze(response: HttpResponse) -> tuple:
    """The stored page: status, headers, body, and the body gzipped once (or None).

    A shared page holds no secret (no CSRF token, no cookie: `_is_shareable`), so
    unlike GZipMiddleware's per-response output it needs no random padding
    against BREACH, and one compression serves every hit.
    """
    headers = {name: response[name] for name in _STORED_HEADERS if response.has_header(name)}
    content = response.content
    gzipped = gzip.compress(content, compresslevel=6, mtime=0) if len(content) >= MIN_GZIP_BYTES else None
    if gzipped is not None and len(gzipped) >= len(content):
        gzipped = None
    return (response.status_code, headers, content, gzipped)


def _thaw(stored: tuple, request: HttpRequest) -> HttpResponse:
    """The stored page, gzipped for a client that accepts it."""
    status, headers, content, *rest = stored
    gzipped = rest[0] if rest else None  # entries stored before compression have none
    if gzipped is not None and re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response = HttpResponse(gzipped, status=status)
        # GZipMiddleware leaves an encoded response alone: say what it would have said.
        response["Content-Encoding"] = "gzip"
        patch_vary_headers(response, ("Accept-Encoding",))
    else:
        response = HttpResponse(content, status=status)  # GZipMiddleware adds the Vary
    for name, value in headers.items():
        response[name] = value
    return response


@contextmanager
def _state_for_request(state: ContentState | None) -> Iterator[None]:
    token = _request_state.set(state)  # read once per request (see `remembered`)
    try:
        yield
    finally:
        _request_state.reset(token)


def public_page(view: Callable | None = None, *, time_bucket: int | None = None,
                query_params: tuple[str, ...] | None = None):
    """Serve `view` to anonymous readers from the cache, with conditional GET.

    `time_bucket` (seconds) is for pages that change with the clock as well
    as with the content (the news sitemap's 48-hour window): their version
    also changes every `time_bucket` seconds.

    `query_params` are the query parameters the view reads; by default the
    `query_params` of a class-based view's class (none otherwise). Any other
    parameter is dropped from GET and HEAD requests before the view runs, and
    the page is cached under those alone.
    """

    def decorate(view: Callable) -> Callable:
        names = tuple(query_params if query_params is not None
                      else getattr(getattr(view, "view_class", None), "query_params", ()))

        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            only_read_params(request, names)
            if _is_personal(request):  # staff: the primary, uncached, as they just saved it
                with _state_for_request(content_state()):
                    return view(request, *args, **kwargs)
            with public_reads():
                # CachedPageMiddleware has read it already when it missed.
                state = getattr(request, "_content_state", None) or content_state()
                with _state_for_request(state):
                    if state is None:
                        return view(request, *args, **kwargs)
                    return _respond(request, state, view, args, kwargs, time_bucket)

        cached_view.public_page = True
        cached_view.time_bucket = time_bucket
        cached_view.query_params = names
        return cached_view

    return decorate(view) if view is not None else decorate


def _bucket(time_bucket: int | None) -> str:
    return f"~{int(timezone.now().timestamp()) // time_bucket}" if time_bucket else ""


def _from_cache(request: HttpRequest, state: ContentState, bucket: str, language: str) -> HttpResponse | None:
    """A 304, or the stored page, with the public headers; None on a miss."""
    etag = _etag(state, bucket, language)
    last_modified = int(state.last_modified.timestamp())  # HTTP dates have whole seconds
    if not bucket:
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            _public_headers(not_modified, etag, last_modified, bucket)
            return not_modified
    stored = cache.get(_page_key(request, state, bucket, language))
    if stored is None:
        return None
    response = _thaw(stored, request)
    response["X-Cache"] = "hit"
    if response.status_code == 200:
        _public_headers(response, etag, last_modified, bucket)
        if response.has_header("Content-Encoding") and not bucket:
            response["ETag"] = f"W/{etag}"  # another representation of the page, as GZipMiddleware marks it
    return response


def _respond(request, state: ContentState, view, args, kwargs, time_bucket: int | None) -> HttpResponse:
    bucket, language = _bucket(time_bucket), _language(request)
    response = _from_cache(request, state, bucket, language)
    if response is None:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if not _is_shareable(request, response):
            return response
        timeout = _timeout(state)
        if time_bucket:
            timeout = min(timeout, time_bucket)
        cache.set(_page_key(request, state, bucket, language), _freeze(response), timeout)
        response["X-Cache"] = "miss"
        if response.status_code == 200:
            _public_headers(response, _etag(state, bucket, language), int(state.last_modified.timestamp()), bucket)
    return response


def _public_headers(response: HttpResponse, etag: str, last_modified: int, bucket: str) -> None:
    if not bucket:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified)
    # Browsers and CDNs revalidate (a cheap 304) after this many seconds; 0
    # means every time, so nobody sees a page older than the last change.
    patch_cache_control(response, public=True, max_age=settings.NEWSPORTAL_HTTP_MAX_AGE)


# --- hits before the rest of the middleware ---------------------------------------------


class CachedPageMiddleware:
    """Answer anonymous readers' cache hits before the session, locale, CSRF,
    auth, messages, history and axes middleware run.

    Placed right after WhiteNoise (and GZip). For a GET or HEAD without a live session
    whose URL resolves to a `public_page` view, it works out the language as
    LocaleMiddleware would, and answers a 304 or a stored page with the
    headers the skipped middleware would have added (Vary: Accept-Language,
    Content-Language, X-Frame-Options, Content-Length). Anything else — a
    miss, staff, a POST, another URL — goes down the whole stack as before.
    Under gunicorn this was most of a cached page's cost (the middleware took
    more than the cache lookup).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._hit(request)
        return response if response is not None else self.get_response(request)

    @staticmethod
    def _hit(request: HttpRequest) -> HttpResponse | None:
        if request.method not in ("GET", "HEAD"):
            return None
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            return None
        if not getattr(view, "public_page", False) or _is_personal(request):
            return None
        only_read_params(request, view.query_params)
        with public_reads():
            state = content_state()
        if state is None:
            return None
        request._content_state = state  # a miss does not read it twice
        language = translation.get_language_from_request(request)
        response = _from_cache(request, state, _bucket(view.time_bucket), language)
        if response is None:
            return None
        # What LocaleMiddleware, XFrameOptionsMiddleware and CommonMiddleware add.
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        if response.get("X-Frame-Options") is None and not getattr(response, "xframe_options_exempt", False):
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
