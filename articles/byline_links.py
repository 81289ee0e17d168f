"""Bylines in the database: linking detected reporters, their pages, re-detection.

The detection itself is articles.bylines (pure). Here: writing an article's
byline rows (on save; the importer writes its own in bulk, articles.load),
the articles a reporter is credited on, and re-running detection over the
archive (`manage.py detect_bylines`), always leaving editors' corrections
(`Article.bylines_edited`) alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import bylines as detector
from .iterables import batched
from .models import Article, ArticleByline, Author

Credit = tuple[str, str]  # (role, name)


def current(article: Article) -> list[Credit]:
    """The article's bylines as stored, in order."""
    return [(role, name) for role, name in
            ArticleByline.objects.filter(article=article).order_by("position", "id")
            .values_list("role", "author__name")]


def detected(article: Article) -> list[Credit]:
    return detector.credits(article.body)


def set_bylines(article: Article, credits: Iterable[Credit]) -> bool:
    """Make the article's byline rows exactly `credits` (in order); True if anything changed."""
    credits = list(dict((name, (role, name)) for role, name in credits).values())
    if current(article) == credits:
        return False
    with transaction.atomic():
        ArticleByline.objects.filter(article=article).delete()
        ArticleByline.objects.bulk_create(
            ArticleByline(article=article, author=author_named(name), role=role, position=i)
            for i, (role, name) in enumerate(credits)
        )
    return True


def author_named(name: str) -> Author:
    author, _ = Author.objects.get_or_create(name=name)
    return author


@receiver(post_save, sender=Article, dispatch_uid="articles.byline_links.detect_on_save")
def detect_on_save(sender, instance: Article, raw: bool = False, update_fields=None, **kwargs) -> None:
    """Every save re-reads the dateline, unless an editor corrected the bylines.

    The admin sets `_bylines_from_form` and decides itself after its inline
    is saved (articles.admin), so an editor's correction is never overwritten
    half-way through the same save.
    """
    if raw or instance.bylines_edited or getattr(instance, "_bylines_from_form", False):
        return
    if update_fields is not None and not {"body", "bylines_edited"} & set(update_fields):
        return
    set_bylines(instance, detected(instance))


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


def credit_groups(article: Article) -> list[tuple[str, list[Author]]]:
    """The bylines as printed: [("记者", [张勤峰]), ("实习记者", [连润])], one query."""
    groups: list[tuple[str, list[Author]]] = []
    for link in ArticleByline.objects.filter(article=article).select_related("author").order_by("position", "id"):
        if groups and groups[-1][0] == link.role:
            groups[-1][1].append(link.author)
        else:
            groups.append((link.role, [link.author]))
    return groups


@dataclass
class RedetectReport:
    examined: int = 0
    changed: int = 0
    kept_corrections: int = 0
    credited: int = 0  # articles with at least one byline after detection
    examples: list[tuple[int, str, list[Credit], list[Credit]]] = field(default_factory=list)  # id, title, old, new


def redetect(queryset, *, dry_run: bool = False, batch_size: int = 500,
             on_batch: Callable[[int], None] | None = None, examples: int = 10) -> RedetectReport:
    """Detect bylines again over `queryset`, a batch (one transaction) at a time."""
    report = RedetectReport()
    report.kept_corrections = queryset.filter(bylines_edited=True).count()
    ids = queryset.filter(bylines_edited=False).order_by("pk").values_list("pk", flat=True)
    for chunk in batched(ids.iterator(chunk_size=batch_size), batch_size):
        with transaction.atomic():
            stored: dict[int, list[Credit]] = {pk: [] for pk in chunk}
            for article_id, role, name in (ArticleByline.objects.filter(article_id__in=chunk)
                                           .order_by("position", "id")
                                           .values_list("article_id", "role", "author__name")):
                stored[article_id].append((role, name))
            for article in Article.objects.filter(pk__in=chunk).only("id", "title", "body"):
                new = detected(article)
                report.examined += 1
                report.credited += bool(new)
                if new == stored[article.pk]:
                    continue
                report.changed += 1
                if len(report.examples) < examples:
                    report.examples.append((article.pk, article.title, stored[article.pk], new))
                if not dry_run:
                    set_bylines(article, new)
        if on_batch:
            on_batch(len(chunk))
    return report
