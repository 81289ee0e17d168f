"""The import pipeline: file → parse → sanitise → derive → load.

`import_files` imports a list of files; `importing.service.run_import`, the
one entry point that the `import_articles` command and the admin's upload
page both call, finds or stages the files, records the run and calls it.
Each file is its own unit: a file that fails is reported with its path and
the problem, and every other file still imports.

A dry run is the real load in one transaction that is rolled back at the end
(`_rolled_back`), so it meets every constraint a real run meets and counts
what a real run would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from django.conf import settings
from django.db import transaction

from importing.assets import DEFAULT_ASSET_MAX_BYTES, NO_ASSETS, PostAssets, post_assets, resolve_asset_links
from importing.derive import DerivedBody, derive_from_body, excerpt_before_more
from articles.iterables import batched
from importing.load import DEFAULT_BATCH_SIZE, ArticleLoader, LoadResult, import_connection_settings
from importing.hexo_site import SitePost
from importing.parse import (
    DEFAULT_MAX_BYTES, ImportFileError, ParsedArticle, content_hash, get_timezone, parse_bytes, read_source,
)
from importing.report import ImportReport
from articles.sanitize import sanitize_body
from importing.workers import WorkerPool

__all__ = ["ImportReport", "RERUN_ADVICE", "WorkerLost", "find_source_files", "import_files"]

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
PARALLEL_MIN_FILES = 200
MAX_WORKERS = 4
CHUNK = 16  # files a worker prepares per round trip


# What an import stopped part-way leaves, and what to do: every batch is one
# transaction, so the committed ones are whole and a re-run imports the rest.
RERUN_ADVICE = "the batches committed before are kept: run the import again to finish it"


class WorkerLost(RuntimeError):
    """A worker process died mid-import; what was committed stays, the rest needs a re-run."""


def find_source_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[str]]:
    """Post files under `paths` (files, or directories walked recursively), sorted.

    Returns the files, each once, and an error line for each path that does
    not exist. A file named explicitly is taken whatever its suffix.
    """
    found: dict[str, Path] = {}
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.setdefault(os.path.abspath(path), path)
        elif path.is_dir():
            for file in sorted(_walk(path)):
                found.setdefault(os.path.abspath(file), file)
        else:
            missing.append(f"{path}: no such file or directory")
    return list(found.values()), missing


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if Path(name).suffix.lower() in SUFFIXES and not name.startswith("."):
                yield Path(dirpath, name)


# --- the CPU stage: no database, so it can run in worker processes -----------


@dataclass(frozen=True)
class _Task:
    path: Path
    known_digest: str | None
    max_bytes: int
    tz: dt.tzinfo
    # What the file is called in reports, source_path and ImportedFile, when its
    # path on disk means nothing to anyone (an upload unpacked into a temp dir).
    name: str | None = None
    site_post: SitePost | None = None  # its place in a Hexo site imported from its root
    # Hexo's `post_asset_folder`: the folder named after the post holds its images (importing.assets).
    post_asset_folder: bool = False
    asset_max_bytes: int = DEFAULT_ASSET_MAX_BYTES
    media_url: str = "/media/"

    @property
    def source(self) -> str:
        return _source_name(self.path, self.name)


def _source_name(path: Path, name: str | None) -> str:
    return name if name is not None else os.path.abspath(path)


@dataclass
class DerivedFile:
    """One file after read → hash → parse → sanitise → derive (importing.derive)."""

    source: str
    unchanged: bool = False
    error: str | None = None
    article: ParsedArticle | None = None  # its raw body dropped: `body` replaces it
    body: DerivedBody | None = None


def read_and_derive(task: _Task) -> DerivedFile:
    source = task.source
    try:
        try:
            data = read_source(task.path, task.max_bytes)
        except ImportFileError as exc:
            if task.name is None:
                raise
            raise ImportFileError(source, exc.message, exc.field) from exc
        digest = content_hash(data, task.tz, task.site_post.fingerprint() if task.site_post else "")
        assets = _assets(task)
        if assets is not NO_ASSETS:
            # The folder's images are part of what the post shows: a changed one re-imports it.
            digest = _with_assets(digest, assets)
        if digest == task.known_digest:
            # Skipped unread: re-importing an archive costs little more than hashing it.
            return DerivedFile(source, unchanged=True)
        article = parse_bytes(data, path=source, tz=task.tz, digest=digest, modified=_modified(task.path),
                              site_post=task.site_post, assets=assets.urls)
        # The excerpt Hexo shows: the front matter's, else the body before `<!-- more -->`
        # (found in the body as HTML, before the sanitiser drops the comment).
        excerpt = article.excerpt if article.excerpt is not None else excerpt_before_more(article.body)
        html = sanitize_body(article.body)
        if task.post_asset_folder:
            html, article = _resolve_assets(html, article, assets)
        body = derive_from_body(article.title, html, excerpt_html=excerpt)
        # Only the sanitised body is stored: dropping the raw one halves what
        # the worker sends to the writer and what a batch holds in memory.
        article = dataclasses.replace(article, body="")
        return DerivedFile(source, article=article, body=body)
    except ImportFileError as exc:
        return DerivedFile(source, error=str(exc))


def _assets(task: _Task) -> PostAssets:
    if not task.post_asset_folder:
        return NO_ASSETS
    return post_assets(task.path, max_bytes=task.asset_max_bytes, media_url=task.media_url, post_name=task.source)


def _with_assets(digest: str, assets: PostAssets) -> str:
    combined = hashlib.sha256(digest.encode())
    for name, stored in sorted((asset.name, asset.storage_name) for asset in assets.files):
        combined.update(f"\0{name}\0{stored}".encode())
    for line in assets.warnings:
        combined.update(f"\0{line}".encode())
    return combined.hexdigest()


def _resolve_assets(html: str, article: ParsedArticle, assets: PostAssets) -> tuple[str, ParsedArticle]:
    """The sanitised body with its relative references pointing at the stored assets; the article
    with the files to store and a warning for each rejected file and each missing reference."""
    html, missing = resolve_asset_links(html, assets.urls)
    warnings = [*assets.warnings, *(
        f"{article.source_path}: {name} is referred to but not in the post's asset folder" for name in missing)]
    # Every accepted file is stored, referred to or not: a tag plugin may name it, and Hexo copies them all.
    return html, dataclasses.replace(article, assets=assets.files, warnings=(*article.warnings, *warnings))


def _modified(path: Path) -> float | None:
    """The file's modification time: what dates a post without a `date`, as in Hexo."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def default_workers(file_count: int) -> int:
    """Worker processes for the CPU stage, for big imports: one per core, up to MAX_WORKERS.

    The workers give way to the database writer (a lower CPU priority), so
    they only use what it leaves free: on 2 cores, two workers imported
    20,000 files in 13.0–15.0 s against 13.8–18.0 s for one (three paired
    runs, docs/BENCHMARKS.md). For a few hundred files, starting them costs
    more than it saves.
    """
    cores = os.cpu_count() or 1
    if file_count < PARALLEL_MIN_FILES or cores < 2:
        return 0
    return min(MAX_WORKERS, cores)


@contextmanager
def _derived_in_order(tasks: Iterable[_Task], workers: int, ahead: int) -> Iterator[Iterable[DerivedFile]]:
    """Files read and derived, in order; with workers (importing.workers), about `ahead` files in advance."""
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        yield map(read_and_derive, tasks)
        return
    # Forked workers never touch the database, and leave by os._exit, so the
    # parent's connection is safe.
    with WorkerPool(workers) as pool:
        yield _pipelined(pool, tasks, chunks_ahead=max(1, -(-ahead // CHUNK)))


def read_and_derive_chunk(tasks: Sequence[_Task]) -> list[DerivedFile]:
    """`read_and_derive` for each of `tasks`: one round trip to a worker for CHUNK files."""
    return [read_and_derive(task) for task in tasks]


def _pipelined(pool: WorkerPool, tasks: Iterable[_Task], chunks_ahead: int) -> Iterator[DerivedFile]:
    """Results in the files' order, with up to `chunks_ahead` chunks being read and derived ahead.

    Order keeps "the later file wins" as in one process. The writer spends a
    second or more in each batch's transaction while taking no files; the
    workers must have a batch's worth queued meanwhile, or they sit idle for
    it. The bound keeps memory flat however large the archive, when the
    database writer is the slower side.
    """
    in_flight: deque[Future[list[DerivedFile]]] = deque()
    try:
        for chunk in batched(tasks, CHUNK):
            in_flight.append(pool.submit(read_and_derive_chunk, chunk))
            if len(in_flight) > chunks_ahead:
                yield from pool.result(in_flight.popleft())
        while in_flight:
            yield from pool.result(in_flight.popleft())
    except BrokenProcessPool as exc:
        raise WorkerLost(f"a worker process ended abruptly (killed, or out of memory?); {RERUN_ADVICE}") from exc


# --- the whole import --------------------------------------------------------


def import_files(
    files: Sequence[Path],
    *,
    tz: dt.tzinfo,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int | None = None,
    overwrite_edited: bool = False,
    on_file: Callable[[], None] | None = None,
    names: Sequence[str] | None = None,
    site_posts: Sequence[SitePost | None] | None = None,
    report: ImportReport | None = None,
    post_asset_folder: bool = False,
) -> ImportReport:
    """Import `files`, streaming: only one batch of articles is held in memory.

    `names`, if given, is each file's stable name (one per file, in order),
    used instead of its absolute path as its source path and in reports.
    `site_posts`, if given, is each file's place in a Hexo site imported
    from its root (None for a plain file), whose time zone it is read in.
    `report`, if given, is filled in and returned; should the import raise
    (a full disk, a lost worker, Ctrl-C), it holds what was done until then:
    the committed batches' counts and the files that had failed.

    `dry_run`: every batch is written as in a real run, but all of them in
    one transaction that is rolled back before this returns, so the report
    counts what a real run would, failures the database itself finds included.
    It stores no asset file.

    `post_asset_folder` (Hexo's setting): each post's asset folder's images are
    checked, stored (`importing.asset_store`, real runs only) and its body's
    relative references pointed at them (`importing.assets`).
    """
    if names is not None and len(names) != len(files):
        raise ValueError(f"{len(names)} names for {len(files)} files")
    if site_posts is not None and len(site_posts) != len(files):
        raise ValueError(f"{len(site_posts)} site posts for {len(files)} files")
    report = ImportReport(dry_run=dry_run) if report is None else report
    with _rolled_back() if dry_run else nullcontext():
        # The loader reads the existing authors, tags and files inside the dry run's transaction.
        loader = ArticleLoader(batch_size=batch_size, analyze=not dry_run, overwrite_edited=overwrite_edited,
                               store_assets=not dry_run)
        try:
            _run_import(loader, files, names, site_posts, report, tz=tz, max_bytes=max_bytes, workers=workers,
                        batch_size=batch_size, on_file=on_file, post_asset_folder=post_asset_folder)
        finally:
            _count_loaded(report, loader.result)
    return report


@contextmanager
def _rolled_back() -> Iterator[None]:
    """One transaction around the whole load, rolled back at its end, whatever happens in it.

    Each batch's own transaction becomes a savepoint in it, so a batch the
    database refuses still rolls back alone and is retried one article at a
    time, as in a real run. Within a caller's transaction (a test's), this is
    a savepoint rolled back to.
    """
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _run_import(loader: ArticleLoader, files: Sequence[Path], names: Sequence[str] | None,
                site_posts: Sequence[SitePost | None] | None, report: ImportReport,
                *, tz: dt.tzinfo, max_bytes: int, workers: int | None, batch_size: int,
                on_file: Callable[[], None] | None, post_asset_folder: bool = False) -> None:
    known = loader.known_files()
    names = names if names is not None else [None] * len(files)
    site_posts = site_posts if site_posts is not None else [None] * len(files)
    asset_options = dict(asset_max_bytes=settings.NEWSPORTAL_ASSET_MAX_BYTES, media_url=settings.MEDIA_URL)
    tasks = (
        _Task(path, known.get(_source_name(path, name)), max_bytes, _zone(site_post, tz), name, site_post,
              post_asset_folder=site_post.site.post_asset_folder if site_post else post_asset_folder,
              **asset_options)
        for path, name, site_post in zip(files, names, site_posts)
    )
    workers = default_workers(len(files)) if workers is None else workers
    with import_connection_settings(), _derived_in_order(tasks, workers, ahead=batch_size) as prepared_files:
        for prepared in prepared_files:
            if prepared.error:
                report.errors.append(prepared.error)
            elif prepared.unchanged:
                report.unchanged += 1
            else:
                report.warnings.extend(prepared.article.warnings)
                loader.add(prepared.article, prepared.body)
            if on_file:
                on_file()
        loader.finish()


def _zone(site_post: SitePost | None, default: dt.tzinfo) -> dt.tzinfo:
    """A Hexo site's post is read in the site's time zone (importing.service settles which that is)."""
    if site_post is not None and site_post.site.timezone:
        return get_timezone(site_post.site.timezone)
    return default


def _count_loaded(report: ImportReport, result: LoadResult) -> None:
    """Add what the loader committed to the files the report counts already (unchanged, failed)."""
    report.created += result.created
    report.updated += result.updated
    report.unchanged += result.unchanged
    report.kept_local_edits += result.kept_local_edits
    report.written_ids.extend(result.written)
    report.warnings.extend(result.warnings)
    report.errors.extend(f"{path}: {message}" for path, message in result.failed)
