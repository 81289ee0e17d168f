"""Precise invalidation across servers: two gunicorn servers share one Redis page cache,
and an edit made by a third process refreshes exactly the edited article's pages on both."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import PROJECT
from tests.faults_support import free_port, run_manage, subprocess_env, wait_until_listening

pytestmark = pytest.mark.slow  # gunicorn, redis-server and manage.py in processes of their own

SETUP = """
import datetime as dt, json
from django.utils import timezone
from tests.factories import chain, publish
day = timezone.now() - dt.timedelta(days=3)
a = publish("甲文章", day, categories=[chain("金融")], tags=["券商"], author="甲社")
publish("中间的文章", day - dt.timedelta(days=20), categories=[chain("体育")], tags=["足球"], author="丙社")
b = publish("乙文章", day - dt.timedelta(days=40), categories=[chain("科技")], tags=["芯片"], author="乙社")
print(json.dumps({"a": a.get_absolute_url(), "b": b.get_absolute_url(), "a_id": a.pk, "b_id": b.pk}))
"""

EDIT = """
from django.contrib.auth.models import User
from articles.models import Article
from newsroom import operations
editor = User.objects.create_superuser("editor", "editor@example.com", "pw-editor-2024")
a = Article.objects.get(title="甲文章")
a.title = "甲文章（第三个进程改的）"
operations.save_as_edit(a, editor, fields=["title"])
"""


def http_get(port: int, path: str) -> tuple[int, http.client.HTTPMessage, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        # One site name for both servers, as behind a load balancer (the host is part of a page's key).
        connection.request("GET", path, headers={"Host": "news.example"})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def two_servers(scratch_db, redis_url):
    """Two gunicorn servers (a worker each) on one database and one Redis; yields their ports."""
    env = subprocess_env(scratch_db, CACHE_URL=redis_url, DJANGO_ALLOWED_HOSTS="news.example",
                         # Read on every request, so that no wait is needed (the memo is tested in-process).
                         NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS="0")
    servers, ports = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append(subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "1",
                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning"], cwd=PROJECT, env=env))
            wait_until_listening(port, servers[-1])
            ports.append(port)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def test_an_edit_refreshes_its_pages_on_every_server_and_nothing_else(scratch_db, two_servers):
    done = run_manage(scratch_db, "shell", "-c", SETUP)
    assert done.returncode == 0, done.stderr
    urls = json.loads(done.stdout.strip().splitlines()[-1])
    one, two = two_servers

    for url in (urls["a"], urls["b"], "/"):
        status, headers, _ = http_get(one, url)
        assert status == 200 and headers["X-Cache"] == "miss", url
        status, headers, _ = http_get(two, url)
        assert status == 200 and headers["X-Cache"] == "hit", url  # stored by the other server
    _, headers, _ = http_get(two, urls["b"])
    assert f"a:{urls['b_id']}" in headers["xkey"].split() and headers["Surrogate-Key"] == headers["xkey"]

    done = run_manage(scratch_db, "shell", "-c", EDIT)
    assert done.returncode == 0, done.stderr

    status, headers, body = http_get(two, urls["a"])
    assert (status, headers["X-Cache"]) == (200, "miss") and "甲文章（第三个进程改的）" in body
    status, headers, body = http_get(one, urls["a"])
    assert headers["X-Cache"] == "hit" and "甲文章（第三个进程改的）" in body  # what server two stored
    status, headers, body = http_get(one, "/")
    assert headers["X-Cache"] == "miss" and "甲文章（第三个进程改的）" in body
    for port in (one, two):
        status, headers, body = http_get(port, urls["b"])
        assert (status, headers["X-Cache"]) == (200, "hit") and "乙文章" in body
