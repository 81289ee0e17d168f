"""Fixtures every app's tests share: the sample posts imported, running the import
command, scratch databases for other processes, a real Redis, a real browser.

Plain builders (posts, articles, staff users, forms) are in tests/factories.py;
fixtures only one app's tests use are in that app's folder's conftest.py.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.browsers import CHROMIUM
from tests.factories import CORPUS, SEEDS, staff
from tests.faults_support import PostgresAdmin, free_port, run_manage, wait_until_listening, with_database


@pytest.fixture
def seeded(run_import):
    """The sample posts in seeds/, imported (every one must import): the articles, oldest first."""
    from articles.models import Article

    assert run_import(SEEDS).exit_code == 0
    return Article.objects.order_by("published_at")


@pytest.fixture
def editor(admin_client):
    """A client logged in to the admin as a superuser."""
    return admin_client


@pytest.fixture
def desk():
    """A staff user in the Editors group (username "desk")."""
    return staff("desk", "Editors")


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS} (it lives in ../shared beside the project)")
    return CORPUS


@pytest.fixture
def run_task_worker(monkeypatch):
    """Run `db_worker --batch` in this process (every task ready now, then return its output).

    The worker checks its database connection between tasks; inside a test's
    transaction that check would close it, so it is left out here (a worker in
    its own process: tests/integration/test_task_workers.py).
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", *args, stdout=out)
        return out.getvalue()

    return run


@dataclass
class CommandRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip() and not line.startswith("CommandError")]


@pytest.fixture
def run_import():
    """Run import_articles in-process; returns exit code, stdout and stderr."""

    def run(*args: str | Path) -> CommandRun:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("import_articles", *map(str, args), stdout=out, stderr=err)
            code = 0
        except CommandError as exc:
            err.write(f"CommandError: {exc}\n")
            code = exc.returncode
        return CommandRun(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def write_post(tmp_path):
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """MEDIA_ROOT (where the default storage saves files) in this test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def spool_dir(settings, tmp_path_factory) -> Path:
    """NEWSPORTAL_IMPORT_SPOOL_DIR (where uploads wait for their task) in this test's own folder."""
    settings.NEWSPORTAL_IMPORT_SPOOL_DIR = tmp_path_factory.mktemp("spool")
    return settings.NEWSPORTAL_IMPORT_SPOOL_DIR


@pytest.fixture
def upload_and_import(run_task_worker, spool_dir, django_capture_on_commit_callbacks):
    """Post to the admin's upload page; if it queued an import (303 to the run's page), run the queued
    task and return the run's page, with the POST's own response as `.posted`. A refused upload's
    response (the upload page, 403, the login redirect) is returned as it is."""
    from django.urls import reverse

    def send(client, *files, **fields):
        data = {"files": list(files), "time_zone": "Asia/Shanghai", **fields}
        with django_capture_on_commit_callbacks(execute=True):  # the enqueue waits for the commit
            posted = client.post(reverse("admin:articles_importrun_upload"), data)
        if posted.status_code != 303:
            return posted
        run_task_worker()
        page = client.get(posted["Location"])
        page.posted = posted
        return page

    return send


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty page cache (the database is rolled back between tests)."""
    from django.core.cache import cache

    from articles import content_keys
    from articles.content_version import forget_content_state

    cache.clear()
    forget_content_state()
    content_keys.forget()
    yield
    cache.clear()
    forget_content_state()
    content_keys.forget()


# --- scratch databases that other processes write (tests/faults_support.py) -----------


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
        pg = PostgresAdmin()
        name = f"faults_template_{uuid.uuid4().hex[:8]}"
        pg.execute(f"CREATE DATABASE {name}")
        try:
            done = run_manage(with_database(pg.url, name), "migrate", "-v0")
            assert done.returncode == 0, done.stderr
            yield ("postgresql", name)
        finally:
            pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def _scratch_copy(migrated_template, folder: Path):
    """A copy of the migrated template (a file in `folder` on SQLite), dropped afterwards."""
    vendor, template = migrated_template
    if vendor == "sqlite":
        path = folder / "db.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    pg = PostgresAdmin()
    name = f"faults_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield with_database(pg.url, name)
    finally:
        pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def scratch_db(_migrated_template, tmp_path) -> str:
    """DATABASE_URL of a fresh, migrated database only this test uses."""
    with _scratch_copy(_migrated_template, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_scratch_db(_migrated_template, tmp_path_factory) -> str:
    """The same, shared by one test module's tests (for servers a module starts once)."""
    with _scratch_copy(_migrated_template, tmp_path_factory.mktemp("module-db")) as url:
        yield url


# --- outside programs: Redis, Chromium ---------------------------------------------------


@dataclass
class RedisServer:
    """A real redis-server of a test's own (the `redis_server` fixture)."""

    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        """Stop it now (a Redis that went away); the fixture does nothing more after the test."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server of this test's own, on a free loopback port; stopped after the test."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed (Debian package redis-server; .ci/run installs it)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    running = RedisServer(f"redis://127.0.0.1:{port}/0", process)
    try:
        wait_until_listening(port, process)
        yield running
    finally:
        running.stop()


class HungListener:
    """A loopback port that accepts connections and never answers (a hung Redis, a stuck proxy)."""

    def __init__(self) -> None:
        import socket
        import threading

        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"redis://127.0.0.1:{self._listener.getsockname()[1]}/0"
        self.accepted: list = []  # kept open, unanswered, until close()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():  # bounded: close() sets it, and each wait is 0.1 s
            try:
                self.accepted.append(self._listener.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self._listener.close()


@pytest.fixture
def hung_redis():
    """A "Redis" that accepts connections and never answers; `.url`, `.accepted` (the connections made)."""
    listener = HungListener()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def redis_url(redis_server):
    """The URL of a real redis-server of this test's own, on a free port; stopped after the test."""
    return redis_server.url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, one per test module (tests/browsers.py)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs an event loop in this thread, which Django
    # takes for async code; the ORM calls here are synchronous all the same,
    # and the live server's request threads have connections of their own
    # (tests/settings.py, tests/integration/test_live_server.py).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()
