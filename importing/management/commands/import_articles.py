"""`manage.py import_articles PATH [PATH ...]`: import Hexo posts."""

from __future__ import annotations

import datetime as dt
import fcntl
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings
from django.db import DatabaseError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from articles.management.arguments import non_negative_int, positive_int
from importing import database_errors as retry
from importing.load import DEFAULT_BATCH_SIZE
from importing.pipeline import WorkerLost
from importing.runs import INTERRUPTED_BY_OPERATOR
from importing.service import ImportOptions, PathSource, run_import

# The exit codes, so that a scheduler (deploy/systemd/newsportal-import.service) and an
# operator can tell the cases apart (docs/DEPLOY.md, "Imports as a scheduled job").
EXIT_OK = 0
EXIT_CRASHED = 1        # the import stopped: the database, a worker process, a bug (a traceback)
EXIT_USAGE = 2          # a wrong option or argument: nothing was imported
EXIT_FILES_FAILED = 3   # some files could not be imported (listed); every other file was
EXIT_LOCKED = 75        # another import holds --lock: nothing was done (EX_TEMPFAIL: try later)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGINT

EXIT_CODES_HELP = (
    f"Exit codes: {EXIT_OK} imported; {EXIT_FILES_FAILED} some files failed (listed; the rest imported); "
    f"{EXIT_LOCKED} another import holds --lock; {EXIT_CRASHED} the import stopped (database, worker, bug); "
    f"{EXIT_USAGE} a wrong option; {EXIT_INTERRUPTED} interrupted."
)


class TimestampedOutput:
    """stdout or stderr with each line prefixed by the time (UTC, ISO 8601), for --timestamps:
    a log file or a scheduler's output then says when each line happened."""

    def __init__(self, output) -> None:
        self._output = output

    def write(self, msg: str = "", style_func=None, ending: str | None = None) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        self._output.write("\n".join(f"{stamp} {line}" for line in msg.split("\n")), style_func, ending)

    def __getattr__(self, name: str):
        return getattr(self._output, name)


@contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (made if missing) for the block, or raise CommandError
    with EXIT_LOCKED at once if another process holds it. The kernel drops the lock when
    the process ends, however it ends, so a crashed run never leaves it held."""
    try:
        handle = open(path, "a")
    except OSError as exc:
        raise CommandError(f"--lock: cannot open {path}: {exc.strerror}", returncode=EXIT_USAGE) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(f"another import holds the lock {path}: nothing done, try again later",
                               returncode=EXIT_LOCKED) from None
        yield


class Command(BaseCommand):
    help = (
        "Import Hexo posts (YAML or JSON front matter and a body) from files or "
        "directories (walked recursively for *.md, *.markdown and *.txt), or a whole Hexo "
        "site from its root (the folder with _config.yml: source/_posts published, "
        "source/_drafts as drafts, with the site's settings). The body of a "
        ".md or .markdown post is Markdown, rendered as Hexo renders it, unless it is HTML "
        "already; a .txt post's body is HTML or plain lines. Re-importing "
        "is safe: unchanged files are skipped and changed ones update their article. "
        "Every run, dry runs included (marked as such), is recorded as an ImportRun "
        "in the admin's import history. " + EXIT_CODES_HELP
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="post files or directories")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="import every file in a transaction that is rolled back: the counts and failures a real run "
                 "would have, nothing written (the run is recorded, marked as a dry run)",
        )
        parser.add_argument(
            "--timezone", default=None,
            help=f"zone of dates written without an offset (default: a Hexo site's own `timezone`, "
                 f"else {settings.TIME_ZONE})",
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
        parser.add_argument(
            "--lock", type=Path, default=None, metavar="FILE",
            help=f"take an exclusive lock on FILE first; if another import holds it, exit {EXIT_LOCKED} at once "
                 "(a scheduled import and a manual one never overlap)",
        )
        parser.add_argument(
            "--timestamps", action="store_true",
            help="begin each output line with its time (UTC, ISO 8601), for logs",
        )

    def handle(self, *args, **options) -> None:
        if options["timestamps"]:
            # Also stamps the error line Django writes for a CommandError (through self.stderr).
            self.stdout, self.stderr = TimestampedOutput(self.stdout), TimestampedOutput(self.stderr)
        if options["lock"] is None:
            self._import(options)
            return
        with held_lock(options["lock"]):
            self._import(options)

    def _import(self, options: dict) -> None:
        try:
            import_options = ImportOptions(
                time_zone=options["timezone"], max_bytes=options["max_bytes"], batch_size=options["batch_size"],
                workers=options["workers"], dry_run=options["dry_run"],
                overwrite_edited=options["overwrite_edited"], accept_suggested_tags=options["accept_suggested_tags"],
            )
        except ValueError as exc:
            raise CommandError(f"--timezone: {exc}", returncode=EXIT_USAGE) from exc

        verbosity = options["verbosity"]
        try:
            report = run_import(PathSource(options["paths"]), import_options,
                                progress=lambda total: self._progress_bar(total, verbosity))
        except DatabaseError as exc:
            # A read-only or full database, a lost connection: one line, no traceback
            # (the ImportRun, where it could be written, is marked failed with the reason).
            raise CommandError(f"import failed: {retry.explain(exc)}", returncode=EXIT_CRASHED) from exc
        except WorkerLost as exc:
            raise CommandError(f"import failed: {exc}", returncode=EXIT_CRASHED) from exc
        except KeyboardInterrupt:
            # One line, not a traceback; 130 is the shell's code for "ended by SIGINT".
            raise CommandError(f"import {INTERRUPTED_BY_OPERATOR}", returncode=EXIT_INTERRUPTED) from None

        for line in report.errors:
            self.stderr.write(line)
        for line in report.warnings:
            self.stderr.write(f"warning: {line}")
        if verbosity > 0:
            if report.suggested_tags_added is not None:
                self.stdout.write(f"added {report.suggested_tags_added} suggested tag(s)")
            self.stdout.write(report.outcome_line())
        if report.failed:
            raise CommandError(f"{report.failed} file(s) failed to import", returncode=EXIT_FILES_FAILED)

    @contextmanager
    def _progress_bar(self, total: int, verbosity: int) -> Iterator[Callable[[], object]]:
        # tqdm turns itself off when stderr is not a terminal (disable=None).
        with tqdm(total=total, unit="file", disable=None if verbosity > 0 else True,
                  file=sys.stderr, leave=False) as bar:
            yield bar.update
