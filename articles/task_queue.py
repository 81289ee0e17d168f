"""Enqueueing a task over many articles, the one way every app does it.

Tasks take article ids (JSON) and are safe to run twice; they are enqueued
only once the current transaction commits (a rolled-back save queues
nothing, and the worker sees what was written), in batches so that one big
import or admin action makes a short queue.

A queue that cannot be reached — RQ's Redis stopped or unreachable
(NEWSPORTAL_TASK_BACKEND=rq) — is `QueueUnavailable`, whatever the backend's
own error: callers in a request tell the editor so instead of a 500
(docs/DEPLOY.md, "When Redis is down").
"""

from __future__ import annotations

from typing import Any, Iterable

from django.db import transaction

from articles.iterables import batched


class QueueUnavailable(Exception):
    """The task queue could not be reached (RQ's Redis down): the task was not queued."""


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    # Only evaluated when an enqueue has failed: redis-py is imported by then (RQ uses it).
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError)


def enqueue(task: Any, *args: Any) -> Any:
    """`task.enqueue(*args)` (its TaskResult); a queue that cannot be reached raises QueueUnavailable."""
    try:
        return task.enqueue(*args)
    except _unreachable_errors() as exc:
        raise QueueUnavailable(f"the task queue cannot be reached ({type(exc).__name__}: {exc})") from exc


def enqueue_on_commit(task: Any, article_ids: Iterable[int], batch_size: int, *args: Any,
                      robust: bool = False) -> int:
    """Enqueue `task.enqueue(batch, *args)` for the distinct ids, sorted, `batch_size` a batch, when the
    current transaction commits; returns how many ids. A queue that cannot be reached raises
    QueueUnavailable, from here (no transaction open) or from the commit; `robust`: it is logged,
    not raised (Django's `on_commit(robust=True)`). Batches queued before the failure stay queued."""
    ids = sorted(set(article_ids))

    def enqueue_batches() -> None:
        for batch in batched(ids, batch_size):
            enqueue(task, list(batch), *args)

    if ids:
        transaction.on_commit(enqueue_batches, robust=robust)
    return len(ids)
