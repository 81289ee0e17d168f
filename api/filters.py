"""The article list's filters: the site's ArticleFilter, plus what the API adds.

The site's filters (category with its subtree, tag, author, date_from/date_to
as Beijing calendar days) work here as on the site, except that an unknown
value is a 400 naming the filter (the site shows an empty list). A category,
tag or author known only from unpublished articles counts as unknown (on the
site too: see ArticleFilter). The API adds:

* ``published_after`` / ``published_before``: an ISO 8601 date or date-time,
  as a half-open range [after, before). A value without an offset is Beijing
  time (TIME_ZONE); a date alone means that day's midnight in Beijing.
* ``q``: the site's full-text search (search.query). Results stay in the
  list's order, newest first; like the site, the search considers at most its
  1000 best-ranked matches (after all other filters are applied).
"""

from __future__ import annotations

import datetime as dt
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from search.query import search

from articles.filters import ArticleFilter
from articles.models import Article


UNENCODED_PLUS_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class MomentField(forms.DateTimeField):
    """An ISO 8601 date or date-time, made aware in TIME_ZONE when naive.

    Moments the database cannot take (year 1 at +08:00 is year 0 in UTC) are
    a validation error here instead of an OverflowError in the query.
    """

    default_error_messages = {
        "invalid": _("Enter an ISO 8601 date or date-time, e.g. 2022-04-30 or 2022-04-30T09:33:09+08:00."),
        "out_of_range": _("Enter a date between the years 1 and 9999 (in UTC)."),
    }

    def to_python(self, value):
        if isinstance(value, str):
            # An unencoded "+08:00" in a URL arrives as " 08:00" (a form-encoded
            # space); a space cannot precede an offset otherwise, so restore it.
            value = UNENCODED_PLUS_OFFSET.sub(r"\1+\2", value.strip())
        try:
            moment = super().to_python(value)
            if moment is not None:
                moment.astimezone(dt.timezone.utc)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range") from exc
        return moment


class MomentFilter(django_filters.DateTimeFilter):
    field_class = MomentField


class ArticleAPIFilter(ArticleFilter):
    """?category=金融&tag=券商&author=财联社&published_after=2022-04-01&published_before=2022-05-01&q=火山引擎"""

    published_after = MomentFilter(
        label=_("published at or after (ISO 8601; Beijing time unless an offset is given)"),
        field_name="published_at", lookup_expr="gte",
    )
    published_before = MomentFilter(
        label=_("published before (ISO 8601; Beijing time unless an offset is given)"),
        field_name="published_at", lookup_expr="lt",
    )
    # Declared last, so django-filter applies it last: the search then runs
    # within what the other filters left (see search.query.search's `queryset`).
    q = django_filters.CharFilter(label=_("full-text search, as on the site"), method="filter_search")

    class Meta(ArticleFilter.Meta):
        fields = [*ArticleFilter.Meta.fields, "published_after", "published_before", "q"]

    def filter_search(self, queryset: QuerySet[Article], name: str, value: str) -> QuerySet[Article]:
        return queryset.filter(id__in=search(value, queryset=queryset))
