"""`manage.py make_demo [--count N] [--seed S]`: fill the site with a generated demo archive (importing.demo)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.management.arguments import non_negative_int, positive_int
from importing.demo import DEFAULT_COUNT, DEFAULT_SEED, make_demo


class Command(BaseCommand):
    help = (
        "Fill the site with a generated, realistic archive to try it with: N synthetic Chinese "
        "financial news posts over several years (wire items with 【headlines】, long reads with "
        "reporters, tags), imported as `import_articles` imports, then a few headline slots and "
        "reads for 热门. The same --seed gives the same archive; running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=positive_int, default=DEFAULT_COUNT,
                            help="posts to generate (default: %(default)s)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
        parser.add_argument("--workers", type=non_negative_int, default=None,
                            help="import worker processes (default: as import_articles; 0 = all in one process)")

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        report = make_demo(options["count"], options["seed"], workers=options["workers"])
        if report.imported.failed:
            for line in report.imported.errors[:10]:
                self.stderr.write(line)
            raise CommandError(f"{report.imported.failed} generated posts failed to import")
        if options["verbosity"] > 0:
            self.stdout.write(f"{report.summary()} ({time.perf_counter() - started:.1f}s)")
