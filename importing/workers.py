"""Worker processes for the import's CPU stage (read, hash, parse, sanitise): no database here.

A `ProcessPoolExecutor` on the fork start method (workers inherit the loaded
Django and parsers), with what an import needs on top:

- a larger pipe for the results (`WorkerContext`), so a worker does not stall
  until the writer's process has read its chunk 64 kB at a time;
- workers that give way to the database writer, ignore Ctrl-C (the importing
  process decides) and end with their parent (`start_worker`);
- a watchdog (`WorkerPool.result`): the executor fails its futures when a
  worker dies, except when the worker dies while writing a result. Half a
  message then sits in the pipe, the executor's thread waits in `read` for
  the rest, and the import would hang for ever.

A ProcessPoolExecutor, not a multiprocessing.Pool: the Pool's worker-handler
thread spins while a result waits to be read. On 20,000 files the Pool's
threads took 2.9 s of the writer's process's CPU, the executor's 1.6 s
(docs/BENCHMARKS.md, import, fourth round); and where a worker dies, the
Pool hung.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# Room for a few chunks' results in the pipe they come back through (Linux's
# largest without privileges, /proc/sys/fs/pipe-max-size).
RESULT_PIPE_BYTES = 1 << 20

# How much lower the workers' CPU priority is than the database writer's (nice).
WORKER_NICENESS = 5

# Seconds between the watchdog's looks at the workers while a result is awaited,
# and how long a dead worker may go unnoticed by the executor (which normally
# notices within milliseconds) before the watchdog steps in.
WATCH_INTERVAL = 1.0
GRACE = 2.0


class WorkerContext(multiprocessing.context.ForkContext):
    """The fork context, with a larger results pipe, and a record of what the executor made with it.

    A chunk's results (about 300 kB) overflow a default 64 kB pipe, so a
    worker stalls until the executor's thread in the writer's process has
    read the rest, and that thread must win the GIL from the writer for every
    64 kB. On 20,000 files that left the cores idle for 2.3 s; with room for
    the whole result, 1.2 s (docs/BENCHMARKS.md, import, fourth round).
    """

    def __init__(self) -> None:
        super().__init__()
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.result_queues: list[Any] = []  # the executor makes one SimpleQueue: its results'

    def Process(self, *args, **kwargs):  # noqa: N802 (multiprocessing's name)
        process = multiprocessing.context.ForkProcess(*args, **kwargs)
        self.processes.append(process)
        return process

    def SimpleQueue(self):  # noqa: N802 (multiprocessing's name)
        queue = super().SimpleQueue()
        try:
            import fcntl  # POSIX only, like fork itself

            fcntl.fcntl(queue._writer.fileno(), fcntl.F_SETPIPE_SZ, RESULT_PIPE_BYTES)
        except (ImportError, AttributeError, OSError):
            pass  # not Linux, or a lower limit here: the default pipe works, only slower
        self.result_queues.append(queue)
        return queue

    def a_worker_died(self) -> bool:
        return any(process.exitcode is not None for process in self.processes)

    def unblock_results(self) -> None:
        """Make the executor's thread see the end of the results pipe, and so fail the pool.

        Its read returns end-of-file once no process holds the pipe's writing
        end: the workers' copies go with the workers, this process's is closed here.
        """
        for process in self.processes:
            if process.exitcode is None:
                process.kill()
        for queue in self.result_queues:
            queue._writer.close()


class WorkerPool:
    """`workers` processes that run functions given to `submit`; `result` never waits on a dead worker.

    `result` raises BrokenProcessPool when a worker has died, as the
    executor does, also in the case the executor alone would wait out for ever.
    """

    def __init__(self, workers: int) -> None:
        self.context = WorkerContext()
        self.executor = ProcessPoolExecutor(workers, mp_context=self.context, initializer=start_worker)
        self._stuck = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info) -> None:
        # On an error, work not yet started is dropped; what was started finishes
        # first. A pool the watchdog could not unblock is left behind, not waited for.
        self.executor.shutdown(wait=not self._stuck, cancel_futures=True)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.executor.submit(fn, *args)

    def result(self, future: Future[T]) -> T:
        first_seen_dead: float | None = None
        while True:
            try:
                return future.result(timeout=WATCH_INTERVAL)
            except FutureTimeout:
                pass
            if first_seen_dead is None:
                if self.context.a_worker_died():
                    first_seen_dead = time.monotonic()
            elif time.monotonic() - first_seen_dead >= GRACE:
                # A worker died and the executor has not noticed: it is stuck
                # reading a result cut short. Unblocked, it fails every future
                # with BrokenProcessPool, which this wait then raises.
                self.context.unblock_results()
                try:
                    return future.result(timeout=WATCH_INTERVAL + GRACE)
                except FutureTimeout:
                    self._stuck = True
                    raise BrokenProcessPool("a worker died and the pool did not recover") from None


def start_worker() -> None:
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

