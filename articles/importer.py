"""The import pipeline: file → parse → sanitize → load.

`import_paths` is what the `import_articles` command (and, later, the admin's
upload page) runs. Each file is its own unit: a file that fails is reported
with its path and the problem, and every other file still imports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import signal
import threading
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .derive import PreparedBody, prepare_body
from .iterables import batched
from .load import DEFAULT_BATCH_SIZE, ArticleLoader, import_connection_settings
from .parse import DEFAULT_MAX_BYTES, ImportFileError, ParsedArticle, content_hash, parse_bytes, read_source
from .sanitize import sanitize_body

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
PARALLEL_MIN_FILES = 200
MAX_WORKERS = 4
CHUNK = 16  # files a worker prepares per round trip


# What an import stopped part-way leaves, and what to do: every batch is one
# transaction, so the committed ones are whole and a re-run imports the rest.
RERUN_ADVICE = "the batches committed before are kept: run the import again to finish it"


class WorkerLost(RuntimeError):
    """A worker process died mid-import; what was committed stays, the rest needs a re-run."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_local_edits: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    def summary(self) -> str:
        summary = f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, failed {self.failed}"
        if self.kept_local_edits:
            summary += f", kept local edits {self.kept_local_edits}"
        return summary


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

    @property
    def source(self) -> str:
        return _source_name(self.path, self.name)


def _source_name(path: Path, name: str | None) -> str:
    return name if name is not None else os.path.abspath(path)


@dataclass
class PreparedFile:
    """One file after read → hash → parse → sanitise → derive (articles.derive)."""

    source: str
    unchanged: bool = False
    error: str | None = None
    article: ParsedArticle | None = None  # its raw body dropped: `body` replaces it
    body: PreparedBody | None = None


def prepare_file(task: _Task) -> PreparedFile:
    source = task.source
    try:
        try:
            data = read_source(task.path, task.max_bytes)
        except ImportFileError as exc:
            if task.name is None:
                raise
            raise ImportFileError(source, exc.message, exc.field) from exc
        digest = content_hash(data, task.tz)
        if digest == task.known_digest:
            # Skipped unread: re-importing an archive costs little more than hashing it.
            return PreparedFile(source, unchanged=True)
        article = parse_bytes(data, path=source, tz=task.tz, digest=digest)
        body = prepare_body(article.title, sanitize_body(article.body))
        # Only the sanitised body is stored: dropping the raw one halves what
        # the worker sends to the writer and what a batch holds in memory.
        article = dataclasses.replace(article, body="")
        return PreparedFile(source, article=article, body=body)
    except ImportFileError as exc:
        return PreparedFile(source, error=str(exc))


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
def _prepared(tasks: Iterable[_Task], workers: int, ahead: int) -> Iterator[Iterable[PreparedFile]]:
    """Prepared files in order; with workers, about `ahead` files are prepared in advance.

    A ProcessPoolExecutor, not a multiprocessing.Pool: the Pool's
    worker-handler thread spins while a result waits to be read (it waits on
    the result pipe too). On 20,000 files the Pool's threads took 2.9 s of
    the writer's process's CPU, the executor's 1.6 s, mostly unpickling
    (docs/BENCHMARKS.md, import, fourth round). A worker that dies also fails
    the import (WorkerLost), where the Pool hung. One case still hangs: a
    worker killed in the instant it is writing a result leaves half a message
    in the pipe, and the executor's thread waits for the rest (seen only with
    a SIGINT that workers now ignore); kill the import and run it again.
    """
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        yield map(prepare_file, tasks)
        return
    # Forked workers inherit the loaded Django and parsers; they never touch
    # the database, and leave by os._exit, so the parent's connection is safe.
    executor = ProcessPoolExecutor(workers, mp_context=_RoomyForkContext(), initializer=_start_worker)
    try:
        yield _pipelined(executor, tasks, chunks_ahead=max(1, -(-ahead // CHUNK)))
    finally:
        # On an error, files not yet started are dropped; those started finish first.
        executor.shutdown(wait=True, cancel_futures=True)


# Room for a few chunks' results in the pipe they come back through (Linux's
# largest without privileges, /proc/sys/fs/pipe-max-size).
RESULT_PIPE_BYTES = 1 << 20


class _RoomyForkContext(multiprocessing.context.ForkContext):
    """The fork context, with a larger pipe for the queue the executor's results come back through.

    A chunk's results (about 300 kB) overflow a default 64 kB pipe, so a
    worker stalls until the executor's thread in the writer's process has
    read the rest, and that thread must win the GIL from the writer for every
    64 kB. On 20,000 files that left the cores idle for 2.3 s; with room for
    the whole result, 1.2 s (docs/BENCHMARKS.md, import, fourth round).
    """

    def SimpleQueue(self):  # noqa: N802 (multiprocessing's name)
        queue = super().SimpleQueue()
        try:
            import fcntl  # POSIX only, like fork itself

            fcntl.fcntl(queue._writer.fileno(), fcntl.F_SETPIPE_SZ, RESULT_PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # not Linux, or a lower limit here: the default pipe works, only slower
        return queue


# How much lower the workers' CPU priority is than the database writer's (nice).
WORKER_NICENESS = 5


def _start_worker() -> None:
    """Set up a worker process: it gives way to the writer, and ends with it.

    Ctrl-C reaches the workers too (the terminal signals the whole process
    group), but stopping is the importing process's decision: it reports the
    interruption in one line and shuts the workers down, which a worker's own
    KeyboardInterrupt traceback would only clutter.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _yield_to_the_writer()
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()


def _yield_to_the_writer() -> None:
    """Make a worker give way to the database writer when they compete for a core.

    The writer is the import's critical path; workers only fill the time it
    leaves free (while it waits for the disk, say).
    """
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted here: run at the same priority
        pass


def _exit_with_parent() -> None:
    """End this worker as soon as the importing process is gone.

    An executor's idle worker waits for work forever, so an import killed
    with SIGKILL would leave its workers running (holding the terminal's or
    a supervisor's pipes open).
    """
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def prepare_files(tasks: Sequence[_Task]) -> list[PreparedFile]:
    """`prepare_file` for each of `tasks`: one round trip to a worker for CHUNK files."""
    return [prepare_file(task) for task in tasks]


def _pipelined(executor: Executor, tasks: Iterable[_Task], chunks_ahead: int) -> Iterator[PreparedFile]:
    """Results in the files' order, with up to `chunks_ahead` chunks being prepared ahead.

    Order keeps "the later file wins" as in one process. The writer spends a
    second or more in each batch's transaction while taking no files; the
    workers must have a batch's worth queued meanwhile, or they sit idle for
    it. The bound keeps memory flat however large the archive, when the
    database writer is the slower side.
    """
    in_flight: deque[Future[list[PreparedFile]]] = deque()
    try:
        for chunk in batched(tasks, CHUNK):
            in_flight.append(executor.submit(prepare_files, chunk))
            if len(in_flight) > chunks_ahead:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()
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
) -> ImportReport:
    """Import `files`, streaming: only one batch of articles is held in memory.

    `names`, if given, is each file's stable name (one per file, in order),
    used instead of its absolute path as its source path and in reports.
    """
    if names is not None and len(names) != len(files):
        raise ValueError(f"{len(names)} names for {len(files)} files")
    report = ImportReport()
    loader = ArticleLoader(batch_size=batch_size, dry_run=dry_run, overwrite_edited=overwrite_edited)
    known = loader.known_files()
    named = zip(files, names) if names is not None else ((path, None) for path in files)
    tasks = (
        _Task(path, known.get(_source_name(path, name)), max_bytes, tz, name)
        for path, name in named
    )
    workers = default_workers(len(files)) if workers is None else workers
    with import_connection_settings(), _prepared(tasks, workers, ahead=batch_size) as prepared_files:
        for prepared in prepared_files:
            if prepared.error:
                report.errors.append(prepared.error)
            elif prepared.unchanged:
                report.unchanged += 1
            else:
                loader.add(prepared.article, prepared.body)
            if on_file:
                on_file()
        result = loader.finish()
    report.created, report.updated = result.created, result.updated
    report.unchanged += result.unchanged
    report.kept_local_edits = result.kept_local_edits
    report.errors.extend(f"{path}: {message}" for path, message in result.failed)
    return report
