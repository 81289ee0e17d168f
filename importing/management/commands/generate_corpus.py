"""`manage.py generate_corpus --count N --out DIR --seed S [--markdown]`: write synthetic posts."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from importing.corpus import CorpusError, write_corpus


class Command(BaseCommand):
    help = (
        "Write N synthetic Hexo posts (Chinese financial news, in the format of seeds/) "
        "under DIR, in year/month folders. The same --seed always gives byte-identical "
        "files. About 1%% of files repeat another file's story under a new name. "
        "With --markdown, the same stories as Markdown posts (.md) instead of HTML ones (.txt)."
    )
    # Writes files only: no database, so no reason to run the system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="number of files to write")
        parser.add_argument("--out", required=True, metavar="DIR", help="output directory (absent or empty)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
        parser.add_argument("--markdown", action="store_true",
                            help="write Markdown posts (.md: headings, lists, tables, links) instead of HTML ones")

    def handle(self, *args, **options) -> None:
        if options["count"] < 1:
            raise CommandError("--count must be at least 1")
        started = time.perf_counter()
        try:
            summary = write_corpus(options["out"], options["count"], options["seed"],
                                   markdown=options["markdown"])
        except (CorpusError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        if options["verbosity"] > 0:
            self.stdout.write(
                f"wrote {summary.files} files ({summary.bytes_written / 1e6:.1f} MB) to {summary.out_dir} "
                f"in {elapsed:.1f}s: {summary.stories} stories; {summary.duplicates} files repeat a story "
                f"({summary.identical_copies} identical copies, {summary.variant_copies} with other bytes)"
            )
