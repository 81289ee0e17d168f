"""/healthz and /readyz (#20): answered by IP address and over plain http, never cached, no log lines;
/readyz reports the database and the cache with their latencies, and is 503 without the database."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from newsportal.settings import cache_from_url
from tests.factories import PROJECT

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hosts(settings):
    """Production as deployed: one site name allowed, http redirected to https."""
    settings.ALLOWED_HOSTS = ["news.example.com"]
    settings.SECURE_SSL_REDIRECT = True


def test_healthz_answers_a_probe_by_ip_over_http_without_logging(client, production_hosts, caplog):
    caplog.set_level(logging.DEBUG)
    for path in ("/healthz", "/healthz/"):
        response = client.get(path, HTTP_HOST="10.0.0.7:8000")
        assert response.status_code == 200 and response.content == b"ok\n"
        assert response["Cache-Control"] == "no-store"
    assert client.head("/healthz", HTTP_HOST="10.0.0.7").status_code == 200
    assert client.post("/healthz", HTTP_HOST="10.0.0.7").status_code == 405
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # no DisallowedHost, no traceback
    # The same unknown host anywhere else is still refused, and the site still redirects to https.
    assert client.get("/", HTTP_HOST="10.0.0.7").status_code == 400
    assert client.get("/", HTTP_HOST="news.example.com").status_code == 301


def test_readyz_reports_database_and_cache_with_latencies(client, production_hosts):
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    report = json.loads(response.content)
    assert report["status"] == "ready"
    for name in ("database", "cache"):
        assert report["checks"][name]["ok"] is True and report["checks"][name]["ms"] >= 0


def test_readyz_with_redis_hung_is_degraded_not_unready(client, hung_redis, settings):
    """Redis is a cache, not a dependency: the load balancer keeps the server (newsportal.health's reason)."""
    settings.CACHES = {**settings.CACHES, "default": {**cache_from_url(hung_redis.url), "KEY_PREFIX": "test"}}
    response = client.get("/readyz")
    report = json.loads(response.content)
    assert response.status_code == 200 and report["status"] == "degraded"
    assert report["checks"]["cache"] == {"ok": False, "ms": report["checks"]["cache"]["ms"], "error": "TimeoutError"}
    assert report["checks"]["database"]["ok"] is True


@pytest.mark.slow  # a Python process of its own, with a database that cannot be opened
def test_readyz_without_the_database_is_503(tmp_path):
    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "for path in ('/readyz', '/healthz'):\n"
        "    r = Client().get(path, HTTP_HOST='10.0.0.7')\n"
        "    print(json.dumps([r.status_code, r.content.decode()]))\n"
    )
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    (ready_status, ready_body), (health_status, health_body) = map(json.loads, done.stdout.splitlines())
    assert ready_status == 503
    report = json.loads(ready_body)
    assert report["status"] == "unavailable" and report["checks"]["database"] == {
        "ok": False, "ms": report["checks"]["database"]["ms"], "error": "OperationalError"}
    assert (health_status, health_body) == (200, "ok\n")  # alive, only not ready
    assert "Traceback" not in done.stderr
