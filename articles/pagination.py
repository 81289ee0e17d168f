"""Keyset pagination for listings, newest first.

A page is found by the key of the article next to it — `?before=<key>` for
older articles, `?after=<key>` for newer ones — with a row-value comparison
`(published_at, id) < (%s, %s)` that the listing's index answers directly, so
page 2,000 costs what page 1 costs, and no listing ever counts its rows.

A key is `<microseconds since the epoch>-<article id>`. Old `?page=N` links
(bookmarks, search engines) still work: they redirect to the keyed URL of
the same page, found with one index-only scan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import F, QuerySet
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
    """`(a, b) < (%s, %s)` as a row value on every backend.

    Django writes `a < x OR (a = x AND b < y)` on SQLite, for which SQLite's
    planner (given parameters) merges two index scans and sorts the whole
    listing: 130-400 ms at 100,000 articles instead of 0.1 ms. SQLite has
    compared row values since 3.15 (Django needs 3.31).
    """

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
class Keys:
    """A listing's rows, as `queryset`'s (time, article id) columns.

    The queryset may be of articles or of a link table (ArticleCategory,
    TaggedArticle) whose copy of the publication time its index covers.
    """

    queryset: QuerySet
    time_field: str = "published_at"
    id_field: str = "id"

    def newest_first(self) -> QuerySet:
        return self.queryset.order_by(f"-{self.time_field}", f"-{self.id_field}")

    def oldest_first(self) -> QuerySet:
        return self.queryset.order_by(self.time_field, self.id_field)

    def _pair(self) -> Tuple:
        return Tuple(F(self.time_field), F(self.id_field))

    def older_than(self, key: Key) -> QuerySet:
        return self.newest_first().filter(_RowValueLessThan(self._pair(), (key.published_at, key.pk)))

    def newer_than(self, key: Key) -> QuerySet:
        return self.oldest_first().filter(_RowValueGreaterThan(self._pair(), (key.published_at, key.pk)))

    def rows(self, queryset: QuerySet, limit: int) -> list[Key]:
        return [Key(t, pk) for t, pk in queryset.values_list(self.time_field, self.id_field)[:limit]]


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
        rows = keys.rows(keys.older_than(Key.parse(params[BEFORE])), page_size + 1)
        return KeysetPage(rows[:page_size], older=len(rows) > page_size, newer=True)
    if params.get(AFTER):
        rows = keys.rows(keys.newer_than(Key.parse(params[AFTER])), page_size + 1)
        if len(rows) <= page_size:
            raise Redirect(_without(params, AFTER))  # these are the newest: the first page
        return KeysetPage(rows[:page_size][::-1], older=True, newer=True)
    number = params.get(PAGE)
    if number not in (None, "", "1"):
        raise Redirect(_legacy_page(keys, params, number, page_size))
    rows = keys.rows(keys.newest_first(), page_size + 1)
    return KeysetPage(rows[:page_size], older=len(rows) > page_size, newer=False)


def _legacy_page(keys: Keys, params: QueryDict, number: str, page_size: int) -> QueryDict:
    """?page=N → ?before=<the key of page N-1's last article>."""
    # ASCII digits only: str.isdigit() also accepts ١ and ², which int() reads or rejects.
    if not re.fullmatch(r"[0-9]{1,10}", number) or not 2 <= int(number) <= MAX_LEGACY_PAGE:
        raise Http404("No such page")
    offset = (int(number) - 1) * page_size - 1
    # Index-only: the listing's (time, id) columns, no article rows.
    boundary = keys.rows(keys.newest_first()[offset:], 1)
    if not boundary:
        raise Http404("No such page")
    query = _without(params, PAGE)
    query[BEFORE] = str(boundary[0])
    return query


def _without(params: QueryDict, *names: str) -> QueryDict:
    query = params.copy()
    for name in (BEFORE, AFTER, PAGE, *names):
        query.pop(name, None)
    return query
