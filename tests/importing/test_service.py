"""importing.service.run_import: the one entry point, for paths and for uploads alike, and its one report."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from articles.models import Article, ImportRun
from importing.report import ImportReport
from importing.service import ImportOptions, PathSource, run_import
from importing.upload import UploadLimits, UploadSource, inspect_upload
from tests.factories import SEEDS, post

pytestmark = pytest.mark.django_db


def test_paths_are_imported_and_recorded_and_the_report_names_its_run(tmp_path):
    report = run_import(PathSource([SEEDS, tmp_path / "nowhere"]), ImportOptions(time_zone="UTC", workers=0))

    assert isinstance(report, ImportReport) and not report.dry_run
    assert (report.created, report.failed) == (2, 1) == (Article.objects.count(), 1)
    assert report.errors == [f"{tmp_path / 'nowhere'}: no such file or directory"]
    run = ImportRun.objects.get()
    assert report.run == run and run.origin == ImportRun.Origin.COMMAND and run.time_zone == "UTC"
    assert (run.created, run.failed, run.status) == (2, 1, ImportRun.Status.WITH_ERRORS)
    assert run.sources == [str(SEEDS), str(tmp_path / "nowhere")]


def test_uploads_give_the_same_report_with_the_archive_files_that_are_not_posts(admin_user):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("posts/a.md", post(title="'上传一'"))
        archive.writestr("posts/cover.jpg", b"\xff\xd8")
    limits = UploadLimits.from_settings()
    upload = inspect_upload(SimpleUploadedFile("archive.zip", buffer.getvalue()), limits)

    report = run_import(UploadSource([upload], limits), ImportOptions(workers=0), user=admin_user)

    assert isinstance(report, ImportReport) and report.created == 1 and report.ignored == ["archive.zip/posts/cover.jpg"]
    assert report.run.origin == ImportRun.Origin.UPLOAD and report.run.user == admin_user
    assert Article.objects.get().source_path == "upload:archive.zip/posts/a.md"


def test_a_dry_run_reports_what_it_would_have_done_and_records_itself():
    report = run_import(PathSource([SEEDS]), ImportOptions(dry_run=True, accept_suggested_tags=True))

    assert report.dry_run and report.created == 2 and not Article.objects.exists()
    assert report.outcome_line() == "Dry run (nothing written): would have created 2, updated 0, unchanged 0, failed 0"
    assert report.suggested_tags_added is None  # nothing was written to tag
    assert ImportRun.objects.get().dry_run


def test_an_unknown_time_zone_is_refused_when_the_options_are_made():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        ImportOptions(time_zone="Mars/Olympus")
