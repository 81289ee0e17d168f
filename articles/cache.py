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
current. Requests with a session cookie (logged-in staff), non-GET requests,
and responses that set cookies, use the CSRF token, vary on Cookie or are
marked private are never cached.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any, Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection as default_connection
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, quote_etag

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


def content_state() -> ContentState | None:
    """The current content version, in one query; None before any write.

    Plain SQL: it runs on every request, cached pages included, and building
    the same query through the ORM took ~2 ms of Python, more than the rest
    of serving a cached page.
    """
    from django.db import connection

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
    """Requests that may get a page made for this one visitor (staff, logged-in users)."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _is_shareable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code not in (200, 301, 302, 404):
        return False
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    if response.has_header("Vary") and "cookie" in response["Vary"].lower():
        return False
    cache_control = response.get("Cache-Control", "").lower()
    return not any(word in cache_control for word in ("private", "no-store", "no-cache"))


def _page_key(request: HttpRequest, state: ContentState, bucket: str) -> str:
    variant = "|".join((request.scheme, request.get_host(), getattr(request, "LANGUAGE_CODE", ""),
                        request.get_full_path()))
    digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
    return f"page:{state.version}{bucket}:{digest}"


def _etag(state: ContentState, request: HttpRequest, bucket: str) -> str:
    return quote_etag(f"{state.version}{bucket}-{getattr(request, 'LANGUAGE_CODE', '')}")


_STORED_HEADERS = ("Content-Type", "Location", "X-Robots-Tag", "Content-Language")


def _freeze(response: HttpResponse) -> tuple:
    headers = {name: response[name] for name in _STORED_HEADERS if response.has_header(name)}
    return (response.status_code, headers, response.content)


def _thaw(stored: tuple) -> HttpResponse:
    status, headers, content = stored
    response = HttpResponse(content, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def public_page(view: Callable | None = None, *, time_bucket: int | None = None):
    """Serve `view` to anonymous readers from the cache, with conditional GET.

    `time_bucket` (seconds) is for pages that change with the clock as well
    as with the content (the news sitemap's 48-hour window): their version
    also changes every `time_bucket` seconds.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            state = content_state()
            token = _request_state.set(state)  # read once per request (see `remembered`)
            try:
                if state is None or _is_personal(request):
                    return view(request, *args, **kwargs)
                return _respond(request, state, view, args, kwargs, time_bucket)
            finally:
                _request_state.reset(token)

        cached_view.public_page = True
        return cached_view

    return decorate(view) if view is not None else decorate


def _respond(request, state: ContentState, view, args, kwargs, time_bucket: int | None) -> HttpResponse:
    now = timezone.now()
    bucket = f"~{int(now.timestamp()) // time_bucket}" if time_bucket else ""
    etag = _etag(state, request, bucket)
    last_modified = int(state.last_modified.timestamp())  # HTTP dates have whole seconds
    if not bucket:
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            _public_headers(not_modified, etag, last_modified, bucket)
            return not_modified
    key = _page_key(request, state, bucket)
    stored = cache.get(key)
    if stored is not None:
        response = _thaw(stored)
        response["X-Cache"] = "hit"
    else:
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if not _is_shareable(request, response):
            return response
        timeout = _timeout(state)
        if time_bucket:
            timeout = min(timeout, time_bucket)
        cache.set(key, _freeze(response), timeout)
        response["X-Cache"] = "miss"
    if response.status_code == 200:
        _public_headers(response, etag, last_modified, bucket)
    return response


def _public_headers(response: HttpResponse, etag: str, last_modified: int, bucket: str) -> None:
    if not bucket:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified)
    # Browsers and CDNs revalidate (a cheap 304) after this many seconds; 0
    # means every time, so nobody sees a page older than the last change.
    patch_cache_control(response, public=True, max_age=settings.NEWSPORTAL_HTTP_MAX_AGE)
