"""The app as docs/DEPLOY.md runs it, in processes of its own.

* settings from the environment only: the WSGI and ASGI applications never
  read a `.env` (only manage.py, the development workflow, does);
* the API's rate limit holds across processes (workers, machines);
* gunicorn over HTTP: gzip for clients that accept it, and a SCRIPT_NAME
  header (which gunicorn trusts from loopback) cannot poison the page cache.
"""

from __future__ import annotations

import gzip
import http.client
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.factories import PROJECT, SEEDS, production_env, static_manifest_in
from tests.faults_support import free_port, run_manage, subprocess_env, wait_until_listening

pytestmark = pytest.mark.slow  # gunicorn and manage.py in processes of their own

DEVELOPER_ENV = "DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=the-developer-key-from-dotenv\n"


def python_in(cwd, env: dict, code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("module", ["newsportal.wsgi", "newsportal.asgi"])
def test_the_server_applications_never_read_a_dotenv(tmp_path, module):
    """Started from a directory holding a developer's .env, even one NEWSPORTAL_ENV_FILE names,
    with no DJANGO_DEBUG in the environment: production mode, the environment's key."""
    (tmp_path / ".env").write_text(DEVELOPER_ENV)
    env = production_env(NEWSPORTAL_ENV_FILE=str(tmp_path / ".env"), PYTHONPATH=str(PROJECT),
                         DJANGO_STATIC_ROOT=str(static_manifest_in(tmp_path / "static")))
    assert "DJANGO_DEBUG" not in env
    code = (f"import {module}; from django.conf import settings; "
            "print(settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
            "settings.SECRET_KEY == 'the-developer-key-from-dotenv')")
    assert python_in(tmp_path, env, code) == "False True True False"


def test_manage_py_reads_the_developers_dotenv(tmp_path):
    """`make run` and developers' commands go through manage.py, which does read it."""
    (tmp_path / ".env").write_text(DEVELOPER_ENV)
    env = production_env(NEWSPORTAL_ENV_FILE=str(tmp_path / ".env"))
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), "shell", "-v", "0", "-c",
         "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "the-developer-key-from-dotenv"]


# --- the API rate limit holds across processes ----------------------------------------------


API_REQUESTS = """
import sys
import django

django.setup()
from django.test import Client

client = Client()
print(" ".join(str(client.get("/api/v1/tags/", secure=True).status_code) for _ in range(int(sys.argv[1]))))
"""


def api_statuses(env: dict, requests: int) -> list[int]:
    """`requests` API requests from 127.0.0.1, made by a new process (another worker)."""
    result = subprocess.run([sys.executable, "-c", API_REQUESTS, str(requests)], cwd=PROJECT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [int(status) for status in result.stdout.split()]


def two_workers_against_the_limit(env: dict) -> None:
    """Two processes, one after the other, together ask for more than 3 a minute: the second
    gets only what the first left."""
    assert api_statuses(env, 2) == [200, 200]
    assert api_statuses(env, 3) == [200, 429, 429]


def api_server_env(database_url: str, **extra: str) -> dict:
    env = production_env(DATABASE_URL=database_url, DJANGO_ALLOWED_HOSTS="testserver",
                         NEWSPORTAL_API_ANON_RATE="3/min",
                         CACHE_KEY_PREFIX=f"throttle-test-{uuid.uuid4().hex}")  # this test's counters only
    for name in ("CACHE_URL", "SQLITE_TEST_NAME"):
        env.pop(name, None)
    return {**env, **extra}


def test_the_api_rate_limit_holds_across_the_workers_of_one_machine_by_default(scratch_db):
    """With the default (per-process, local-memory) page cache, the counters are shared
    all the same: three workers used to allow three times the rate."""
    two_workers_against_the_limit(api_server_env(scratch_db))


def test_the_api_rate_limit_holds_across_machines_with_a_shared_cache(scratch_db, redis_url, tmp_path):
    """With CACHE_URL=redis://… every machine counts in Redis (here each process also gets a
    throttle directory of its own, as another machine would)."""
    env = api_server_env(scratch_db, CACHE_URL=redis_url)
    assert api_statuses({**env, "NEWSPORTAL_THROTTLE_DIR": str(tmp_path / "one")}, 2) == [200, 200]
    assert api_statuses({**env, "NEWSPORTAL_THROTTLE_DIR": str(tmp_path / "two")}, 3) == [200, 429, 429]


# --- gunicorn over HTTP: compression, and a SCRIPT_NAME header ------------------------------------


@pytest.fixture
def gunicorn(scratch_db):
    """gunicorn (2 workers, its default forwarded-allow-ips) serving the seeds; yields its port."""
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=PROJECT, env=subprocess_env(scratch_db, DJANGO_ALLOWED_HOSTS="127.0.0.1"))
    try:
        wait_until_listening(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_get(port: int, path: str, **headers: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def vary(headers: http.client.HTTPMessage) -> set[str]:
    return {v.strip().lower() for v in headers.get("Vary", "").split(",") if v.strip()}


def test_text_responses_are_gzipped_for_clients_that_accept_it(gunicorn):
    for path in ("/", "/search/?q=%E5%88%B8%E5%95%86", "/feed/", "/sitemap.xml", "/api/v1/articles/"):
        plain_status, plain_headers, plain = http_get(gunicorn, path)
        assert plain_status == 200 and "Content-Encoding" not in plain_headers, path
        for attempt in ("first", "again"):  # a cached page is stored gzipped once, and served so
            status, headers, body = http_get(gunicorn, path, **{"Accept-Encoding": "gzip, deflate, br"})
            assert status == 200 and headers["Content-Encoding"] == "gzip", (path, attempt, dict(headers))
            assert "accept-encoding" in vary(headers) and int(headers["Content-Length"]) == len(body)
            assert len(body) < len(plain) and gzip.decompress(body) == plain, (path, attempt)
        assert "accept-encoding" in vary(plain_headers), path  # so a shared cache keeps the two apart


def test_a_script_name_header_cannot_poison_the_page_cache(gunicorn):
    """gunicorn takes SCRIPT_NAME from a header sent from --forwarded-allow-ips (loopback by
    default): /search/?y=2 then resolves as the home page. Pages are keyed on what was resolved."""
    status, _, poisoned = http_get(gunicorn, "/search/?y=2", SCRIPT_NAME="/search")
    assert status == 200 and b'rel="canonical" href="http://127.0.0.1' in poisoned
    for _ in range(4):  # both workers, whichever answers
        status, _, page = http_get(gunicorn, "/search/?y=2")
        assert status == 200 and "<h1>搜索</h1>" in page.decode()
        status, _, home = http_get(gunicorn, "/")
        assert status == 200 and b'href="/search/20' not in home and "<h1>搜索</h1>" not in home.decode()


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The related-articles union, estimated past jit_above_cost on stale statistics,
    stalled article pages for seconds each while PostgreSQL compiled it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
