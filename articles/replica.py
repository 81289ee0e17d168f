"""Public pages read from a read replica (DATABASE_REPLICA_URL); everything else from the primary.

With DATABASE_REPLICA_URL set, the settings add a "replica" database and
`ReplicaRouter`. Only the reads of a public page served to an anonymous reader
(`articles.page_cache.public_page`, `CachedPageMiddleware`) go to the replica,
inside `public_reads()`; writes, the admin, the API, management commands and
the importer, and staff looking at the site (who must see what they just
saved) use the primary. The content version of a public page is read from the
replica too, so a lagging replica serves a consistently older page and the
page cache never stores replica content under a newer version.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Iterator

from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

_public_read: contextvars.ContextVar[bool] = contextvars.ContextVar("public_read", default=False)


@contextmanager
def public_reads() -> Iterator[None]:
    """Within this block, reads go to the replica (when one is configured)."""
    token = _public_read.set(True)
    try:
        yield
    finally:
        _public_read.reset(token)


class ReplicaRouter:
    """Reads inside `public_reads()` from the replica; all else to and from the primary."""

    def db_for_read(self, model, **hints) -> str:
        return REPLICA if _public_read.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica gets the schema by replication
