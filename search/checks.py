"""A system check: warn when a SQLite database cannot hold the search index.

On SQLite the index is an FTS5 table (migration 0003_search_index). A Python
built against an SQLite without FTS5 fails only at `migrate`, or at the first
search, with "no such module: fts5"; this check says so at start-up instead.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

MISSING_FTS5 = "search.W001"


def sqlite_has_fts5() -> bool:
    """Whether this process's sqlite3 library can create an FTS5 table (tried in memory)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return True


def _sqlite_aliases() -> list[str]:
    return [alias for alias, database in settings.DATABASES.items() if database.get("ENGINE", "").endswith("sqlite3")]


@register()
def check_fts5(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A warning for each SQLite database when SQLite lacks FTS5; nothing otherwise."""
    aliases = _sqlite_aliases()
    if not aliases or sqlite_has_fts5():
        return []
    return [
        Warning(
            f"SQLite {sqlite3.sqlite_version} has no FTS5: the search index of database '{alias}' cannot be created.",
            hint="Use a Python whose sqlite3 module is built with FTS5 (the python.org and distribution "
                 "builds are), or PostgreSQL.",
            id=MISSING_FTS5,
        )
        for alias in aliases
    ]
