"""An editor uploads in a real browser; a real task worker imports; the run's page follows by itself.

Drives Debian's Chromium through Playwright (tests/browsers.py) against the
live server, with `manage.py db_worker` in its own process on the same test
database and the same import spool (importing.tasks).
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from django.contrib.auth.models import User
from django.db import connection

from articles.models import Article, ImportRun
from tests.browsers import BROWSER_TESTS, only_the_live_server
from tests.factories import post, staff
from tests.faults_support import manage, subprocess_env, with_database

pytestmark = BROWSER_TESTS


def test_database_url() -> str:
    """The URL of the database this test (and its live server) uses, for a process of its own."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return with_database(os.environ["DATABASE_URL"], settings["NAME"])


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def worker(spool_dir):
    """`manage.py db_worker` as production runs it, polling often; killed after the test."""
    database_url = test_database_url()
    process = manage(database_url, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2",
                     env=subprocess_env(database_url, NEWSPORTAL_IMPORT_SPOOL_DIR=str(spool_dir)),
                     start_new_session=True)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


@pytest.fixture
def page(browser):  # noqa: F811  (the shared fixture)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    only_the_live_server(context)
    page = context.new_page()
    page.console_errors = []
    page.requests_seen = []
    page.on("requestfinished", lambda request: page.requests_seen.append(request.url))
    page.on("requestfailed", lambda request: page.requests_seen.append(f"FAILED {request.url}"))
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def test_the_run_page_shows_the_upload_imported_by_the_worker_without_a_reload(
        live_server, worker, page, tmp_path, spool_dir, settings):
    settings.LANGUAGE_CODE = "en"
    desk = staff("desk", "Editors")
    desk.set_password("desk-password-1")
    desk.save()
    files = []
    for n in range(3):
        path = tmp_path / f"story-{n}.md"
        path.write_text(post(title=f"'浏览器上传的第{n}篇'"), encoding="utf-8")
        files.append(str(path))

    upload = "/admin/articles/importrun/upload/"
    page.goto(f"{live_server.url}/admin/login/?next={upload}")
    page.fill("#id_username", "desk")
    page.fill("#id_password", "desk-password-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{upload}")
    page.set_input_files("#id_files", files)
    page.click("input[type=submit][value=Import]")
    page.wait_for_url("**/admin/articles/importrun/*/change/")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page were loaded again

    live = page.locator('#import-run-live[data-status="succeeded"]')
    try:
        live.wait_for(timeout=120_000)  # the worker imports; the page's script sees it
    except Exception as exc:
        os.killpg(worker.pid, signal.SIGTERM)
        output = worker.communicate(timeout=30)
        raise AssertionError(f"{exc}\nrun: {list(ImportRun.objects.values('status', 'failure_reason'))}\n"
                             f"console: {page.console_errors}\nworker: {output}\n"
                             f"live: {page.locator('#import-run-live').evaluate('e => e.outerHTML')}\n"
                             f"requests: {page.requests_seen}") from None
    assert page.evaluate("window.stillTheSamePage") is True
    assert "succeeded" in page.locator('[data-run="status"]').inner_text()
    assert "3 created" in page.locator('[data-run="counts"]').inner_text()
    assert page.locator('[data-run="progress-box"]').is_hidden()
    assert page.console_errors == []  # no CSP violation, no failed poll

    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.SUCCEEDED and run.user == User.objects.get(username="desk")
    assert run.pid == worker.pid  # imported by the worker process, not by the request
    assert Article.objects.filter(title__startswith="浏览器上传的").count() == 3
    assert list(spool_dir.iterdir()) == []
