"""`manage.py suggest_tags`: suggest keyword tags (newsroom.keywords) for editors to accept or reject."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from newsroom import operations
from articles.management.arguments import add_since_option, positive_int
from articles.models import Article


class Command(BaseCommand):
    help = (
        "Suggest up to five keyword tags per article with jieba and the domain dictionary; "
        "editors accept or reject them in the admin (Tag suggestions). By default only articles "
        "that have no suggestions yet; --all computes the pending ones again (decided ones stay)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="also articles that already have suggestions")
        add_since_option(parser)
        parser.add_argument("--batch-size", type=positive_int, default=200, help="articles per batch")

    def handle(self, *args, **options) -> None:
        articles = Article.objects.all()
        if not options["all"]:
            articles = articles.filter(tag_suggestions__isnull=True)
        if options["since"]:
            articles = articles.filter(published_date__gte=options["since"])
        start = time.perf_counter()
        report = operations.suggest_tags(articles, batch_size=options["batch_size"])
        elapsed = time.perf_counter() - start
        per = ""
        if report.articles:
            per = f" ({elapsed / report.articles * 1000:.1f} ms an article, dictionary load included)"
        self.stdout.write(f"suggested {report.made} tag(s) for {report.articles} article(s){per}")
