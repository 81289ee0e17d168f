"""Imports racing each other (#6): several `import_articles` processes over overlapping archives.

Each process is a real `manage.py import_articles` against one shared scratch
database (a file on SQLite, a database on PostgreSQL), started together with
small batches so their transactions interleave: they race to create the same
authors, categories, tags and articles. The unique constraints turn a lost
race into an IntegrityError (or, on SQLite, "database is locked"), and the
loader re-reads what the other process wrote and writes the batch again.
"""

from __future__ import annotations

import sqlite3
import threading

import dj_database_url
import pytest
from django.db import connection

from tests.faults_support import (
    assert_clean_run, assert_consistent, count_rows, generate_corpus, manage, probe, run_manage, subprocess_env,
)

pytestmark = pytest.mark.slow  # racing import processes

def test_overlapping_imports_started_together_make_each_row_once(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 900, seed=6)
    files = sorted(str(p) for p in (tmp_path / "archive").rglob("*") if p.is_file())
    assert len(files) == 900
    # A: the first 60%; B: the last 60%; C: everything, backwards. Every file is in two runs.
    archives = [files[:540], files[360:], files[::-1]]
    processes = [manage(scratch_db, "import_articles", "--workers", "0", "--batch-size", "20", *archive)
                 for archive in archives]
    outputs = [process.communicate(timeout=600) for process in processes]

    for process, (stdout, stderr) in zip(processes, outputs):
        assert_clean_run(process, stdout, stderr)
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == stories
    assert state["imported_files"] == 900
    runs = state["runs"]
    assert [run["status"] for run in runs] == ["succeeded"] * 3
    # Each story was created by exactly one of the racing runs.
    assert sum(run["created"] for run in runs) == stories
    assert all(run["failed"] == 0 for run in runs)

    again = run_manage(scratch_db, "import_articles", str(tmp_path / "archive"))
    assert again.returncode == 0, again.stderr
    assert "created 0, updated 0, unchanged 900, failed 0" in again.stdout


@pytest.mark.skipif(connection.vendor != "sqlite", reason="'database is locked' is SQLite's answer to a held lock")
def test_an_import_waits_out_a_locked_database_and_retries(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 3000, seed=7)
    path = dj_database_url.parse(scratch_db)["NAME"]
    # A 1 s busy timeout, so a held lock surfaces as "database is locked" at once.
    process = manage(scratch_db, "import_articles", "--workers", "0", "--batch-size", "50", tmp_path / "archive",
                     env=subprocess_env(scratch_db, SQLITE_BUSY_TIMEOUT="1"))
    stderr_lines: list[str] = []
    retried = threading.Event()

    def read_stderr() -> None:
        for line in process.stderr:
            stderr_lines.append(line)
            if "database is locked" in line and "retrying" in line:
                retried.set()
        retried.set()  # the process ended: stop waiting either way

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    while count_rows(scratch_db, "articles_importedfile") == 0:
        assert process.poll() is None, "".join(stderr_lines)
    # Another writer (an editor's save, another import) holds the write lock between two batches.
    blocker = sqlite3.connect(path, timeout=60, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        retried.wait(timeout=300)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    stdout = process.stdout.read()
    process.wait(timeout=600)
    reader.join(timeout=60)
    stderr = "".join(stderr_lines)

    assert "lost a race (database is locked); retrying" in stderr
    assert_clean_run(process, stdout, stderr)
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == stories
