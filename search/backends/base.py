"""What every search backend offers, and the SQL of the scope a search is confined to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

from django.db.models import F

from search.tokens import DocumentRow, Term

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import QuerySet


class Backend(Protocol):
    """One database's index: writes documents, deletes them, searches within a queryset."""

    def write(self, cursor, docs: Sequence[DocumentRow]) -> None: ...
    def delete(self, cursor, ids: Sequence[int]) -> None: ...
    def clear(self, cursor) -> None: ...
    def optimize(self, cursor) -> None: ...
    def search(self, cursor, terms: list[Term], queryset: QuerySet, limit: int) -> list[int]: ...


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def scope_sql(queryset: QuerySet, connection: BaseDatabaseWrapper) -> tuple[str, tuple]:
    """The SQL of `queryset`'s ids, as column search_scope_id, compiled for `connection`."""
    if not queryset.query.is_sliced:
        queryset = queryset.order_by()  # an ORDER BY would only slow the subquery down
    # An alias of our own: the subquery's column is then named the same on every backend.
    query = queryset.values(search_scope_id=F("pk")).query
    sql, params = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)
