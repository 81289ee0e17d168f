"""The listing filters: category, tag, author and a date range, as query parameters."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from articles.content_keys import show
from articles.front import public_categories
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


def category_choices() -> list[tuple[str, str]]:
    """The category picker's (path, label) of the public categories.

    Drawn inline in every listing's filter form (categories are not sensitive, and a
    <select> needs its options without scripts), from the figure the channel bar is
    drawn from (articles.front.public_categories): kept by the content keys, so a
    page rendered after a write offers what is public then, and no query of its own.
    """
    return [(category.path, category.path.replace("/", " › ")) for category in public_categories()]


def name_choices() -> dict[str, list[tuple[str, str]]]:
    """The tag and author pickers' (slug, name) of the public tags and authors.

    Not in the listing pages (a cached page would keep a name after its last
    public article went, and tying every listing to `tags`/`authors` would
    re-render them all at each publication): the filter choices endpoint
    (articles.views.filter_choices) serves them, under those two keys.
    """
    show("tags", "authors")
    return {
        "tags": list(public_tags().order_by("name").values_list("slug", "name")[:MAX_PICKER_OPTIONS]),
        "authors": list(Author.objects.public().order_by("name").values_list("slug", "name")[:MAX_PICKER_OPTIONS]),
    }
