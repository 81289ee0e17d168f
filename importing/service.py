"""The one entry point of every import: `run_import(source, options) -> ImportReport`.

The `import_articles` command (in the foreground) and the admin's uploads (in
a task worker, on the run their request queued: importing.tasks) both call it;
they only turn arguments or stored uploads into a source and `ImportOptions`,
and print or record the report. A run, whatever starts it:

1. records an ImportRun as "running" (importing.runs), before any file is read;
2. finds the files (`PathSource`: paths, directories and Hexo sites on this machine) or
   stages them (importing.upload.UploadSource: uploaded posts and archives,
   copied into a temporary directory);
3. imports them (importing.pipeline.import_files: parse, sanitise, derive in
   worker processes where it pays; load in batches, one transaction each; a
   dry run in one transaction rolled back at the end), recording on the run
   the files done once a batch;
4. for a real run, points links to an imported site's old addresses straight
   at the articles (importing.old_links), now that every target is loaded;
5. records the run's end — finished with the counts, or failed or interrupted
   with the reason and the counts committed until then — outside any import
   transaction, so a dry run's rollback never takes its record with it;
6. for a real run, if asked, adds suggested keyword tags to what it wrote;
   otherwise it enqueues their computation for a task worker (newsroom.tasks),
   whose suggestions editors then accept or reject.

Exceptions that stop a run (a database fault, a lost worker, Ctrl-C) are
recorded on the run and then raised for the caller to present.
"""

from __future__ import annotations

import dataclasses
import os
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence
from zoneinfo import ZoneInfo

from django.conf import settings

from articles.models import ImportRun
from newsroom.tasks import enqueue_suggestions
from importing.load import DEFAULT_BATCH_SIZE
from importing.hexo_site import SiteConfigError, SitePost, is_site_root, read_site, site_posts
from importing.old_links import link_to_articles
from importing.parse import get_timezone
from importing.site_links import link_index, linked_posts, named_posts
from importing.pipeline import find_source_files, import_files
from importing.report import ImportReport
from importing.runs import finish_run, record_progress, recorded_import

# Given the number of files once they are found, returns a context whose value
# is called once per file done (the command's progress bar).
Progress = Callable[[int], AbstractContextManager[Callable[[], object]]]


def _setting(name: str):
    return field(default_factory=lambda: getattr(settings, name))


@dataclass(frozen=True)
class ImportOptions:
    """How to import; the defaults are the command's. An unknown `time_zone` raises ValueError."""

    # For dates written without an offset; None: a Hexo site's own `timezone`, else settings.TIME_ZONE.
    time_zone: str | None = None
    max_bytes: int = _setting("NEWSPORTAL_IMPORT_MAX_BYTES")  # larger files fail, each alone
    batch_size: int = DEFAULT_BATCH_SIZE  # articles written per transaction
    workers: int | None = None  # processes for the CPU stage; None: importing.pipeline.default_workers
    dry_run: bool = False  # the real load, rolled back; the run is recorded as a dry run
    overwrite_edited: bool = False  # replace articles changed in the admin too
    accept_suggested_tags: bool = False  # tag what a real run wrote with suggested keywords (jieba)

    def __post_init__(self) -> None:
        if self.time_zone is not None:
            get_timezone(self.time_zone)

    @property
    def default_time_zone(self) -> str:
        """The zone of dates without an offset in files that are not a Hexo site's with its own `timezone`."""
        return self.time_zone or settings.TIME_ZONE

    @property
    def tz(self) -> ZoneInfo:
        return get_timezone(self.default_time_zone)


@dataclass
class StagedFiles:
    """The files a source found or staged, ready for import_files."""

    paths: list[Path]
    names: list[str] | None = None  # each file's name in reports, if not its absolute path
    errors: list[str] = field(default_factory=list)  # sources that could not be staged, one line each
    ignored: list[str] = field(default_factory=list)  # files that are no posts (in uploaded archives)
    # Each file's place in a Hexo site imported from its root (None: a plain file); None: no site at all.
    site_posts: list[SitePost | None] | None = None


class ImportSource(Protocol):
    """Where a run's files come from: what its ImportRun records, and the files themselves."""

    origin: str  # an ImportRun.Origin

    @property
    def sources(self) -> list[str]: ...

    def staged(self, options: ImportOptions) -> AbstractContextManager[StagedFiles]:
        """The files, available until the context ends."""
        ...


@dataclass(frozen=True)
class PathSource:
    """Post files and directories (walked recursively) on this machine: the command line's source.

    A directory holding a `_config.yml` is a Hexo site: its `source/_posts/`
    and `source/_drafts/` are imported with its settings (importing.hexo_site).
    """

    paths: Sequence[str | os.PathLike]
    origin: str = ImportRun.Origin.COMMAND

    @property
    def sources(self) -> list[str]:
        return [os.path.abspath(path) for path in self.paths]

    @contextmanager
    def staged(self, options: ImportOptions) -> Iterator[StagedFiles]:
        sites = [path for path in self.paths if is_site_root(path)]
        files, missing = find_source_files([path for path in self.paths if not is_site_root(path)])
        if not sites:
            yield StagedFiles(files, errors=missing)
            return
        staged = StagedFiles(files, errors=missing, site_posts=[None] * len(files))
        for root in sites:
            _stage_site(root, options, staged)
        yield staged


def _stage_site(root: str | os.PathLike, options: ImportOptions, staged: StagedFiles) -> None:
    """Add a Hexo site's posts to `staged`, each with its place; a site whose settings cannot be used
    adds one error and nothing else (its dates and addresses would be wrong)."""
    try:
        site = read_site(root)
    except SiteConfigError as exc:
        staged.errors.append(str(exc))
        return
    if options.time_zone is not None or site.timezone is None:
        site = dataclasses.replace(site, timezone=options.default_time_zone)  # --timezone wins
    posts = list(site_posts(site))
    index = None
    for path, site_post in posts:
        names = named_posts(_read_quietly(path))
        if names:
            if index is None:
                index = link_index(posts, get_timezone(site.timezone), options.max_bytes)
            site_post = dataclasses.replace(site_post, posts=linked_posts(names, index))
        staged.paths.append(path)
        staged.site_posts.append(site_post)


def _read_quietly(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""  # the import itself reports why it cannot be read


def run_import(
    source: ImportSource,
    options: ImportOptions | None = None,
    *,
    user=None,
    progress: Progress | None = None,
    run: ImportRun | None = None,
) -> ImportReport:
    """Import what `source` holds with `options`, recorded as an ImportRun; see the module's docstring.

    `user` is who asked (an upload's editor); `progress`, if given, is told
    the number of files and then each file done. `run`, if given, is the
    ImportRun to record this import on (an upload queued by its request and
    run by a task worker: importing.tasks) instead of a new one.
    """
    options = options or ImportOptions()
    report = ImportReport(dry_run=options.dry_run)
    with recorded_import(
        origin=source.origin, sources=source.sources, time_zone=options.default_time_zone, dry_run=options.dry_run,
        overwrite_edited=options.overwrite_edited, user=user, report=report, run=run,
    ) as run:
        report.run = run
        with source.staged(options) as staged:
            report.errors.extend(staged.errors)
            report.ignored.extend(staged.ignored)
            total = len(staged.paths)
            with (progress(total) if progress else nullcontext(None)) as shown, \
                    _recorded_progress(run, total, options, shown) as on_file:
                import_files(
                    staged.paths, names=staged.names, site_posts=staged.site_posts, tz=options.tz, max_bytes=options.max_bytes,
                    dry_run=options.dry_run, batch_size=options.batch_size, workers=options.workers,
                    overwrite_edited=options.overwrite_edited, on_file=on_file, report=report,
                )
        if not options.dry_run and report.written_ids:
            # Links to old addresses (post_link, or written by hand) go straight to the articles.
            link_to_articles(report.written_ids)
        # After import_files has returned: a dry run's transaction is rolled back by now.
        finish_run(run, report)
    if options.accept_suggested_tags and not options.dry_run:
        report.suggested_tags_added = _accept_suggested_tags(report.written_ids)
    elif not options.dry_run and report.written_ids:
        # Keyword suggestions for editors, computed by a task worker (newsroom.tasks).
        enqueue_suggestions(report.written_ids)
    return report


# Progress is written at most this often (besides once a batch), so that a slow
# import's page moves while its first batch is still being read.
PROGRESS_SECONDS = 1.0


@contextmanager
def _recorded_progress(run: ImportRun, total: int, options: ImportOptions,
                       shown: Callable[[], object] | None) -> Iterator[Callable[[], None] | None]:
    """The per-file callback: tells `shown` (the command's bar) each file, and records on the run the
    files done of `total` once a batch (or a second) — one small UPDATE, never one a file.

    A dry run records none: its writes are rolled back, and the run row must
    stay outside its transaction (importing.runs).
    """
    if options.dry_run:
        yield shown
        return
    record_progress(run, done=0, total=total)
    done = recorded = 0
    last = time.monotonic()

    def on_file() -> None:
        nonlocal done, recorded, last
        done += 1
        if shown is not None:
            shown()
        if done - recorded >= options.batch_size or time.monotonic() - last >= PROGRESS_SECONDS:
            record_progress(run, done=done)
            recorded, last = done, time.monotonic()

    yield on_file
    if done != recorded:
        record_progress(run, done=done)


def _accept_suggested_tags(written_ids: list[int]) -> int:
    """Add suggested keyword tags to the articles the import created or updated; returns how many."""
    from newsroom.keywords import accept_for_articles  # jieba loads only when asked for

    return accept_for_articles(sorted(set(written_ids)))
