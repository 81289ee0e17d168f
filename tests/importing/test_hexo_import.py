"""Hexo's dates and excerpts through the import command and the upload page, into the database."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.models import Article, ImportRun
from tests.factories import post

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
MODIFIED = dt.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
UNDATED = "---\ntitle: 没有日期的文章\n---\n<p>正文</p>\n"


def undated_file(write_post, name: str = "undated.md"):
    path = write_post(name, UNDATED)
    os.utime(path, (MODIFIED.timestamp(), MODIFIED.timestamp()))
    return path


def test_a_post_without_a_date_is_dated_by_its_file_and_the_command_warns(run_import, write_post):
    path = undated_file(write_post)
    result = run_import(path, "--timezone", "Asia/Shanghai")
    assert result.exit_code == 0, result.stderr
    assert "created 1, updated 0, unchanged 0, failed 0" in result.stdout
    assert Article.objects.get().published_at == MODIFIED
    assert result.stderr.strip() == (f"warning: {path.resolve()}: date is missing: "
                                      "dated by the file's modification time, 2024-05-01 18:00:00 +0800")


def test_the_import_history_keeps_the_warnings(run_import, write_post, client, desk, settings):
    path = undated_file(write_post)
    assert run_import(path, "--timezone", "Asia/Shanghai").exit_code == 0
    run = ImportRun.objects.get()
    assert run.warnings == [f"{path.resolve()}: date is missing: "
                            "dated by the file's modification time, 2024-05-01 18:00:00 +0800"]
    assert run.errors == [] and run.status == ImportRun.Status.SUCCEEDED

    settings.LANGUAGE_CODE = "en"
    client.force_login(desk)
    page = client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert '<ol class="import-warnings"><li>' in page and "date is missing" in page


def test_the_upload_page_shows_the_warnings(client, desk, settings, upload_and_import):
    settings.LANGUAGE_CODE = "en"
    client.force_login(desk)
    upload = SimpleUploadedFile("undated.md", UNDATED.encode(), content_type="application/octet-stream")
    response = upload_and_import(client, upload)  # the run's page, once the task has imported it
    page = response.content.decode()
    assert response.status_code == 200 and Article.objects.count() == 1
    assert 'class="import-warnings"' in page
    assert "undated.md: date is missing: dated by the file&#x27;s modification time" in page


def test_an_explicit_excerpt_is_stored_and_saving_keeps_it(run_import, write_post):
    path = write_post("excerpt.md", post(excerpt="'给定的摘要'", body="<p>" + "正文" * 100 + "</p>"))
    assert run_import(path).exit_code == 0
    article = Article.objects.get()
    assert (article.excerpt, article.excerpt_explicit) == ("给定的摘要", True)

    article.body = "<p>编辑改写的正文</p>"
    article.save()
    Article.objects.bulk_update([article], ["title"])
    article.refresh_from_db()
    assert (article.body, article.excerpt) == ("<p>编辑改写的正文</p>", "给定的摘要")

    # The file without its excerpt: the excerpt is cut from the body again, and follows it.
    path.write_text(post(body="<p>新的正文</p>"), encoding="utf-8")
    assert run_import(path).exit_code == 0
    article.refresh_from_db()
    assert (article.excerpt, article.excerpt_explicit) == ("新的正文", False)
    article.body = "<p>再改一次</p>"
    article.save()
    assert Article.objects.get().excerpt == "再改一次"


def test_the_text_before_more_is_the_excerpt(run_import, write_post):
    body = "<p>导语第一段。</p>\n<p>导语第二段。</p>\n<!-- more -->\n<p>正文。</p>"
    assert run_import(write_post("more.md", post(body=body))).exit_code == 0
    article = Article.objects.get()
    assert (article.excerpt, article.excerpt_explicit) == ("导语第一段。 导语第二段。", True)
    assert "正文。" in article.body and "<!--" not in article.body


def test_tab_indented_front_matter_and_hexos_date_form_import(run_import, write_post):
    text = "---\ntitle: 制表符缩进\ndate: 2013/7/13 20:46:25\ntags:\n\t- 券商\n\t- 基金\n---\n<p>正文</p>\n"
    result = run_import(write_post("tabs.md", text), "--timezone", "Asia/Shanghai")
    assert result.exit_code == 0, result.stderr
    article = Article.objects.get()
    assert article.published_at == dt.datetime(2013, 7, 13, 12, 46, 25, tzinfo=UTC)
    assert sorted(article.tags.names()) == ["券商", "基金"]
