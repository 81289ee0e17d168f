"""Bylines in the database: linking detected reporters, their pages, re-detection.

The detection itself is newsroom.bylines (pure). Here: writing an article's
byline rows (on save; the importer writes its own in bulk, importing.load),
the articles a reporter is credited on, and re-running detection over the
archive (`manage.py detect_bylines`), always leaving editors' corrections
(`Article.bylines_edited`) alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from django.db import transaction

from newsroom import bylines as detector
from articles import content_keys
from articles.iterables import batched
from articles.models import Article, ArticleByline, Author

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
            ArticleByline(article=article, author=author_named(name), role=role, position=i,
                          published_at=article.published_at)
            for i, (role, name) in enumerate(credits)
        )
    return True


def author_named(name: str) -> Author:
    author, _ = Author.objects.get_or_create(name=name)
    return author


def detect_on_save(instance: Article, update_fields=None) -> None:
    """Every save re-reads the dateline, unless an editor corrected the bylines.

    An editor's edit (newsroom.operations.save_as_edit) sets
    `_settle_bylines_later` and settles them itself once the bylines the
    editor may have corrected are saved, so a correction is never overwritten
    half-way through the same save.
    """
    if instance.bylines_edited or getattr(instance, "_settle_bylines_later", False):
        return
    if update_fields is not None and not {"body", "bylines_edited"} & set(update_fields):
        return
    set_bylines(instance, detected(instance))


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
        # The batch says which articles it changes (articles.content_keys): their pages only go stale.
        with content_keys.articles_write() as write:
            stored: dict[int, list[Credit]] = {pk: [] for pk in chunk}
            for article_id, role, name in (ArticleByline.objects.filter(article_id__in=chunk)
                                           .order_by("position", "id")
                                           .values_list("article_id", "role", "author__name")):
                stored[article_id].append((role, name))
            changed: list[tuple[Article, list[Credit]]] = []
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
                    changed.append((article, new))
            write.changing(article.pk for article, _new in changed)
            for article, new in changed:
                set_bylines(article, new)
            write.written(article.pk for article, _new in changed)
        if on_batch:
            on_batch(len(chunk))
    return report
