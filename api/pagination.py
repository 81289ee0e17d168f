"""Keyset ("cursor") pagination: every page is one index range scan, at any depth.

DRF's CursorPagination keys only on the first ordering field and falls back
to an OFFSET among rows that share it (articles published in the same second).
Here the cursor holds the values of *all* ordering fields of the row it
continues from, the last of which is unique (the id), so a page is always

    WHERE (published_at, id) < (:t, :id) ORDER BY published_at DESC, id DESC LIMIT n + 1

the same row-value condition the public site's listings page by: both are
read through `articles.pagination.Keyset`, which writes it, reads one row more
than a page and reverses a page read backwards. No row is skipped or repeated
while paging, even among equal times, and the cursor stays valid when rows are
added or removed before it.

A cursor is opaque to clients: URL-safe base64 of a small JSON document, the
ordering it belongs to, the row's values and the direction. Anything that does not decode to exactly that
is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from articles.pagination import Keyset

MAX_BIGINT = 2**63 - 1


class KeysetPagination(BasePagination):
    """Pages of `page_size` rows in `ordering`, with next/previous links.

    `ordering` lists the fields, each optionally prefixed with "-", all in the
    same direction; the last one must be unique.
    """

    ordering: tuple[str, ...] = ("-published_at", "-id")
    page_size = 20
    max_page_size = 100
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    @property
    def query_params(self) -> tuple[str, str]:
        """The query parameters this paginator reads (for the views' strict check)."""
        return (self.cursor_query_param, self.page_size_query_param)

    @property
    def _keyset(self) -> Keyset:
        return Keyset.of(self.ordering)

    @property
    def _fields(self) -> tuple[str, ...]:
        return self._keyset.fields

    # --- reading the request ---------------------------------------------------

    @staticmethod
    def _param(request, name: str) -> str | None:
        """The parameter's value; None when absent or empty.

        An empty value (``?cursor=``, as a form or a client library sends an
        unset field) means "not given", as it does for every filter.
        """
        return request.query_params.get(name) or None

    def get_page_size(self, request) -> int:
        raw = self._param(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [
                _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]})
        # Larger sizes are capped rather than refused: a client asking for 1000
        # gets full pages and a next link.
        return min(int(raw), self.max_page_size)

    def _decode_cursor(self, request, model: type[models.Model]) -> tuple[list[Any], bool] | None:
        """(the row's values, whether paging backwards), or None on the first page."""
        token = self._param(request, self.cursor_query_param)
        if token is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)))
            values, reverse = data["p"], data["r"]
            if data["o"] != ",".join(self.ordering):
                raise ValueError("a cursor of another list")
            if not isinstance(values, list) or len(values) != len(self.ordering) or reverse not in (0, 1):
                raise ValueError("wrong shape")
            return [self._field_value(model, name, raw) for name, raw in zip(self._fields, values)], bool(reverse)
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, DjangoValidationError,
                OverflowError, json.JSONDecodeError) as exc:
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from exc

    @staticmethod
    def _field_value(model: type[models.Model], name: str, raw: Any) -> Any:
        """`raw` from a cursor as a valid value of the model's field, or ValueError."""
        field = model._meta.get_field(name)
        if isinstance(field, models.DateTimeField):
            if not isinstance(raw, str):
                raise ValueError("not a date-time")
            moment = dt.datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise ValueError("naive date-time")
            return moment.astimezone(dt.timezone.utc)
        if isinstance(field, models.IntegerField):
            if type(raw) is not int or not 0 <= raw <= MAX_BIGINT:
                raise ValueError("not an id")
            return raw
        if not isinstance(raw, str) or "\x00" in raw:
            raise ValueError("not a string")
        return field.to_python(raw)

    @staticmethod
    def _encode_value(value: Any) -> Any:
        return value.astimezone(dt.timezone.utc).isoformat() if isinstance(value, dt.datetime) else value

    def _encode_cursor(self, row: models.Model, reverse: bool) -> str:
        values = [self._encode_value(getattr(row, name)) for name in self._fields]
        document = {"o": ",".join(self.ordering), "p": values, "r": int(reverse)}
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode("ascii").rstrip("=")

    # --- the page ----------------------------------------------------------------

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        size = self.get_page_size(request)
        cursor = self._decode_cursor(request, queryset.model)
        values, backwards = cursor if cursor is not None else (None, False)
        window = self._keyset.window(queryset, values, size, backwards=backwards)
        if backwards:
            self.has_next, self.has_previous = True, window.more
        else:
            self.has_next, self.has_previous = window.more, cursor is not None
        self.page = window.rows
        return window.rows

    def _link(self, row: models.Model | None, reverse: bool) -> str:
        # Rebuilt from the parsed parameters, not from the raw query string: a
        # client such as curl may send ?q=券商 unencoded, and Django's
        # build_absolute_uri() would percent-encode its bytes a second time.
        params = self.request.query_params.copy()
        for name in [name for name, values in params.lists() if not any(values)]:
            del params[name]  # empty means not given: the link leaves it out
        if row is None:  # a link back from an empty page: the first page
            params.pop(self.cursor_query_param, None)
        else:
            params[self.cursor_query_param] = self._encode_cursor(row, reverse)
        url = self.request.build_absolute_uri(self.request.path)
        return f"{url}?{params.urlencode()}" if params else url

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self._link(self.page[-1] if self.page else None, reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link(self.page[0] if self.page else None, reverse=True)

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": self.cursor_query_param, "in": "query", "required": False,
             "description": "Where the page starts: the cursor from a `next` or `previous` link. "
                            "Empty or absent: the first page.",
             "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "in": "query", "required": False,
             "description": f"Results per page (default {self.page_size}, also when empty; larger values "
                            f"are capped at {self.max_page_size}).",
             "schema": {"type": "integer", "minimum": 1}},
        ]


class ArticlePagination(KeysetPagination):
    """Newest first; articles published in the same instant, highest id first."""

    ordering = ("-published_at", "-id")


class NamePagination(KeysetPagination):
    """Alphabetical (the database's collation), for tags and authors."""

    ordering = ("name", "id")
    page_size = 100
    max_page_size = 100
