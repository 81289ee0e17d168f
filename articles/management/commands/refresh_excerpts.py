"""`manage.py refresh_excerpts`: take the repeated 【headline】 out of stored excerpts.

Excerpts are derived when an article is saved or imported; those stored before
the derivation left out a leading 【headline】 (articles.sanitize.strip_repeated_headline)
still begin with it. A command, not a data migration: the excerpt is derived by
live code (the sanitiser's text, the cut to EXCERPT_LENGTH) that a migration
would have to freeze a copy of, and its writes go through
`content_keys.articles_write`, so the cached pages that show them are refreshed.
Re-importing an archive fixes its articles the same way.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from articles import content_keys
from articles.management.arguments import positive_int
from articles.models import Article
from articles.sanitize import EXCERPT_LENGTH, make_excerpt, strip_repeated_headline


def excerpt_now(article: Article) -> str:
    """The excerpt `article` gets today: a given one without its 【headline】, else derived again."""
    if article.excerpt_explicit:
        return strip_repeated_headline(article.excerpt, article.title)
    return make_excerpt(article.body, EXCERPT_LENGTH, article.title)


class Command(BaseCommand):
    help = (
        "Derive again the excerpts that begin with 【…】, so that none repeats its article's "
        "headline; --dry-run counts them without writing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        parser.add_argument("--batch-size", type=positive_int, default=500, help="articles per transaction")

    def handle(self, *args, **options) -> None:
        # Only excerpts opening with a bracket can repeat a headline in one.
        candidates = Article.objects.filter(excerpt__startswith="【").order_by("pk")
        examined = changed = 0
        last = 0
        while batch := list(candidates.filter(pk__gt=last)[: options["batch_size"]]):
            last = batch[-1].pk
            examined += len(batch)
            stale = [a for a in batch if excerpt_now(a) != a.excerpt]
            changed += len(stale)
            if stale and not options["dry_run"]:
                with content_keys.articles_write() as write:
                    write.changing(a.pk for a in stale)
                    for article in stale:
                        article.excerpt = excerpt_now(article)
                    # bulk_update derives the excerpt of each (Article.sanitise_and_derive_fields),
                    # as saving would; the given ones keep the value set here.
                    Article.objects.bulk_update(stale, ["excerpt"], batch_size=200)
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(f"examined {examined} excerpts beginning with 【, {verb} {changed}")
