"""What each page shows, and what each write changed: per-content keys.

A *key* names one thing that pages show:

* entities: `a:<id>` (an article: its own page, and its title wherever it is
  linked), `c:<id>` (a category), `t:<id>` (a tag), `p:<id>` (an author or
  reporter) by name — renaming them is a write the app does not describe, so
  these serve the headers, for a shared cache's purges;
* placement: `nb:<id>` (which articles are an article's previous and next:
  its page's links), `rel:tag|channel|author:<id>` and `kw:<word>` (where an
  article's related articles come from);
* listings: `home`, `channel:<category id>`, `tag:<id>`, `author:<id>`,
  `archive` (the index and its counts), `archive:<y>`, `archive:<y>-<m>`,
  `archive:<y>-<m>-<d>`, `archive-periods` (which days have articles: the
  archive pages' previous/next links),
  `categories` (the category index and its counts), `tags` and `authors` (the
  API's lists and their counts), `search`, `missing` (pages
  that answered 404), `feed`, `feed:channel:<id>`, `feed:tag:<id>`,
  `feed:author:<id>`, `sitemap`, `sitemap:<section>`, `sitemap-news`;
* the front page (articles.front): `nav` (the channel bar in every page's
  header: which top-level categories have published articles), `wire` (which
  categories are the wire's); headline slots show under `home` (SLOT_KEYS);
* `*`: everything (a write nobody described).

**Reading.** While a public page renders, the view (and anything it calls)
names what it shows with `show(...)`; `articles.page_cache` collects them
(`collecting()`), stores the page with its keys and the content generation and
time it was rendered at, and sends them as `xkey` and `Surrogate-Key` headers.

**Writing.** Every write to the content tables still bumps the content
generation in its transaction (articles.content_version). A write made inside
`article_change(article)` (newsroom.operations.save_as_edit: admin saves,
publishing, moves, merges, accepted tags, restores) records in the same
transaction the keys of the article before and after — its page, its listings,
its neighbours' pages, its feeds and sitemaps — as rows of `ContentKey` at the
new generation. Any other write (the importer's raw INSERTs, `QuerySet.update()`,
category and author edits, raw SQL) records `*`: every page is then stale,
which is always correct.

**Scheduled publication.** An article whose publication time is later than its
last save is *scheduled*. When its time comes, its keys change by themselves,
with no write and no cron job: the content state's query sees that a
scheduled publication has passed, and each process then works out that
article's keys (a few indexed queries, once per process per publication) and
counts them changed at its publication time.

**Checking.** A stored page is fresh while none of its keys (nor `*`) changed
after it was rendered. Each process keeps, per database (the primary, the
replica public pages read), from the generation it first read there, the keys
changed since (one query when the generation read by `content_state()` moves,
none otherwise) and the keys of the scheduled articles that came due, so a
cache hit costs no query beyond the content state. A page rendered before the
process started looking (a shared Redis cache) is checked against the database
instead (two small indexed queries). The database is the source of truth, so
every server sees a write within the content state's memo time (≤ 1 s),
whatever the cache.

**Purges.** When a transaction that changed keys commits, `keys_changed` is
sent with the keys (`*` for everything): the seam for purging a shared cache
(Varnish's xkey, a CDN's Surrogate-Key). A receiver enqueues the purge; one
that fails is logged and changes nothing for the write.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from contextlib import contextmanager
from typing import Iterable, Iterator

from django.db import connection as default_connection
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

EVERYTHING = "*"
# Sent after the commit of a write, with keys=frozenset of the keys it changed ("*": everything).
# The seam for purging a shared cache in front: connect a receiver that enqueues the purge, e.g.
#     keys_changed.connect(lambda sender, keys, **kwargs: purge_keys.enqueue(sorted(keys)))
# It runs in the writing process right after the commit, so it should only enqueue. A receiver
# that raises is logged; the write and the other receivers are not affected.
keys_changed = Signal()
logger = logging.getLogger(__name__)

# --- reading: what a page shows ---------------------------------------------------

_collected: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("content_keys", default=None)


def show(*keys: str) -> None:
    """Say that the page being rendered shows these keys (no-op outside `collecting`)."""
    collected = _collected.get()
    if collected is not None:
        collected.update(key for key in keys if key)


@contextmanager
def collecting() -> Iterator[set[str]]:
    keys: set[str] = set()
    token = _collected.set(keys)
    try:
        yield keys
    finally:
        _collected.reset(token)


def archive_keys(day: dt.date) -> tuple[str, str, str]:
    return (f"archive:{day.year:04d}", f"archive:{day.year:04d}-{day.month:02d}",
            f"archive:{day.year:04d}-{day.month:02d}-{day.day:02d}")


def header_value(keys: Iterable[str]) -> str:
    return " ".join(sorted(keys))


# --- writing: what a write changed --------------------------------------------------

def keys_of_articles(ids: Iterable[int]) -> set[str]:
    """Every key whose pages show these articles, or would change if they came or went, as stored now."""
    ids = list(ids)
    shown, placed, _where = _article_keys(ids)
    return shown | placed | ({"nav"} if channels_alone(ids) else set())


def _article_keys(ids: Iterable[int]) -> tuple[set[str], set[str], tuple]:
    """The keys of these articles, as the database has them now, in two parts, and where they are.

    * shown: the pages that print them — their own page (`a:<id>`, which is
      also on every page linking to them), the home page, their categories',
      tags', authors' and reporters' listings and feeds, their archive day,
      month and year, the search, the sitemaps;
    * placed: the pages that only depend on *where* they are — counts (the
      category index, the archive index, the category sitemap), their
      neighbours' previous/next links (`nb:`), other articles' related lists
      (`rel:…`, `kw:`), and the 404s at addresses they may take (`missing`).
      An edit that leaves them where they were (a title, a body) need not
      change these: `where` says where they are.

    A draft is on no public page but its own.
    """
    from articles.models import Article, ArticleByline, ArticleCategory, TaggedArticle, TagSuggestion

    ids = [pk for pk in ids if pk is not None]
    shown, placed = {f"a:{pk}" for pk in ids}, set()
    rows = list(Article.objects.filter(pk__in=ids, status=Article.Status.PUBLISHED)
                .values_list("pk", "published_at", "published_date", "author_id", "slug").order_by("pk"))
    if not rows:
        return shown, placed, ()
    published = [row[0] for row in rows]
    shown.update(("home", "search", "feed", "sitemap", "sitemap-news"))
    placed.update(("missing", "archive", "categories", "tags", "authors", "sitemap:categories"))
    for pk, published_at, day, author_id, _slug in rows:
        shown.update(archive_keys(day))
        shown.add(f"sitemap:{day.year:04d}")
        # Alone on its day: the day comes (or goes) with it, and the archive's previous/next links change.
        if not Article.objects.filter(status=Article.Status.PUBLISHED, published_date=day).exclude(pk=pk).exists():
            placed.add("archive-periods")
        if author_id is not None:
            shown.update((f"author:{author_id}", f"feed:author:{author_id}"))
        placed.update(f"nb:{neighbour}" for neighbour in _neighbours(pk, published_at))
    categories = sorted(ArticleCategory.objects.filter(article__in=published).values_list("article_id", "category_id"))
    tags = sorted(TaggedArticle.objects.filter(content_object__in=published).values_list("content_object_id", "tag_id"))
    reporters = sorted(ArticleByline.objects.filter(article__in=published).values_list("article_id", "author_id"))
    keywords = sorted(TagSuggestion.objects.filter(article__in=published, state=TagSuggestion.State.PENDING)
                      .values_list("article_id", "name"))
    for _pk, category_id in categories:
        shown.update((f"channel:{category_id}", f"feed:channel:{category_id}"))
        placed.add(f"rel:channel:{category_id}")
    for _pk, tag_id in tags:
        shown.update((f"tag:{tag_id}", f"feed:tag:{tag_id}"))
        placed.add(f"rel:tag:{tag_id}")
    for _pk, author_id in reporters:
        shown.update((f"author:{author_id}", f"feed:author:{author_id}"))
        placed.add(f"rel:author:{author_id}")
    placed.update(f"kw:{name}" for _pk, name in keywords)
    where = (tuple((pk, published_at, author_id, slug) for pk, published_at, _day, author_id, slug in rows),
             tuple(categories), tuple(tags), tuple(reporters), tuple(keywords))
    return shown, placed, where


def channels_alone(ids: Iterable[int]) -> frozenset[int]:
    """The top-level categories whose only published articles are among these (they make the channel bar).

    The bar (`nav`) changes when an article change changes this set: the first
    article of a channel published, the last one unpublished or moved away.
    """
    from articles.models import Article, ArticleCategory

    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return frozenset()
    published = ArticleCategory.objects.filter(Article.published_q("article__"))
    top = set(published.filter(article__in=ids, category__parent__isnull=True).values_list("category_id", flat=True))
    return frozenset(category for category in top
                     if not published.filter(category=category).exclude(article__in=ids).exists())


def _neighbours(pk: int, published_at: dt.datetime) -> list[int]:
    """The published articles just before and after this one in time (their pages link to it)."""
    from articles.models import Article
    from articles.pagination import Key, Keys

    keys = Keys(Article.objects.filter(status=Article.Status.PUBLISHED))
    key = Key(published_at, pk)
    return [pk for rows in (keys.older_than(key), keys.newer_than(key))
            for pk in rows.values_list("pk", flat=True)[:1]]


_scope: contextvars.ContextVar[list | None] = contextvars.ContextVar("content_keys_scope", default=None)


def in_described_write() -> bool:
    """True inside `article_change` and `articles_write`: their writes are described by keys, not by `*`.

    (Asked by the execute wrapper for each content write, which is noted.)
    """
    scope = _scope.get()
    if scope is None:
        return False
    if not scope:
        scope.append(True)
    return True


@contextmanager
def article_change(article) -> Iterator[None]:
    """Record the keys `article`'s change touches (before and after), in the write's transaction."""
    with transaction.atomic():
        before = _article_keys([article.pk]) if article.pk is not None else (set(), set(), None)
        bar_before = channels_alone([article.pk])
        token = _scope.set([])
        try:
            yield
        finally:
            _scope.reset(token)
        after = _article_keys([article.pk])
        keys = before[0] | after[0]
        if before[2] != after[2]:  # it came, went or moved: the pages that place it change too
            keys |= before[1] | after[1]
        if bar_before != channels_alone([article.pk]):
            keys.add("nav")  # a channel came into the bar or left it
        record(keys)


# The pages that show the home page's headline slots (articles.models.HeadlineSlot): a slot's
# write, or its start or end time passing, changes these and nothing else.
SLOT_KEYS = ("home",)


@contextmanager
def keys_write(keys: Iterable[str]) -> Iterator[None]:
    """A write that changes exactly `keys` (a headline slot's save): recorded as them, not as `*`."""
    keys = tuple(keys)
    with transaction.atomic():
        token = _scope.set([])
        try:
            yield
        finally:
            _scope.reset(token)
        record(keys)


# Batches of more articles than this are recorded as `*`: working out their keys would cost
# more (a few queries an article) than it saves, and they touch most listings anyway.
MAX_DESCRIBED_ARTICLES = 20


class ArticlesWrite:
    """What a batch writing several articles reports (see `articles_write`)."""

    def __init__(self) -> None:
        self.before: tuple[set[str], set[str], tuple] | None = None
        self.bar_before: frozenset[int] = frozenset()
        self.ids: set[int] = set()
        self.too_many = False

    def changing(self, ids: Iterable[int]) -> None:
        """These stored articles are about to change: their keys as they are now (before any write)."""
        ids = set(ids)
        self.ids |= ids
        if len(self.ids) > MAX_DESCRIBED_ARTICLES:
            self.too_many = True
        elif ids:
            self.before = _article_keys(sorted(ids))
            self.bar_before = channels_alone(ids)

    def written(self, ids: Iterable[int]) -> None:
        """These articles were written (new ones included)."""
        self.ids |= set(ids)
        self.too_many = self.too_many or len(self.ids) > MAX_DESCRIBED_ARTICLES


@contextmanager
def articles_write() -> Iterator[ArticlesWrite]:
    """A transaction writing several articles (an import batch) whose writes it reports.

    Records the keys of the articles reported (before and after), or `*` if
    there were more than MAX_DESCRIBED_ARTICLES.
    """
    with transaction.atomic():
        write, writes = ArticlesWrite(), []
        token = _scope.set(writes)
        try:
            yield write
        finally:
            _scope.reset(token)
        if write.too_many or (writes and not write.ids):  # too many, or writes it did not report
            record([EVERYTHING])
            return
        before = write.before or (set(), set(), ())
        after = _article_keys(sorted(write.ids))
        keys = before[0] | after[0]
        if before[2] != after[2]:
            keys |= before[1] | after[1]
        if write.bar_before != channels_alone(write.ids):
            keys.add("nav")
        record(keys)


def record(keys: Iterable[str], connection=default_connection) -> None:
    """Mark `keys` changed at the current (just bumped) generation, in the current transaction."""
    from articles import content_version

    keys = sorted(set(keys))
    if not keys:
        return
    if not _has_key_table(connection):  # a database not migrated this far (a shell between migrations)
        content_version.bump_generation(connection)
        return
    table = connection.ops.quote_name("articles_contentkey")
    key = connection.ops.quote_name("key")
    with _transaction_of(connection):
        content_version.bump_generation(connection)
        with connection.cursor() as cursor:
            # The generation just written (the version row is this transaction's until it ends).
            # "WHERE 1 = 1": SQLite's parser needs a WHERE before an upsert's ON CONFLICT.
            cursor.executemany(
                f"INSERT INTO {table} ({key}, generation) SELECT %s, generation FROM"
                f" {connection.ops.quote_name(content_version.VERSION_TABLE)} WHERE id = %s AND 1 = 1"
                f" ON CONFLICT ({key}) DO UPDATE SET generation = excluded.generation",
                [(name, content_version.VERSION_ROW) for name in keys],
            )
    _announce(keys, connection)


def _has_key_table(connection) -> bool:
    if getattr(connection, "_has_content_key_table", False):
        return True
    with connection.cursor() as cursor:
        found = "articles_contentkey" in connection.introspection.table_names(cursor)
    connection._has_content_key_table = found  # only a table found is remembered
    return found


@contextmanager
def _transaction_of(connection) -> Iterator[None]:
    """One transaction on `connection` itself (which may be a connection of its own, not the alias's)."""
    if connection.in_atomic_block:
        yield
        return
    connection.set_autocommit(False)
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    else:
        connection.commit()
    finally:
        connection.set_autocommit(True)


def _send(keys: frozenset[str]) -> None:
    """Tell the receivers (purges); the write is committed: a receiver's failure is logged, not raised."""
    for receiver, error in keys_changed.send_robust(sender=record, keys=keys):
        if isinstance(error, Exception):
            logger.error("keys_changed receiver %r failed for %d keys", receiver, len(keys), exc_info=error)


def _announce(keys: Iterable[str], connection) -> None:
    """Send `keys_changed` once the transaction commits (at once in autocommit).

    `*` alone (a write nobody described: one per statement of a bulk write) is
    sent once per transaction.
    """
    keys = frozenset(keys)
    if not connection.in_atomic_block:
        _send(keys)
        return
    if keys == {EVERYTHING} and any(getattr(entry[1], "everything", False) for entry in connection.run_on_commit):
        return

    def send() -> None:
        _send(keys)

    send.everything = EVERYTHING in keys
    connection.on_commit(send)


# --- checking: is a stored page still fresh? -----------------------------------------

class _Clock:
    """What this process knows of the changes in one database (the primary, or the replica that
    public pages read): from the generation (and time) it first read there, the latest generation
    of each key changed since, and the latest due time of each key of a scheduled article that came due.
    """

    def __init__(self, generation: int, now: float) -> None:
        self.known: dict[str, int] = {}
        self.due: dict[str, float] = {}
        self.synced_generation = generation
        self.due_until = now
        self.horizon = (generation, now)  # pages rendered at or after it are judged from memory


_clocks: dict[str, _Clock] = {}  # by database alias
MAX_KNOWN = 100_000


def forget() -> None:
    """Start again from the next content state read (tests; a new process)."""
    _clocks.clear()


def due_checked_until(now: dt.datetime, connection) -> dt.datetime:
    """Since when the content state asks for scheduled articles that came due (now, at first)."""
    clock = _clocks.get(connection.alias)
    return now if clock is None else dt.datetime.fromtimestamp(clock.due_until, dt.timezone.utc)


def sync(connection, generation: int, came_due: dt.datetime | None, now: dt.datetime,
         slot_passed: dt.datetime | None = None) -> None:
    """Learn the keys changed since this process last looked, from the content state just read at `now`.

    `came_due` is the latest scheduled publication that came due since then (None if none);
    `slot_passed` the latest headline slot's start or end time that passed since then.
    """
    clock = _clocks.get(connection.alias)
    if (clock is None or generation < clock.synced_generation
            or len(clock.known) + len(clock.due) > MAX_KNOWN):
        # Pages rendered at this state or later are judged from here on; older ones, by the database.
        _clocks[connection.alias] = _Clock(generation, now.timestamp())
        return
    if generation != clock.synced_generation:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, generation FROM articles_contentkey WHERE generation > %s",
                           [clock.synced_generation])
            for name, changed in cursor.fetchall():
                if changed > clock.known.get(name, 0):
                    clock.known[name] = changed
    if came_due is not None:
        since = dt.datetime.fromtimestamp(clock.due_until, dt.timezone.utc)
        for pk, published_at in _came_due(since, now).using(connection.alias).values_list("pk", "published_at"):
            due = published_at.timestamp()
            for name in keys_of_articles([pk]):
                if due > clock.due.get(name, 0.0):
                    clock.due[name] = due
    if slot_passed is not None:
        for name in SLOT_KEYS:
            clock.due[name] = max(clock.due.get(name, 0.0), slot_passed.timestamp())
    clock.synced_generation, clock.due_until = generation, max(clock.due_until, now.timestamp())


def _came_due(since: dt.datetime, until: dt.datetime):
    """The scheduled articles (published later than their last save) whose time came in (since, until]."""
    from django.db.models import F

    from articles.models import Article

    return (Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=since, published_at__lte=until)
            .filter(published_at__gt=F("updated_at")))


def slot_times_passed(since: dt.datetime, until: dt.datetime, using: str) -> bool:
    """Whether a headline slot started or ended in (since, until]: the pages showing slots changed then."""
    from django.db.models import Q

    from articles.models import HeadlineSlot

    return HeadlineSlot.objects.using(using).filter(
        Q(starts_at__gt=since, starts_at__lte=until) | Q(ends_at__gt=since, ends_at__lte=until)).exists()


def is_fresh(keys: Iterable[str], generation: int, rendered_at: float, connection) -> bool:
    """Whether a page rendered at `generation` and time `rendered_at`, showing `keys`, is still current."""
    return judge(keys, generation, rendered_at, connection) is not None


def judge(keys: Iterable[str], generation: int, rendered_at: float, connection) -> tuple[int, float] | None:
    """None if a page rendered at `generation` and `rendered_at`, showing `keys`, is stale; else the
    generation and time it may be judged at from now on.

    Those are its own when this process judges it from memory. A page rendered
    before the process started looking is checked in the database; found
    current, it may be judged from memory from then on, as if rendered now: no
    key of it changed up to the generation this process has read.
    """
    names = [*keys, EVERYTHING]
    clock = _clocks.get(connection.alias)
    if clock is not None and generation >= clock.horizon[0] and rendered_at >= clock.horizon[1]:
        known, due = clock.known, clock.due
        for name in names:
            if known.get(name, 0) > generation or due.get(name, 0.0) > rendered_at:
                return None
        return generation, rendered_at
    from articles.models import ContentKey

    now = timezone.now()
    if ContentKey.objects.using(connection.alias).filter(key__in=names, generation__gt=generation).exists():
        return None
    rendered = dt.datetime.fromtimestamp(rendered_at, dt.timezone.utc)
    if _came_due(rendered, now).using(connection.alias).exists():  # counts for every page
        return None
    if set(names) & set(SLOT_KEYS) and slot_times_passed(rendered, now, connection.alias):
        return None
    if clock is None:
        return generation, rendered_at
    return max(generation, clock.synced_generation), max(rendered_at, min(now.timestamp(), clock.due_until))
