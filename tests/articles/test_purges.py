"""Purges of a shared cache in front (articles.purges): after a write, a task sends each node in
NEWSPORTAL_PURGE_URLS `PURGE` requests with the changed content keys in an `xkey` header.

The nodes here are tiny HTTP servers on 127.0.0.1 that record what they get;
the real Varnish is in tests/integration/test_varnish.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles import purges
from articles.models import Article
from articles.content_keys import keys_changed
from newsroom import operations
from tests.factories import chain, change_form, change_url, publish, staff
from tests.faults_support import free_port

TASK = "articles.purges.purge_keys"


class Node:
    """A cache node that records each request's method, path and xkey header, and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.status = status
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_PURGE(self) -> None:
                node.requests.append((self.command, self.path, self.headers.get("xkey")))
                self.send_response(node.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def keys(self) -> set[str]:
        return {key for _method, _path, header in self.requests for key in (header or "").split()}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def nodes():
    started = [Node(), Node()]
    try:
        yield started
    finally:
        for node in started:
            node.stop()


@pytest.fixture
def purging(settings, nodes):
    settings.NEWSPORTAL_PURGE_URLS = [node.url for node in nodes]
    settings.NEWSPORTAL_CONTENT_VERSION_MEMO_SECONDS = 0
    return nodes


@pytest.fixture
def article(db):
    publish("乙文章", timezone.now() - dt.timedelta(days=40), categories=[chain("科技")], tags=["芯片"])
    return publish("甲文章", timezone.now() - dt.timedelta(days=3), categories=[chain("金融")], tags=["券商"],
                   author="甲社")


def test_editing_an_article_purges_its_keys_on_every_node(admin_client, run_task_worker, purging, article,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(article), change_form(
            article, title="甲文章（更正）", tags="券商", author=article.author_id,
            **{"articlecategory_set-0-category": chain("金融").pk}))
    assert response.status_code == 302, response.content[:2000]
    assert all(node.requests == [] for node in purging)  # the worker sends them, not the request
    run_task_worker()
    [task] = DBTaskResult.objects.filter(task_path=TASK)
    assert task.status == "SUCCESSFUL", task.traceback
    for node in purging:
        assert [(method, path) for method, path, _ in node.requests] == [("PURGE", "/")]
        keys = node.keys()
        assert {f"a:{article.pk}", "home", f"tag:{article.tags.get().pk}"} <= keys
        assert "*" not in keys
        assert not any(key.startswith("a:") and key != f"a:{article.pk}" for key in keys)


def test_nothing_is_enqueued_without_purge_urls(admin_client, nodes, article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/articles/article/", {
            "action": "unpublish", "_selected_action": [article.pk]})
    assert response.status_code == 302
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()


def test_everything_changed_is_one_purge_of_everything(db, run_task_worker, purging):
    """`*` (a bulk write nobody described, e.g. the importer's) goes alone, whatever came with it."""
    keys_changed.send(sender=None, keys=frozenset({"*", "home", "a:1"}))
    run_task_worker()
    for node in purging:
        assert [header for _, _, header in node.requests] == ["*"]


def test_many_keys_go_in_batches_of_short_headers(purging):
    keys = [f"a:{pk}" for pk in range(1, 3001)]
    assert purges.purge_keys.call(keys) == {"nodes": 2, "requests": 2 * len(list(purges.batches(keys)))}
    for node in purging:
        headers = [header for _, _, header in node.requests]
        assert len(headers) > 1
        assert all(len(header) <= purges.MAX_HEADER_CHARS for header in headers)
        assert node.keys() == set(keys)


def test_a_node_that_is_down_fails_the_task_after_the_others_are_purged(settings, nodes):
    down = f"http://127.0.0.1:{free_port()}/"
    refusing = nodes[1]
    refusing.status = 403
    settings.NEWSPORTAL_PURGE_URLS = [down, nodes[0].url, refusing.url]
    with pytest.raises(RuntimeError) as failed:
        purges.purge_keys.call(["home", "a:1"])
    assert nodes[0].keys() == {"home", "a:1"}
    assert "2 of 3 nodes" in str(failed.value) and "HTTP 403" in str(failed.value)


SCHEDULED_TASK = "articles.purges.purge_scheduled"


def schedule(article, when: dt.datetime, user=None) -> None:
    """An Editor's save of `article` as published at `when` (the one way editorial writes are made)."""
    article.status, article.published_at = Article.Status.PUBLISHED, when
    operations.save_as_edit(article, user or staff("desk", "Editors"), fields=["status", "published_at"])


def test_a_scheduled_article_is_purged_again_at_its_time(run_task_worker, purging, article,
                                                          django_capture_on_commit_callbacks):
    when = (timezone.now() + dt.timedelta(hours=2)).replace(microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        schedule(article, when)
    [scheduled] = DBTaskResult.objects.filter(task_path=SCHEDULED_TASK)
    assert scheduled.run_after == when and scheduled.args_kwargs["args"] == [article.pk, when.isoformat()]
    run_task_worker()  # the purge of the save itself runs now; the scheduled one waits for its time
    scheduled.refresh_from_db()
    assert scheduled.status == "READY"
    assert all(len(node.requests) == 1 for node in purging)


def test_a_schedule_moved_later_gets_its_own_purge_and_the_old_time_sends_none(
        purging, article, django_capture_on_commit_callbacks):
    first, later = ((timezone.now() + dt.timedelta(hours=n)).replace(microsecond=0) for n in (1, 3))
    editor = staff("desk", "Editors")
    with django_capture_on_commit_callbacks(execute=True):
        schedule(article, first, editor)
    with django_capture_on_commit_callbacks(execute=True):
        schedule(article, later, editor)
    assert sorted(DBTaskResult.objects.filter(task_path=SCHEDULED_TASK).values_list("run_after", flat=True)) == [
        first, later]
    for node in purging:
        node.requests.clear()
    # The old time's task, run at that time: the article is not due yet, so nothing is sent.
    assert purges.purge_scheduled.call(article.pk, first.isoformat())["purged"] is False
    assert all(node.requests == [] for node in purging)


def test_at_its_time_the_scheduled_articles_keys_are_purged(purging, article):
    assert purges.purge_scheduled.call(article.pk, article.published_at.isoformat())["purged"] is True
    for node in purging:
        assert {f"a:{article.pk}", "home", f"tag:{article.tags.get().pk}"} <= node.keys()


def test_a_cancelled_schedule_sends_nothing_at_the_old_time(purging, article):
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    assert purges.purge_scheduled.call(article.pk, article.published_at.isoformat())["purged"] is False
    assert all(node.requests == [] for node in purging)


def test_a_backend_that_cannot_defer_schedules_nothing(settings, purging, article, caplog,
                                                        django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        schedule(article, timezone.now() + dt.timedelta(hours=1))
    assert all(len(node.requests) == 1 for node in purging)  # the save's own purge, at once
    assert "cannot run tasks later" in caplog.text


def test_a_scheduled_purge_started_a_little_early_waits_for_the_time(purging, article):
    """RQ's scheduler keeps whole seconds: a job may start up to a second before its time."""
    when = timezone.now() + dt.timedelta(seconds=0.3)
    Article.objects.filter(pk=article.pk).update(published_at=when)
    assert purges.purge_scheduled.call(article.pk, when.isoformat())["purged"] is True
    assert timezone.now() >= when
    for node in purging:
        assert f"a:{article.pk}" in node.keys()
