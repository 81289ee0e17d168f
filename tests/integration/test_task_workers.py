"""Task workers: bounded retries with backoff, failures shown in the admin, no task lost with a killed worker.

The database backend's worker is ours (newsroom/management/commands/db_worker.py
on newsportal/tasks.py); the RQ backend's is RQ's (newsportal/rq.py gives
its jobs RQ's Retry). Tasks used here: tests/tasks_support.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import PROJECT, SEEDS, production_env, settings_in
from tests.faults_support import manage, run_manage, subprocess_env
from tests.tasks_support import flaky, runs

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_backoff(settings):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 3
    settings.NEWSPORTAL_TASK_RETRY_SECONDS = 0


def row(result) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=result.id)


def test_a_failing_task_is_retried_then_fails_with_its_error_shown_in_the_admin(
        no_backoff, run_task_worker, tmp_path, admin_client):
    result = flaky.enqueue(str(tmp_path), 5)
    run_task_worker()
    failed = row(result)
    assert runs(tmp_path) == 3  # three attempts in all, then no more
    assert failed.status == "FAILED" and len(failed.worker_ids) == 3
    assert failed.exception_class_path == "builtins.RuntimeError"
    assert "flaky failure on run 3" in failed.traceback
    assert flaky.get_result(result.id).errors[0].traceback == failed.traceback

    listing = admin_client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist") + "?status=FAILED")
    assert listing.status_code == 200 and str(failed.pk) in listing.content.decode()
    page = admin_client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[failed.pk]))
    assert page.status_code == 200 and "flaky failure on run 3" in page.content.decode()


def test_a_task_that_fails_once_succeeds_on_its_retry(no_backoff, run_task_worker, tmp_path):
    result = flaky.enqueue(str(tmp_path), 1)
    run_task_worker()
    done = row(result)
    assert done.status == "SUCCESSFUL" and done.return_value == "succeeded on run 2"
    assert len(done.worker_ids) == 2 and runs(tmp_path) == 2


def test_retries_wait_a_doubling_backoff(settings, run_task_worker, tmp_path):
    settings.NEWSPORTAL_TASK_ATTEMPTS = 3
    settings.NEWSPORTAL_TASK_RETRY_SECONDS = 30
    result = flaky.enqueue(str(tmp_path), 5)
    for attempt, wait in ((1, 30), (2, 60)):
        before = timezone.now()
        run_task_worker()
        after = timezone.now()
        waiting = row(result)
        assert runs(tmp_path) == attempt  # the retry is not due yet: the worker ran it once
        assert waiting.status == "READY" and len(waiting.worker_ids) == attempt
        # The last attempt's error stays on the row while it waits.
        assert f"flaky failure on run {attempt}" in waiting.traceback
        assert before + dt.timedelta(seconds=wait) <= waiting.run_after <= after + dt.timedelta(seconds=wait)
        DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())  # time passes
    run_task_worker()
    assert row(result).status == "FAILED" and runs(tmp_path) == 3


def running_row(result, *holders: str, started: dt.datetime | None = None) -> None:
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", worker_ids=list(holders), started_at=started or timezone.now())


def test_tasks_of_dead_workers_run_again_when_a_worker_starts(no_backoff, run_task_worker, tmp_path, settings):
    host = socket.gethostname()
    dead = flaky.enqueue(str(tmp_path / "dead"), 0)
    running_row(dead, f"{host}:999999999:gone")  # no such process on this machine
    alive = flaky.enqueue(str(tmp_path / "alive"), 0)
    running_row(alive, "elsewhere:123:busy")  # another machine's worker, holding it for a moment
    stale = flaky.enqueue(str(tmp_path / "stale"), 0)
    settings.NEWSPORTAL_TASK_LOST_SECONDS = 600
    running_row(stale, "elsewhere:456:old", started=timezone.now() - dt.timedelta(seconds=601))
    for name in ("dead", "alive", "stale"):
        (tmp_path / name).mkdir()

    run_task_worker()
    assert row(dead).status == "SUCCESSFUL" and row(dead).return_value == "succeeded on run 1"
    assert row(stale).status == "SUCCESSFUL"
    assert row(alive).status == "RUNNING" and runs(tmp_path / "alive") == 0


def test_a_task_that_keeps_losing_its_worker_fails_in_the_end(no_backoff, run_task_worker, tmp_path):
    host = socket.gethostname()
    result = flaky.enqueue(str(tmp_path), 0)
    running_row(result, *(f"{host}:99999999{n}:gone" for n in range(3)))  # its third worker was lost too
    run_task_worker()
    failed = row(result)
    assert failed.status == "FAILED" and failed.exception_class_path == "newsportal.tasks.WorkerLost"
    assert "attempt 3 of 3" in failed.traceback and runs(tmp_path) == 0


# --- real workers in their own processes -------------------------------------------------


def wait_for(path, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"worker exited early: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path.name} not seen within {seconds} s"
        time.sleep(0.1)


def shell(database_url: str, code: str, **env: str):
    done = subprocess.run([sys.executable, str(PROJECT / "manage.py"), "shell", "-v0", "-c", code], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, env=subprocess_env(database_url, **env))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_db_a_worker_killed_mid_task_loses_nothing(scratch_db, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    task_id = shell(scratch_db, "import json; from tests.tasks_support import hold_first_run; "
                                f"print(json.dumps(hold_first_run.enqueue({str(work)!r}).id))")
    worker = manage(scratch_db, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2")
    try:
        wait_for(work / "started-1", worker)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=30)
    read = ("import json; from django_tasks_db.models import DBTaskResult; "
            f"r = DBTaskResult.objects.get(pk={task_id!r}); "
            "print(json.dumps([r.status, r.worker_ids, r.return_value]))")
    status, holders, _ = shell(scratch_db, read)
    assert status == "RUNNING" and len(holders) == 1 and f":{worker.pid}:" in holders[0]

    done = run_manage(scratch_db, "db_worker", "--batch", "--no-reload", "--no-startup-delay", timeout=120)
    assert done.returncode == 0, done.stderr
    status, holders, value = shell(scratch_db, read)
    assert (status, value) == ("SUCCESSFUL", "finished on run 2") and len(holders) == 2
    assert runs(work) == 2


def rq_env(redis_url: str) -> dict[str, str]:
    return {"NEWSPORTAL_TASK_BACKEND": "rq", "NEWSPORTAL_REDIS_URL": redis_url,
            "NEWSPORTAL_TASK_RETRY_SECONDS": "0", "NEWSPORTAL_TASK_ATTEMPTS": "3"}


def rq_worker(database_url: str, redis_url: str, *args: str) -> subprocess.Popen:
    """RQ's worker as production runs it (with its scheduler), in a session of its own."""
    return manage(database_url, "rqworker", "default", "--with-scheduler", *args,
                  env=subprocess_env(database_url, **rq_env(redis_url)), start_new_session=True)


def rq_work_until_done(database_url: str, redis_url: str, jobs: int, seconds: float = 120) -> None:
    """Run RQ's worker (as production does) until `jobs` jobs have finished or failed, then stop it.

    Not `--burst`: a worker that is done can wait about a minute in its
    pub/sub thread before it exits (rq issue #1613), for nothing here.
    """
    import redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    connection = redis.Redis.from_url(redis_url)
    queue = Queue("default", connection=connection)
    registries = [registry("default", connection=connection)
                  for registry in (FinishedJobRegistry, FailedJobRegistry, StartedJobRegistry, ScheduledJobRegistry)]
    worker = rq_worker(database_url, redis_url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            finished, failed, started, scheduled = (registry.count for registry in registries)
            if finished + failed >= jobs and not (started or scheduled or queue.count):
                return
            if worker.poll() is not None:
                raise AssertionError(f"RQ worker exited: {worker.communicate()}")
            assert time.monotonic() < deadline, f"RQ jobs not done within {seconds} s"
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=30)


READ_RQ = ("import json; from django_tasks import default_task_backend as b; r = b.get_result({!r}); "
           "print(json.dumps([r.status, r.return_value if r.is_finished and r.status == 'SUCCESSFUL' else None, "
           "[e.traceback for e in r.errors]]))")


@pytest.mark.slow
def test_rq_a_failing_task_is_retried_then_fails_with_its_errors(scratch_db, redis_url, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = rq_env(redis_url)
    task_id = shell(scratch_db, "import json; from tests.tasks_support import flaky; "
                                f"print(json.dumps(flaky.enqueue({str(work)!r}, 5).id))", **env)
    rq_work_until_done(scratch_db, redis_url, jobs=1)
    assert runs(work) == 3
    status, value, errors = shell(scratch_db, READ_RQ.format(task_id), **env)
    assert status == "FAILED" and value is None
    assert errors and "flaky failure on run 3" in errors[-1]


@pytest.mark.slow
def test_rq_a_worker_killed_mid_task_loses_nothing(scratch_db, redis_url, tmp_path):
    import redis
    from rq.registry import StartedJobRegistry

    work = tmp_path / "work"
    work.mkdir()
    env = rq_env(redis_url)
    task_id = shell(scratch_db, "import json; from tests.tasks_support import hold_first_run; "
                                f"print(json.dumps(hold_first_run.enqueue({str(work)!r}).id))", **env)
    worker = rq_worker(scratch_db, redis_url, "--worker-class", "tests.tasks_support.QuickHeartbeatWorker")
    try:
        wait_for(work / "started-1", worker)
    finally:
        # The worker, its scheduler and its work horse (a session of its own,
        # running the task): as if the machine were gone.
        os.killpg(worker.pid, signal.SIGKILL)
        if (work / "started-1").exists():
            horse = int((work / "started-1").read_text())
            assert horse != worker.pid
            os.kill(horse, signal.SIGKILL)
        worker.communicate(timeout=30)
    connection = redis.Redis.from_url(redis_url)
    registry = StartedJobRegistry("default", connection=connection)
    [entry] = connection.zrange(registry.key, 0, -1, withscores=True)
    assert entry[0].decode().startswith(task_id)
    # RQ sees a job abandoned once its heartbeat has expired (its monitoring interval + 60 s).
    wait = entry[1] - time.time() + 1
    assert wait < 120, wait
    time.sleep(max(0.0, wait))

    rq_work_until_done(scratch_db, redis_url, jobs=1)  # a worker cleans the registries when it starts
    status, value, _ = shell(scratch_db, READ_RQ.format(task_id), **env)
    assert (status, value) == ("SUCCESSFUL", "finished on run 2") and runs(work) == 2


# --- end to end: an import's keyword suggestions, on each backend ----------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["db", "rq"])
def test_an_imports_suggestions_are_made_by_the_backends_worker(backend, scratch_db, request):
    env = {"NEWSPORTAL_TASK_BACKEND": backend}
    if backend == "rq":
        env = rq_env(request.getfixturevalue("redis_url"))
    imported = subprocess.run([sys.executable, str(PROJECT / "manage.py"), "import_articles", str(SEEDS)],
                              cwd=PROJECT, capture_output=True, text=True, timeout=300,
                              env=subprocess_env(scratch_db, **env))
    assert imported.returncode == 0, imported.stderr
    count = ("import json; from articles.models import Article, TagSuggestion; "
             "print(json.dumps([Article.objects.count(), "
             "TagSuggestion.objects.values('article').distinct().count()]))")
    articles, suggested = shell(scratch_db, count, **env)
    assert articles > 0 and suggested == 0  # queued, not computed by the import

    if backend == "db":
        worker = run_manage(scratch_db, "db_worker", "--batch", "--no-reload", "--no-startup-delay", timeout=300)
        assert worker.returncode == 0, worker.stderr
    else:
        rq_work_until_done(scratch_db, env["NEWSPORTAL_REDIS_URL"], jobs=1)  # the seeds: one batch
    articles, suggested = shell(scratch_db, count, **env)
    assert suggested == articles  # the seeds all have text to suggest from


QUEUE_UPLOAD = (
    "import json; from django.core.files.uploadedfile import SimpleUploadedFile; "
    "from importing.service import ImportOptions; from importing.tasks import queue_upload; "
    "from importing.upload import UploadLimits, UploadSource, inspect_upload; "
    "limits = UploadLimits.from_settings(); "
    "uploads = [inspect_upload(SimpleUploadedFile(p.name, p.read_bytes()), limits) "
    "for p in sorted(__import__('pathlib').Path({seeds!r}).glob('*.txt'))]; "
    "run = queue_upload(UploadSource(uploads, limits), ImportOptions(workers=0), None); "
    "print(json.dumps(run.pk))")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["db", "rq"])
def test_an_upload_is_imported_by_the_backends_worker(backend, scratch_db, request, tmp_path, monkeypatch):
    """The admin's upload (importing.tasks): queued with its files in the spool, imported by the worker."""
    spool = tmp_path / "spool"
    monkeypatch.setenv("NEWSPORTAL_IMPORT_SPOOL_DIR", str(spool))  # the same spool for every process
    env = {"NEWSPORTAL_TASK_BACKEND": backend}
    if backend == "rq":
        env = rq_env(request.getfixturevalue("redis_url"))
    run_id = shell(scratch_db, QUEUE_UPLOAD.format(seeds=str(SEEDS)), **env)
    read = ("import json; from articles.models import Article, ImportRun; "
            f"r = ImportRun.objects.get(pk={run_id}); "
            "print(json.dumps([r.status, r.created, r.pid, Article.objects.count()]))")
    assert shell(scratch_db, read, **env) == ["queued", 0, None, 0]
    assert len(list(spool.iterdir())) == 2  # the seeds' two posts

    if backend == "db":
        worker = run_manage(scratch_db, "db_worker", "--batch", "--no-reload", "--no-startup-delay", timeout=300)
        assert worker.returncode == 0, worker.stderr
    else:
        rq_work_until_done(scratch_db, env["NEWSPORTAL_REDIS_URL"], jobs=2)  # the import, then its suggestions
    status, created, pid, articles = shell(scratch_db, read, **env)
    assert (status, created, articles) == ("succeeded", 2, 2) and pid is not None
    assert list(spool.iterdir()) == []


# --- choosing the backend by configuration ---------------------------------------------------


@pytest.mark.slow
def test_the_backend_is_chosen_by_configuration_alone():
    def backend(**env: str) -> dict:
        return settings_in(production_env(**env), "TASKS", "RQ_QUEUES", "INSTALLED_APPS")

    default = backend()
    assert default["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in default["INSTALLED_APPS"] and "django_rq" not in default["INSTALLED_APPS"]

    rq = backend(NEWSPORTAL_TASK_BACKEND="rq", CACHE_URL="redis://cache.internal:6379/1")
    assert rq["TASKS"]["default"]["BACKEND"] == "newsportal.rq.RetryingRQBackend"
    assert rq["RQ_QUEUES"]["default"]["URL"] == "redis://cache.internal:6379/1"  # the cache's Redis by default
    assert "django_rq" in rq["INSTALLED_APPS"]
    own = backend(NEWSPORTAL_TASK_BACKEND="rq", NEWSPORTAL_REDIS_URL="redis://queue.internal:6379/0",
                  CACHE_URL="redis://cache.internal:6379/1")
    assert own["RQ_QUEUES"]["default"]["URL"] == "redis://queue.internal:6379/0"


@pytest.mark.slow
@pytest.mark.parametrize("env, message", [
    ({"NEWSPORTAL_TASK_BACKEND": "rq"}, "NEWSPORTAL_TASK_BACKEND=rq needs NEWSPORTAL_REDIS_URL"),
    ({"NEWSPORTAL_TASK_BACKEND": "celery"}, "unknown backend 'celery' (use db, rq or immediate)"),
])
def test_a_wrong_task_configuration_stops_the_start_with_a_reason(env, message):
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=PROJECT,
                          env=production_env(**env), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr and message in done.stderr
