"""SQLite's write-ahead log during an import: checkpointed by a thread (importing.wal), never left to grow."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from importing import wal
from tests.faults_support import assert_consistent, generate_corpus, probe, run_manage

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the write-ahead log is SQLite's"),
    pytest.mark.slow,  # imports in processes of their own
]


def test_an_import_through_a_file_database_is_consistent(scratch_db, tmp_path):
    stories = generate_corpus(tmp_path / "archive", 600, seed=21)
    done = run_manage(scratch_db, "import_articles", "--batch-size", "100", "--workers", "0", tmp_path / "archive")
    assert done.returncode == 0, done.stderr
    state = probe(scratch_db)
    assert_consistent(state)
    assert state["articles"] == stories


COPIES = """
import json, os, time
from django.db import connection, transaction
from importing import wal

database = connection.settings_dict["NAME"]

def write_and_wait_for_the_copy():
    before = os.path.getsize(database)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO wal_probe VALUES (randomblob(2000000))")
    deadline = time.monotonic() + 60  # a generous wait, not a timing: the copy is all that counts
    while os.path.getsize(database) < before + 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.getsize(database) >= before + 1_000_000

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE wal_probe (data BLOB)")
with wal.checkpoints_in_background(interval=0.01):
    copied = [write_and_wait_for_the_copy(), write_and_wait_for_the_copy()]
print(json.dumps({"copied": copied}))
"""


def test_the_thread_copies_each_commit_into_the_database(scratch_db):
    # In WAL mode the database file grows only when a checkpoint copies pages
    # into it; within the block the writing connection does not checkpoint a
    # 2 MB commit itself (its threshold is far above), so the growth is the thread's work.
    done = run_manage(scratch_db, "shell", "-c", COPIES)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["copied"] == [True, True]


CHECK = """
import json, threading
from django.db import connection
from importing import wal

def setting():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]

before = setting()
with wal.checkpoints_in_background(interval=0.01):
    during = setting()
    threads = [t.name for t in threading.enumerate()]
after = setting()
left = [t.name for t in threading.enumerate()]
print(json.dumps({"before": before, "during": during, "after": after, "threads": threads, "left": left}))
"""


def test_the_connection_gets_its_own_checkpoints_back_and_the_thread_ends(scratch_db):
    done = run_manage(scratch_db, "shell", "-c", CHECK)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["during"] == wal.BACKSTOP_PAGES and "sqlite-checkpointer" in seen["threads"]
    assert seen["after"] == seen["before"] == 1000
    assert "sqlite-checkpointer" not in seen["left"]
