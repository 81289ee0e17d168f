"""Enqueueing a task over many articles, the one way every app does it.

Tasks take article ids (JSON) and are safe to run twice; they are enqueued
only once the current transaction commits (a rolled-back save queues
nothing, and the worker sees what was written), in batches so that one big
import or admin action makes a short queue.
"""

from __future__ import annotations

from typing import Any, Iterable

from django.db import transaction

from articles.iterables import batched


def enqueue_on_commit(task: Any, article_ids: Iterable[int], batch_size: int, *args: Any,
                      robust: bool = False) -> int:
    """Enqueue `task.enqueue(batch, *args)` for the distinct ids, sorted, `batch_size` a batch, when the
    current transaction commits; returns how many ids. `robust`: a queue that cannot be reached is
    logged, not raised (Django's `on_commit(robust=True)`)."""
    ids = sorted(set(article_ids))

    def enqueue() -> None:
        for batch in batched(ids, batch_size):
            task.enqueue(list(batch), *args)

    if ids:
        transaction.on_commit(enqueue, robust=robust)
    return len(ids)
