"""What changed: the content version, and derived values kept while their keys hold.

The content version says *that* something changed; articles.content_keys says
*what*: public pages, feeds, sitemaps and API answers are stored with the keys
of what they show and served while those keys are unchanged since the
generation they were rendered at (articles.page_cache, api.freshness).
Derived figures (`remembered`) are kept the same way, by the keys they depend on. Nothing is
ever deleted from the cache: old entries are simply never served again (they
age out).

The content version has two parts:

* the **generation**, one row in the database (`ContentVersion`). It is bumped
  by a database execute wrapper installed on every connection: any INSERT,
  UPDATE or DELETE on a table of the public content (the tables of this app's
  models and taggit's, read from the app registry, less bookkeeping) bumps it
  *inside the same transaction*, and records the content key `*` (everything)
  unless the write runs inside one that says which articles it changes
  (articles.content_keys). So no write path can forget to invalidate —
  admin saves, bulk admin actions, `QuerySet.update()`, merges, deletes, the
  importer's raw bulk INSERTs and raw SQL alike — and a rolled-back write
  leaves the generation alone. Readers see the new generation exactly when
  they see the new content. It lives in the database, not in the cache, so it
  is shared by every process (several gunicorn workers, the import command)
  even with the per-process local-memory cache;
* the **schedule**: the latest scheduled publication time (status published,
  time after the last write) that has passed. When a scheduled article's time
  comes, the version changes by itself, with no write and no cron job.

Both come from one small indexed query per request (`content_state`).

Each process keeps the version it read for up to
NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS (default 0.5 s, at most 1 s), outside
transactions only: under load that saves the one query of a cached page. A
write in the process forgets it at once (and again when the write commits), so
the process that wrote sees its change at once; other processes may serve the
previous version for at most that long. A scheduled publication falling due
also ends it.

The receivers that install the write watcher and pause it during `migrate`
are connected by articles.handlers.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
import datetime as dt
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import connection as default_connection
from django.db import transaction
from django.utils import timezone

from articles import plain_sql


# The apps whose tables hold what readers see; of their models, these are
# bookkeeping, not content (the version row itself included).
CONTENT_APPS = ("articles", "taggit")
BOOKKEEPING_MODELS = frozenset({
    "articles.contentversion", "articles.importedfile", "articles.importrun", "articles.tagsuggestion",
    "articles.keywordterm", "articles.historicalarticle", "articles.contentkey",
    # Read counts (articles.hot): a flush records only the `hot` key, never `*`.
    "articles.articlehits",
})
# Tables that are no model's (the search index's virtual tables), added by their apps.
_extra_content_tables: set[str] = set()
VERSION_TABLE = "articles_contentversion"
VERSION_ROW = 1

_WRITE_STATEMENT = re.compile(
    r"""^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)
        \s+[`"]?([\w.]+)""",
    re.IGNORECASE | re.VERBOSE,
)

# Paused while `migrate` runs: the version table may not exist yet.
_paused = False


def watch_tables(*tables: str) -> None:
    """Count writes to these tables (no model's; say a search index) as content changes."""
    _extra_content_tables.update(table.lower() for table in tables)
    content_tables.cache_clear()
    written_content_table.cache_clear()


@lru_cache(maxsize=1)
def content_tables() -> frozenset[str]:
    """The tables of the content apps' models, many-to-many tables included, less bookkeeping."""
    from django.apps import apps

    tables = {
        model._meta.db_table.lower()
        for label in CONTENT_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.label_lower not in BOOKKEEPING_MODELS
    }
    return frozenset(tables | _extra_content_tables)


@lru_cache(maxsize=1024)
def written_content_table(sql: str) -> str | None:
    """The content table a statement writes to, or None (reads, other tables)."""
    match = _WRITE_STATEMENT.match(sql)
    if not match:
        return None
    table = match.group(1).lower().rsplit(".", 1)[-1]
    return table if table in content_tables() else None


def bump_generation(connection=default_connection, *, read: bool = False) -> int | None:
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
        generation = None
        if read:  # the generation just written (the row is ours until the transaction ends)
            cursor.execute(f"SELECT generation FROM {table} WHERE id = %s", [VERSION_ROW])
            generation = cursor.fetchone()[0]
    forget_content_state()
    if connection.in_atomic_block:
        # Readers outside the transaction may remember the old version meanwhile.
        transaction.on_commit(forget_content_state, using=connection.alias)
    return generation


# Tables whose every write changes the same few keys, whoever writes: an old
# address (LegacyURL) only turns a 404 into a redirect (articles.legacy_urls,
# outside the page cache), so only cached 404s (`missing`) can go stale.
TABLE_KEYS = {"articles_legacyurl": ("missing",)}


def _watch_writes(execute, sql, params, many, context):
    table = None if _paused else written_content_table(sql)
    if table is None:
        return execute(sql, params, many, context)
    connection = context["connection"]
    if connection.in_atomic_block:
        # Bump first: every writing transaction then takes the version row's
        # lock before any other, so two writers cannot deadlock over it.
        _bump_and_describe(connection, table)
        return execute(sql, params, many, context)
    # Autocommit: the write must be visible before the new generation is,
    # or a reader could cache the old content under the new generation.
    result = execute(sql, params, many, context)
    _bump_and_describe(connection, table)
    return result


def _bump_and_describe(connection, table: str) -> None:
    """Bump the generation; a write outside a described one changes its table's keys, else everything (`*`)."""
    from articles import content_keys

    if content_keys.in_described_write():
        bump_generation(connection)
    else:
        content_keys.record(TABLE_KEYS.get(table, [content_keys.EVERYTHING]), connection)


def install_write_watcher(sender, connection, **kwargs) -> None:
    """Receiver of connection_created (articles.handlers): watch every connection's writes."""
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def pause_during_migrate(sender, **kwargs) -> None:
    global _paused
    _paused = True


def resume_after_migrate(sender, app_config, using, **kwargs) -> None:
    global _paused
    if app_config.label != "articles":
        return
    _paused = False
    # A migration may change what pages show (its data, the code that comes with it);
    # a `migrate` that applied none changed nothing, so a release's routine `migrate`
    # leaves the cache alone. Without a plan (`flush`, older callers) it may have: all.
    plan = kwargs.get("plan")
    if plan is not None and not plan:
        return
    from django.db import connections

    from articles import content_keys

    content_keys.record([content_keys.EVERYTHING], connections[using])


# --- reading the version -------------------------------------------------------


@dataclass(frozen=True)
class ContentState:
    version: str  # part of every cache key and ETag
    last_modified: dt.datetime
    next_change: dt.datetime | None  # the next scheduled publication, if any
    generation: int = 0  # the database's generation (articles.content_keys)
    passed: dt.datetime | None = None  # the latest scheduled publication since the last write
    read_at: float = 0.0  # when it was read (a timestamp): what a page rendered at it may show

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

    from articles.models import ContentVersion

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
    from articles import content_keys
    from articles.models import Article

    now = timezone.now()
    published = Article.Status.PUBLISHED.value
    when = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        since = connection.ops.adapt_datetimefield_value(content_keys.due_checked_until(now, connection))
        cursor.execute(_STATE_SQL, [published, when, published, when, published, since, when,
                                    since, when, since, when, VERSION_ROW])
        row = cursor.fetchone()
    if row is None:
        return None
    generation, changed_at, passed, upcoming, came_due, slot_start, slot_end = row[0], *map(plain_sql.as_datetime, row[1:])
    version = f"{generation}.{int(passed.timestamp() * 1_000_000)}" if passed else str(generation)
    slot_passed = max((t for t in (slot_start, slot_end) if t is not None), default=None)
    content_keys.sync(connection, generation, came_due, now, slot_passed)
    return ContentState(version, max(changed_at, passed or changed_at), upcoming, generation, passed,
                        now.timestamp())


# The latest scheduled time that has passed since the last write, the next
# one to come, and the latest scheduled article (published later than its last
# save) that came due since this process last looked (articles.content_keys):
# all read from the (status, published_at) index. Then the latest headline slot
# start and end times that passed since this process last looked (the pages
# showing slots change then: content_keys.SLOT_KEYS), from the slots' indexes.
_STATE_SQL = """
SELECT v.generation, v.changed_at,
  (SELECT a.published_at FROM articles_article a WHERE a.status = %s AND a.published_at > v.changed_at
     AND a.published_at <= %s ORDER BY a.published_at DESC LIMIT 1),
  (SELECT a.published_at FROM articles_article a WHERE a.status = %s AND a.published_at > %s
     ORDER BY a.published_at ASC LIMIT 1),
  (SELECT a.published_at FROM articles_article a WHERE a.status = %s AND a.published_at > %s
     AND a.published_at <= %s AND a.published_at > a.updated_at ORDER BY a.published_at DESC LIMIT 1),
  (SELECT s.starts_at FROM articles_headlineslot s WHERE s.starts_at > %s AND s.starts_at <= %s
     ORDER BY s.starts_at DESC LIMIT 1),
  (SELECT s.ends_at FROM articles_headlineslot s WHERE s.ends_at > %s AND s.ends_at <= %s
     ORDER BY s.ends_at DESC LIMIT 1)
FROM articles_contentversion v WHERE v.id = %s
"""


def current_state() -> ContentState | None:
    """The version this request is rendered at (read once per request)."""
    state = _request_state.get()
    return state if state is not None else content_state()


def remembered(name: str, compute: Callable[[], Any], keys: Iterable[str]) -> Any:
    """`compute()`, kept in the cache while none of the content `keys` it depends on changed.

    For figures shared by many pages that are costly to count at scale (the
    category tree's article counts, the archive's months). They are judged like
    a stored page (articles.content_keys.judge): an edit that does not touch
    their keys keeps them.
    """
    from django.db import connections, router

    from articles import content_keys
    from articles.models import ContentKey

    state = current_state()
    if state is None:
        return compute()
    keys = tuple(sorted(keys))
    stored = cache.get(f"derived:{name}")
    if isinstance(stored, dict) and stored.get("keys") == keys:
        connection = connections[router.db_for_read(ContentKey)]
        if content_keys.is_fresh(keys, stored["generation"], stored["rendered_at"], connection):
            return stored["value"]
    value = compute()
    # Stamped with the state read before computing: a write committed meanwhile makes it stale, never wrong.
    cache.set(f"derived:{name}", {"value": value, "keys": keys, "generation": state.generation,
                                  "rendered_at": state.read_at}, cache_timeout(state))
    return value


def cache_timeout(state: ContentState) -> int:
    """Never outlive the next scheduled publication (the version changes then anyway)."""
    timeout = settings.NEWSPORTAL_PAGE_CACHE_SECONDS
    remaining = state.seconds_until_next_change(timezone.now())
    if remaining is not None:
        timeout = min(timeout, int(remaining) + 1)
    return max(1, timeout)


@contextmanager
def rendering_at(state: ContentState | None) -> Iterator[None]:
    token = _request_state.set(state)  # read once per request (see `remembered`)
    try:
        yield
    finally:
        _request_state.reset(token)
