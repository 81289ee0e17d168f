"""Checkpointing SQLite's write-ahead log beside a bulk import.

In WAL mode a commit appends the changed pages to the log, and SQLite copies
them into the database file ("checkpoints") inside the next commit, once the
log passes 1,000 pages. An import batch writes some 50 MB, so every commit
also copied the previous 50 MB and waited for two fsyncs: a quarter of the
import's writer time, during which it prepared nothing.

`checkpoints_in_background` runs the checkpoints from a thread with a
connection of its own. SQLite runs a checkpoint beside a writer (it copies
only committed pages) and Python releases the GIL while SQLite works, so the
copying overlaps the writer's next batch. SQLite starts the log again from
its beginning when a transaction begins after a checkpoint has caught up, so
it stays a batch or a few long; and the import connection still checkpoints
by itself should the log pass BACKSTOP_PAGES (the thread lagging on a busy
machine): it never grows without bound. Durability is unchanged:
`synchronous` is not touched and every commit is in the log.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from importing import database_errors as retry

log = logging.getLogger(__name__)

# Seconds between two checkpoint attempts; one with nothing to copy costs microseconds.
CHECKPOINT_INTERVAL = 0.1
# Log pages (4 KiB each) past which the import connection checkpoints by itself:
# some five import batches. SQLite's default is 1,000.
BACKSTOP_PAGES = 64_000


def _pragma(connection: BaseDatabaseWrapper, name: str, value: object = None) -> object:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}" if value is None else f"PRAGMA {name} = {value}")
        row = cursor.fetchone()
    return row[0] if row else None


@contextmanager
def pragma_set(connection: BaseDatabaseWrapper, name: str, value: object) -> Iterator[None]:
    """SQLite's PRAGMA `name` = `value` on `connection` within the block, its previous value again after.

    For the import's connection settings: the same connection later serves
    other work (the upload page's web process), which expects its defaults.
    """
    previous = _pragma(connection, name)
    _pragma(connection, name, value)
    try:
        yield
    finally:
        _pragma(connection, name, previous)


def in_wal_mode(connection: BaseDatabaseWrapper) -> bool:
    """True for an SQLite database in WAL mode (an in-memory one never is)."""
    return connection.vendor == "sqlite" and str(_pragma(connection, "journal_mode")).lower() == "wal"


class _Checkpointer(threading.Thread):
    def __init__(self, alias: str, interval: float) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.alias, self.interval = alias, interval
        self._stop_requested = threading.Event()
        self.failures = 0

    def run(self) -> None:
        connection = connections.create_connection(self.alias)  # a thread's own, never shared
        try:
            while not self._stop_requested.wait(self.interval):
                self._checkpoint(connection)
            self._checkpoint(connection)  # whatever the last batch left
        finally:
            connection.close()

    def _checkpoint(self, connection: BaseDatabaseWrapper) -> None:
        try:
            _pragma(connection, "wal_checkpoint(PASSIVE)")
        except DatabaseError as exc:
            # Busy with another process's checkpoint, say: the next try, or the
            # site's own automatic checkpoints, will copy these pages.
            self.failures += 1
            if self.failures == 1:
                log.warning("background WAL checkpoint failed: %s", retry.one_line(exc))

    def stop(self) -> None:
        self._stop_requested.set()
        self.join()


@contextmanager
def checkpoints_in_background(using: str = DEFAULT_DB_ALIAS, interval: float = CHECKPOINT_INTERVAL) -> Iterator[None]:
    """Within the block, `using`'s WAL is checkpointed by a thread, not by its commits (but see BACKSTOP_PAGES).

    Does nothing unless the database is SQLite in WAL mode. The connection's
    own setting is put back afterwards.
    """
    connection = connections[using]
    if not in_wal_mode(connection):
        yield
        return
    with pragma_set(connection, "wal_autocheckpoint", BACKSTOP_PAGES):
        checkpointer = _Checkpointer(using, interval)
        checkpointer.start()
        try:
            yield
        finally:
            checkpointer.stop()
