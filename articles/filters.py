"""The listing filters: category, tag, author and a date range, as query parameters."""

from __future__ import annotations

import django_filters
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from articles.models import Article, Author, Category, public_tags
from articles.querysets import credited_to, with_credit_kinds


class ArticleFilter(django_filters.FilterSet):
    """?category=金融/财联社&tag=券商&author=财联社&date_from=2022-01-01&date_to=2022-12-31"""

    # Only names the public may see: one that only unpublished work carries (an
    # embargoed story's tag) is refused exactly like one that does not exist.
    # Callables, so that "published" is judged at each request, not at import.
    category = django_filters.ModelChoiceFilter(
        label=_("category"), field_name="categories", to_field_name="path",
        queryset=lambda request: Category.objects.public(),
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("tag"), field_name="tags", to_field_name="slug", queryset=lambda request: public_tags(),
    )
    # An author's articles are those they wrote for or are credited on (bylines),
    # as on their author page.
    author = django_filters.ModelChoiceFilter(
        label=_("author"), to_field_name="slug", queryset=lambda request: with_credit_kinds(Author.objects.public()),
        method="filter_author",
    )
    # Publication days are Beijing calendar days (Article.published_date).
    date_from = django_filters.DateFilter(label=_("from"), field_name="published_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(label=_("to"), field_name="published_date", lookup_expr="lte")

    class Meta:
        model = Article
        fields = ["category", "tag", "author", "date_from", "date_to"]

    def filter_author(self, queryset, name: str, author: Author):
        return queryset.filter(credited_to(author))


# Options offered to the filter form's pickers; a longer list is cut (the field still takes any slug typed).
MAX_PICKER_OPTIONS = 300
# How long the pickers' lists are kept: they are a convenience (the filter checks what is sent), so a
# name that has just become public may be missing for a few minutes rather than costing every listing's
# first render after each write three more queries.
PICKER_SECONDS = 300


def picker_choices() -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices: (value, label) of the public categories (by path), tags and authors (by slug)."""
    choices = cache.get("filter-pickers")
    if choices is None:
        categories = [(path, path.replace("/", " › "))
                      for path in Category.objects.public().order_by("path").values_list("path", flat=True)]
        tags = list(public_tags().order_by("name").values_list("slug", "name")[:MAX_PICKER_OPTIONS])
        authors = list(Author.objects.public().order_by("name").values_list("slug", "name")[:MAX_PICKER_OPTIONS])
        choices = {"categories": categories, "tags": tags, "authors": authors}
        cache.set("filter-pickers", choices, PICKER_SECONDS)
    return choices
