"""The index API: keep the search index in step with the articles table.

Every article is indexed, drafts and scheduled ones too (`search.query.search`
returns only ids of the queryset it is given). The index is kept in step by
`search.handlers` (each save and delete), by the importer's bulk path
(``importing.load`` calls `index_documents`) and by ``manage.py
rebuild_search_index`` (`rebuild`), which is only needed after titles or bodies
were changed behind Django's back (raw SQL, ``QuerySet.update()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from django.db import connections, router, transaction

from articles.iterables import batched
from articles.models import Article

from .backends import TABLES, backend_for
from .tokens import ROW_FIELDS, DocumentRow, Row, document_of_html

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

BATCH_SIZE = 500


def _documents(rows: Sequence[Row]) -> list[DocumentRow]:
    return [(pk, document_of_html(title, body), published_at) for pk, title, body, published_at in rows]


def _write_connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(Article)]


def _chunks(ids: Iterable[int], size: int = BATCH_SIZE) -> Iterator[list[int]]:
    return batched(dict.fromkeys(ids), size)  # each id once


def index_rows(rows: Sequence[Row]) -> None:
    """Index articles already in memory: (id, title, sanitised body HTML, published_at) each."""
    index_documents(_documents(rows))


def index_documents(docs: Sequence[DocumentRow]) -> None:
    """Index articles whose documents were computed already (`document_of_html`, or the import's workers)."""
    if not docs:
        return
    connection = _write_connection()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        backend_for(connection).write(cursor, docs)


def index_articles(ids: Iterable[int]) -> None:
    """Insert or replace the index rows of these articles, reading them in one query per 500.

    Ids of articles that no longer exist are removed from the index.
    """
    connection = _write_connection()
    backend = backend_for(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for chunk in _chunks(ids):
            rows = list(Article._base_manager.using(connection.alias)
                        .filter(pk__in=chunk).values_list(*ROW_FIELDS))
            found = {row[0] for row in rows}
            backend.delete(cursor, [pk for pk in chunk if pk not in found])
            if rows:
                backend.write(cursor, _documents(rows))


def remove_articles(ids: Iterable[int]) -> None:
    """Remove these articles from the index (unknown ids are ignored)."""
    connection = _write_connection()
    backend = backend_for(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for chunk in _chunks(ids):
            backend.delete(cursor, chunk)


def rebuild(using: str | None = None) -> int:
    """Rebuild the whole index from the articles table, in one transaction; returns the count.

    Readers keep seeing the old index until it commits. `using`: a database
    alias (default: where articles are written).
    """
    connection = connections[using] if using else _write_connection()
    backend = backend_for(connection)
    articles = Article._base_manager.using(connection.alias).order_by("pk")
    count = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        backend.clear(cursor)
        last = 0
        while True:  # keyset pages: one batch of bodies in memory at a time
            rows = list(articles.filter(pk__gt=last).values_list(*ROW_FIELDS)[:BATCH_SIZE])
            if not rows:
                break
            backend.write(cursor, _documents(rows))
            count += len(rows)
            last = rows[-1][0]
        backend.optimize(cursor)
    return count


def fill_if_empty(using: str) -> int:
    """Build the index if its table exists and is empty while articles exist.

    Every article is indexed (drafts too), so that state means the index was
    just created by a migration; the post_migrate hook calls this. Returns how
    many articles were indexed.
    """
    connection = connections[using]
    table = TABLES.get(connection.vendor)
    with connection.cursor() as cursor:
        if table is None or table not in connection.introspection.table_names(cursor):
            return 0
        cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")
        if cursor.fetchone() is not None:
            return 0
    if not Article._base_manager.using(using).exists():
        return 0
    return rebuild(using)
