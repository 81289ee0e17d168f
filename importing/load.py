"""Write parsed, sanitised articles to the database in batches.

One transaction per batch; authors, categories and tags are resolved from
in-memory maps (created once, then reused), articles are inserted and updated
in bulk. A batch that fails is rolled back and retried one article at a time,
so one bad record never takes the others down with it. A dry run
(importing.pipeline) runs all of this unchanged inside one outer transaction
that it rolls back, so each batch's transaction is a savepoint there.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from django.db import DatabaseError, connection, models, reset_queries
from django.utils import timezone
from taggit.models import Tag

from articles import content_keys
from articles.models import (
    Article, ArticleByline, ArticleCategory, Author, Category, ImportedFile, LegacyURL, TaggedArticle, local_date,
    record_url_changes, unicode_slug, unique_slug,
)
from search import index as search_index
from search.backends.postgres import POSTGRES_TABLE as SEARCH_POSTGRES_TABLE

from importing import database_errors as retry
from importing.asset_store import AssetStore
from importing import wal
from importing.derive import DerivedBody
from importing.parse import ParsedArticle

log = logging.getLogger(__name__)

# Fields an import owns; on re-import of a changed file they are overwritten.
IMPORTED_FIELDS = (
    "title", "body", "published_at", "status", "author", "head_image", "thumbnail",
    "comments_enabled", "extra_front_matter", "source_path", "content_hash", "version", "edited_locally",
    "excerpt_explicit",
    "updated_at",
)


# Articles written per transaction. Each commit writes the batch's search
# entries as one new index segment; at 500 a large import spent as much time
# merging the small segments as writing them (docs/BENCHMARKS.md). A batch
# of 2,000 holds some 60 MB.
DEFAULT_BATCH_SIZE = 2000

# What importing a file does to its article; each names its LoadResult counter.
CREATED, UPDATED, UNCHANGED, KEPT = "created", "updated", "unchanged", "kept_local_edits"
_COUNTERS = (CREATED, UPDATED, UNCHANGED, KEPT)


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_local_edits: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    written: list[int] = field(default_factory=list)  # ids of the articles created or updated
    warnings: list[str] = field(default_factory=list)  # asset files that could not be stored


@dataclass
class _Pending:
    parsed: ParsedArticle
    body: DerivedBody
    # Every file of this batch that holds the story: (path, content hash).
    files: list[tuple[str, str]] = field(default_factory=list)
    # The (role, name) bylines to write; None keeps the article's (an editor corrected them).
    bylines: list[tuple[str, str]] | None = None
    is_new: bool = True
    # Whether a reader would see a change in the article's own columns (always, for a new one).
    seen_change: bool = True


class ArticleLoader:
    """Accumulates articles and writes them `batch_size` at a time."""

    def __init__(self, *, batch_size: int = DEFAULT_BATCH_SIZE, analyze: bool = True,
                 overwrite_edited: bool = False, store_assets: bool = True) -> None:
        self.batch_size = batch_size
        # False for a dry run: its rows are rolled back, and files stored for them would stay.
        self._asset_store = AssetStore() if store_assets else None
        # False for a dry run, whose writes are rolled back: nothing new to gather statistics on.
        self.analyze = analyze
        self.overwrite_edited = overwrite_edited
        # What was committed: a failed or interrupted import records these (importing.runs).
        self.result = LoadResult()
        self._pending: dict[str, _Pending] = {}
        # Copies of a story within the pending batch: counted once the batch commits.
        self._pending_copies = {UPDATED: 0, UNCHANGED: 0}
        self._load_maps()

    # -- public ------------------------------------------------------------

    def known_files(self) -> dict[str, str]:
        """Each imported file's path and the content hash it had then."""
        return dict(ImportedFile.objects.values_list("path", "content_hash"))

    def add(self, parsed: ParsedArticle, body: DerivedBody) -> None:
        """Queue an article: its parsed file and its sanitised body with what derives from it."""
        source = (parsed.source_path, parsed.content_hash)
        pending = self._pending.get(parsed.import_key)
        if pending is not None:
            # The same story twice in one batch (a copy under another name):
            # the later file wins, as it would across two runs.
            pending.files.append(source)
            if pending.parsed.content_hash == parsed.content_hash:
                self._pending_copies[UNCHANGED] += 1
            else:
                pending.parsed, pending.body = parsed, body
                self._pending_copies[UPDATED] += 1
            return
        self._pending[parsed.import_key] = _Pending(parsed, body, [source])
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending batch; `result` then counts it (a fault raises, counting nothing of it)."""
        batch = list(self._pending.values())
        self._pending.clear()
        copies, self._pending_copies = self._pending_copies, {UPDATED: 0, UNCHANGED: 0}
        if not batch:
            return
        self._write_or_fail_alone(batch)
        for outcome, count in copies.items():  # their story's batch is written (or its failure recorded)
            setattr(self.result, outcome, getattr(self.result, outcome) + count)

    def _write_or_fail_alone(self, batch: list[_Pending]) -> None:
        try:
            self._write_retrying(batch)
            reset_queries()  # with DEBUG on, Django would keep every bulk INSERT's SQL
        except DatabaseError as exc:
            if retry.describe_fault(exc):
                raise  # a read-only or full database fails every file alike: stop the import
            if len(batch) == 1:
                self._fail(batch[0], exc)
                return
            log.warning("batch of %d failed (%s); retrying one article at a time", len(batch), retry.one_line(exc))
            for item in batch:
                try:
                    self._write_retrying([item])
                except DatabaseError as item_exc:
                    if retry.describe_fault(item_exc):
                        raise
                    self._fail(item, item_exc)

    def _write_retrying(self, batch: list[_Pending]) -> None:
        """Write a batch; if it loses a race with another writer, re-read the maps and write it again."""
        counts = self._counts()

        def rolled_back() -> None:
            self._load_maps()  # the rollback undid any authors, categories, tags it made
            self._restore_counts(counts)  # and any outcomes it counted before failing

        retry.with_retries(lambda: self._write_batch(batch), after_rollback=rolled_back,
                           what=f"batch of {len(batch)} article(s)")

    def _counts(self) -> tuple[int, ...]:
        return (*(getattr(self.result, name) for name in _COUNTERS), len(self.result.warnings),
                len(self.result.written))

    def _restore_counts(self, counts: tuple[int, ...]) -> None:
        for name, value in zip(_COUNTERS, counts):
            setattr(self.result, name, value)
        del self.result.warnings[counts[-2]:]
        del self.result.written[counts[-1]:]

    def _fail(self, item: _Pending, exc: Exception) -> None:
        self.result.failed.append((item.parsed.source_path, retry.explain(exc)))

    def finish(self) -> LoadResult:
        self.flush()
        if self.result.created > 1000 and self.analyze:
            _analyze_imported_tables()
        return self.result

    # -- maps of existing rows ----------------------------------------------

    def _load_maps(self) -> None:
        self._authors = dict(Author.objects.values_list("name", "id"))
        self._author_slugs = set(Author.objects.values_list("slug", flat=True))
        self._categories = {(c.parent_id, c.name): c for c in Category.objects.all()}
        self._tags = {name.casefold(): pk for name, pk in Tag.objects.values_list("name", "id")}
        self._tag_slugs = set(Tag.objects.values_list("slug", flat=True))

    def _author_id(self, name: str) -> int | None:
        if not name:
            return None
        if name not in self._authors:
            slug = unique_slug(unicode_slug(name, "author", 100), self._author_slugs, 100)
            author = Author.objects.create(name=name, slug=slug)
            self._author_slugs.add(slug)
            self._authors[name] = author.id
        return self._authors[name]

    def _category_ids(self, chains: tuple[tuple[str, ...], ...]) -> set[int]:
        """Every node of every chain, as Hexo links a post to each level."""
        ids: set[int] = set()
        for chain in chains:
            parent: Category | None = None
            for name in chain:
                key = (parent.id if parent else None, name)
                node = self._categories.get(key)
                if node is None:
                    node = Category(name=name, parent=parent)
                    node.save()
                    self._categories[key] = node
                ids.add(node.id)
                parent = node
        return ids

    def _tag_ids(self, names: tuple[str, ...]) -> list[int]:
        # Another process may create the same tag in another case after the maps
        # were read: the unique index on lower(name) (migration 0015) then fails
        # this batch, and _write_retrying re-reads the maps and links its tag.
        missing = {n.casefold(): n for n in names if n.casefold() not in self._tags}
        if missing:
            new = []
            for name in missing.values():
                slug = unique_slug(unicode_slug(name, "tag", 100), self._tag_slugs, 100)
                self._tag_slugs.add(slug)
                new.append(Tag(name=name, slug=slug))
            for tag in Tag.objects.bulk_create(new):
                self._tags[tag.name.casefold()] = tag.id
        return [self._tags[n.casefold()] for n in names]

    # -- writing ------------------------------------------------------------

    def _write_batch(self, batch: list[_Pending]) -> None:
        # A Ctrl-C between the commit and the counts would leave the run's
        # record short of what was committed: it waits until both are done.
        # The batch says which articles it writes (articles.content_keys): a small one
        # refreshes only their pages; a large one, everything.
        with _sigint_deferred(), content_keys.articles_write() as write:
            existing = {
                a.import_key: a
                for a in Article.objects.filter(import_key__in=[p.parsed.import_key for p in batch])
            }
            new_articles, changed_articles, links, same = [], [], [], []
            taken = self._taken_slugs({local_date(p.parsed.published_at) for p in batch})
            for item in batch:
                article = existing.get(item.parsed.import_key)
                outcome = self._classify(article, item)
                if outcome == UNCHANGED:
                    same.append((article, item))  # a copy of a file already imported
                    continue
                if outcome == KEPT:
                    # The file is not recorded, so --overwrite-edited can still apply it later.
                    self._count(KEPT)
                    continue
                is_new = outcome == CREATED
                if is_new:
                    article = Article(import_key=item.parsed.import_key)
                item.is_new = is_new
                old_day, old_slug = article.published_date, article.slug
                seen_before = None if is_new else _seen(article)
                self._apply(article, item)
                day = local_date(article.published_at)
                if is_new or day != old_day or article.slug != old_slug:
                    base = article.slug or unicode_slug(article.title, "article")
                    article.slug = unique_slug(base, taken.setdefault(day, set()))
                    taken[day].add(article.slug)
                item.seen_change = is_new or _seen(article) != seen_before
                (new_articles if is_new else changed_articles).append(article)
                links.append((article, item))
            # Their keys as stored, before their rows and links are written below.
            write.changing(article.id for article in changed_articles)
            self._set_modified_times(links)
            _insert_articles(new_articles)
            if changed_articles:
                Article.objects.bulk_update(
                    changed_articles, [*IMPORTED_FIELDS, "slug", "bylines_edited"], batch_size=200)
                record_url_changes(changed_articles)
                ids = [a.id for a in changed_articles]
                ArticleCategory.objects.filter(article_id__in=ids).delete()
                TaggedArticle.objects.filter(content_object_id__in=ids).delete()
                ArticleByline.objects.filter(
                    article_id__in=[a.id for a, item in links if not item.is_new and item.bylines is not None]
                ).delete()
            self._write_links(links)
            _write_legacy_urls(links)
            # bulk_create/bulk_update send no signals: index the batch here, in its transaction.
            search_index.index_documents([(a.id, item.body.document, a.published_at) for a, item in links])
            # In the transaction: the rows that link to the files commit only after they are stored.
            not_stored = self._store_assets([*links, *same])
            self._record_files([*links, *same], not_stored)
            self.result.created += len(new_articles)
            self.result.updated += len(changed_articles)
            self.result.unchanged += len(same)
            self.result.written.extend(article.id for article, _item in links)
            write.written(article.id for article, _item in links)

    def _store_assets(self, written: list[tuple[Article, _Pending]]) -> set[int]:
        """Store the written articles' asset files; the ids of those whose files were not all stored."""
        not_stored: set[int] = set()
        if self._asset_store is None:
            return not_stored
        for article, item in written:
            if item.parsed.assets:
                problems = self._asset_store.store(item.parsed.assets, post=item.parsed.source_path)
                if problems:
                    self.result.warnings.extend(problems)
                    not_stored.add(article.id)
        return not_stored

    def _set_modified_times(self, links: list[tuple[Article, _Pending]]) -> None:
        """Each written article's last-modified time: the file's `updated`, else now if a reader
        sees a change (a new article; a changed column, category, tag or byline), else as it was.

        So a file whose bytes changed without changing what is shown (a
        re-exported copy, new whitespace in the front matter, a pipeline
        version bump that renders the same) does not move it.
        """
        now = timezone.now()
        undecided = []
        for article, item in links:
            if item.parsed.updated is not None:
                article.updated_at = item.parsed.updated
            elif item.seen_change:
                article.updated_at = now
            else:
                undecided.append((article, item))
        if not undecided:
            return
        # The columns are as they were: do the links differ? (Read before they are replaced.)
        ids = [article.id for article, _item in undecided]
        categories: dict[int, set[int]] = {}
        for article_id, category_id in ArticleCategory.objects.filter(
                article_id__in=ids).values_list("article_id", "category_id"):
            categories.setdefault(article_id, set()).add(category_id)
        tags: dict[int, set[int]] = {}
        for article_id, tag_id in TaggedArticle.objects.filter(
                content_object_id__in=ids).values_list("content_object_id", "tag_id"):
            tags.setdefault(article_id, set()).add(tag_id)
        bylines: dict[int, list[tuple[str, int]]] = {}
        for article_id, role, author_id in ArticleByline.objects.filter(article_id__in=ids).order_by(
                "position", "id").values_list("article_id", "role", "author_id"):
            bylines.setdefault(article_id, []).append((role, author_id))
        for article, item in undecided:
            new_bylines = None if item.bylines is None else [
                (role, self._author_id(name)) for role, name in item.bylines]
            if (self._category_ids(item.parsed.category_chains) != categories.get(article.id, set())
                    or set(self._tag_ids(item.parsed.tags)) != tags.get(article.id, set())
                    or (new_bylines is not None and new_bylines != bylines.get(article.id, []))):
                article.updated_at = now

    def _classify(self, article: Article | None, item: _Pending) -> str:
        """What importing `item` does to its stored article (None: there is none)."""
        if article is None:
            return CREATED
        if article.content_hash == item.parsed.content_hash:
            return UNCHANGED
        if article.edited_locally and not self.overwrite_edited:
            return KEPT  # an editor's changes win over the archive
        return UPDATED

    def _count(self, outcome: str) -> None:
        setattr(self.result, outcome, getattr(self.result, outcome) + 1)

    def _record_files(self, written: list[tuple[Article, _Pending]], not_stored: set[int] = frozenset()) -> None:
        """Remember each file's hash, so an unchanged file is skipped unread next time.

        A post whose asset files were not all stored is recorded with no hash,
        so the next import reads it again and retries them.
        """
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = [(path, "" if article.id in not_stored else digest, article.id, now)
                for article, item in written for path, digest in item.files]
        _insert_rows(ImportedFile, ("path", "content_hash", "article_id", "imported_at"), rows,
                     upsert_on="path")

    def _apply(self, article: Article, item: _Pending) -> None:
        parsed = item.parsed
        article.title = parsed.title
        article.body = item.body.html
        article._sanitized_body = item.body.html  # it came through sanitize_body
        article.excerpt, article._excerpt_of = item.body.excerpt, item.body.html
        article._excerpt_title = parsed.title  # derived with this title (Article.sanitise_and_derive_fields)
        article.excerpt_explicit = item.body.excerpt_explicit
        article.published_at = parsed.published_at
        article.status = Article.Status.PUBLISHED if parsed.published else Article.Status.DRAFT
        article.author_id = self._author_id(parsed.author)
        article.head_image = parsed.head_image
        article.thumbnail = parsed.thumbnail
        article.comments_enabled = parsed.comments_enabled
        article.extra_front_matter = parsed.extra
        article.source_path = parsed.source_path
        article.content_hash = parsed.content_hash
        if parsed.slug:
            article.slug = parsed.slug
        item.bylines = self._bylines_for(article, item)
        if article.pk is not None:
            article.version += 1  # an editor's open form for it is now stale
            article.edited_locally = False

    @staticmethod
    def _bylines_for(article: Article, item: _Pending) -> list[tuple[str, str]] | None:
        """An editor's correction stays; a file's own `bylines` list is one; else the dateline decides."""
        if article.pk is not None and article.bylines_edited:
            return None
        if item.parsed.bylines is not None:
            article.bylines_edited = True
            return list(item.parsed.bylines)
        article.bylines_edited = False
        return list(item.body.dateline_bylines)

    def _taken_slugs(self, days: set[dt.date]) -> dict[dt.date, set[str]]:
        taken: dict[dt.date, set[str]] = {}
        rows = Article.objects.filter(published_date__in=days).values_list("published_date", "slug")
        for day, slug in rows:
            taken.setdefault(day, set()).add(slug)
        return taken

    def _write_links(self, links: list[tuple[Article, _Pending]]) -> None:
        # Plain-tuple INSERTs: building ~5 link model instances per article
        # through bulk_create was a fifth of the import's time.
        category_rows, tag_rows, byline_rows = [], [], []
        for article, item in links:
            published_at = connection.ops.adapt_datetimefield_value(article.published_at)
            for category_id in self._category_ids(item.parsed.category_chains):
                category_rows.append((article.id, category_id, published_at))
            for tag_id in self._tag_ids(item.parsed.tags):
                tag_rows.append((article.id, tag_id, published_at))
            for position, (role, name) in enumerate(item.bylines or ()):
                byline_rows.append((article.id, self._author_id(name), role, position, published_at))
        _insert_rows(ArticleCategory, ("article_id", "category_id", "published_at"), category_rows)
        _insert_rows(TaggedArticle, ("content_object_id", "tag_id", "published_at"), tag_rows)
        _insert_rows(ArticleByline, ("article_id", "author_id", "role", "position", "published_at"), byline_rows)


# The article's own columns a reader sees (its categories, tags and bylines are compared apart).
_SEEN_COLUMNS = ("title", "slug", "body", "published_at", "author_id", "head_image", "thumbnail")


def _seen(article: Article) -> tuple:
    return tuple(getattr(article, name) for name in _SEEN_COLUMNS)


# SQLite page cache of the import's connection, in KiB (the default is 2 MB).
SQLITE_IMPORT_CACHE_KIB = 64 * 1024


@contextmanager
def import_connection_settings() -> Iterator[None]:
    """A larger SQLite page cache for the import's connection, the previous size again after.

    A batch's transaction changes some 50 MB of pages (articles, links, the
    search index's new segment). With the default 2 MB cache, dirty pages
    were spilled to the WAL before the commit and written again later:
    measured on 20,000 files (strace), 64 MB makes 30% fewer page writes and
    40% fewer page reads. It only changes memory use (bounded, whatever the
    archive's size): durability, locking and what other connections see are
    as before. The log is checkpointed by a thread meanwhile (importing.wal);
    synchronous stays NORMAL.
    """
    if connection.vendor != "sqlite":
        yield
        return
    # A negative cache_size is in KiB, a positive one in pages.
    with wal.pragma_set(connection, "cache_size", -SQLITE_IMPORT_CACHE_KIB), \
            wal.checkpoints_in_background(connection.alias):
        yield


# The tables an import fills, whose indexes the site's queries choose between.
ANALYZED_MODELS = (Article, ArticleCategory, TaggedArticle, ImportedFile, Category, Author, Tag)
SQLITE_ANALYSIS_LIMIT = 1000  # rows sampled per index


def _analyze_imported_tables() -> None:
    """Fresh statistics, so the query planner uses the new indexes well.

    Only these tables: a bare ANALYZE on SQLite also reads the whole search
    index (its shadow tables are several times the size of the articles),
    which took seconds after a large import for statistics nothing uses. On
    SQLite each index is sampled rather than read whole (`analysis_limit`,
    SQLite's advice for large databases), as PostgreSQL's ANALYZE always does.

    On PostgreSQL, VACUUM (ANALYZE) where it can (outside a transaction):
    it marks the new rows' pages all-visible, without which an index-only
    scan (the archive counts, listings, an old ?page=N link) visits the table
    for every row it reads. Autovacuum would only do so after another 20% of
    the table had been inserted: at 100,000 articles, the last 15,000
    imported stayed unmarked.
    """
    vendor = connection.vendor
    tables = [model._meta.db_table for model in ANALYZED_MODELS]
    command = "ANALYZE"
    if vendor == "postgresql":
        tables.append(SEARCH_POSTGRES_TABLE)
        if not connection.in_atomic_block:
            command = "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
        if vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 0")  # the connection's default again


def _insert_articles(articles: list[Article]) -> None:
    """INSERT new articles as plain tuples and give each its id.

    What Article.objects.bulk_create does (sanitise_and_derive_fields, then every
    field's pre_save and database preparation), without building the SQL of
    a multi-row INSERT through the query compiler, which cost a quarter of
    the writer's time. Ids are read back by import_key (unique), so this
    needs no RETURNING and works the same on every database.
    """
    if not articles:
        return
    fields = [f for f in Article._meta.concrete_fields if not f.primary_key]
    adapters = [_db_value_adapter(f) for f in fields]
    rows = []
    for article in articles:
        article.sanitise_and_derive_fields()
        rows.append(tuple(adapt(f.pre_save(article, True)) for f, adapt in zip(fields, adapters)))
    _insert_rows(Article, tuple(f.column for f in fields), rows)
    ids = dict(Article.objects.filter(import_key__in=[a.import_key for a in articles]).values_list("import_key", "id"))
    for article in articles:
        article.pk = ids[article.import_key]
        article._state.adding = False
        article._state.db = connection.alias


# Fields whose value, once the model holds it (str, int, bool or None), is
# already what the database driver takes: get_db_prep_save would only check
# that again, and that was most of the time spent preparing article rows.
_DRIVER_READY_FIELDS = frozenset(
    {"CharField", "SlugField", "TextField", "BooleanField", "PositiveIntegerField", "ForeignKey"}
)


def _db_value_adapter(field: models.Field) -> Callable[[object], object]:
    """How to turn `field`'s value on a prepared model into a query parameter."""
    kind = field.get_internal_type()
    if kind in _DRIVER_READY_FIELDS:
        return _unchanged
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    return functools.partial(field.get_db_prep_save, connection=connection)


def _unchanged(value: object) -> object:
    return value


def _insert_rows(model: type[models.Model], columns: tuple[str, ...], rows: list[tuple],
                 upsert_on: str | None = None) -> None:
    """INSERT plain tuples; with `upsert_on`, a row whose key exists replaces its columns."""
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(map(quote, columns)), ", ".join(["%s"] * len(columns))
    )
    if upsert_on:
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c != upsert_on)
        sql += f" ON CONFLICT ({quote(upsert_on)}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a SIGINT (Ctrl-C) until the block ends, then deliver it as it would have been.

    Python delivers a signal between any two bytecodes, so without this a
    Ctrl-C could land after a batch committed and before it was counted (or
    after it was counted and before the commit, counting a rolled-back batch).
    Only the main thread may set handlers; elsewhere nothing is deferred.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)


def _write_legacy_urls(links: list[tuple[Article, "_Pending"]]) -> None:
    """Record each post's old address (a Hexo permalink) as a LegacyURL of its article.

    An address the article answers at anyway is left out. An address
    another article had is taken over: the latest import of it wins. Old
    addresses an article had before are kept: links to them still exist.
    """
    wanted: dict[str, int] = {}
    for article, item in links:
        own_url = article.get_absolute_url()
        for path in item.parsed.old_paths:
            if path != own_url:
                wanted[path] = article.id
    if not wanted:
        return
    LegacyURL.objects.filter(path__in=list(wanted)).delete()
    LegacyURL.objects.bulk_create([LegacyURL(path=path, article_id=article_id) for path, article_id in wanted.items()])
