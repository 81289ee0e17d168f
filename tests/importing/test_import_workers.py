"""The import's worker processes: they parse and sanitise beside the database writer, give way to it, and end with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importing.workers import RESULT_PIPE_BYTES, WORKER_NICENESS, WorkerContext
from tests.factories import PROJECT
from tests.faults_support import (
    assert_consistent, generate_corpus, has_traceback, manage, probe, run_manage, subprocess_env,
)

pytestmark = pytest.mark.slow  # imports with worker processes, some of them killed


def _stat(pid: int) -> list[str]:
    # Fields after the command name, which may hold spaces: state is [0], ppid [1], nice [16].
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # ended meanwhile
    return found


def test_workers_run_at_a_lower_priority_than_the_writer(scratch_db, tmp_path):
    generate_corpus(tmp_path / "archive", 2000, seed=31)
    process = manage(scratch_db, "import_articles", "--workers", "2", tmp_path / "archive")
    writer = int(_stat(process.pid)[16])
    lowered: set[int] = set()  # workers seen once their initializer has run
    try:
        while process.poll() is None and len(lowered) < 2:
            for child in _children(process.pid):
                try:
                    if int(_stat(child)[16]) == writer + WORKER_NICENESS:
                        lowered.add(child)
                except (FileNotFoundError, IndexError):
                    continue
    finally:
        stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert "failed 0" in stdout
    assert len(lowered) == 2, "the import ended before both workers were seen at the lower priority"


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_workers_end_when_the_import_is_killed(scratch_db, tmp_path):
    generate_corpus(tmp_path / "archive", 3000, seed=32)
    process = manage(scratch_db, "import_articles", "--workers", "2", tmp_path / "archive")
    workers: list[int] = []
    while process.poll() is None and len(workers) < 2:
        workers = _children(process.pid)
    assert len(workers) == 2, process.communicate()[1]
    process.send_signal(signal.SIGKILL)
    try:
        deadline = time.monotonic() + 30
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "a worker outlived the killed import"
        process.communicate(timeout=30)  # nothing holds the import's pipes open any more
    finally:
        for pid in filter(_alive, workers):  # leave no stray process behind a failure
            os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_mid_import_fails_the_import_in_one_line_and_a_rerun_finishes(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 3000, seed=33)
    process = manage(scratch_db, "import_articles", "--workers", "2", tmp_path / "archive")
    workers: list[int] = []
    while process.poll() is None and len(workers) < 2:
        workers = _children(process.pid)
    assert len(workers) == 2, process.communicate()[1]
    os.kill(workers[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 1
    assert stderr.strip().splitlines() == [
        "CommandError: import failed: a worker process ended abruptly (killed, or out of memory?); "
        "the batches committed before are kept: run the import again to finish it"
    ]
    assert not has_traceback(stderr)
    killed = probe(scratch_db)
    assert_consistent(killed)
    [run] = killed["runs"]
    assert run["status"] == "failed" and run["failure_reason"].startswith("WorkerLost: a worker process ended")

    rerun = run_manage(scratch_db, "import_articles", tmp_path / "archive")
    assert rerun.returncode == 0, rerun.stderr
    assert probe(scratch_db)["articles"] == stories


# import_articles, with workers that die as if killed in the middle of sending
# their results: a message's length and part of it are in the pipe, the rest
# never comes. The executor alone would wait for the rest for ever.
DIE_SENDING_RESULTS = """
import multiprocessing, os, struct, sys
import django
django.setup()
from django.core.management import execute_from_command_line
from importing import pipeline as importer

def die_sending_results(tasks):
    results = multiprocessing.current_process()._args[1]  # the executor's results queue
    os.write(results._writer.fileno(), struct.pack("!i", 1 << 20) + "半条结果".encode())
    os._exit(1)

importer.read_and_derive_chunk = die_sending_results
execute_from_command_line(["manage.py", "import_articles", "--workers", "2", sys.argv[1]])
"""


def test_a_worker_killed_while_sending_results_fails_the_import_rather_than_hanging(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 400, seed=34)
    process = subprocess.Popen([sys.executable, "-c", DIE_SENDING_RESULTS, str(tmp_path / "archive")],
                               cwd=PROJECT, env=subprocess_env(scratch_db),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the import hung on a result cut short")

    assert process.returncode == 1
    assert stderr.strip().splitlines() == [
        "CommandError: import failed: a worker process ended abruptly (killed, or out of memory?); "
        "the batches committed before are kept: run the import again to finish it"
    ]
    [run] = probe(scratch_db)["runs"]
    assert run["status"] == "failed" and run["failure_reason"].startswith("WorkerLost: a worker process ended")

    rerun = run_manage(scratch_db, "import_articles", tmp_path / "archive")
    assert rerun.returncode == 0, rerun.stderr
    assert probe(scratch_db)["articles"] == stories


def test_the_results_pipe_holds_several_chunks_of_results():
    fcntl = pytest.importorskip("fcntl", reason="pipe sizes are a POSIX matter")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("only Linux can resize a pipe")
    if int(Path("/proc/sys/fs/pipe-max-size").read_text()) < RESULT_PIPE_BYTES:
        pytest.skip("this machine caps pipes below RESULT_PIPE_BYTES; the importer keeps the default")
    queue = WorkerContext().SimpleQueue()
    assert fcntl.fcntl(queue._writer.fileno(), fcntl.F_GETPIPE_SZ) == RESULT_PIPE_BYTES
    chunk = "券商" * (RESULT_PIPE_BYTES // 8)  # about 300 kB pickled, like a chunk of 16 files' results
    queue.put(chunk)  # fits whole, so it does not wait for a reader
    assert queue.get() == chunk


def test_a_post_with_an_impossible_date_fails_alone_among_hundreds(scratch_db, tmp_path):
    """#14 item 2: PyYAML's timestamps raised a bare ValueError in a worker, which stopped the whole import."""
    archive = tmp_path / "archive"
    stories = generate_corpus(archive, 300, seed=41)
    months = sorted(path for path in archive.glob("*/*") if path.is_dir())
    bad = months[len(months) // 2] / "000000_bad.md"  # files before it and after it, in several batches
    bad.write_text("---\ntitle: 不存在的日子\ndate: 2021-02-30 10:00:00\n---\n<p>正文</p>\n")

    done = run_manage(scratch_db, "import_articles", "--workers", "2", "--batch-size", "50", archive)

    assert done.returncode == 3  # as documented: 3 when some files failed
    assert not has_traceback(done.stderr), done.stderr
    assert done.stderr.strip().splitlines() == [
        f"{bad}: date '2021-02-30 10:00:00' is not a valid date: day is out of range for month",
        "CommandError: 1 file(s) failed to import",
    ]
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == stories and state["imported_files"] == 300
    [run] = state["runs"]
    assert run["status"] == "with_errors" and (run["created"], run["failed"]) == (stories, 1)
