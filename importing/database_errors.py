"""Database errors during an import: races to retry, faults to stop on.

Two imports running at once (or an import beside an editor saving in the
admin) can lose a race: SQLite answers "database is locked" when the other
writer held the lock longer than the busy timeout, PostgreSQL a deadlock or
serialization failure, and both an IntegrityError when the other process
committed the same author, category, tag or article a moment earlier. Such a
batch is rolled back whole, so it is simply tried again — after re-reading
what the other process wrote — a bounded number of times with a growing,
jittered pause.

Some errors are no race: a read-only database, a full disk, an I/O error.
Retrying them, or trying each article on its own, only repeats the same error
once per file, so they stop the import with one line that names the problem.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 6
# A racing insert is cured by one re-read; more tries only slow down a file
# whose data truly conflicts (it is then reported on its own).
INTEGRITY_ATTEMPTS = 3
FIRST_DELAY = 0.05  # seconds; doubled after each failed attempt, with jitter

# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available.
_RACE_STATES = frozenset({"40001", "40P01", "55P03"})
_RACE_MESSAGES = ("database is locked", "database table is locked", "deadlock detected",
                  "could not serialize access")

# (what an operator is told, SQLSTATEs, message fragments) of errors no retry can cure.
_FAULTS = (
    ("the database is read-only", {"25006"},
     ("readonly database", "read-only transaction", "read-only file system")),
    ("the database or its disk is full", {"53100", "53200", "54000"},
     ("database or disk is full", "no space left on device", "could not extend file", "disk quota exceeded")),
    ("the database file cannot be read or written (I/O error)", {"58030"},
     ("disk i/o error", "could not write to file", "could not read block")),
    ("the database cannot be opened", {"3D000", "28000", "28P01"},
     ("unable to open database file", "file is not a database", "database disk image is malformed")),
)


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's error code (psycopg 3 puts it on the driver's exception), else None."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def one_line(exc: BaseException) -> str:
    """The error's text on one line (PostgreSQL adds DETAIL and HINT lines)."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text or type(exc).__name__


def is_race(exc: BaseException) -> bool:
    """Whether `exc` may go away when the same write is tried again."""
    if isinstance(exc, IntegrityError):
        return True  # another process inserted the same row first
    if isinstance(exc, OperationalError) and describe_fault(exc) is None:
        return sqlstate(exc) in _RACE_STATES or any(m in str(exc).lower() for m in _RACE_MESSAGES)
    return False


def describe_fault(exc: BaseException) -> str | None:
    """What is wrong with the database, if `exc` is a fault no retry can cure; else None."""
    if not isinstance(exc, DatabaseError):
        return None
    state, message = sqlstate(exc), str(exc).lower()
    for problem, states, fragments in _FAULTS:
        if state in states or any(fragment in message for fragment in fragments):
            return problem
    return None


def explain(exc: BaseException) -> str:
    """One line for an operator: the problem in words where known, and the database's own message."""
    problem = describe_fault(exc)
    return f"{problem} ({one_line(exc)})" if problem else f"database error: {one_line(exc)}"


def with_retries(
    write: Callable[[], T],
    *,
    after_rollback: Callable[[], None] | None = None,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY,
    what: str = "write",
) -> T:
    """Run `write` (one transaction); if it loses a race, call `after_rollback` and try again.

    Gives up after `attempts` tries by raising the last error; any other error
    is raised at once. `after_rollback` also runs before that last raise, so
    the caller's state matches the database whatever happens.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except DatabaseError as exc:
            if after_rollback is not None:
                after_rollback()
            limit = min(attempts, INTEGRITY_ATTEMPTS) if isinstance(exc, IntegrityError) else attempts
            if attempt >= limit or not is_race(exc):
                raise
            log.warning("%s lost a race (%s); retrying, attempt %d of %d", what, one_line(exc), attempt + 1, limit)
            time.sleep(delay * (1 + random.random()))
            delay *= 2
    raise AssertionError("unreachable")
