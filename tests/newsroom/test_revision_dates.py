"""The revision of an imported version is dated by its import, not by the post's `updated` (which may be years old)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from articles.models import Article
from newsroom.revisions import Revision
from tests.factories import change_form, change_url, post

pytestmark = pytest.mark.django_db


def test_imported_versions_keep_their_place_in_the_history(editor, run_import, write_post):
    path = write_post("a.md", post(updated="2020-01-02 00:00:00", body="<p>导入第一版</p>"))
    started = timezone.now()
    run_import(path)
    article = Article.objects.get()
    editor.post(change_url(article), change_form(article, body="<p>编辑第一次</p>"))
    write_post("a.md", post(updated="2020-06-01 00:00:00", body="<p>导入第二版</p>"))
    run_import("--overwrite-edited", path)
    article.refresh_from_db()
    editor.post(change_url(article), change_form(article, body="<p>编辑第二次</p>"))
    history = list(Revision.objects.filter(id=article.pk).order_by("-history_date", "-history_id"))
    assert [r.body for r in history] == ["<p>编辑第二次</p>", "<p>导入第二版</p>", "<p>编辑第一次</p>", "<p>导入第一版</p>"]
    assert all(r.history_date >= started for r in history)
    # The imported versions' own last-modified times are the files' `updated`, as stored.
    assert [r.updated_at.year for r in history[1::2]] == [2020, 2020]
