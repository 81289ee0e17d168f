"""Releases without downtime (docs/DEPLOY.md, "Releases"): what a release changes in the caches.

* The page cache's keys carry the release (newsportal/release.py): a new release's
  processes never serve the pages the old release rendered (its templates, its static
  files' names), while the old processes, still running beside them on the same Redis,
  keep serving their own.
* A restart under a listening socket that systemd holds (docs/DEPLOY.md, step 4) refuses
  no request, and only the processes started after `collectstatic` serve the new static
  files and link them from pages (WhiteNoise and the manifest are read at start-up).
* `migrate` that applies nothing leaves the cache alone; one that applies a migration
  still marks everything changed.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dj_database_url
import pytest

from newsportal.release import STATIC_MANIFEST, computed_release
from tests.factories import PROJECT, SEEDS, production_env, settings_in
from tests.faults_support import run_manage

# --- the release's name -------------------------------------------------------------------


def copy_release(source: Path, target: Path) -> Path:
    """The files a release ships (what computed_release reads), copied to `target`."""
    for name in ("newsportal", "articles", "templates", "pyproject.toml"):
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, target / name)
    return target


def test_the_same_release_has_the_same_name_wherever_it_is_installed(tmp_path):
    """Two servers of one release share the cache: the name depends on content, not paths or times."""
    one = copy_release(PROJECT, tmp_path / "one")
    two = copy_release(PROJECT, tmp_path / "two")
    (two / "templates" / "base.html").touch()  # another checkout's file times
    assert computed_release(one, one / "static") == computed_release(two, two / "static")


def test_a_changed_template_or_static_file_is_another_release(tmp_path):
    release = copy_release(PROJECT, tmp_path / "release")
    static_root = tmp_path / "staticfiles"
    static_root.mkdir()
    names = {computed_release(release, static_root)}
    template = release / "templates" / "base.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n<!-- changed -->\n", encoding="utf-8")
    names.add(computed_release(release, static_root))
    (static_root / STATIC_MANIFEST).write_text('{"paths": {"css/site.css": "css/site.0123456789ab.css"}}')
    names.add(computed_release(release, static_root))
    (static_root / STATIC_MANIFEST).write_text('{"paths": {"css/site.css": "css/site.ba9876543210.css"}}')
    names.add(computed_release(release, static_root))
    assert len(names) == 4


def test_a_new_or_removed_source_file_is_another_release_and_compiled_files_are_not(tmp_path):
    release = copy_release(PROJECT, tmp_path / "release")
    static_root = tmp_path / "staticfiles"
    first = computed_release(release, static_root)
    cache = release / "articles" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "views.cpython-311.pyc").write_bytes(b"compiled")  # what `compileall` or a first start writes
    (release / "articles" / "notes.bak").write_text("an editor's leftover")  # not a shipped kind of file
    assert computed_release(release, static_root) == first
    added = release / "articles" / "management" / "commands" / "new_command.py"
    added.write_text('"""A command the new release ships."""\n')
    second = computed_release(release, static_root)
    added.unlink()
    (release / "templates" / "base.html").unlink()
    assert len({first, second, computed_release(release, static_root)}) == 3


def test_the_page_cache_prefix_carries_the_release_and_the_counters_do_not():
    """NEWSPORTAL_RELEASE names it; the rate-limit and most-read counters keep their prefix across releases."""
    env = production_env(NEWSPORTAL_RELEASE="2026-12-06.1", CACHE_KEY_PREFIX="site", CACHE_URL="redis://127.0.0.1:1/0")
    caches = settings_in(env, "CACHES")["CACHES"]
    assert caches["default"]["KEY_PREFIX"] == "site:2026-12-06.1"
    assert caches["throttle"]["KEY_PREFIX"] == caches["hot"]["KEY_PREFIX"] == "site"
    computed = settings_in(production_env(), "NEWSPORTAL_RELEASE")["NEWSPORTAL_RELEASE"]
    assert computed == computed_release(PROJECT, PROJECT / "staticfiles")


# --- two releases on one Redis ------------------------------------------------------------

HOME_PAGE = r"""
import json, re
import django

django.setup()
from django.test import Client

response = Client().get("/", secure=True)
print(json.dumps({"status": response.status_code, "etag": response.get("ETag"),
                  "css": re.findall(r"/static/css/site\.\w+\.css", response.content.decode())}))
"""


def home_page(env: dict) -> dict:
    """The home page as a new app-server process of `env` answers it."""
    done = subprocess.run([sys.executable, "-c", HOME_PAGE], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def new_css_release(old_static: Path, new_static: Path, *, in_place: bool = False) -> str:
    """`new_static`: the old release's static files with site.css changed (a new hashed name);
    `in_place`: as a collectstatic into the same folder would leave it (the old files kept)."""
    if not in_place:
        shutil.copytree(old_static, new_static)
    manifest = json.loads((new_static / STATIC_MANIFEST).read_text())
    old_name = manifest["paths"]["css/site.css"]
    new_name = re.sub(r"\.\w+\.css$", ".0123456789ab.css", old_name)
    shutil.copy2(new_static / old_name, new_static / new_name)
    manifest["paths"]["css/site.css"] = new_name
    (new_static / STATIC_MANIFEST).write_text(json.dumps(manifest))
    return new_name


@pytest.mark.slow  # collectstatic, an import and five processes
def test_a_new_release_never_serves_the_old_releases_pages_while_the_old_one_serves_its_own(
        scratch_db, redis_url, tmp_path):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    old_static, new_static = tmp_path / "old-static", tmp_path / "new-static"
    built = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=PROJECT,
                           env=production_env(DJANGO_STATIC_ROOT=str(old_static)), capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr
    old_css = "/static/" + json.loads((old_static / STATIC_MANIFEST).read_text())["paths"]["css/site.css"]
    new_css = "/static/" + new_css_release(old_static, new_static)
    server = production_env(DATABASE_URL=scratch_db, CACHE_URL=redis_url, DJANGO_ALLOWED_HOSTS="testserver")
    old = {**server, "DJANGO_STATIC_ROOT": str(old_static)}
    new = {**server, "DJANGO_STATIC_ROOT": str(new_static)}

    first_old = home_page(old)
    assert first_old["status"] == 200 and first_old["css"] == [old_css]
    assert home_page(old)["etag"] == first_old["etag"]  # another old process: served from the shared cache
    first_new = home_page(new)
    assert first_new["css"] == [new_css]  # rendered by the new release, not the old page
    assert first_new["etag"] != first_old["etag"]
    assert home_page(old) == first_old  # the old release still serves its own page
    assert home_page(new) == first_new  # and the new one its own, from the cache


# --- a restart under a held socket -------------------------------------------------------


def collect_static(static_root: Path) -> None:
    built = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=PROJECT,
                           env=production_env(DJANGO_STATIC_ROOT=str(static_root)), capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr


def gunicorn_on(listening: socket.socket, env: dict) -> subprocess.Popen:
    """gunicorn serving on `listening` as systemd's socket activation hands it over (fd 3, LISTEN_FDS)."""
    fd = listening.fileno()
    return subprocess.Popen(
        ["bash", "-c", f'exec 3<&{fd} {fd}<&-; export LISTEN_FDS=1 LISTEN_PID=$$; exec "$0" "$@"',
         str(Path(sys.executable).with_name("gunicorn")), "newsportal.wsgi", "--workers", "2",
         "--graceful-timeout", "30", "--log-level", "warning"],
        cwd=PROJECT, env=env, pass_fds=(fd,))


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def linked_css(port: int) -> list[str]:
    status, body = get(port, "/")
    assert status == 200
    return re.findall(r"/static/css/site\.\w+\.css", body.decode())


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


@pytest.mark.slow  # collectstatic, an import and two gunicorns
def test_a_restart_under_a_held_socket_refuses_no_request_and_serves_the_new_static_files(scratch_db, tmp_path):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    static_root = tmp_path / "staticfiles"
    collect_static(static_root)
    old_css = "/static/" + json.loads((static_root / STATIC_MANIFEST).read_text())["paths"]["css/site.css"]
    env = production_env(DATABASE_URL=scratch_db, DJANGO_STATIC_ROOT=str(static_root),
                         DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_SECURE_SSL_REDIRECT="0")
    listening = socket.socket()  # what systemd's newsportal.socket holds across the restart
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    port = listening.getsockname()[1]
    old = gunicorn_on(listening, env)
    new = None
    answers: list = []
    stop = threading.Event()

    def reader() -> None:  # a reader asking for the home page all along, one connection a request
        while not stop.is_set() and len(answers) < 100_000:
            try:
                answers.append(get(port, "/")[0])
            except OSError as error:
                answers.append(repr(error))

    thread = threading.Thread(target=reader)
    try:
        wait_for(lambda: old.poll() is None and get(port, "/")[0] == 200)
        assert linked_css(port) == [old_css]
        new_css = "/static/" + new_css_release(static_root, static_root, in_place=True)  # the release's collectstatic
        assert get(port, new_css)[0] == 404  # WhiteNoise listed the files when it started
        assert linked_css(port) == [old_css]  # and the manifest was read then
        thread.start()
        wait_for(lambda: len(answers) >= 5)
        old.send_signal(signal.SIGTERM)  # systemctl restart: the old one stops, the new one starts
        new = gunicorn_on(listening, env)
        assert old.wait(timeout=60) == 0
        wait_for(lambda: linked_css(port) == [new_css])
        assert get(port, new_css)[0] == get(port, old_css)[0] == 200  # the old pages' file too
        served_before = len(answers)
        wait_for(lambda: len(answers) >= served_before + 5)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(timeout=120)
        for server in (old, new):
            if server is not None and server.poll() is None:
                server.terminate()
                server.wait(timeout=60)
        listening.close()
    assert set(answers) == {200}, [answer for answer in answers if answer != 200][:5]


# --- migrate and the cache -----------------------------------------------------------------


def content_state(database_url: str) -> tuple[int, list[tuple[str, int]]]:
    """The content generation and the content keys recorded (key, generation), read without Django."""
    config = dj_database_url.parse(database_url)
    queries = ("SELECT generation FROM articles_contentversion WHERE id = 1",
               "SELECT key, generation FROM articles_contentkey ORDER BY generation, key")
    if config["ENGINE"].endswith("sqlite3"):
        import sqlite3

        with sqlite3.connect(config["NAME"], timeout=60) as db:
            return db.execute(queries[0]).fetchone()[0], [tuple(row) for row in db.execute(queries[1])]
    import psycopg

    params = {"host": config["HOST"], "user": config["USER"], "password": config["PASSWORD"] or None,
              "port": config["PORT"] or None, "dbname": config["NAME"]}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as db:
        return db.execute(queries[0]).fetchone()[0], [tuple(row) for row in db.execute(queries[1])]


@pytest.mark.slow  # manage.py in processes of its own
def test_a_migrate_that_applies_nothing_leaves_the_cache_alone(scratch_db):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    before = content_state(scratch_db)
    done = run_manage(scratch_db, "migrate", "-v1")
    assert done.returncode == 0, done.stderr
    assert "No migrations to apply" in done.stdout
    assert content_state(scratch_db) == before


@pytest.mark.slow
def test_a_migrate_that_applies_a_migration_marks_everything_changed(scratch_db):
    done = run_manage(scratch_db, "import_articles", SEEDS)
    assert done.returncode == 0, done.stderr
    generation, _ = content_state(scratch_db)
    latest = sorted(path.stem for path in (PROJECT / "articles" / "migrations").glob("0*.py"))
    for args in (("articles", latest[-2]), ("articles",)):  # the last migration undone, then applied again
        done = run_manage(scratch_db, "migrate", "-v0", *args)
        assert done.returncode == 0, done.stderr
        now, keys = content_state(scratch_db)
        assert now > generation
        assert ("*", now) in keys
        generation = now
