"""The import history: every import, from the command line or an upload, is an ImportRun.

`recorded_import` writes the run as "running" before any file is read, in its
own autocommit statement (never inside an import batch's transaction, so a
rolled-back batch cannot take the record with it), and finishes it with the
report's counts and errors. If the import raises — a lost database
connection, Ctrl-C — the run is marked failed with the reason before the
exception goes on, so no crashed run looks successful.
"""

from __future__ import annotations

import getpass
import logging
import socket
from contextlib import contextmanager
from typing import Iterator, Sequence

from django.db import DatabaseError
from django.utils import timezone

from . import retry
from .importer import ImportReport
from .models import ImportRun

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
) -> Iterator[ImportRun]:
    """An ImportRun for the import run in the `with` block; call `finish_run` in it."""
    run = ImportRun.objects.create(
        origin=origin, user=user if user is not None and user.is_authenticated else None,
        system_user=system_user() if origin == ImportRun.Origin.COMMAND else "",
        sources=list(sources), time_zone=time_zone, dry_run=dry_run, overwrite_edited=overwrite_edited,
    )
    try:
        yield run
    except BaseException as exc:
        _mark_failed(run, exc)
        raise
    if run.status == ImportRun.Status.RUNNING:
        _mark_failed(run, RuntimeError("the import ended without a report"))


def finish_run(run: ImportRun, report: ImportReport) -> None:
    """Record the report's counts and errors; the status says whether any file failed."""
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.kept_local_edits, run.failed, run.errors = report.kept_local_edits, report.failed, list(report.errors)
    run.status = ImportRun.Status.WITH_ERRORS if report.failed else ImportRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()


def _mark_failed(run: ImportRun, exc: BaseException) -> None:
    run.status = ImportRun.Status.FAILED
    run.failure_reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    run.finished_at = timezone.now()
    try:
        run.save(update_fields=["status", "failure_reason", "finished_at"])
    except DatabaseError as save_exc:
        # The database itself may be what failed (read-only, full); the original
        # error still propagates, so one line here, not a second traceback.
        log.error("could not record import run %s as failed: %s", run.pk, retry.one_line(save_exc))
