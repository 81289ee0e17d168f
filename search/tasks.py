"""Search's background tasks (Django's task framework: newsportal/settings.py, "Background tasks").

The admin's action "Index the selected articles again for search" enqueues
`reindex_articles`, a batch of ids a task; `rebuild_index` rebuilds the whole
index in a worker (`rebuild_index.enqueue()`). `manage.py rebuild_search_index`
still runs in the foreground. The index is normally kept current by the
receivers in search.handlers; these are for articles changed behind Django's
back (raw SQL, QuerySet.update() of titles or bodies).
"""

from __future__ import annotations

from typing import Iterable

from django_tasks import task

from articles.task_queue import enqueue_on_commit

from . import index

REINDEX_BATCH = 1000


@task()
def reindex_articles(article_ids: list[int]) -> int:
    """Insert or replace these articles' index rows (unknown ids are ignored); returns how many were asked."""
    index.index_articles(article_ids)
    return len(article_ids)


@task()
def rebuild_index() -> int:
    """Rebuild the whole index in one transaction (searches use the old one until it commits); returns the count."""
    return index.rebuild()


def enqueue_reindex(article_ids: Iterable[int]) -> int:
    """Queue these articles for indexing once the current transaction commits; returns how many."""
    return enqueue_on_commit(reindex_articles, article_ids, REINDEX_BATCH)
