"""Faults during an import (#6): SIGKILL part-way, a read-only database, a full disk.

The full disk is simulated on SQLite (a page limit) and real on PostgreSQL:
the database's tablespace on a small tmpfs (needs root; skipped otherwise).

Every batch is one transaction (articles, their links, search rows and
ImportedFile rows together), so a killed import leaves whole batches only and
a re-run finishes the job. A database that cannot be written stops the
import with one line naming the problem, never a traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import dj_database_url
import pytest
from django.db import connection

from tests.factories import PROJECT
from tests.faults_support import (
    assert_consistent, count_rows, generate_corpus, has_traceback, manage, probe, run_manage, subprocess_env,
)

pytestmark = pytest.mark.slow  # imports in processes of their own, killed or starved part-way


def test_an_import_killed_part_way_leaves_whole_batches_and_a_rerun_finishes(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 3000, seed=8)
    process = manage(scratch_db, "import_articles", "--batch-size", "100", tmp_path / "archive")
    while count_rows(scratch_db, "articles_importedfile") < 200:  # the first batches have committed
        assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL

    killed = probe(scratch_db)
    assert_consistent(killed)  # no article without its links, search row and file record; no orphans
    assert 0 < killed["articles"] < stories
    [run] = killed["runs"]
    assert run["status"] == "running"  # SIGKILL leaves no chance to record anything
    assert (run["host"], run["pid"]) == (socket.gethostname(), process.pid)

    rerun = run_manage(scratch_db, "import_articles", tmp_path / "archive")
    assert rerun.returncode == 0, rerun.stderr
    finished = probe(scratch_db)
    assert_consistent(finished)
    assert finished["articles"] == stories
    assert finished["imported_files"] == 3000
    # The re-run saw that the killed run's process is gone and said so.
    interrupted, last = finished["runs"]
    assert interrupted["status"] == "interrupted"
    assert interrupted["failure_reason"] == (
        f"the import process (pid {process.pid} on {socket.gethostname()}) ended without recording its end "
        "(killed, or the database could not be written); run the import again to complete it")
    assert last["status"] == "succeeded" and last["failed"] == 0
    # The re-run created exactly what the killed run had not committed.
    assert last["created"] == stories - killed["articles"]


def _default_sigint() -> None:
    # As at a terminal: a shell running the tests in the background would pass on "ignore".
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_part_way_ends_in_one_line_keeps_whole_batches_and_a_rerun_finishes(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 3000, seed=9)
    process = manage(scratch_db, "import_articles", "--batch-size", "100", tmp_path / "archive",
                     start_new_session=True, preexec_fn=_default_sigint)
    while count_rows(scratch_db, "articles_importedfile") < 200:  # the first batches have committed
        assert process.poll() is None, process.stderr.read()
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole group: the workers too
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert stderr.strip().splitlines() == [
        "CommandError: import interrupted (Ctrl-C or SIGINT); the batches committed before are kept: "
        "run the import again to finish it"
    ]
    interrupted = probe(scratch_db)
    assert_consistent(interrupted)
    assert 0 < interrupted["articles"] < stories
    [run] = interrupted["runs"]
    assert run["status"] == "interrupted" and run["failure_reason"].startswith("interrupted (Ctrl-C or SIGINT)")
    assert run["created"] == interrupted["articles"]  # the batches that were committed

    rerun = run_manage(scratch_db, "import_articles", tmp_path / "archive")
    assert rerun.returncode == 0, rerun.stderr
    finished = probe(scratch_db)
    assert_consistent(finished)
    assert finished["articles"] == stories
    assert finished["runs"][-1]["created"] == stories - interrupted["articles"]


def _run_with_sqlite(url_name: str, database: str, setup: str, *args: str) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a process whose database connection `setup` (Python) prepared first."""
    code = (
        "import django, sys\n"
        "from django.conf import settings\n"
        f"settings.DATABASES['default']['NAME'] = {url_name!r}\n"
        "django.setup()\n"
        "from django.db import connection\n"
        f"{setup}\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', *sys.argv[1:]])\n"
    )
    return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT, env=subprocess_env(database),
                          capture_output=True, text=True, timeout=300)


def _assert_one_clear_line(done: subprocess.CompletedProcess, problem: str) -> None:
    assert done.returncode == 1
    assert not has_traceback(done.stderr), done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]  # nothing else for the operator to read
    assert line.startswith("CommandError") and f"import failed: {problem}" in line, done.stderr


def test_a_read_only_database_gives_one_clear_line(scratch_db, tmp_path):
    generate_corpus(tmp_path / "archive", 50, seed=9)
    if connection.vendor == "sqlite":
        path = dj_database_url.parse(scratch_db)["NAME"]
        done = _run_with_sqlite(
            f"file:{path}?mode=ro", scratch_db,
            "connection.settings_dict['OPTIONS']['uri'] = True", "import_articles", str(tmp_path / "archive"))
    else:
        name = dj_database_url.parse(scratch_db)["NAME"]
        run_manage(scratch_db, "shell", "-c",
                   f"from django.db import connection; connection.cursor().execute("
                   f"'ALTER DATABASE {name} SET default_transaction_read_only = on')")
        done = run_manage(scratch_db, "import_articles", tmp_path / "archive")
    _assert_one_clear_line(done, "the database is read-only")
    assert probe(scratch_db)["articles"] == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PRAGMA max_page_count simulates a full disk on SQLite")
def test_a_full_database_gives_one_clear_line_and_the_run_is_marked_failed(scratch_db, tmp_path):
    generate_corpus(tmp_path / "archive", 300, seed=10)
    path = dj_database_url.parse(scratch_db)["NAME"]
    # No page beyond what the database has now: the first batch does not fit.
    done = _run_with_sqlite(
        path, scratch_db,
        "cursor = connection.cursor()\n"
        "cursor.execute('PRAGMA page_count'); pages = cursor.fetchone()[0]\n"
        "cursor.execute(f'PRAGMA max_page_count = {pages}')",
        "import_articles", str(tmp_path / "archive"))
    _assert_one_clear_line(done, "the database or its disk is full")
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == 0
    [run] = state["runs"]
    assert run["status"] == "failed" and "database or disk is full" in run["failure_reason"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PRAGMA max_page_count simulates a full disk on SQLite")
def test_a_disk_full_after_the_last_batch_ends_the_run_failed_with_its_reason_and_counts(scratch_db, tmp_path):
    """#14 item 12d: the run was left "running" (later "interrupted", "run the import again") or counted 0."""
    stories = generate_corpus(tmp_path / "archive", 300, seed=12)
    for n in range(200):  # their error lines need new pages to be recorded; the counts do not
        (tmp_path / "archive" / f"bad-{n:03}.md").write_text(f"---\ntitle: 坏{n}\ndate: 2021-02-30\n---\nbody\n")
    path = dj_database_url.parse(scratch_db)["NAME"]
    # Every batch is written; then the disk is full, as the run's outcome is being recorded.
    done = _run_with_sqlite(
        path, scratch_db,
        "from importing.load import ArticleLoader\n"
        "write_last_batch = ArticleLoader.finish\n"
        "def finish_then_fill_the_disk(self):\n"
        "    result = write_last_batch(self)\n"
        "    cursor = connection.cursor()\n"
        "    cursor.execute('PRAGMA page_count'); pages = cursor.fetchone()[0]\n"
        "    cursor.execute(f'PRAGMA max_page_count = {pages}')\n"
        "    return result\n"
        "ArticleLoader.finish = finish_then_fill_the_disk",
        "import_articles", "--batch-size", "50", str(tmp_path / "archive"))
    assert done.returncode == 1 and not has_traceback(done.stderr), done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        "CommandError: import failed: the database or its disk is full"), done.stderr
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == stories
    [run] = state["runs"]
    assert run["status"] == "failed" and "database or disk is full" in run["failure_reason"]
    assert (run["created"], run["failed"]) == (stories, 200)  # what was committed, and the files that failed


def test_a_full_disk_on_postgresql_gives_one_clear_line_and_the_run_is_marked_failed(full_disk_db, tmp_path):
    """A real full disk: the database's tablespace is on a tmpfs with about 4 MB left (faults_support)."""
    stories = generate_corpus(tmp_path / "archive", 600, seed=11)
    done = run_manage(full_disk_db, "import_articles", "--batch-size", "20", tmp_path / "archive")
    _assert_one_clear_line(done, "the database or its disk is full")
    state = probe(full_disk_db)
    assert_consistent(state)  # the batch that did not fit was rolled back whole
    assert 0 < state["articles"] < stories  # the batches before the one that did not fit are whole
    [run] = state["runs"]
    assert run["status"] == "failed"
    assert "No space left on device" in run["failure_reason"], run["failure_reason"]
    assert run["created"] == state["articles"]  # the batches that were committed
