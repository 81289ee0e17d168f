"""import_articles as a scheduled job: exit codes that tell "some files failed", "another
import holds the lock" and "crashed" apart, timestamped output, and prune_import_runs."""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from articles.models import Article, ImportRun
from importing.management.commands.import_articles import EXIT_FILES_FAILED, EXIT_LOCKED
from tests.factories import PROJECT, SEEDS, post
from tests.faults_support import subprocess_env

pytestmark = pytest.mark.django_db(transaction=False)

STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def test_another_import_holding_the_lock_exits_75_and_does_nothing(run_import, tmp_path):
    lock = tmp_path / "import.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running import holds it
        refused = run_import("--lock", lock, SEEDS)
    assert refused.exit_code == EXIT_LOCKED == 75
    assert "another import holds the lock" in refused.stderr and str(lock) in refused.stderr
    assert not Article.objects.exists() and not ImportRun.objects.exists()  # nothing read, nothing recorded

    done = run_import("--lock", lock, SEEDS)  # the lock released: the next run goes ahead
    assert done.exit_code == 0, done.stderr
    assert Article.objects.count() == 2


def test_some_files_failed_exits_3_and_the_rest_is_imported(run_import, write_post):
    write_post("in/bad.md", "no front matter")
    result = run_import(write_post("in/good.md", post(title="'可以'")).parent)
    assert result.exit_code == EXIT_FILES_FAILED == 3
    assert "created 1, updated 0, unchanged 0, failed 1" in result.stdout
    assert Article.objects.filter(title="可以").exists()


def test_timestamps_begin_every_output_line(write_post):
    write_post("in/bad.md", "no front matter")
    path = write_post("in/good.md", post(title="'可以'")).parent
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_articles", "--timestamps", str(path), stdout=out, stderr=err)
    assert failed.value.returncode == EXIT_FILES_FAILED
    lines = [*out.getvalue().splitlines(), *err.getvalue().splitlines()]
    assert lines and all(STAMPED.match(line) for line in lines), lines
    stamp = dt.datetime.fromisoformat(lines[0].split(" ", 1)[0])
    assert abs(stamp - timezone.now()) < dt.timedelta(minutes=5)
    assert any(line.endswith("created 1, updated 0, unchanged 0, failed 1") for line in lines)


@pytest.mark.slow  # manage.py in processes of its own
def test_the_process_exit_codes(scratch_db, tmp_path):
    def manage(*args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", "import_articles", "--timestamps", *map(str, args)],
                              cwd=PROJECT, env=subprocess_env(scratch_db), capture_output=True, text=True,
                              timeout=300)

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.md").write_text("no front matter")
    failed = manage(tmp_path / "in")
    assert failed.returncode == 3, failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert STAMPED.match(last) and last.endswith("CommandError: 1 file(s) failed to import")
    assert manage("--lock", tmp_path / "no" / "such" / "dir" / "lock", SEEDS).returncode == 2
    assert manage(SEEDS).returncode == 0


# --- prune_import_runs ---------------------------------------------------------------


def make_run(days_ago: float, status: str = ImportRun.Status.SUCCEEDED) -> ImportRun:
    started = timezone.now() - dt.timedelta(days=days_ago)
    return ImportRun.objects.create(origin=ImportRun.Origin.COMMAND, status=status, time_zone="Asia/Shanghai",
                                    started_at=started, finished_at=started + dt.timedelta(minutes=1))


def test_prune_import_runs_deletes_finished_runs_older_than_asked(run_import):
    assert run_import(SEEDS).exit_code == 0
    recent = ImportRun.objects.get()
    ImportRun.objects.filter(pk=recent.pk).update(started_at=timezone.now() - dt.timedelta(days=100))
    old = [make_run(91), make_run(200, ImportRun.Status.FAILED), make_run(120, ImportRun.Status.INTERRUPTED)]
    kept = [make_run(89), make_run(365, ImportRun.Status.RUNNING), make_run(365, ImportRun.Status.QUEUED)]

    out = io.StringIO()
    call_command("prune_import_runs", "--older-than", "90d", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "would delete 4 import run(s)"
    assert ImportRun.objects.count() == 7

    out = io.StringIO()
    call_command("prune_import_runs", "--older-than", "90d", stdout=out)
    assert out.getvalue().strip() == "deleted 4 import run(s)"
    assert set(ImportRun.objects.values_list("pk", flat=True)) == {run.pk for run in kept}
    assert not ImportRun.objects.filter(pk__in=[run.pk for run in old]).exists()
    assert Article.objects.count() == 2  # the articles the pruned run wrote stay


@pytest.mark.parametrize("span", ["90", "0d", "d", "-3d", "90x", "1.5d"])
def test_prune_import_runs_refuses_a_span_it_cannot_read(span):
    with pytest.raises(CommandError, match="older-than"):
        call_command("prune_import_runs", "--older-than", span)


def test_prune_import_runs_spans_in_hours_and_weeks():
    make_run(0.5), make_run(15)
    call_command("prune_import_runs", "--older-than", "2w", stdout=io.StringIO())
    assert ImportRun.objects.count() == 1
    call_command("prune_import_runs", "--older-than", "1h", stdout=io.StringIO())
    assert not ImportRun.objects.exists()
