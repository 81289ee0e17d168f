"""`manage.py import_articles PATH [PATH ...]`: import Hexo posts."""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.db import DatabaseError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from importing.runs import INTERRUPTED_BY_OPERATOR, finish_run, recorded_import
from importing import database_errors as retry
from importing.pipeline import ImportReport, WorkerLost, find_source_files, import_files
from articles.management.arguments import non_negative_int, positive_int
from importing.load import DEFAULT_BATCH_SIZE
from articles.models import Article, ImportRun
from importing.parse import get_timezone


class Command(BaseCommand):
    help = (
        "Import Hexo posts (YAML or JSON front matter and an HTML body) from files or "
        "directories (walked recursively for *.md, *.markdown and *.txt). Re-importing "
        "is safe: unchanged files are skipped and changed ones update their article. "
        "Every run, dry runs included (marked as such), is recorded as an ImportRun "
        "in the admin's import history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="post files or directories")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="parse and validate only; write no articles (the run is recorded, marked as a dry run)",
        )
        parser.add_argument(
            "--timezone", default=settings.TIME_ZONE,
            help="zone of dates written without an offset (default: %(default)s)",
        )
        parser.add_argument(
            "--max-bytes", type=positive_int, default=settings.NEWSPORTAL_IMPORT_MAX_BYTES,
            help="refuse files larger than this many bytes (default: %(default)s)",
        )
        parser.add_argument(
            "--overwrite-edited", action="store_true",
            help="replace articles changed in the admin too (by default they are kept and reported)",
        )
        parser.add_argument(
            "--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
            help="articles written per transaction (default: %(default)s)",
        )
        parser.add_argument(
            "--accept-suggested-tags", action="store_true",
            help="suggest keyword tags (jieba) for the articles this run created or updated and add them as "
                 "tags at once; several ms an article, so off by default (see suggest_tags)",
        )
        parser.add_argument(
            "--workers", type=non_negative_int, default=None,
            help="processes that read, parse and sanitise beside the database writer, at a lower priority "
                 "(default: one per core, at most 4, on a multi-core machine for 200+ files; 0 = none)",
        )

    def handle(self, *args, **options) -> None:
        try:
            tz = get_timezone(options["timezone"])
        except ValueError as exc:
            raise CommandError(f"--timezone: {exc}") from exc

        try:
            report = self._import(tz, options)
        except DatabaseError as exc:
            # A read-only or full database, a lost connection: one line, no traceback
            # (the ImportRun, where it could be written, is marked failed with the reason).
            raise CommandError(f"import failed: {retry.explain(exc)}", returncode=1) from exc
        except WorkerLost as exc:
            raise CommandError(f"import failed: {exc}", returncode=1) from exc
        except KeyboardInterrupt:
            # One line, not a traceback; 130 is the shell's code for "ended by SIGINT".
            raise CommandError(f"import {INTERRUPTED_BY_OPERATOR}", returncode=130) from None
        if report.failed:
            raise CommandError(f"{report.failed} file(s) failed to import", returncode=1)

    def _import(self, tz, options) -> ImportReport:
        verbosity = options["verbosity"]
        started = timezone.now()
        report = ImportReport()
        with recorded_import(
            origin=ImportRun.Origin.COMMAND, sources=[os.path.abspath(p) for p in options["paths"]],
            time_zone=options["timezone"], dry_run=options["dry_run"], overwrite_edited=options["overwrite_edited"],
            report=report,
        ) as run:
            files, missing = find_source_files(options["paths"])
            report.errors.extend(missing)
            # tqdm turns itself off when stderr is not a terminal (disable=None).
            with tqdm(total=len(files), unit="file", disable=None if verbosity > 0 else True,
                      file=sys.stderr, leave=False) as bar:
                import_files(
                    files, tz=tz, max_bytes=options["max_bytes"], dry_run=options["dry_run"],
                    batch_size=options["batch_size"], workers=options["workers"],
                    overwrite_edited=options["overwrite_edited"], on_file=bar.update, report=report,
                )
            finish_run(run, report)

        for line in report.errors:
            self.stderr.write(line)
        if options["accept_suggested_tags"] and not options["dry_run"]:
            from newsroom.keywords import accept_for_articles  # jieba loads only when asked for

            written = Article.objects.filter(updated_at__gte=started, import_key__isnull=False)
            added = accept_for_articles(written.order_by("pk").values_list("pk", flat=True))
            if verbosity > 0:
                self.stdout.write(f"added {added} suggested tag(s)")
        prefix = "Dry run (nothing written): would have " if options["dry_run"] else ""
        if verbosity > 0:
            self.stdout.write(f"{prefix}{report.summary()}")
        return report
