"""`manage.py detect_bylines`: read every article's dateline again and relink its reporters."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from newsroom.operations import settle_bylines
from newsroom.bylines import format_credit
from articles.management.arguments import add_since_option, positive_int
from articles.models import Article


class Command(BaseCommand):
    help = (
        "Detect reporter bylines again over the whole archive (or --since a date), in batches. "
        "Articles whose bylines an editor corrected are left alone. Run it after the detector "
        "improves; --dry-run shows what would change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        parser.add_argument("--batch-size", type=positive_int, default=500, help="articles per transaction")
        add_since_option(parser)
        parser.add_argument("--examples", type=int, default=10, help="changed articles to list (default 10)")

    def handle(self, *args, **options) -> None:
        articles = Article.objects.all()
        if options["since"]:
            articles = articles.filter(published_date__gte=options["since"])
        report = settle_bylines(articles, dry_run=options["dry_run"], batch_size=options["batch_size"],
                                examples=options["examples"])
        for pk, title, old, new in report.examples:
            self.stdout.write(f"  #{pk} {title[:40]}: {format_credit(old) or '—'} → {format_credit(new) or '—'}")
        prefix = "Dry run (nothing written): would have changed" if options["dry_run"] else "changed"
        self.stdout.write(
            f"examined {report.examined}, {prefix} {report.changed}, with bylines {report.credited}, "
            f"kept corrections {report.kept_corrections}")
