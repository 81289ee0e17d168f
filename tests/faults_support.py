"""Scratch databases that other processes can write, for the concurrency, fault and load tests.

`scratch_db` is a freshly migrated database of the vendor the suite runs on
(a file on SQLite; a database made from a migrated template on PostgreSQL),
given as a DATABASE_URL, so `manage.py` subprocesses — two racing imports, one
killed part-way — can share it. `probe` reads it back through tests/db_probe.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest
from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "PYTHONUNBUFFERED": "1", **extra}
    env.pop("SQLITE_TEST_NAME", None)
    return env


def manage(database_url: str, *args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start `manage.py ARGS` against `database_url`; stdout and stderr are piped, as text."""
    return subprocess.Popen(
        [sys.executable, str(PROJECT / "manage.py"), *map(str, args)], cwd=PROJECT,
        env=env or subprocess_env(database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run_manage(database_url: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    process = manage(database_url, *args)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def probe(database_url: str) -> dict:
    """What the database holds and every inconsistency in it (see tests/db_probe.py)."""
    done = subprocess.run([sys.executable, str(PROJECT / "tests" / "db_probe.py")], cwd=PROJECT,
                          env=subprocess_env(database_url), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class _Postgres:
    def __init__(self) -> None:
        self.url = os.environ["DATABASE_URL"]
        config = dj_database_url.parse(self.url)
        self.params = {"host": config["HOST"], "user": config["USER"], "password": config["PASSWORD"] or None,
                       "port": config["PORT"] or None, "dbname": "postgres", "autocommit": True}

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(**{k: v for k, v in self.params.items() if v is not None}) as admin:
            admin.execute(sql)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory):
    """One migrated database per session; each test gets a copy."""
    if connection.vendor == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        url = f"sqlite:///{path}"
        done = run_manage(url, "migrate", "-v0")
        assert done.returncode == 0, done.stderr
        # Fold the WAL into the file, so a copy of the file alone is the whole database.
        import sqlite3

        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield ("sqlite", path)
    else:
        pg = _Postgres()
        name = f"faults_template_{uuid.uuid4().hex[:8]}"
        pg.execute(f"CREATE DATABASE {name}")
        try:
            done = run_manage(_with_database(pg.url, name), "migrate", "-v0")
            assert done.returncode == 0, done.stderr
            yield ("postgresql", name)
        finally:
            pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def scratch_db(_migrated_template, tmp_path) -> str:
    """DATABASE_URL of a fresh, migrated database only this test uses."""
    vendor, template = _migrated_template
    if vendor == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    pg = _Postgres()
    name = f"faults_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield _with_database(pg.url, name)
    finally:
        pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def generate_corpus(out: Path, count: int, seed: int) -> int:
    """Write `count` generated post files under `out` (no database needed); returns the distinct stories."""
    done = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "generate_corpus", "--count", str(count), "--out", str(out),
         "--seed", str(seed)], cwd=PROJECT, env=subprocess_env("sqlite:///:memory:"),
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return stories_in(done.stdout)


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text


def count_rows(database_url: str, table: str) -> int:
    """Rows in `table`, read without Django (cheap enough to poll while an import runs)."""
    config = dj_database_url.parse(database_url)
    if config["ENGINE"].endswith("sqlite3"):
        import sqlite3

        with sqlite3.connect(config["NAME"], timeout=60) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    import psycopg

    params = {"host": config["HOST"], "user": config["USER"], "password": config["PASSWORD"] or None,
              "port": config["PORT"] or None, "dbname": config["NAME"]}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def stories_in(generate_output: str) -> int:
    """How many distinct stories generate_corpus says it wrote ("... : N stories; ...")."""
    import re

    return int(re.search(r"(\d+) stories", generate_output).group(1))


# -- a PostgreSQL database on a small disk of its own ----------------------------


def _cluster_owner(pg: _Postgres) -> tuple[int, int]:
    """uid and gid of the OS user the PostgreSQL cluster runs as (who owns its data directory)."""
    import psycopg

    with psycopg.connect(**{k: v for k, v in pg.params.items() if v is not None}) as admin:
        (data_directory,) = admin.execute("SHOW data_directory").fetchone()
    try:
        info = os.stat(data_directory)
    except OSError as exc:
        pytest.skip(f"the PostgreSQL cluster's data directory is not on this machine ({exc})")
    return info.st_uid, info.st_gid


def _mount_tmpfs(mountpoint: Path, size_kib: int, uid: int, gid: int) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,uid={uid},gid={gid},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the full-disk test needs root with CAP_SYS_ADMIN")


def _unmount(mountpoint: Path) -> None:
    if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
        # A server process may still hold a deleted file open: detach now, free when it lets go.
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


@pytest.fixture
def full_disk_db(_migrated_template):
    """DATABASE_URL of a migrated PostgreSQL database whose files live on a tmpfs with ~4 MB left.

    A real full disk, not a simulated one: a tablespace on a small tmpfs
    (owned by the cluster's OS user), the database made in it from the
    migrated template, then the tmpfs shrunk to what the database uses plus
    `FREE_KIB`. The WAL stays in the cluster's data directory on the normal
    disk, so the server itself never runs out of space (it would PANIC). The
    tablespace and the mount are removed whatever the test does.
    """
    vendor, template = _migrated_template
    if vendor != "postgresql":
        pytest.skip("a PostgreSQL tablespace; SQLite's full database is simulated with max_page_count")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs .ci/run as root)")
    pg = _Postgres()
    uid, gid = _cluster_owner(pg)
    # In /tmp, not pytest's tmp_path: the server's user must be able to reach it.
    mountpoint = Path(tempfile.mkdtemp(prefix="newsportal-full-disk-", dir="/tmp"))
    suffix = uuid.uuid4().hex[:12]
    space, name = f"full_disk_{suffix}", f"faults_full_{suffix}"
    mounted = created_space = False
    try:
        _mount_tmpfs(mountpoint, 64 * 1024, uid, gid)
        mounted = True
        location = mountpoint / "tablespace"
        location.mkdir(mode=0o700)
        os.chown(location, uid, gid)
        pg.execute(f"CREATE TABLESPACE {space} LOCATION '{location}'")
        created_space = True
        pg.execute(f"CREATE DATABASE {name} TEMPLATE {template} TABLESPACE {space}")
        usage = shutil.disk_usage(mountpoint)
        size_kib = usage.used // 1024 + FREE_KIB
        shrink = subprocess.run(["mount", "-o", f"remount,size={size_kib}k", str(mountpoint)],
                                capture_output=True, text=True)
        assert shrink.returncode == 0, shrink.stderr
        yield _with_database(pg.url, name)
    finally:
        if created_space:
            pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            pg.execute(f"DROP TABLESPACE IF EXISTS {space}")
        if mounted:
            _unmount(mountpoint)
        mountpoint.rmdir()


FREE_KIB = 4096  # room for the ImportRun row and a few batches, not for the whole archive
