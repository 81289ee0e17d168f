"""The newsroom's background tasks (Django's task framework: newsportal/settings.py, "Background tasks").

Keyword suggestions (newsroom.keywords) cost jieba's dictionary load (1–2 s
a process) and tens of milliseconds an article: too much for a request. They
are computed by a worker after an import writes articles and after an editor
saves one, never when the edit form opens.
"""

from __future__ import annotations

from typing import Iterable

from django.db import transaction
from django_tasks import task

from articles.iterables import batched
from articles.models import Article

SUGGEST_BATCH = 200  # articles a task: one task per 200 keeps a big import's queue short


@task()
def suggest_keywords(article_ids: list[int]) -> int:
    """Compute the articles' keyword suggestions again (pending ones replaced, decided ones kept); returns how many."""
    from . import keywords  # jieba loads in the worker, on the first task

    articles = Article.objects.filter(pk__in=article_ids).select_related("author")
    return keywords.suggest(articles)


def enqueue_suggestions(article_ids: Iterable[int]) -> None:
    """Have the worker suggest keywords for these articles once the current transaction commits."""
    ids = sorted(set(article_ids))
    if not ids:
        return

    def enqueue() -> None:
        for chunk in batched(ids, SUGGEST_BATCH):
            suggest_keywords.enqueue(list(chunk))

    transaction.on_commit(enqueue)
