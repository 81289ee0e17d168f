"""Tasks for the task-worker tests (tests/integration/test_task_workers.py): a worker imports them by path.

Each keeps what happened in files of a directory the test owns, so a test
can see runs made by a worker in another process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task
from rq import Worker


def _next_run(directory: str) -> int:
    runs = Path(directory) / "runs"
    with runs.open("a") as out:
        out.write("run\n")
    return len(runs.read_text().splitlines())


def runs(directory: Path) -> int:
    path = directory / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


@task()
def flaky(directory: str, failures: int) -> str:
    """Fails its first `failures` runs, then succeeds."""
    run = _next_run(directory)
    if run <= failures:
        raise RuntimeError(f"flaky failure on run {run}")
    return f"succeeded on run {run}"


@task()
def hold_first_run(directory: str) -> str:
    """The first run marks itself started (with its pid) and waits (at most 120 s) for its worker to be killed; later runs finish."""
    run = _next_run(directory)
    (Path(directory) / f"started-{run}").write_text(str(os.getpid()))  # the process running it
    if run == 1:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.1)
        raise TimeoutError("the test did not kill this worker")
    return f"finished on run {run}"


class QuickHeartbeatWorker(Worker):
    """RQ's worker with a 1 s job monitoring interval: a killed one's job is abandoned after 61 s, not 90 s."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("job_monitoring_interval", 1)
        super().__init__(*args, **kwargs)
