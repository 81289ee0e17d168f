"""The import history: every import, from the command line or an upload, is an ImportRun.

importing.service.run_import records each run with `recorded_import` and
`finish_run`; a dry run's record is written outside its rolled-back
transaction (created before it begins, finished after it has ended).

`recorded_import` writes the run as "running" before any file is read, in its
own autocommit statement (never inside an import batch's transaction, so a
rolled-back batch cannot take the record with it), and finishes it with the
report's counts and errors. If the import raises — a lost database
connection, a dead worker, a full disk, even while the finished run is being
recorded — the run is marked failed with the reason and the counts of the
batches committed before the exception goes on, so no crashed run looks
successful or empty; Ctrl-C marks it interrupted, with its counts too.

A process killed outright (SIGKILL, the OOM killer, a machine restart)
records nothing. So each run also records its process — host, pid and the
process's start time — and `mark_interrupted_runs`, called when an import
starts and when the admin lists runs, marks "interrupted" every run still
"running" whose process on this host is gone. Runs of another host cannot be
checked from here and stay "running", shown with their host. The host name
must tell the machines (or containers: each has its own pids) apart. An
upload's run waits "queued" (no process yet) until a task worker takes it
(importing.tasks): it is never marked interrupted for that.

While an import runs, `record_progress` writes the files done (one UPDATE a
batch, importing.service), for the run's admin page.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import socket
from contextlib import contextmanager
from typing import Iterator, Sequence

from django.db import DatabaseError, transaction
from django.utils import timezone

from importing import database_errors as retry
from importing.pipeline import RERUN_ADVICE
from importing.report import ImportReport
from articles.models import ImportRun

log = logging.getLogger(__name__)


def system_user() -> str:
    """`user@host` of the process: who ran a command-line import."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = "?"
    return f"{user}@{socket.gethostname()}"


@contextmanager
def recorded_import(
    *,
    origin: str,
    sources: Sequence[str],
    time_zone: str,
    dry_run: bool = False,
    overwrite_edited: bool = False,
    user=None,
    report: ImportReport | None = None,
    run: ImportRun | None = None,
) -> Iterator[ImportRun]:
    """An ImportRun for the import run in the `with` block; call `finish_run` in it.

    `report` is the one the import fills in as it goes (`import_files(report=)`):
    if the block raises, the run records what it holds then. `run`, if given,
    is an existing one (an upload queued by its request, importing.tasks), now
    run by this process: it becomes "running" here, its counts start again.
    """
    mark_interrupted_runs()
    pid = os.getpid()
    process = {"host": socket.gethostname(), "pid": pid, "process_started": process_start_time(pid)}
    if run is None:
        run = ImportRun.objects.create(
            origin=origin, user=user if user is not None and user.is_authenticated else None,
            system_user=system_user() if origin == ImportRun.Origin.COMMAND else "",
            sources=list(sources), time_zone=time_zone, dry_run=dry_run, overwrite_edited=overwrite_edited,
            **process,
        )
    else:
        start_run(run, process)
    try:
        yield run
    except KeyboardInterrupt:
        _mark_ended(run, ImportRun.Status.INTERRUPTED, INTERRUPTED_BY_OPERATOR, report)
        raise
    except BaseException as exc:
        _mark_failed(run, exc, report)
        raise
    if run.status == ImportRun.Status.RUNNING:
        _mark_failed(run, RuntimeError("the import ended without a report"), report)


def start_run(run: ImportRun, process: dict) -> None:
    """Mark an existing run "running" in this process, its earlier attempt's counts cleared."""
    fields = {**process, **_outcome(None), "ignored": [], "status": ImportRun.Status.RUNNING,
              "failure_reason": "", "finished_at": None, "files_total": None, "files_done": 0}
    _write_fields(run, fields)


def _write_fields(run: ImportRun, fields: dict) -> None:
    """Write these fields of the run (one UPDATE, raising what the database raises), then on `run` too."""
    ImportRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)


def record_progress(run: ImportRun, *, done: int, total: int | None = None) -> None:
    """Record how many files are done (and, once known, found): one small UPDATE.

    ImportRun is bookkeeping for articles.content_version, so this bumps no
    content generation. A database that cannot take it is logged, not raised:
    progress is a help, the import goes on.
    """
    fields = {"files_done": done} if total is None else {"files_done": done, "files_total": total}
    try:
        _write_fields(run, fields)
    except DatabaseError as exc:
        log.warning("could not record import run %s's progress: %s", run.pk, retry.one_line(exc))


def finish_run(run: ImportRun, report: ImportReport) -> None:
    """Record the report's counts and errors; the status says whether any file failed.

    Should the database refuse (its disk full after the last batch), the
    exception goes on to `recorded_import`, which records the run as failed
    with that reason and the counts, in smaller writes.
    """
    for name, value in _outcome(report).items():
        setattr(run, name, value)
    run.status = ImportRun.Status.WITH_ERRORS if report.failed else ImportRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()


def _outcome(report: ImportReport | None, *, with_errors: bool = True) -> dict:
    """The run's fields that record `report` (None: an import that counted nothing yet)."""
    report = report or ImportReport()
    fields = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
              "kept_local_edits": report.kept_local_edits, "failed": report.failed}
    if with_errors:
        fields["errors"] = list(report.errors)
        fields["warnings"] = list(report.warnings)
        fields["ignored"] = list(report.ignored)
        # The run page's links; a dry run's ids were rolled back with its writes.
        fields["written"] = [] if report.dry_run else report.written_ids[:ImportRun.WRITTEN_KEPT]
    return fields


# Ctrl-C, or SIGINT from a supervisor.
INTERRUPTED_BY_OPERATOR = f"interrupted (Ctrl-C or SIGINT); {RERUN_ADVICE}"


def _mark_failed(run: ImportRun, exc: BaseException, report: ImportReport | None) -> None:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    _mark_ended(run, ImportRun.Status.FAILED, reason, report)


def _mark_ended(run: ImportRun, status: str, reason: str, report: ImportReport | None) -> None:
    """Record how the run ended, its counts and errors; with less if the database cannot take it all.

    The database itself may be what failed (read-only, or its disk full after
    the last batch): the error lines can need pages that the status and the
    counts, rewritten in place, do not. A run left "running" would later be
    marked interrupted, which says nothing of the real cause.
    """
    ended = {"status": status, "failure_reason": reason, "finished_at": timezone.now()}
    attempts = ({**ended, **_outcome(report)}, {**ended, **_outcome(report, with_errors=False)}, ended)
    for fields in attempts:
        try:
            _write_fields(run, fields)
        except DatabaseError as save_exc:
            failure = save_exc
            continue
        return
    # The original error still propagates, so one line here, not a second traceback.
    log.error("could not record import run %s as %s: %s", run.pk, status, retry.one_line(failure))


# -- runs whose process died --------------------------------------------------

PROC = "/proc"  # Linux's process table; elsewhere only the pid can be checked


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks after boot) from /proc/<pid>/stat; None if unreadable."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    # "pid (command) state ppid …": the command may hold spaces and parentheses.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
    except (IndexError, ValueError):
        return None


def process_start_time(pid: int) -> int | None:
    """When process `pid` started (clock ticks after boot), or None where /proc cannot tell."""
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def process_is_alive(pid: int, started: int | None) -> bool:
    """Whether process `pid` of this host still runs — the same process, if its start time is known."""
    try:
        os.kill(pid, 0)  # signal 0: only "does it exist?"
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _proc_stat(pid)
    if stat is None:
        # Without /proc the pid alone decides; with it, the process ended just now.
        return not os.path.isdir(PROC)
    state, start = stat
    if state in ("Z", "X"):
        return False  # ended; only its exit status is left for its parent to collect
    # The same pid with another start time is a later process that reused it.
    return started is None or start == started


def interrupted_reason(run: ImportRun) -> str:
    # Killed outright, or it could write nothing more (a full disk): either way
    # what it committed is kept, and a re-run does the rest.
    return (f"the import process (pid {run.pid} on {run.host}) ended without recording its end "
            "(killed, or the database could not be written); run the import again to complete it")


def mark_interrupted_runs() -> int:
    """Mark "interrupted" each running run of this host whose process is gone; returns how many.

    Safe to call from several processes at once: each run changes only while
    it is still "running". A database that cannot be written (read-only,
    full) is logged, not raised: the caller's own work reports that better.
    """
    host = socket.gethostname()
    marked = 0
    try:
        with transaction.atomic():  # a savepoint, should the caller be in a transaction
            running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING, host=host, pid__isnull=False)
            for run in running.only("pk", "host", "pid", "process_started"):
                if process_is_alive(run.pid, run.process_started):
                    continue
                marked += ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.RUNNING).update(
                    status=ImportRun.Status.INTERRUPTED, failure_reason=interrupted_reason(run))
    except DatabaseError as exc:
        log.warning("could not check for interrupted import runs: %s", retry.one_line(exc))
    return marked


# Runs still at work or waiting for a worker are never pruned, however old.
UNFINISHED = (ImportRun.Status.RUNNING, ImportRun.Status.QUEUED)


def prunable_runs(older_than: dt.timedelta):
    """The runs `prune_runs` would delete: finished (in any way) and started before now - older_than."""
    return ImportRun.objects.filter(started_at__lt=timezone.now() - older_than).exclude(status__in=UNFINISHED)


def prune_runs(older_than: dt.timedelta) -> int:
    """Delete the import history older than `older_than` (`manage.py prune_import_runs`); returns how many.

    The articles those runs wrote are untouched: a run is only their record."""
    deleted, _ = prunable_runs(older_than).delete()
    return deleted
