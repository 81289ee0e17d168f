"""Every import_articles run is recorded as an ImportRun: counts, errors, options, and crashes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
from django.db import DatabaseError
from django.urls import reverse

from importing import runs as import_runs

from importing.pipeline import import_files
from importing.load import ArticleLoader
from articles.models import Article, ImportRun
from importing.parse import get_timezone
from tests.factories import SEEDS, SHANGHAI, post

pytestmark = pytest.mark.django_db


def test_the_command_records_a_run_of_the_seeds(run_import):
    result = run_import(SEEDS)
    assert result.exit_code == 0
    run = ImportRun.objects.get()
    assert run.origin == ImportRun.Origin.COMMAND and run.user is None
    user, _, host = run.system_user.partition("@")
    assert user and host
    assert run.sources == [str(SEEDS)] and run.time_zone == "Asia/Shanghai"
    assert not run.dry_run and not run.overwrite_edited
    assert (run.created, run.updated, run.unchanged, run.kept_local_edits, run.failed) == (2, 0, 0, 0, 0)
    assert run.errors == [] and run.status == ImportRun.Status.SUCCEEDED
    assert run.started_at <= run.finished_at

    run_import(SEEDS)
    again = ImportRun.objects.latest()
    assert again.pk != run.pk and (again.created, again.unchanged) == (0, 2)


@pytest.mark.corpus
def test_the_real_corpus_run_records_147_created_and_3_failed(run_import, corpus_dir):
    result = run_import(corpus_dir)
    run = ImportRun.objects.get()
    assert (run.created, run.updated, run.unchanged, run.failed) == (147, 0, 0, 3)
    assert run.status == ImportRun.Status.WITH_ERRORS
    assert run.errors == result.error_lines  # the same lines the operator saw on stderr
    names = sorted(line.split(": ", 1)[0].rsplit("/", 1)[-1] for line in run.errors)
    assert names == sorted([" .md", "gameres_ .md", "\"\"\"\"\"\"\"'第10集'\"\"\"\"\"\"\".md"])


def test_failed_and_missing_files_are_recorded_one_line_each(run_import, write_post, tmp_path):
    write_post("in/good.md", post(title="'好'"))
    bad = write_post("in/bad.md", "---\ntitle: [unclosed\ndate: 2022-01-01\n---\nbody")
    result = run_import(bad.parent, tmp_path / "nowhere", "--overwrite-edited", "--timezone", "UTC")
    assert result.exit_code == 3  # some files failed
    run = ImportRun.objects.get()
    assert (run.created, run.failed) == (1, 2)
    assert run.errors == result.error_lines
    assert run.errors[0] == f"{tmp_path / 'nowhere'}: no such file or directory"
    assert str(bad) in run.errors[1] and "invalid YAML" in run.errors[1]
    assert run.overwrite_edited and run.time_zone == "UTC"


def test_a_dry_run_is_recorded_as_one(run_import):
    run_import(SEEDS, "--dry-run")
    run = ImportRun.objects.get()
    assert run.dry_run and run.created == 2 and run.status == ImportRun.Status.SUCCEEDED
    assert not Article.objects.exists()


def test_a_run_that_crashes_is_recorded_as_failed_with_the_reason(run_import, monkeypatch):
    def lose_the_connection(self):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(ArticleLoader, "finish", lose_the_connection)
    result = run_import(SEEDS)
    # One clear line, not a traceback (#6).
    assert result.exit_code == 1
    assert "import failed: database error: server closed the connection unexpectedly" in result.stderr
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED and run.finished_at is not None
    assert run.failure_reason == "DatabaseError: server closed the connection unexpectedly"


def test_a_run_that_fails_after_committing_batches_records_their_counts(run_import, write_post, monkeypatch):
    write_last_batch = ArticleLoader.finish

    def write_then_lose_the_connection(self):
        write_last_batch(self)
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(ArticleLoader, "finish", write_then_lose_the_connection)
    for n in range(5):
        write_post(f"in/{n}.md", post(title=f"'第{n}篇'"))
    write_post("in/bad.md", post(date="2021-02-30"))
    result = run_import(write_post("in/0.md", post(title="'第0篇'")).parent, "--batch-size", "2")
    assert result.exit_code == 1
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED and "server closed the connection" in run.failure_reason
    # Before #14 item 2 a failed run recorded "created 0" although its batches were committed.
    assert (run.created, run.failed) == (Article.objects.count(), 1) == (5, 1)
    assert "bad.md: date '2021-02-30' is not a valid date" in run.errors[0]


@pytest.mark.parametrize("option, value, problem", [
    ("--timezone", "Mars/Olympus", "--timezone: "),
    ("--max-bytes", "0", "argument --max-bytes: must be positive"),
    ("--batch-size", "-5", "argument --batch-size: must be positive"),
    ("--batch-size", "十", "argument --batch-size: '十' is not a whole number"),
    ("--workers", "-1", "argument --workers: must be 0 or more"),
])
def test_a_bad_option_is_named_and_refused_before_any_run(run_import, option, value, problem):
    result = run_import(SEEDS, option, value)
    assert result.exit_code != 0 and problem in result.stderr
    assert not ImportRun.objects.exists() and not Article.objects.exists()


def test_import_files_names_each_file_when_asked(write_post):
    path = write_post("tmp-123/post.md", post(title="'命名'"))
    oversize = write_post("tmp-123/big.md", post(title="'大'", body="<p>" + "字" * 300 + "</p>"))
    report = import_files([path, oversize], tz=SHANGHAI, max_bytes=500, workers=0,
                          names=["upload:a.zip/post.md", "upload:a.zip/big.md"])
    assert report.created == 1
    assert Article.objects.get().source_path == "upload:a.zip/post.md"
    assert len(report.errors) == 1 and report.errors[0].startswith("upload:a.zip/big.md: file is ")
    with pytest.raises(ValueError):
        import_files([path], tz=get_timezone("UTC"), names=[])


# -- runs whose process died (#6) ---------------------------------------------------


def test_a_run_records_the_process_that_ran_it(run_import):
    run_import(SEEDS)
    run = ImportRun.objects.get()
    assert (run.host, run.pid) == (socket.gethostname(), os.getpid())
    assert run.process_started == import_runs.process_start_time(os.getpid())
    if os.path.isdir("/proc"):
        assert run.process_started is not None


def running_run(**process) -> ImportRun:
    """A run left "running", as a process that never recorded its end leaves it."""
    return ImportRun.objects.create(origin=ImportRun.Origin.COMMAND, sources=["/archive"], time_zone="UTC",
                                    **process)


def ended_process_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    assert process.wait(timeout=60) == 0
    return process.pid


def test_a_run_whose_process_ended_is_marked_interrupted_when_the_admin_lists_runs(admin_client):
    pid = ended_process_pid()
    dead = running_run(host=socket.gethostname(), pid=pid, process_started=12345)
    page = admin_client.get(reverse("admin:articles_importrun_changelist")).content.decode()
    dead.refresh_from_db()
    assert dead.status == ImportRun.Status.INTERRUPTED
    assert dead.failure_reason == (f"the import process (pid {pid} on {socket.gethostname()}) ended without "
                                   "recording its end (killed, or the database could not be written); "
                                   "run the import again to complete it")
    assert '<td class="field-run_status">已中断</td>' in page  # "interrupted" (the admin speaks Chinese)
    detail = admin_client.get(reverse("admin:articles_importrun_change", args=[dead.pk])).content.decode()
    shown = dict(re.findall(r'field-(host|pid)\b.*?<div class="readonly">(.*?)</div>', detail, re.DOTALL))
    assert shown == {"host": socket.gethostname(), "pid": str(pid)}


def test_a_run_whose_process_still_runs_stays_running():
    me = os.getpid()
    alive = running_run(host=socket.gethostname(), pid=me, process_started=import_runs.process_start_time(me))
    assert import_runs.mark_interrupted_runs() == 0
    alive.refresh_from_db()
    assert alive.status == ImportRun.Status.RUNNING and alive.failure_reason == ""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="the process start time comes from /proc")
def test_a_pid_reused_by_a_later_process_is_not_mistaken_for_the_run():
    me = os.getpid()
    reused = running_run(host=socket.gethostname(), pid=me, process_started=import_runs.process_start_time(me) - 1)
    assert import_runs.mark_interrupted_runs() == 1
    reused.refresh_from_db()
    assert reused.status == ImportRun.Status.INTERRUPTED


def test_runs_of_another_host_cannot_be_checked_and_show_their_host(admin_client):
    elsewhere = running_run(host="importer-2.example", pid=ended_process_pid())
    from_before_0016 = running_run()  # no process recorded
    page = admin_client.get(reverse("admin:articles_importrun_changelist")).content.decode()
    assert '<td class="field-run_status">在 importer-2.example 上进行中</td>' in page  # "running on …"
    assert '<td class="field-run_status">进行中</td>' in page  # the run from before 0016: "running"
    for run in (elsewhere, from_before_0016):
        run.refresh_from_db()
        assert run.status == ImportRun.Status.RUNNING


def test_a_new_import_marks_the_dead_run_before_it_starts(run_import):
    dead = running_run(host=socket.gethostname(), pid=ended_process_pid())
    assert run_import(SEEDS).exit_code == 0
    dead.refresh_from_db()
    assert dead.status == ImportRun.Status.INTERRUPTED
    assert ImportRun.objects.exclude(pk=dead.pk).get().status == ImportRun.Status.SUCCEEDED
