"""One module per database the search index lives in; `backend_for` picks one.

* `search.backends.sqlite`: an FTS5 table, ranked by bm25();
* `search.backends.postgres`: tsvectors with a GIN index, ranked by ts_rank_cd().
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from search.tokens import DocumentRow, Term

from .base import Backend
from .postgres import POSTGRES_TABLE, PostgresBackend
from .sqlite import SQLITE_TABLE, SQLiteBackend

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet

# The index table of each supported database (vendor → table).
TABLES = {"sqlite": SQLITE_TABLE, "postgresql": POSTGRES_TABLE}


class UnsupportedBackend:
    """Another database: saves keep working, searching says why it cannot."""

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None:
        pass

    def delete(self, cursor, ids: Sequence[int]) -> None:
        pass

    def clear(self, cursor) -> None:
        pass

    def optimize(self, cursor) -> None:
        pass

    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]:
        from django.db import NotSupportedError

        raise NotSupportedError(f"search needs SQLite (FTS5) or PostgreSQL, not {cursor.db.vendor}")


_BACKENDS: dict[str, Backend] = {"sqlite": SQLiteBackend(), "postgresql": PostgresBackend()}


def backend_for(connection: BaseDatabaseWrapper) -> Backend:
    """The index implementation for this database connection."""
    return _BACKENDS.get(connection.vendor, UnsupportedBackend())
