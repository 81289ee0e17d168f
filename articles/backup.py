"""An online backup of an SQLite database: a consistent copy taken while the site serves and writes.

Copying the database file while a process writes can copy half a transaction, and in
WAL mode the recent commits are in the `-wal` file beside it, not in the database
file at all. SQLite's backup API reads the database through a connection, as one
consistent snapshot (a read transaction: in WAL mode writers go on meanwhile, and
what they commit after it began is simply not in the copy). It is Python's
`sqlite3.Connection.backup`, called here on the open Django connection. The copy is
written beside the target under a temporary name, checked (`PRAGMA integrity_check`),
flushed to disk, then renamed into place, so a target that exists is always a whole
backup. PostgreSQL has `pg_dump -Fc` for this (docs/DEPLOY.md, "Backups").
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int  # bytes
    articles: int


def backup_sqlite(connection, target: Path) -> Backup:
    """Copy the SQLite database of Django `connection` to `target` (a new file) while others write on."""
    if connection.vendor != "sqlite":
        raise BackupError(f"{connection.alias} is a {connection.vendor} database: back it up with its own tools "
                          "(PostgreSQL: pg_dump -Fc; docs/DEPLOY.md, \"Backups\")")
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists: give a new file name")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Readable by its owner alone: it holds what the database does (password hashes, sessions).
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    connection.ensure_connection()
    copy = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, one snapshot. Step by step, a write
        # from another connection between two steps would start the copy over.
        connection.connection.backup(copy, pages=-1)
        checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if checked != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {checked}")
        articles = copy.execute("SELECT count(*) FROM articles_article").fetchone()[0]
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    copy.close()
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, target)
    return Backup(path=target, size=target.stat().st_size, articles=articles)
