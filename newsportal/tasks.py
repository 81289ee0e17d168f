"""What our workers add to django-tasks: bounded retries with backoff, and no task lost with a worker.

django-tasks (the backport of Django 6's django.tasks) enqueues and runs
tasks but retries nothing, and django-tasks-db's worker marks a task
"running" in its row before it runs it: a worker killed then (SIGKILL, the
OOM killer, a lost machine) leaves the row running for ever. So:

* Retries. A task that raises is run again, at most NEWSPORTAL_TASK_ATTEMPTS
  times in all, after NEWSPORTAL_TASK_RETRY_SECONDS, doubled before each
  next retry. Between attempts its row is "ready" again with its run-after
  time and the last attempt's error (class and traceback) on it; after the
  last attempt it stays "failed" with its error. Both show in the admin's
  list of task results (django-tasks-db's admin). On RQ the same bounds are
  given to RQ's own Retry (newsportal.rq).
* Lost workers. Each db_worker's id names its machine and process
  (host:pid:random). A worker that starts first gives back every task left
  running by a worker of this machine whose process is gone, and by any
  worker that has held its task for more than NEWSPORTAL_TASK_LOST_SECONDS
  (a worker on another machine, which cannot be asked). The task runs again
  (it counts as an attempt: one that keeps killing its worker fails in the
  end, with "worker lost" as its error).

Our tasks are written to be run again safely (they recompute and replace).
The db_worker command with these is newsroom/management/commands/db_worker.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

log = logging.getLogger("newsportal.tasks")


class WorkerLost(Exception):
    """The worker running the task stopped before the task finished (killed, crashed, machine lost)."""


def attempts_allowed() -> int:
    return max(1, settings.NEWSPORTAL_TASK_ATTEMPTS)


def retry_delays() -> list[float]:
    """Seconds to wait before each retry: the first delay, doubled each time."""
    first = max(0.0, settings.NEWSPORTAL_TASK_RETRY_SECONDS)
    return [first * 2**n for n in range(attempts_allowed() - 1)]


def worker_id() -> str:
    """host:pid:random — unique, and telling which machine and process hold a task (at most 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A number taken again by another process (or a zombie, whose command line
    # is empty) is not our worker.
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.exists():
        try:
            return b"db_worker" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _holder_gone(holder: str, started_at: dt.datetime | None, now: dt.datetime) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname()[:40] and pid.isdigit():
        return not _process_alive(int(pid))
    return started_at is None or now - started_at > dt.timedelta(seconds=settings.NEWSPORTAL_TASK_LOST_SECONDS)


def recover_lost_tasks(backend_name: str) -> list[str]:
    """Give back the tasks whose worker is gone (see the module's docstring); returns their ids."""
    from django_tasks_db.models import DBTaskResult

    from django_tasks import TaskResultStatus

    now = timezone.now()
    recovered = []
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update().filter(
            backend_name=backend_name, status=TaskResultStatus.RUNNING)
        for row in running:
            holder = row.worker_ids[-1] if row.worker_ids else ""
            if not _holder_gone(holder, row.started_at, now):
                continue
            error = WorkerLost(f"worker {holder or '?'} stopped while running this task (attempt "
                               f"{len(row.worker_ids)} of {attempts_allowed()})")
            if len(row.worker_ids) >= attempts_allowed():
                row.set_failed(error)
                log.warning("task %s (%s) failed: %s", row.id, row.task_path, error)
            else:
                _set_for_retry(row, error, run_after=now)
                log.warning("task %s (%s) runs again: %s", row.id, row.task_path, error)
            recovered.append(str(row.id))
    return recovered


def _set_for_retry(row, error: BaseException, *, run_after: dt.datetime) -> None:
    from traceback import format_exception

    from django_tasks import TaskResultStatus

    row.status = TaskResultStatus.READY
    row.run_after = run_after
    row.finished_at = None
    row.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
    row.traceback = "".join(format_exception(error))
    row.save(update_fields=["status", "run_after", "finished_at", "exception_class_path", "traceback"])


def retry_if_allowed(row) -> bool:
    """After a failed attempt: make the task ready again after its backoff, if attempts remain."""
    from django_tasks import TaskResultStatus

    from django_tasks_db.models import DBTaskResult

    attempt = len(row.worker_ids)
    if row.status != TaskResultStatus.FAILED or attempt >= attempts_allowed():
        return False
    delay = retry_delays()[attempt - 1]
    run_after = timezone.now() + dt.timedelta(seconds=delay)
    updated = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=run_after, finished_at=None)
    if updated:
        log.warning("task %s (%s) failed on attempt %d of %d (%s); retried after %s",
                    row.id, row.task_path, attempt, attempts_allowed(), row.exception_class_path, run_after)
    return bool(updated)
