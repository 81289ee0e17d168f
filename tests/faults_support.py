"""Scratch databases that other processes can write, for the concurrency, fault and load tests.

The `scratch_db` fixture (tests/conftest.py) is a freshly migrated database of the vendor the suite runs on
(a file on SQLite; a database made from a migrated template on PostgreSQL),
given as a DATABASE_URL, so `manage.py` subprocesses — two racing imports, one
killed part-way — can share it. `probe` reads it back through tests/db_probe.py.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest

from tests.factories import PROJECT


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


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class PostgresAdmin:
    def __init__(self) -> None:
        self.url = os.environ["DATABASE_URL"]
        config = dj_database_url.parse(self.url)
        self.params = {"host": config["HOST"], "user": config["USER"], "password": config["PASSWORD"] or None,
                       "port": config["PORT"] or None, "dbname": "postgres", "autocommit": True}

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(**{k: v for k, v in self.params.items() if v is not None}) as admin:
            admin.execute(sql)


def generate_corpus(out: Path, count: int, seed: int) -> int:
    """Write `count` generated post files under `out` (no database needed); returns the distinct stories."""
    done = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "generate_corpus", "--count", str(count), "--out", str(out),
         "--seed", str(seed)], cwd=PROJECT, env=subprocess_env("sqlite:///:memory:"),
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return stories_in(done.stdout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackHTTPS(http.client.HTTPSConnection):
    """https to `address`:`port` (loopback by default), with `server_name` as the TLS SNI (what a browser would send)."""

    def __init__(self, port: int, server_name: str, context: ssl.SSLContext, address: str = "127.0.0.1",
                 timeout: float = 60) -> None:
        super().__init__(server_name, port, context=context, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def unverified_tls() -> ssl.SSLContext:
    """A client context for a test's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def fetch(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
          headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on `connection`, closed afterwards: status, headers, body."""
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def cookies_set(headers: http.client.HTTPMessage) -> SimpleCookie:
    jar = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return jar


def self_signed_certificate(folder: Path, host: str) -> Path:
    """fullchain.pem and privkey.pem for `host` in `folder` (made, readable by all: nginx's
    workers read them), as certbot leaves them; returns the certificate's path."""
    folder.mkdir(parents=True)
    done = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-keyout", str(folder / "privkey.pem"),
         "-out", str(folder / "fullchain.pem")], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for pem in folder.iterdir():
        pem.chmod(0o644)
    return folder / "fullchain.pem"


def wait_until_listening(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    """Return once `server` accepts connections on `port`; fail if it exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, f"{server.args[0]} exited with {server.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on port {port} after {seconds} s"
            time.sleep(0.05)


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Stop servers started in order, the last first: all asked at once, then each waited for (killed after 30 s)."""
    for process in reversed(processes):
        process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text


# What tests/db_probe.py reports for a database with no inconsistency.
CLEAN = {"duplicate_import_keys": [], "duplicate_authors": [], "duplicate_categories": [], "duplicate_tags": [],
         "without_imported_file": [], "without_category": [], "without_search_row": [],
         "orphans": {"search": [], "categories": [], "tags": [], "bylines": [], "imported_files": []}}


def assert_consistent(state: dict) -> None:
    """`probe`'s report finds no duplicate, missing or orphaned row."""
    assert {key: state[key] for key in CLEAN} == CLEAN


def assert_clean_run(process, stdout: str, stderr: str) -> None:
    """The import ended well: exit 0, no traceback, no failed file."""
    assert process.returncode == 0, stderr
    assert not has_traceback(stderr)
    assert "failed 0" in stdout


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


def cluster_owner(pg: PostgresAdmin) -> tuple[int, int]:
    """uid and gid of the OS user the PostgreSQL cluster runs as (who owns its data directory)."""
    import psycopg

    with psycopg.connect(**{k: v for k, v in pg.params.items() if v is not None}) as admin:
        (data_directory,) = admin.execute("SHOW data_directory").fetchone()
    try:
        info = os.stat(data_directory)
    except OSError as exc:
        pytest.skip(f"the PostgreSQL cluster's data directory is not on this machine ({exc})")
    return info.st_uid, info.st_gid


def mount_tmpfs(mountpoint: Path, size_kib: int, uid: int, gid: int) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,uid={uid},gid={gid},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); "
                    "the full-disk test needs root with CAP_SYS_ADMIN")


def unmount(mountpoint: Path) -> None:
    if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
        # A server process may still hold a deleted file open: detach now, free when it lets go.
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True)


FREE_KIB = 4096  # room for the ImportRun row and a few batches, not for the whole archive
