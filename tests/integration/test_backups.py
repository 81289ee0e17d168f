"""Backups restore into a site that serves the same articles (docs/DEPLOY.md, "Backups").

* SQLite: `manage.py backup_sqlite` copies the database online, while another process
  writes articles; the copy is whole and consistent, and once the writer has stopped a
  backup serves exactly what the live database serves.
* PostgreSQL: `pg_dump -Fc`, then `pg_restore` into a new database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import PROJECT, SEEDS
from tests.faults_support import (PostgresAdmin, assert_consistent, probe, run_manage, subprocess_env,
                                  with_database)

pytestmark = pytest.mark.slow  # manage.py, a writer and the site in processes of their own

SITE_ARTICLES = r"""
import json
import django

django.setup()
from django.test import Client
from django.utils.html import escape

from articles.models import Article

client = Client()
served = []
for article in Article.objects.published().order_by("id"):
    response = client.get(article.get_absolute_url(), secure=True)
    served.append([article.id, article.title, response.status_code, escape(article.title) in response.content.decode()])
print(json.dumps(served))
"""

# Publishes one article a transaction, printing each id, until the stop file appears (at most 5,000).
WRITER = r"""
import datetime as dt
import os
import django

django.setup()
from django.utils import timezone

from articles.models import Article

for n in range(5000):
    if os.path.exists(os.environ["STOP_FILE"]):
        break
    article = Article.objects.create(title=f"备份时写入的文章 {n}", body=f"<p>第 {n} 篇正文</p>",
                                     status=Article.Status.PUBLISHED,
                                     published_at=timezone.now() - dt.timedelta(minutes=n + 1))
    print(article.id, flush=True)
"""


def site_articles(database_url: str) -> list[list]:
    """[id, title, status, title shown] of every published article, as the site serves it from `database_url`."""
    done = subprocess.run([sys.executable, "-c", SITE_ARTICLES], cwd=PROJECT,
                          env=subprocess_env(database_url, DJANGO_ALLOWED_HOSTS="testserver"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def restored_sqlite(backup: Path, target: Path) -> str:
    """The restore of docs/DEPLOY.md: the backup copied into place (the app stopped)."""
    shutil.copyfile(backup, target)
    return f"sqlite:///{target}"


def all_served(articles: list[list]) -> bool:
    return all(status == 200 and shown for _, _, status, shown in articles)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's online backup")
def test_an_sqlite_backup_taken_while_a_writer_writes_restores_into_a_site_serving_the_same_articles(
        scratch_db, tmp_path):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=PROJECT,
                              env=subprocess_env(scratch_db, STOP_FILE=str(stop)), stdout=subprocess.PIPE, text=True)
    try:
        written = [writer.stdout.readline() for _ in range(20)]  # the writer is under way
        assert all(written), "the writer stopped early"
        during = tmp_path / "during.sqlite3"
        backed_up = run_manage(scratch_db, "backup_sqlite", during)
        assert backed_up.returncode == 0, backed_up.stderr
        assert writer.poll() is None  # it was still writing when the backup ended
    finally:
        stop.touch()
        writer.communicate(timeout=120)
    assert writer.returncode == 0
    assert "backed up" in backed_up.stdout
    assert stat.S_IMODE(during.stat().st_mode) == 0o600

    restored = restored_sqlite(during, tmp_path / "restored-during.sqlite3")
    assert_consistent(probe(restored))
    served_then = site_articles(restored)
    served_now = site_articles(scratch_db)
    assert len(served_then) >= 20 and all_served(served_then)
    assert len(served_now) > len(served_then)  # the writer went on
    assert [row for row in served_now if row[0] in {row[0] for row in served_then}] == served_then

    after = tmp_path / "after.sqlite3"
    assert run_manage(scratch_db, "backup_sqlite", after).returncode == 0
    assert site_articles(restored_sqlite(after, tmp_path / "restored-after.sqlite3")) == served_now
    with sqlite3.connect(after) as copy:  # a whole database: nothing left in a -wal file beside the original
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's online backup")
def test_the_backup_command_refuses_to_overwrite_a_file(scratch_db, tmp_path):
    existing = tmp_path / "backup.sqlite3"
    existing.write_bytes(b"an older backup")
    done = run_manage(scratch_db, "backup_sqlite", existing)
    assert done.returncode != 0 and "exists" in done.stderr
    assert existing.read_bytes() == b"an older backup"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump and pg_restore (tests/with_postgres.sh)")
def test_a_postgresql_dump_restores_into_a_new_database_serving_the_same_articles(scratch_db, tmp_path):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    refused = run_manage(scratch_db, "backup_sqlite", tmp_path / "copy.sqlite3")
    assert refused.returncode != 0 and "pg_dump -Fc" in refused.stderr
    dump = tmp_path / "newsportal.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "--file", str(dump), "--dbname", scratch_db],
                   check=True, timeout=300)
    pg = PostgresAdmin()
    name = f"restored_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name}")
    try:
        restored = with_database(pg.url, name)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)],
                       check=True, timeout=300)
        served = site_articles(restored)
        assert served and all_served(served)
        assert served == site_articles(scratch_db)
        assert_consistent(probe(restored))
    finally:
        pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
