"""Keyset pagination: the one engine of the site's listings and the API's cursors.

A page is found by the key of the row next to it, never by a count or an
OFFSET: rows beyond a key in a composite ordering whose last column is unique
(`(published_at, id)`, `(name, id)`) are one row-value comparison,

    WHERE (published_at, id) < (%s, %s) ORDER BY published_at DESC, id DESC LIMIT n + 1

that the listing's index answers as the start of its scan on SQLite and
PostgreSQL alike, so page 2,000 costs what page 1 costs. `Keyset` writes that
condition, reads n + 1 rows to tell whether there are more, and reverses a
page read backwards; `paginate` (the public site) and `api.pagination`
(the API's cursors) both page through it.

On the site a key is `<microseconds since the epoch>-<article id>`:
`?before=<key>` for older articles, `?after=<key>` for newer ones. Old
`?page=N` links (bookmarks, search engines) still work: they redirect to the
keyed URL of the same page, found with one index-only scan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from django.db.models import F, Lookup, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan, TupleLookupMixin
from django.http import Http404, QueryDict

BEFORE, AFTER, PAGE = "before", "after", "page"
MAX_ID = 2**63 - 1
# Far past any real archive; larger numbers would overflow the database's OFFSET.
MAX_LEGACY_PAGE = 10**9
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_KEY = re.compile(r"(-?\d{1,18})-(\d{1,18})")


@dataclass(frozen=True, order=True)
class Key:
    published_at: dt.datetime
    pk: int

    @property
    def values(self) -> tuple[dt.datetime, int]:
        return (self.published_at, self.pk)

    def __str__(self) -> str:
        return f"{(self.published_at - _EPOCH) // dt.timedelta(microseconds=1)}-{self.pk}"

    @classmethod
    def parse(cls, text: str) -> "Key":
        match = _KEY.fullmatch(text.strip())
        if not match:
            raise Http404("Not a page key")
        try:
            moment = _EPOCH + dt.timedelta(microseconds=int(match.group(1)))
        except OverflowError as exc:
            raise Http404("Not a page key") from exc
        pk = int(match.group(2))
        if pk > MAX_ID:  # beyond any database integer: no such article
            raise Http404("Not a page key")
        return cls(moment, pk)


class _RowValueLessThan(TupleLessThan):
    """`(a, b) < (%s, %s)` as a row value on every backend (see Keyset.beyond)."""

    def as_sql(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class _RowValueGreaterThan(TupleGreaterThan):
    def as_sql(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class Redirect(Exception):
    """The page lives at another URL (an old ?page=N link, a short newest page)."""

    def __init__(self, query: QueryDict) -> None:
        super().__init__(query.urlencode())
        self.query = query


@dataclass
class Window:
    """Up to a page of rows, in the ordering's order, and whether more lie beyond them.

    `more` looks in the direction the rows were read: past the last row when
    reading forwards, before the first when reading backwards.
    """

    rows: list
    more: bool


@dataclass(frozen=True)
class Keyset:
    """An ordering by `fields`, all in one direction, the last of them unique.

    The unique last field makes every row's key distinct, so no row is skipped
    or repeated among rows that tie on the others (articles published in the
    same second), and a key stays valid when rows before it come or go.
    """

    fields: tuple[str, ...]
    descending: bool

    @classmethod
    def of(cls, ordering: Sequence[str]) -> "Keyset":
        """From an `order_by()`-style ordering: ("-published_at", "-id"), ("name", "id")."""
        directions = {name.startswith("-") for name in ordering}
        if not ordering or len(directions) != 1:
            raise ValueError(f"A keyset ordering needs fields in one direction, not {ordering!r}")
        return cls(tuple(name.lstrip("-") for name in ordering), descending=directions.pop())

    def ordered(self, queryset: QuerySet, *, backwards: bool = False) -> QuerySet:
        """`queryset` in this order, or in the reverse one."""
        descending = self.descending != backwards
        return queryset.order_by(*(f"-{name}" if descending else name for name in self.fields))

    def beyond(self, key: Sequence[Any], *, backwards: bool = False) -> Lookup:
        """The rows after `key` in this order (before it when `backwards`), as a row value.

        Not Django's form for SQLite, `a < x OR (a = x AND b < y)`: given
        parameters, SQLite's planner merged two index scans and sorted the whole
        listing for it (130-400 ms at 100,000 articles instead of 0.1 ms), and
        PostgreSQL, which can start an index scan at a row value, reads the OR
        only as a filter (docs/ARCHITECTURE.md, "Listings"). SQLite has
        compared row values since 3.15 (Django needs 3.31).
        """
        lookup = _RowValueLessThan if self.descending != backwards else _RowValueGreaterThan
        return lookup(Tuple(*(F(name) for name in self.fields)), tuple(key))

    def window(self, queryset: QuerySet, key: Sequence[Any] | None, size: int, *,
               backwards: bool = False) -> Window:
        """Up to `size` rows of `queryset` after `key` (from the start when None), in this order.

        `backwards` reads the rows before `key` instead: the page that ends
        just before it, returned in this order all the same.
        """
        queryset = self.ordered(queryset, backwards=backwards)
        if key is not None:
            queryset = queryset.filter(self.beyond(key, backwards=backwards))
        rows = list(queryset[: size + 1])  # one row more than a page tells whether there are more
        page = rows[:size]
        if backwards:
            page.reverse()
        return Window(page, more=len(rows) > size)


@dataclass
class Keys:
    """A listing's rows, as `queryset`'s (time, article id) columns, newest first.

    The queryset may be of articles or of a link table (ArticleCategory,
    TaggedArticle) whose copy of the publication time its index covers.
    """

    queryset: QuerySet
    time_field: str = "published_at"
    id_field: str = "id"

    @property
    def keyset(self) -> Keyset:
        return Keyset((self.time_field, self.id_field), descending=True)

    def pairs(self) -> QuerySet:
        """The (time, id) columns only: index-only where the index covers them."""
        return self.queryset.values_list(self.time_field, self.id_field)

    def newest_first(self) -> QuerySet:
        return self.keyset.ordered(self.queryset)

    def older_than(self, key: Key) -> QuerySet:
        return self.newest_first().filter(self.keyset.beyond(key.values))

    def newer_than(self, key: Key) -> QuerySet:
        return self.keyset.ordered(self.queryset, backwards=True).filter(
            self.keyset.beyond(key.values, backwards=True))

    def window(self, key: Key | None, size: int, *, backwards: bool = False) -> Window:
        """Up to `size` Keys older than `key` (newer when `backwards`), newest first."""
        found = self.keyset.window(self.pairs(), key.values if key else None, size, backwards=backwards)
        return Window([Key(*pair) for pair in found.rows], found.more)


@dataclass
class KeysetPage:
    """What the templates use of a page (like Django's Page, without numbers)."""

    keys: list[Key]
    older: bool  # there are older articles (a next page)
    newer: bool  # there are newer articles (a previous page)
    object_list: list = field(default_factory=list)
    number = None

    def has_next(self) -> bool:
        return self.older

    def has_previous(self) -> bool:
        return self.newer

    def has_other_pages(self) -> bool:
        return self.older or self.newer

    @property
    def next_key(self) -> str:
        return str(self.keys[-1]) if self.keys else ""

    @property
    def previous_key(self) -> str:
        return str(self.keys[0]) if self.keys else ""

    @property
    def ids(self) -> list[int]:
        return [key.pk for key in self.keys]


def paginate(keys: Keys, params: QueryDict, page_size: int) -> KeysetPage:
    """The page `params` ask for; raises Redirect or Http404."""
    if params.get(BEFORE):
        older = keys.window(Key.parse(params[BEFORE]), page_size)
        return KeysetPage(older.rows, older=older.more, newer=True)
    if params.get(AFTER):
        newer = keys.window(Key.parse(params[AFTER]), page_size, backwards=True)
        if not newer.more:
            raise Redirect(_without(params, AFTER))  # these are the newest: the first page
        return KeysetPage(newer.rows, older=True, newer=True)
    number = params.get(PAGE)
    if number not in (None, "", "1"):
        raise Redirect(_legacy_page(keys, params, number, page_size))
    first = keys.window(None, page_size)
    return KeysetPage(first.rows, older=first.more, newer=False)


def _legacy_page(keys: Keys, params: QueryDict, number: str, page_size: int) -> QueryDict:
    """?page=N → ?before=<the key of page N-1's last article>."""
    # ASCII digits only: str.isdigit() also accepts ١ and ², which int() reads or rejects.
    if not re.fullmatch(r"[0-9]{1,10}", number) or not 2 <= int(number) <= MAX_LEGACY_PAGE:
        raise Http404("No such page")
    offset = (int(number) - 1) * page_size - 1
    # Index-only: the listing's (time, id) columns, no article rows.
    boundary = keys.keyset.ordered(keys.pairs())[offset:offset + 1]
    if not boundary:
        raise Http404("No such page")
    query = _without(params, PAGE)
    query[BEFORE] = str(Key(*boundary[0]))
    return query


def _without(params: QueryDict, *names: str) -> QueryDict:
    query = params.copy()
    for name in (BEFORE, AFTER, PAGE, *names):
        query.pop(name, None)
    return query
