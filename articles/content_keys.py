"""What each page shows, and what each write changed: per-content keys.

A *key* names one thing that pages show:

* entities: `a:<id>` (an article: its own page, and its title wherever it is
  linked), `c:<id>` (a category), `t:<id>` (a tag), `p:<id>` (an author or
  reporter) by name: on every page that prints the name (article pages,
  listing cards and feed items through `show_names`, a channel's
  subcategories);
* placement: `nb:<id>` (which articles are an article's previous and next:
  its page's links), `rel:tag|channel|author:<id>` and `kw:<word>` (where an
  article's related articles come from);
* listings: `home`, `channel:<category id>`, `tag:<id>`, `author:<id>`,
  `archive` (the index and its counts), `archive:<y>`, `archive:<y>-<m>`,
  `archive:<y>-<m>-<d>`, `archive-periods` (which days have articles: the
  archive pages' previous/next links),
  `categories` (the category index and its counts), `tags` and `authors` (the
  API's lists and their counts, the filter form's choices at /filters/choices/), `search`, `missing` (pages
  that answered 404), `names` (pages that look a category, tag or author up by
  its path or slug from the query — filtered listings — and the API's article
  answers, whose keys are fixed before the names are read),
  `feed`, `feed:channel:<id>`, `feed:tag:<id>`,
  `feed:author:<id>`, `sitemap`, `sitemap:<section>`, `sitemap-news`, `hot` (the
  most-read lists, recorded by articles.hot's flush at most every few minutes);
* the front page (articles.front): `nav` (the channel bar in every page's
  header: which top-level categories have published articles), `wire` (which
  categories are the wire's); headline slots show under `home` (SLOT_KEYS);
* `*`: everything (a write nobody described).

**Reading.** While a public page renders, the view (and anything it calls)
names what it shows with `show(...)`; `articles.page_cache` collects them
(`collecting()`), stores the page with its keys and the content generation and
time it was rendered at, and sends them as `xkey` and `Surrogate-Key` headers.

**Writing.** Every write to the content tables still bumps the content
generation in its transaction (articles.content_version). Three kinds of write
say which keys they touch, as rows of `ContentKey` at the new generation in the
same transaction:

* `article_change(article)` (newsroom.operations.save_as_edit: admin saves,
  publishing, moves, accepted tags, restores) records the keys of the article
  before and after — its page, its listings, its neighbours' pages, its feeds
  and sitemaps;
* `articles_write()` (an import batch, a byline re-detection batch,
  `operations.delete_articles`) the same for any number of articles, in five
  set-based queries per 500 of them and one more;
* `entity_change(kind, ids)` (`operations.save_named`, `delete_named` and the
  merges of tags and authors; the admin calls them) the keys of the categories
  (with those below them), tags or authors written — their pages, feeds and
  index, every page naming them, `missing`, `names` — and, if articles' links
  to them changed, the related lists drawn from their listings.

A write to an old address (`LegacyURL`, from the admin or anywhere) records
`missing`: it turns a 404 into a redirect and changes nothing else
(`content_version.TABLE_KEYS`). Any other write (`QuerySet.update()`, raw
SQL) records `*`: every page is then stale, which is always correct.

**Derived figures** shared by many pages (`content_version.remembered`: the
category counts, the archive's months) are kept by the keys they depend on and
judged like a stored page.

**Scheduled publication.** An article whose publication time is later than its
last save is *scheduled*. When its time comes, its keys change by themselves,
with no write and no cron job: the content state's query sees that a
scheduled publication has passed, and each process then works out that
article's keys (a few indexed queries, once per process per publication) and
counts them changed at its publication time. A shared cache in front is not
told by this: articles.purges schedules a purge of the article's keys at its
time when it is saved (`keys_changed` names it with `a:<id>`).

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
from collections import Counter
from contextlib import contextmanager
from typing import Iterable, Iterator

from django.db import connection as default_connection
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from articles.iterables import batched

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

    A draft is on no public page but its own. Set-based: five queries per
    KEY_QUERY_CHUNK articles however many there are (the articles with their
    neighbours; their categories, tags, reporters and keywords) and one for
    the days they share, so a batch of any size can be described. In plain
    SQL: through the ORM, preparing the id lists and converting the rows cost
    three times the queries themselves (an import batch of 2,000: 160 ms).
    """
    from django.db import connections, router

    from articles.models import Article, TagSuggestion

    published_status, pending = Article.Status.PUBLISHED.value, TagSuggestion.State.PENDING.value
    given = {pk for pk in ids if pk is not None}
    ids = sorted(given)
    shown: set[str] = {f"a:{pk}" for pk in ids}
    placed: set[str] = set()
    rows, neighbours = [], []
    categories, tags, reporters, keywords = [], [], [], []
    connection = connections[router.db_for_read(Article)]
    with connection.cursor() as cursor:
        for chunk in batched(ids, KEY_QUERY_CHUNK):
            found = _fetch(cursor, _ARTICLES_SQL, chunk, before=[published_status] * 3)
            if not found:
                continue
            rows += [row[:5] for row in found]
            neighbours += [pk for row in found for pk in row[5:] if pk is not None]
            published = [row[0] for row in found]
            categories += _fetch(cursor, _LINK_SQL["categories"], published)
            tags += _fetch(cursor, _LINK_SQL["tags"], published)
            reporters += _fetch(cursor, _LINK_SQL["reporters"], published)
            keywords += _fetch(cursor, _LINK_SQL["keywords"], published, after=[pending])
    if not rows:
        return shown, placed, ()
    rows.sort()
    shown.update(("home", "search", "feed", "sitemap", "sitemap-news"))
    placed.update(("missing", "archive", "categories", "tags", "authors", "sitemap:categories"))
    for _pk, _published_at, day, author_id, _slug in rows:
        year, month, date = _day_parts(day)
        shown.update((f"archive:{year}", f"archive:{year}-{month}", f"archive:{year}-{month}-{date}",
                      f"sitemap:{year}"))
        if author_id is not None:
            shown.update((f"author:{author_id}", f"feed:author:{author_id}"))
    # A day with none of the others: it comes (or goes) with them, and the archive's previous/next links change.
    if _days_of_their_own(rows):
        placed.add("archive-periods")
    # Only an article's own page shows `nb:<id>`, and it shows `a:<id>` (always recorded) too.
    placed.update(f"nb:{pk}" for pk in neighbours if pk not in given)
    categories, tags, reporters, keywords = (sorted(pairs) for pairs in (categories, tags, reporters, keywords))
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
    where = (tuple(rows), tuple(categories), tuple(tags), tuple(reporters), tuple(keywords))
    return shown, placed, where


# Ids per IN (...) list in `_article_keys`: under SQLite's oldest limit of 999 parameters.
KEY_QUERY_CHUNK = 500


def channels_alone(ids: Iterable[int]) -> frozenset[int]:
    """The top-level categories whose only published articles are among these (few ids: a scheduled
    article coming due). Not empty: their coming or going changes the channel bar (`nav`)."""
    from articles.models import Article, ArticleCategory

    ids = [pk for pk in ids if pk is not None]
    if not ids:
        return frozenset()
    published = ArticleCategory.objects.filter(Article.published_q("article__"))
    top = set(published.filter(article__in=ids, category__parent__isnull=True).values_list("category_id", flat=True))
    return frozenset(category for category in top
                     if not published.filter(category=category).exclude(article__in=ids).exists())


def channel_bar_ids() -> frozenset[int]:
    """The top-level categories with a published article: the channel bar (`nav`) in every page's header.

    Read before and after a described write (one query of index probes, one
    per top-level category): when the set changes — a channel's first article
    published, its last unpublished or moved away — the write records `nav`.
    """
    from articles.models import Category

    return frozenset(Category.objects.public().filter(parent__isnull=True).values_list("pk", flat=True))


# The published articles among some ids, each with the published articles just before and
# after it in time (their pages link to it): two correlated subqueries, each one step of the
# (status, published_at) index, as row values (see articles.pagination.Keyset.beyond).
_ARTICLES_SQL = """
SELECT a.id, a.published_at, a.published_date, a.author_id, a.slug,
  (SELECT o.id FROM articles_article o WHERE o.status = %s AND (o.published_at, o.id) < (a.published_at, a.id)
     ORDER BY o.published_at DESC, o.id DESC LIMIT 1),
  (SELECT n.id FROM articles_article n WHERE n.status = %s AND (n.published_at, n.id) > (a.published_at, a.id)
     ORDER BY n.published_at ASC, n.id ASC LIMIT 1)
FROM articles_article a WHERE a.status = %s AND a.id IN ({ids}) ORDER BY a.id
"""
_LINK_SQL = {
    "categories": "SELECT article_id, category_id FROM articles_articlecategory WHERE article_id IN ({ids})",
    "tags": "SELECT content_object_id, tag_id FROM articles_taggedarticle WHERE content_object_id IN ({ids})",
    "reporters": "SELECT article_id, author_id FROM articles_articlebyline WHERE article_id IN ({ids})",
    "keywords": "SELECT article_id, name FROM articles_tagsuggestion WHERE article_id IN ({ids}) AND state = %s",
}
_DAYS_SQL = """
SELECT published_date, COUNT(*) FROM articles_article WHERE status = %s AND published_date IN ({ids})
GROUP BY published_date
"""


def _fetch(cursor, sql: str, ids: list, before: list | tuple = (), after: list | tuple = ()) -> list[tuple]:
    """The rows of `sql` for these ids (its `{ids}`), with the parameters that come before and after them."""
    cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), [*before, *ids, *after])
    return [tuple(row) for row in cursor.fetchall()]


def _day_parts(day) -> tuple[str, str, str]:
    """A stored publication date (a date, or SQLite's 'YYYY-MM-DD') as year, month and day."""
    text = day.isoformat() if isinstance(day, dt.date) else str(day)
    return text[0:4], text[5:7], text[8:10]


def _days_of_their_own(rows: list[tuple]) -> bool:
    """Whether any of these published articles' days has no other published article (one GROUP BY)."""
    from django.db import connections, router

    from articles.models import Article

    theirs = Counter(day for _pk, _at, day, _author, _slug in rows)
    counted: Counter = Counter()
    with connections[router.db_for_read(Article)].cursor() as cursor:
        for days in batched(sorted(theirs), KEY_QUERY_CHUNK):
            counted.update(dict(_fetch(cursor, _DAYS_SQL, days, before=[Article.Status.PUBLISHED.value])))
    return any(counted[day] <= n for day, n in theirs.items())


_scope: contextvars.ContextVar[list | None] = contextvars.ContextVar("content_keys_scope", default=None)


def in_described_write() -> bool:
    """True inside `_described` (`article_change`, `articles_write`, `entity_change`, `keys_write`):
    their writes are described by keys, not by `*`.

    (Asked by the execute wrapper for each content write, which is noted.)
    """
    scope = _scope.get()
    if scope is None:
        return False
    if not scope:
        scope.append(True)
    return True


@contextmanager
def _described(writes: list | None = None) -> Iterator[None]:
    """Content writes made inside are described by the caller, so the write watcher records no `*`
    for them (`in_described_write`); `writes` collects whether any was made."""
    token = _scope.set([] if writes is None else writes)
    try:
        yield
    finally:
        _scope.reset(token)


def _with_bar(keys: set[str], bar_before: frozenset[int]) -> set[str]:
    """`keys`, and `nav` if the channel bar (`channel_bar_ids`) is not what it was before the write."""
    if bar_before != channel_bar_ids():
        keys.add("nav")  # a channel came into the bar or left it
    return keys


@contextmanager
def article_change(article) -> Iterator[None]:
    """Record the keys `article`'s change touches (before and after), in the write's transaction."""
    with transaction.atomic():
        before = _article_keys([article.pk]) if article.pk is not None else (set(), set(), ())
        bar_before = channel_bar_ids()
        with _described():
            yield
        record(_with_bar(_changed_keys(before, _article_keys([article.pk])), bar_before))


# The pages that show the home page's headline slots (articles.models.HeadlineSlot): a slot's
# write, or its start or end time passing, changes these and nothing else.
SLOT_KEYS = ("home",)


@contextmanager
def keys_write(keys: Iterable[str]) -> Iterator[None]:
    """A write that changes exactly `keys` (a headline slot's save): recorded as them, not as `*`."""
    keys = tuple(keys)
    with transaction.atomic():
        with _described():
            yield
        record(keys)


class ArticlesWrite:
    """What a batch writing several articles reports (see `articles_write`)."""

    def __init__(self) -> None:
        self.before: tuple[set[str], set[str], list] = (set(), set(), [])
        self.ids: set[int] = set()

    def changing(self, ids: Iterable[int]) -> None:
        """These stored articles are about to change: their keys as they are now (before any write)."""
        ids = set(ids) - self.ids
        self.ids |= ids
        if ids:
            shown, placed, where = _article_keys(ids)
            self.before[0].update(shown)
            self.before[1].update(placed)
            self.before[2].append(where)

    def written(self, ids: Iterable[int]) -> None:
        """These articles were written (new ones included)."""
        self.ids |= set(ids)


@contextmanager
def articles_write() -> Iterator[ArticlesWrite]:
    """A transaction writing several articles (an import batch) whose writes it reports.

    Records the keys of the articles reported, before and after, whatever
    their number (`_article_keys` costs a few queries per batch, not per
    article); `*` only if it wrote content without reporting any article.
    """
    with transaction.atomic():
        write, writes = ArticlesWrite(), []
        bar_before = channel_bar_ids()
        with _described(writes):
            yield write
        if writes and not write.ids:  # writes it did not report
            record([EVERYTHING])
            return
        record(_with_bar(_changed_keys(write.before, _article_keys(write.ids)), bar_before))


def _changed_keys(before: tuple[set[str], set[str], object], after: tuple[set[str], set[str], object]) -> set[str]:
    """What a change of articles touched: all they are shown on; where they are, if it changed."""
    keys = before[0] | after[0]
    if _where_of(before) != _where_of(after):  # they came, went or moved: the pages that place them change too
        keys |= before[1] | after[1]
    return keys


def _where_of(keys: tuple) -> tuple:
    """Where articles are (the third part of `_article_keys`), of one look or of several joined."""
    where = keys[2]
    if not isinstance(where, list):
        return where
    parts = [part for part in where if part]
    return tuple(tuple(sorted(item for part in parts for item in part[i])) for i in range(5)) if parts else ()


# --- categories, tags and authors ------------------------------------------------------

# Of each kind of named row pages print: the key of one row (its name, wherever printed), of its
# listing (its page and feed: `<listing>:<id>`, `feed:<listing>:<id>`, `rel:<listing>:<id>`) and of
# the index of all of them with their counts.
ENTITY_KINDS: dict[str, tuple[str, str, str]] = {
    "category": ("c", "channel", "categories"),
    "tag": ("t", "tag", "tags"),
    "author": ("p", "author", "authors"),
}


def entity_keys(kind: str, ids: Iterable[int]) -> set[str]:
    """The keys of the pages that print these categories', tags' or authors' names or addresses.

    Their own pages and feeds, every page naming them (`c:`/`t:`/`p:`: article
    pages, listing cards, feed items), their index, the 404s at the addresses
    they leave or take (`missing`), the pages that read names from the query
    (`names`: filtered listings, the API's article answers), and for
    categories the category sitemap.
    """
    prefix, listing, index = ENTITY_KINDS[kind]
    keys = {index, "missing", "names", *(["sitemap:categories"] if kind == "category" else [])}
    for pk in ids:
        keys.update((f"{prefix}:{pk}", f"{listing}:{pk}", f"feed:{listing}:{pk}"))
    return keys


def _entity_rows(kind: str, ids: set[int]) -> set[int]:
    """The rows `ids` and, for categories, every category below them (their paths and trails name them)."""
    from django.db.models import Q

    from articles.models import Category

    ids = {pk for pk in ids if pk is not None}
    if kind != "category" or not ids:
        return ids
    paths = list(Category.objects.filter(pk__in=ids).values_list("path", flat=True))
    below = Q()
    for path in paths:
        below |= Q(path__startswith=f"{path}/")
    return ids | (set(Category.objects.filter(below).values_list("pk", flat=True)) if paths else set())


def _links(kind: str, ids: set[int]) -> set[tuple[int, int]]:
    """(article, row) for every article linked to these rows (for authors: as outlet or in a byline)."""
    from articles.models import Article, ArticleByline, ArticleCategory, TaggedArticle

    links: set[tuple[int, int]] = set()
    for chunk in batched(sorted(ids), KEY_QUERY_CHUNK):
        if kind == "category":
            links.update(ArticleCategory.objects.filter(category__in=chunk).values_list("article_id", "category_id"))
        elif kind == "tag":
            links.update(TaggedArticle.objects.filter(tag__in=chunk).values_list("content_object_id", "tag_id"))
        else:
            links.update(Article.objects.filter(author__in=chunk).values_list("pk", "author_id"))
            links.update(ArticleByline.objects.filter(author__in=chunk).values_list("article_id", "author_id"))
    return links


@contextmanager
def entity_change(kind: str, ids: Iterable[int]) -> Iterator[set[int]]:
    """A write to categories, tags or authors (`kind`, see ENTITY_KINDS): a new row, a rename, a
    move, a merge, a delete. Records, in the write's transaction, the keys of the pages that print
    them (`entity_keys`, with the categories below: their articles' pages among them) and, if
    articles were linked to them or unlinked (a merge, a delete), the related lists drawn from them.

    Yields the set of ids: add a new row's id to it once saved.
    """
    with transaction.atomic():
        rows = set(ids)
        before = _entity_rows(kind, rows)
        links_before = _links(kind, before)
        channels_before = _channels(kind, before)
        with _described():
            yield rows
        every = before | _entity_rows(kind, rows)
        keys = entity_keys(kind, every)
        # The pages of articles linked or unlinked show the rows' keys already (`c:`, `t:`, `p:`);
        # the related lists drawn from the rows' listings change too.
        if links_before != _links(kind, every):
            keys.update(f"rel:{ENTITY_KINDS[kind][1]}:{pk}" for pk in every)
        if kind == "category":
            # Which categories are the wire's goes by their names; the channel bar prints the
            # top-level ones: a write to one of those (or one that changes the bar) reaches every page.
            keys.add("wire")
            if channels_before != _channels(kind, every):
                keys.add("nav")
        record(keys)


def _channels(kind: str, rows: set[int]) -> tuple:
    """For categories: the channel bar, and the top-level rows among `rows` with their names and order."""
    from articles.models import Category

    if kind != "category":
        return ()
    top = Category.objects.filter(pk__in=rows, parent__isnull=True).order_by("pk")
    return channel_bar_ids(), tuple(top.values_list("pk", "name", "slug", "front_order"))


def show_names(articles: Iterable) -> None:
    """Say that the page prints these articles' category trails and outlets (listing cards, feed items)."""
    collected = _collected.get()
    if collected is None:
        return
    for article in articles:
        collected.update(f"c:{category.pk}" for category in article.category_trail)
        if article.author_id is not None:
            collected.add(f"p:{article.author_id}")


# Keys per INSERT in `record` (two parameters each, under SQLite's oldest limit of 999).
RECORD_CHUNK = 400


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
        # The generation just written (the version row is this transaction's until it ends).
        generation = content_version.bump_generation(connection, read=True)
        with connection.cursor() as cursor:
            # Many rows a statement: a large import batch changes thousands of keys.
            for chunk in batched(keys, RECORD_CHUNK):
                cursor.execute(
                    f"INSERT INTO {table} ({key}, generation) VALUES {', '.join(['(%s, %s)'] * len(chunk))}"
                    f" ON CONFLICT ({key}) DO UPDATE SET generation = excluded.generation",
                    [value for name in chunk for value in (name, generation)],
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
