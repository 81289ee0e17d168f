"""Every import_articles run is recorded as an ImportRun: counts, errors, options, and crashes."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from articles.importer import import_files
from articles.load import ArticleLoader
from articles.models import Article, ImportRun
from articles.parse import get_timezone
from tests.conftest import SEEDS, SHANGHAI, post

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
    assert result.exit_code == 1
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


def test_a_bad_option_is_refused_before_any_run(run_import):
    result = run_import(SEEDS, "--timezone", "Mars/Olympus")
    assert result.exit_code != 0 and not ImportRun.objects.exists()


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
