"""Plain SQL for the few hot reads where building the query through the ORM costs more than running it.

On the article page the ORM's Python (compiling lookups, joins and subqueries)
took ~4 ms for queries SQLite answers in well under one (docs/BENCHMARKS.md,
"Uncached page speed"). Those reads are written here as SQL, with what the
ORM would otherwise do for them: parameters adapted by the database backend,
and timestamps read back as aware datetimes on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from django.db import connections, router
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def fetch(model: type[Model], sql: str, params: Sequence[Any]) -> list[tuple]:
    """The rows of `sql`, read from the database that reads `model`."""
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def db_time(model: type[Model], value: dt.datetime) -> Any:
    """`value` as the database that reads `model` stores it (SQLite: UTC text)."""
    return connections[router.db_for_read(model)].ops.adapt_datetimefield_value(value)


def as_datetime(value: Any) -> dt.datetime | None:
    """A timestamp column as an aware datetime: SQLite returns text or a naive UTC value."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.timezone.utc)


def as_date(value: Any) -> dt.date | None:
    """A date column as a date (SQLite may return text from a compound SELECT)."""
    if value is None or isinstance(value, dt.date):
        return value
    return parse_date(value)


def marks(values: Sequence[Any]) -> str:
    """One placeholder per value: `%s, %s, %s`."""
    return ", ".join(["%s"] * len(values))
