"""Querysets the public site, its feeds and the API share.

Each is written once here so that the HTML pages, the feeds and the API list
the same articles in the same order with the same queries: what a listing
loads with each article, the articles credited to an author, and the article
counts shown beside categories.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from .content_version import remembered
from .models import Article, ArticleByline, ArticleCategory, Author, Category, trail_of


def listing(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """Articles ready for a listing: author joined, categories in one extra query."""
    return (
        queryset.select_related("author")
        .prefetch_related(Prefetch("categories", queryset=Category.objects.only("id", "name", "path")))
        .order_by("-published_at", "-id")
    )


# What a card, a headline, a wire item or a section's story prints of an article (and its address).
# Not the body (~6 KB each), the front matter or the bookkeeping: loading and converting every
# column of the home page's ~60 articles took twice as long (docs/BENCHMARKS.md).
CARD_FIELDS = ("id", "title", "slug", "excerpt", "published_at", "published_date", "status", "author",
               "head_image", "thumbnail")


def load_in_order(ids: list[int], queryset: QuerySet[Article] | None = None) -> list[Article]:
    """The listing's articles with these ids, in this order, with what their cards print (three queries at most)."""
    if not ids:
        return []
    queryset = Article.objects.all() if queryset is None else queryset
    found = {a.id: a for a in queryset.filter(id__in=ids).select_related("author").only(*CARD_FIELDS)}
    articles = [found[i] for i in ids if i in found]
    with_trails(articles)
    return articles


def with_trails(articles: list[Article]) -> None:
    """Give each article its `category_trail`, from its links read as rows (one query) and one instance a category.

    The same trails as `prefetch_related("categories")` gives, without an instance of every
    link's category (~180 on the home page) and the prefetch's machinery: ~3 ms of the home
    page's time (docs/BENCHMARKS.md, "Uncached page speed").
    """
    rows = (ArticleCategory.objects.filter(article__in=[a.pk for a in articles])
            .values_list("article_id", "category_id", "category__name", "category__path"))
    categories: dict[int, Category] = {}
    linked: dict[int, list[Category]] = {}
    for article_id, category_id, name, path in rows:
        category = categories.get(category_id)
        if category is None:  # what a card prints of it, as listing()'s prefetch loads
            category = categories[category_id] = Category(pk=category_id, name=name, path=path)
        linked.setdefault(article_id, []).append(category)
    for article in articles:
        article.category_trail = trail_of(linked.get(article.pk, []))


def category_counts() -> dict[int, int]:
    """Published articles per category, for the whole tree in one GROUP BY.

    Counting a big category takes tens of milliseconds at 100,000 articles, so
    the figures are kept while no article comes into a category, leaves one or
    moves (the `categories` key: articles.content_version.remembered), not
    counted on every view.
    """
    def count() -> dict[int, int]:
        # All links that are due, read from the covering (category, published_at, article)
        # index, minus the links of articles that are due but not published (drafts; few).
        # Joining every link to its article instead took 2.3 s at 100,000 articles.
        due = ArticleCategory.objects.filter(published_at__lte=timezone.now())
        hidden = Article.objects.filter(published_at__lte=timezone.now()).exclude(Article.published_q())
        counts = Counter(dict(due.order_by().values_list("category").annotate(n=Count("*"))))
        counts.subtract(dict(due.filter(article__in=hidden.values("id")).order_by().values_list("category")
                             .annotate(n=Count("*"))))
        return dict(counts)

    return remembered("category-counts", count, keys=["categories"])


def with_counts(categories) -> list[Category]:
    counts = category_counts()
    categories = list(categories)
    for category in categories:
        category.article_count = counts.get(category.id, 0)
    return categories


def credited_to(author: Author) -> Q:
    """Articles by `author`: as the front matter's author (the outlet) or in a byline.

    Most authors are one or the other — an outlet is never in a dateline, a
    reporter rarely in the front matter — and then the condition is only the
    side that exists: the OR of both made SQLite gather and sort all of a big
    outlet's articles to show 20 (155 ms at 100,000 articles), where the
    author's own index gives the newest at once. `with_credit_kinds()`
    annotates what this reads; otherwise two indexed EXISTS queries tell.
    """
    wrote, bylined = _credit_kinds(author)
    own = Q(author=author)
    in_bylines = Q(pk__in=ArticleByline.objects.filter(author=author).values("article_id"))
    if not bylined:
        return own
    if not wrote:
        return in_bylines
    return own | in_bylines


def with_credit_kinds(authors: QuerySet[Author]) -> QuerySet[Author]:
    """Authors annotated with whether they wrote any article and whether any byline names them."""
    return authors.annotate(
        wrote_any=Exists(Article.objects.filter(author=OuterRef("pk"))),
        bylined_any=Exists(ArticleByline.objects.filter(author=OuterRef("pk"))),
    )


def _credit_kinds(author: Author) -> tuple[bool, bool]:
    if hasattr(author, "wrote_any") and hasattr(author, "bylined_any"):
        return author.wrote_any, author.bylined_any
    return (Article.objects.filter(author=author).exists(),
            ArticleByline.objects.filter(author=author).exists())
