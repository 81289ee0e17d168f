"""The newsroom's background tasks (Django's task framework: newsportal/settings.py, "Background tasks").

Keyword suggestions (newsroom.keywords) cost jieba's dictionary load (1–2 s
a process) and tens of milliseconds an article: too much for a request. They
are computed by a worker after an import writes articles and after an editor
saves one, never when the edit form opens.

Detecting bylines again (the admin's action on selected articles) is a task
too: on thousands of articles it outlasts a request. `manage.py
detect_bylines` still runs in the foreground.

Each task takes ids (JSON) and is safe to run twice; each is enqueued when the
current transaction commits.
"""

from __future__ import annotations

from typing import Iterable

from django_tasks import task

from articles.task_queue import enqueue_on_commit
from articles.models import Article

SUGGEST_BATCH = 200  # articles a task: one task per 200 keeps a big import's queue short
BYLINES_BATCH = 2000


@task()
def suggest_keywords(article_ids: list[int]) -> int:
    """Compute the articles' keyword suggestions again (pending ones replaced, decided ones kept); returns how many."""
    from . import keywords  # jieba loads in the worker, on the first task

    articles = Article.objects.filter(pk__in=article_ids).select_related("author")
    return keywords.suggest(articles)


def enqueue_suggestions(article_ids: Iterable[int]) -> None:
    """Have the worker suggest keywords for these articles once the current transaction commits."""
    # robust: suggestions are a help. If the queue cannot be reached (Redis down),
    # the error is logged and the save or import that has just committed still
    # succeeds; `manage.py suggest_tags` makes what was missed.
    enqueue_on_commit(suggest_keywords, article_ids, SUGGEST_BATCH, robust=True)


@task()
def redetect_bylines(article_ids: list[int], user_id: int | None) -> dict:
    """Detect these articles' bylines again, discarding corrections, as `user_id` asked; returns the counts."""
    from django.contrib.auth import get_user_model

    from . import operations

    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user_id is not None and user is None:
        raise LookupError(f"user {user_id} no longer exists")
    report = operations.settle_bylines(Article.objects.filter(pk__in=article_ids), user, discard_corrections=True)
    return {"examined": report.examined, "changed": report.changed}


def enqueue_redetect_bylines(article_ids: Iterable[int], user) -> int:
    """Queue byline detection for these articles (the admin's action); returns how many articles."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    return enqueue_on_commit(redetect_bylines, article_ids, BYLINES_BATCH, user_id)
