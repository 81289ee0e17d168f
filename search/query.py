"""Searching: the ranked ids of the articles that match a query.

Typical use in a view::

    ids = query.search(q)                          # ranked ids, best first
    page = Paginator(ids, 20).get_page(n)
    articles = Article.objects.in_bulk(page.object_list)
    results = [articles[i] for i in page.object_list if i in articles]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connections

from articles.models import Article

from .backends import backend_for
from .tokens import query_terms

if TYPE_CHECKING:
    from django.db.models import QuerySet


def search(query: str, queryset: QuerySet | None = None, limit: int = 1000) -> list[int]:
    """Ids of the articles matching `query`, best first, at most `limit`.

    Only ids in `queryset` (default: ``Article.objects.published()``) are
    returned. Every term of the query must occur (as an exact substring for
    Chinese, as whole words otherwise). A blank query, or one with nothing to
    search for, gives []. Only the first 100 characters are used; whatever the
    query contains is treated as text, never as search syntax.
    """
    if not isinstance(query, str) or limit <= 0:
        return []
    terms = query_terms(query)
    if not terms:
        return []
    if queryset is None:
        queryset = Article.objects.published()
    if not issubclass(queryset.model, Article):
        raise TypeError(f"search() needs a queryset of articles, not of {queryset.model.__name__}")
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        return backend_for(connection).search(cursor, terms, queryset, limit)
