"""Uploads imported by a task (importing.tasks): the request queues, the worker imports, the run's page follows.

tests/importing/test_upload.py checks what is imported and refused, through
the same flow; here: what happens between the request and the import, the
run's JSON, the spool, retries and failures of the task.
"""

from __future__ import annotations

import math
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.models import Article, ContentVersion, ImportRun
from importing import tasks as upload_tasks
from importing.runs import mark_interrupted_runs, record_progress
from importing.pipeline import import_files
from importing.service import ImportOptions, PathSource, run_import
from tests.factories import ended_process_pid, post, staff

pytestmark = pytest.mark.django_db

UPLOAD = "admin:articles_importrun_upload"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def desk(desk, client):
    client.force_login(desk)
    return desk


def story_file(name: str, title: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, post(title=f"'{title}'").encode(), content_type="application/octet-stream")


@pytest.fixture
def queue(client, desk, spool_dir, django_capture_on_commit_callbacks):
    """Post files to the upload page and return the queued run (the worker has not run)."""

    def send(*files: SimpleUploadedFile) -> ImportRun:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(UPLOAD), {"files": list(files), "time_zone": "Asia/Shanghai"})
        assert response.status_code == 303, response.content.decode()[:500]
        run = ImportRun.objects.latest()
        assert response["Location"] == reverse("admin:articles_importrun_change", args=[run.pk])
        return run

    return send


def progress(client, run: ImportRun):
    return client.get(reverse("admin:articles_importrun_progress", args=[run.pk]))


def spooled(spool_dir) -> list[str]:
    return sorted(path.name for path in spool_dir.iterdir())


def test_the_request_returns_before_the_import_runs(client, queue, spool_dir):
    run = queue(story_file("a.md", "排队的文章"), story_file("b.md", "另一篇"))
    assert run.status == ImportRun.Status.QUEUED and run.sources == ["a.md", "b.md"] and run.pid is None
    assert not Article.objects.exists()  # nothing imported in the request
    assert spooled(spool_dir) == [f"{run.pk}-0", f"{run.pk}-1"]
    task = DBTaskResult.objects.get(pk=run.task_id)
    assert task.status == "READY" and task.task_path == "importing.tasks.import_upload" and task.args_kwargs[
        "args"] == [run.pk]

    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert 'data-in-progress="1"' in page and "<progress" in page and "queued" in page
    assert "waiting for a task worker" in page
    assert 'id="import-run-reload"' in page  # with scripts off, a link reloads
    assert "js/import-run.js" in page
    state = progress(client, run).json()
    assert state["status"] == "queued" and state["in_progress"] is True and state["files_total"] is None


def test_the_worker_imports_the_run_and_removes_its_files(client, queue, spool_dir, run_task_worker):
    run = queue(story_file("a.md", "工人导入"))
    assert spooled(spool_dir)
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.created == 1
    assert (run.files_done, run.files_total) == (1, 1)
    assert (run.host, run.pid) != ("", None)  # the worker's process ran it
    assert Article.objects.get().source_path == "upload:a.md"
    assert spooled(spool_dir) == []
    assert ImportRun.objects.count() == 1  # the queued run itself, no second one

    state = progress(client, run).json()
    assert state["status"] == "succeeded" and state["in_progress"] is False
    assert (state["files_done"], state["files_total"], state["created"]) == (1, 1, 1)
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert 'data-in-progress="0"' in page and "1 created, 0 updated" in page
    assert 'id="import-run-reload"' not in page


def test_the_json_reports_progress_and_needs_the_permission_to_view_runs(client, queue):
    run = queue(story_file("a.md", "进度"))
    record_progress(run, done=3, total=10)
    state = progress(client, run).json()
    assert (state["files_done"], state["files_total"], state["files_text"]) == (3, 10, "3 of 10 files")
    assert "no-store" in progress(client, run)["Cache-Control"]
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert 'max="10" value="3"' in page

    client.force_login(staff("writer", "Authors"))
    assert progress(client, run).status_code == 403
    client.logout()
    anonymous = progress(client, run)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("admin:login"))


def test_progress_is_written_once_a_batch_and_bumps_no_content_generation(tmp_path, settings):
    for n in range(5):
        (tmp_path / f"{n}.md").write_text(post(title=f"'第{n}篇'"), encoding="utf-8")
    settings.NEWSPORTAL_IMPORT_SPOOL_DIR = tmp_path / "spool"
    with CaptureQueriesContext(connection) as queries:
        report = run_import(PathSource([tmp_path]), ImportOptions(batch_size=2, workers=0))
    run = report.run
    assert (run.files_done, run.files_total) == (5, 5)
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].startswith("UPDATE") and "files_done" in q["sql"] and "importrun" in q["sql"]]
    # The total, then at most one a batch (or a second), then the last: never one a file.
    assert 2 <= len(writes) <= 1 + math.ceil(5 / 2) + 1

    generation = ContentVersion.objects.values_list("generation", flat=True).first()
    with CaptureQueriesContext(connection) as queries:
        record_progress(run, done=4)
    assert ContentVersion.objects.values_list("generation", flat=True).first() == generation
    assert not any("contentversion" in q["sql"] for q in queries.captured_queries)


def test_a_task_run_twice_imports_once(client, queue, run_task_worker):
    run = queue(story_file("a.md", "只导一次"))
    run_task_worker()
    upload_tasks.import_upload.enqueue(run.pk)  # again, as a retry would
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and (run.created, run.unchanged) == (1, 0)
    assert ImportRun.objects.count() == 1 and Article.objects.count() == 1


def test_a_run_left_running_by_a_killed_worker_is_imported_by_the_retry(queue, spool_dir, run_task_worker, settings):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 3
    settings.NEWSPORTAL_TASK_RETRY_SECONDS = 0
    run = queue(story_file("a.md", "重试"))
    host, dead = socket.gethostname(), ended_process_pid()
    # The first worker took the task and the run, and was killed (SIGKILL) before recording anything.
    DBTaskResult.objects.filter(pk=run.task_id).update(status="RUNNING", worker_ids=[f"{host}:{dead}:gone"])
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING, host=host, pid=dead)
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.created == 1 and run.failure_reason == ""
    assert ImportRun.objects.count() == 1 and Article.objects.count() == 1
    assert DBTaskResult.objects.get(pk=run.task_id).status == "SUCCESSFUL"
    assert spooled(spool_dir) == []


def test_queued_runs_are_not_marked_interrupted():
    queued = ImportRun.objects.create(origin=ImportRun.Origin.UPLOAD, status=ImportRun.Status.QUEUED,
                                      sources=["a.md"], time_zone="UTC")
    dead = ImportRun.objects.create(origin=ImportRun.Origin.UPLOAD, sources=["b.md"], time_zone="UTC",
                                    host=socket.gethostname(), pid=ended_process_pid())
    assert mark_interrupted_runs() == 1
    queued.refresh_from_db()
    dead.refresh_from_db()
    assert queued.status == ImportRun.Status.QUEUED and dead.status == ImportRun.Status.INTERRUPTED


def test_an_import_that_keeps_failing_leaves_a_failed_run_with_its_reason(
        client, queue, spool_dir, run_task_worker, settings, monkeypatch):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 2
    settings.NEWSPORTAL_TASK_RETRY_SECONDS = 0

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("importing.service.import_files", full_disk)
    run = queue(story_file("a.md", "失败"))
    run_task_worker()
    run.refresh_from_db()
    task = DBTaskResult.objects.get(pk=run.task_id)
    assert task.status == "FAILED" and len(task.worker_ids) == 2  # retried once, then given up
    assert run.status == ImportRun.Status.FAILED
    assert run.failure_reason == "OSError: [Errno 28] No space left on device"
    assert spooled(spool_dir) == []  # the last attempt removed the files
    state = progress(client, run).json()
    assert state["status"] == "failed" and state["in_progress"] is False
    assert "No space left on device" in state["failure_reason"]


def test_a_failed_attempt_waits_queued_for_its_retry_with_the_files_kept(
        queue, spool_dir, run_task_worker, settings, monkeypatch):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 2
    settings.NEWSPORTAL_TASK_RETRY_SECONDS = 600  # the retry is not due within this test

    def lost_connection(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr("importing.service.import_files", lost_connection)
    run = queue(story_file("a.md", "等重试"))
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.QUEUED
    assert run.failure_reason.startswith("attempt 1 of 2 failed (ConnectionError: database went away)")
    assert spooled(spool_dir) == [f"{run.pk}-0"]

    monkeypatch.setattr("importing.service.import_files", import_files)  # the database is back
    DBTaskResult.objects.filter(pk=run.task_id).update(run_after=timezone.now())  # time passes
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.failure_reason == "" and run.created == 1
    assert spooled(spool_dir) == []


def test_a_task_whose_last_worker_was_killed_shows_its_run_failed(client, queue, spool_dir, run_task_worker,
                                                                   settings):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 3
    run = queue(story_file("a.md", "被杀"))
    host, dead = socket.gethostname(), ended_process_pid()
    # Killed on every attempt: the worker gives the task up (newsportal.tasks), the run cannot know.
    DBTaskResult.objects.filter(pk=run.task_id).update(
        status="RUNNING", worker_ids=[f"{host}:{dead}:gone"] * 3)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING, host=host, pid=dead)
    run_task_worker()
    assert DBTaskResult.objects.get(pk=run.task_id).status == "FAILED"

    state = progress(client, run).json()
    assert state["status"] == "failed"
    assert "the import task failed for good" in state["failure_reason"] and "WorkerLost" in state["failure_reason"]
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert "WorkerLost" in page and 'data-in-progress="0"' in page
    assert spooled(spool_dir) == [] and not Article.objects.exists()


def test_a_run_whose_files_are_gone_fails_with_the_reason(queue, spool_dir, run_task_worker):
    run = queue(story_file("a.md", "丢了"))
    for path in spool_dir.iterdir():
        path.unlink()
    run_task_worker()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and "gone from the import spool" in run.failure_reason


def test_the_spool_is_readable_by_the_app_alone(queue, spool_dir):
    run = queue(story_file("a.md", "私密"))
    assert (spool_dir / f"{run.pk}-0").stat().st_mode & 0o777 == 0o600


@pytest.fixture
def immediate(settings, monkeypatch):
    """The immediate task backend: a task runs in the process that enqueues it, once.

    Keyword suggestions (jieba, seconds) are left out: the import would run them at once too."""
    monkeypatch.setattr("importing.service.enqueue_suggestions", lambda ids: None)
    settings.NEWSPORTAL_TASK_BACKEND = "immediate"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_with_the_immediate_backend_the_upload_is_imported_by_its_request(immediate, queue, spool_dir):
    run = queue(story_file("a.md", "立即"))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.created == 1 and spooled(spool_dir) == []


def test_with_the_immediate_backend_a_failed_import_is_failed_not_left_waiting(
        immediate, queue, spool_dir, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("importing.service.import_files", full_disk)
    run = queue(story_file("a.md", "立即失败"))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and "No space left" in run.failure_reason
    assert spooled(spool_dir) == []


def test_a_run_whose_worker_was_killed_waits_again_for_the_retry(client, queue, settings):
    from newsportal.tasks import recover_lost_tasks

    settings.NEWSPORTAL_TASK_ATTEMPTS = 3
    run = queue(story_file("a.md", "等待重试"))
    host, dead = socket.gethostname(), ended_process_pid()
    DBTaskResult.objects.filter(pk=run.task_id).update(status="RUNNING", worker_ids=[f"{host}:{dead}:gone"])
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING, host=host, pid=dead)
    assert recover_lost_tasks("default") == [run.task_id]  # what a starting worker does first

    state = progress(client, run).json()  # the page marks the dead process's run, and sees the retry
    assert state["status"] == "queued" and state["in_progress"] is True
    assert f"pid {dead}" in state["failure_reason"] and state["failure_reason"].endswith("it will be tried again")
