"""Varnish in front of gunicorn, with deploy/varnish/default.vcl as shipped (only the backend's port
replaced), and the app purging it by content key (articles.purges, NEWSPORTAL_PURGE_URLS).

* a repeated anonymous request is a Varnish hit;
* editing an article (in another process, the task run by the immediate backend) purges its page
  and the home page within a second, while an unrelated article's page stays a hit;
* a draft's preview and the admin are never cached, not even for the staff member asking twice;
* only the configured addresses may purge;
* a scheduled article reaches the cached home page at its time (db_worker, or rqworker --with-scheduler, runs
  the purge scheduled then);
* readers' Accept-Language values share one cached copy per language served, the one Django picks.

Debian's `varnish` and `varnish-modules` (the xkey vmod); .ci/run installs them.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation

from tests.factories import PROJECT
from tests.faults_support import (
    free_port,
    manage,
    run_manage,
    stop_all,
    subprocess_env,
    wait_until_listening,
)

pytestmark = pytest.mark.slow  # varnishd, gunicorn and manage.py in processes of their own

VCL = PROJECT / "deploy" / "varnish" / "default.vcl"
HOST = "news.example"

SETUP = """
import datetime as dt, json
from importlib import import_module
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from articles.models import Article
from tests.factories import chain, publish
day = timezone.now() - dt.timedelta(days=3)
a = publish("甲文章", day, categories=[chain("金融")], tags=["券商"], author="甲社")
publish("中间的文章", day - dt.timedelta(days=20), categories=[chain("体育")], tags=["足球"], author="丙社")
b = publish("乙文章", day - dt.timedelta(days=40), categories=[chain("科技")], tags=["芯片"], author="乙社")
draft = publish("草稿文章", day, status=Article.Status.DRAFT, categories=[chain("金融")])
editor = User.objects.create_superuser("editor", "editor@example.com", "pw-editor-2024")
session = import_module(settings.SESSION_ENGINE).SessionStore()
session.update({"_auth_user_id": str(editor.pk), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                "_auth_user_hash": editor.get_session_auth_hash()})
session.create()
print(json.dumps({"a": a.get_absolute_url(), "b": b.get_absolute_url(), "draft": draft.pk,
                  "session": session.session_key}))
"""

EDIT = """
from django.contrib.auth.models import User
from articles.models import Article
from newsroom import operations
a = Article.objects.get(title="甲文章")
a.title = "甲文章（更正）"
operations.save_as_edit(a, User.objects.get(username="editor"), fields=["title"])
"""


def varnishd_missing() -> str | None:
    binary = shutil.which("varnishd") or ("/usr/sbin/varnishd" if Path("/usr/sbin/varnishd").exists() else None)
    if binary is None:
        return "varnishd not installed (Debian packages varnish and varnish-modules; .ci/run installs them)"
    if not list(Path("/usr/lib").glob("*/varnish/vmods/libvmod_xkey.so")):
        return "the xkey vmod is not installed (Debian package varnish-modules)"
    return None


def request(port: int, path: str, method: str = "GET", **headers: str) -> tuple[int, http.client.HTTPMessage, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, headers={"Host": HOST, **headers})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        connection.close()


def cache(port: int, path: str, **headers: str) -> str:
    status, response, _ = request(port, path, **headers)
    assert status in (200, 301, 302, 404), (path, status)
    return response["X-Cache"]


@pytest.fixture
def site(scratch_db, tmp_path):
    """gunicorn (2 workers) serving a few articles, Varnish in front; yields the ports and the articles."""
    missing = varnishd_missing()
    if missing:
        pytest.skip(missing)
    done = run_manage(scratch_db, "shell", "-c", SETUP)
    assert done.returncode == 0, done.stderr
    content = json.loads(done.stdout.strip().splitlines()[-1])
    app_port, varnish_port, proxy_port = free_port(), free_port(), free_port()
    purge_url = f"http://127.0.0.1:{varnish_port}/"
    env = subprocess_env(scratch_db, DJANGO_ALLOWED_HOSTS=HOST, NEWSPORTAL_TASK_BACKEND="immediate",
                         NEWSPORTAL_PURGE_URLS=purge_url)
    vcl = tmp_path / "default.vcl"
    shipped = VCL.read_text()
    assert shipped.count('.port = "8000";') == 1
    vcl.write_text(shipped.replace('.port = "8000";', f'.port = "{app_port}";'))
    processes = []
    try:
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "2",
             "--bind", f"127.0.0.1:{app_port}", "--log-level", "warning"], cwd=PROJECT, env=env))
        wait_until_listening(app_port, processes[-1])
        # -j none: no privilege separation (a root CI run would have Varnish's own user write
        # into this test's directory); -T none: no management port. The second address takes
        # the PROXY protocol, so that a test can purge as if from another address.
        processes.append(subprocess.Popen(
            [shutil.which("varnishd") or "/usr/sbin/varnishd", "-F", "-j", "none", "-n", str(tmp_path / "varnish"),
             "-a", f"127.0.0.1:{varnish_port}", "-a", f"127.0.0.1:{proxy_port},PROXY", "-T", "none",
             "-f", str(vcl), "-s", "malloc,64m"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        wait_until_listening(varnish_port, processes[-1])
        yield {"port": varnish_port, "proxy_port": proxy_port, "env": env, **content}
    finally:
        stop_all(processes)


def test_an_edit_purges_its_pages_and_leaves_the_others_cached(scratch_db, site):
    port = site["port"]
    for path in ("/", site["a"], site["b"]):
        assert cache(port, path) == "MISS", path
        assert cache(port, path) == "HIT", path

    edit = manage(scratch_db, "shell", "-c", EDIT, env=site["env"])
    _, stderr = edit.communicate(timeout=120)
    assert edit.returncode == 0, stderr
    # The purge was sent from the editing process; poll (at most a second) until Varnish shows the edit.
    deadline = time.monotonic() + 1.0
    while True:
        page = request(port, site["a"])[2]
        home = request(port, "/")[2]
        if ("甲文章（更正）" in page and "甲文章（更正）" in home) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert "甲文章（更正）" in page and "甲文章（更正）" in home
    assert cache(port, site["a"]) == "HIT"  # cached again, edited
    assert cache(port, site["b"]) == "HIT"  # untouched by the purge


SCHEDULE = """
import datetime as dt
from django.contrib.auth.models import User
from django.utils import timezone
from articles.models import Article
from newsroom import operations
when = timezone.now() + dt.timedelta(seconds=%(seconds)s)
article = Article(title="定时文章", body="<p>正文内容</p>", status=Article.Status.PUBLISHED, published_at=when)
operations.save_as_edit(article, User.objects.get(username="editor"))
print(when.timestamp())
"""


@pytest.fixture
def fixture_value(request):
    """Another fixture by name, when a test needs it only sometimes (a Redis server for RQ)."""
    return request.getfixturevalue


def task_worker(backend: str, database_url: str, env: dict[str, str], fixture_value) -> tuple[subprocess.Popen, dict]:
    """The backend's worker as production runs it (RQ: with its scheduler, in a session of its own)."""
    if backend == "db":
        env = {**env, "NEWSPORTAL_TASK_BACKEND": "db"}
        return manage(database_url, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2",
                      env=env), env
    env = {**env, "NEWSPORTAL_TASK_BACKEND": "rq", "NEWSPORTAL_REDIS_URL": fixture_value("redis_url")}
    return manage(database_url, "rqworker", "default", "--with-scheduler", env=env, start_new_session=True), env


@pytest.mark.parametrize("backend", ["db", "rq"])
def test_a_scheduled_article_reaches_the_pages_in_varnish_at_its_time(scratch_db, site, backend, fixture_value):
    """Its time passing writes nothing: the purge enqueued at its save runs then (the task's run_after)."""
    port = site["port"]
    worker, env = task_worker(backend, scratch_db, site["env"], fixture_value)
    try:
        assert cache(port, "/") == "MISS"
        saved = manage(scratch_db, "shell", "-c", SCHEDULE % {"seconds": 6}, env=env)
        stdout, stderr = saved.communicate(timeout=120)
        assert saved.returncode == 0, stderr
        when = float(stdout.strip().splitlines()[-1])
        # Before its time: the home page, purged by the save (a miss), is cached again without it (a hit).
        purged = cached_before = False
        while not cached_before and time.time() < when - 0.5:
            _, headers, home = request(port, "/")
            purged = purged or headers["X-Cache"] == "MISS"
            cached_before = purged and headers["X-Cache"] == "HIT" and "定时文章" not in home and time.time() < when
            time.sleep(0.1)
        assert cached_before, "the home page was not cached again before the article's time"
        time.sleep(max(0.0, when - time.time()))
        deadline = time.monotonic() + 2.5  # the worker's pick-up and the app's memo time
        while "定时文章" not in (home := request(port, "/")[2]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "定时文章" in home
    finally:
        if backend == "rq":  # the worker, its scheduler and work horse (a done RQ worker may take a minute to stop)
            os.killpg(worker.pid, signal.SIGKILL)
        else:
            worker.terminate()
        print(worker.communicate(timeout=30)[1][-3000:])  # the worker's log, shown if the test failed


def test_drafts_previews_and_the_admin_are_never_cached(site):
    port, session = site["port"], f"sessionid={site['session']}"
    preview = f"/preview/{site['draft']}/"
    for _ in range(2):
        status, headers, page = request(port, preview, Cookie=session)
        assert status == 200 and "草稿文章" in page and headers["X-Cache"] == "MISS"
        status, headers, page = request(port, "/admin/", Cookie=session)
        assert status == 200 and headers["X-Cache"] == "MISS"
        status, headers, _ = request(port, preview)  # anonymous: sent to log in, never from the cache
        assert status in (302, 404) and headers["X-Cache"] == "MISS"
        status, headers, _ = request(port, "/admin/login/")
        assert status == 200 and headers["X-Cache"] == "MISS"
    # A reader with any other cookie (analytics) shares the cached page.
    assert cache(port, site["b"]) == "MISS"
    assert cache(port, site["b"], Cookie="_ga=GA1.2.3") == "HIT"


def proxied_purge(port: int, client_ip: str, xkey: str) -> int:
    """A PURGE that Varnish sees as coming from `client_ip` (PROXY protocol v1)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"PROXY TCP4 {client_ip} 127.0.0.1 40000 {port}\r\n".encode()
                           + f"PURGE / HTTP/1.1\r\nHost: {HOST}\r\nxkey: {xkey}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_only_the_configured_addresses_may_purge(site):
    port = site["port"]
    cache(port, site["b"])
    assert cache(port, site["b"]) == "HIT"
    assert proxied_purge(site["proxy_port"], "203.0.113.9", "home") == 403
    assert request(port, "/", method="BAN")[0] == 405
    assert request(port, "/", method="PURGE")[0] == 400  # which keys?
    assert cache(port, site["b"]) == "HIT"
    assert proxied_purge(site["proxy_port"], "127.0.0.1", "*") == 200  # loopback: allowed, and `*` is everything
    assert cache(port, site["b"]) == "MISS"


# Real-world Accept-Language values, and odd ones: q ordering, q=0, variants, languages not served.
ACCEPT_LANGUAGES = [
    "zh-CN,zh;q=0.9,en;q=0.8", "zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", "zh-HK", "zh-Hans-CN", "ZH-cn", "zh",
    "en-US,en;q=0.9", "en-GB", "en, zh", "zh, en", "fr-FR,fr;q=0.9", "fr,en;q=0.5", "*", "",
    "en;q=0.1,zh;q=0.9", "en-US;q=0,zh", "de-DE,zh-CN;q=0.8,en;q=0.9", "ja,en-US;q=0.7,zh-CN;q=0.7",
]


def test_readers_languages_share_one_cached_copy_per_language_served(site):
    """deploy/varnish/default.vcl replaces Accept-Language by the language the app would answer in."""
    port, path = site["port"], site["b"]
    status, headers, _ = request(port, path, **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert (status, headers["X-Cache"], headers["Content-Language"]) == (200, "MISS", "zh-hans")
    for other in ("zh-TW,zh;q=0.9", "zh-HK", "fr-FR"):  # another Chinese, or a language not served: one copy
        _, headers, _ = request(port, path, **{"Accept-Language": other})
        assert (headers["X-Cache"], headers["Content-Language"]) == ("HIT", "zh-hans"), other
    _, headers, _ = request(port, path)  # no header at all: the default language, the same copy
    assert headers["X-Cache"] == "HIT"
    assert "en" in dict(settings.LANGUAGES)  # the site serves English: English readers get it
    _, headers, _ = request(port, path, **{"Accept-Language": "en-US,en;q=0.9"})
    assert (headers["X-Cache"], headers["Content-Language"]) == ("MISS", "en")
    _, headers, _ = request(port, path, **{"Accept-Language": "en-GB,en;q=0.8"})
    assert (headers["X-Cache"], headers["Content-Language"]) == ("HIT", "en")


def test_varnish_picks_the_language_django_would(site):
    """For each header, through Varnish, the page's language is the one LocaleMiddleware picks for it."""
    factory = RequestFactory()
    for value in ACCEPT_LANGUAGES:
        expected = translation.get_language_from_request(factory.get("/", HTTP_ACCEPT_LANGUAGE=value))
        _, headers, _ = request(site["port"], "/", **{"Accept-Language": value})
        assert headers["Content-Language"] == expected, value


def test_reading_beacons_pass_through_and_leave_the_pages_cached(site):
    """POST /hit/<id>/ (articles.hot) is never answered from Varnish's cache, sets no cookie, and purges nothing."""
    port = site["port"]
    assert cache(port, site["a"]) == "MISS" and cache(port, site["a"]) == "HIT"
    article_id = int(request(port, site["a"])[2].split('data-hit="/hit/', 1)[1].split("/", 1)[0])
    for _ in range(2):
        status, headers, _ = request(port, f"/hit/{article_id}/", method="POST", **{"User-Agent": "Mozilla/5.0 Firefox/120.0"})
        assert status == 204 and headers["X-Cache"] == "MISS" and "Set-Cookie" not in headers
        assert "no-store" in headers["Cache-Control"]
    assert request(port, f"/hit/{article_id}/")[0] == 405  # a GET (a crawler following it): refused, not cached
    assert cache(port, site["a"]) == "HIT"
