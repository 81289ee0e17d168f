"""Hexo's `updated`: parsed, stored as the article's last-modified time, written back by the export.

Without it, the last-modified time is when the content a reader sees last
changed: an unchanged re-import, or a changed file that shows the same, leaves it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles.models import Article, ImportedFile
from importing.parse import ImportFileError, parse_bytes
from tests.factories import SHANGHAI, post

UTC = dt.timezone.utc


def parse(text: str):
    return parse_bytes(text.encode(), path="post.md", tz=SHANGHAI)


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("2022-05-01 10:00:00", dt.datetime(2022, 5, 1, 2, 0, tzinfo=UTC)),  # naive: in --timezone
    ("'2022-05-01 10:00:00'", dt.datetime(2022, 5, 1, 2, 0, tzinfo=UTC)),  # quoted: the same
    ("2022-05-01", dt.datetime(2022, 4, 30, 16, 0, tzinfo=UTC)),
    ("2022-05-01T10:00:00+02:00", dt.datetime(2022, 5, 1, 8, 0, tzinfo=UTC)),  # an offset is that instant
    ("'Sun, 01 May 2022 10:00:00 GMT'", dt.datetime(2022, 5, 1, 10, 0, tzinfo=UTC)),
])
def test_updated_is_parsed_like_date(raw, expected):
    article = parse(post(updated=raw))
    assert article.updated == expected
    assert "updated" not in article.extra  # a field of its own now, not other front matter


@pytest.mark.parametrize("raw", ["", "''", "null"])
def test_no_or_an_empty_updated_is_none(raw):
    assert parse(post(**({"updated": raw} if raw else {}))).updated is None


def test_updated_earlier_than_date_is_kept_as_given():
    article = parse(post(date="2022-05-01 10:00:00", updated="2020-01-01 00:00:00"))
    assert article.updated == dt.datetime(2019, 12, 31, 16, 0, tzinfo=UTC) < article.published_at


@pytest.mark.parametrize(("raw", "reason"), [
    ("'not a date'", "'not a date' is not a date"),
    ("'2021-02-30 10:00:00'", "is not a valid date: day is out of range"),
    ("[2022-05-01]", "must be a date, not a list"),
])
def test_a_bad_updated_is_one_error_naming_the_file_and_updated(raw, reason):
    with pytest.raises(ImportFileError) as caught:
        parse(post(updated=raw))
    assert str(caught.value).startswith("post.md: updated ") and reason in str(caught.value), str(caught.value)


# --- importing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_with_updated_stores_it(run_import, write_post):
    path = write_post("a.md", post(updated="2022-05-02 08:00:00"))
    assert run_import(path).exit_code == 0
    article = Article.objects.get()
    assert article.updated_at == dt.datetime(2022, 5, 2, 0, 0, tzinfo=UTC)
    assert article.extra_front_matter == {}


@pytest.mark.django_db
def test_import_without_updated_takes_the_time_of_the_write(run_import, write_post):
    before = timezone.now()
    run_import(write_post("a.md", post()))
    assert before <= Article.objects.get().updated_at <= timezone.now()


@pytest.mark.django_db
def test_unchanged_reimport_leaves_updated_at(run_import, write_post, tmp_path):
    path = write_post("a.md", post(tags="[券商]"))
    run_import(path)
    first = Article.objects.get().updated_at
    assert "unchanged 1" in run_import(path).stdout
    # The same story under another name, byte for byte (a copy): unchanged too.
    copy = write_post("copy/a.md", path.read_text(encoding="utf-8"))
    assert "unchanged 1" in run_import(copy).stdout
    assert Article.objects.get().updated_at == first


@pytest.mark.django_db
def test_a_changed_file_that_shows_the_same_leaves_updated_at(run_import, write_post):
    path = write_post("a.md", post(tags="[券商]", categories="[金融, 财联社]", body="<p>正文</p>"))
    run_import(path)
    first = Article.objects.get().updated_at
    # Other bytes (a key no reader sees, tags reordered in the YAML), the same article on the site.
    write_post("a.md", post(categories="[金融, 财联社]", tags="\n  - 券商", layout="post", body="<p>正文</p>"))
    assert "updated 1" in run_import(path).stdout
    article = Article.objects.get()
    assert article.extra_front_matter == {"layout": "post"} and article.updated_at == first


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    {"body": "<p>改过的正文</p>"},
    {"tags": "[券商, 腾讯]"},
    {"categories": "[金融, 深度]"},
    {"title": "'新的标题'"},
])
def test_a_changed_body_title_or_link_without_updated_moves_it(run_import, write_post, change):
    # An `id`, so that a new title is the same story (otherwise author + title + date are its identity).
    fields = {"id": "story-1", "tags": "[券商]", "categories": "[金融, 财联社]", "body": "<p>正文</p>"}
    path = write_post("a.md", post(**fields))
    run_import(path)
    first = Article.objects.get().updated_at
    write_post("a.md", post(**{**fields, **change}))
    assert "updated 1" in run_import(path).stdout
    assert Article.objects.get().updated_at > first


@pytest.mark.django_db
def test_a_changed_file_with_updated_takes_its_updated(run_import, write_post):
    path = write_post("a.md", post(updated="2022-05-02 08:00:00"))
    run_import(path)
    write_post("a.md", post(updated="2022-06-01 08:00:00", body="<p>改过的正文</p>"))
    run_import(path)
    assert Article.objects.get().updated_at == dt.datetime(2022, 6, 1, 0, 0, tzinfo=UTC)
    # `updated` taken out again: the file changed what a reader sees, so the time of the write.
    before = timezone.now()
    write_post("a.md", post(body="<p>第三版</p>"))
    run_import(path)
    assert Article.objects.get().updated_at >= before


@pytest.mark.django_db
def test_export_writes_updated_and_it_imports_back(run_import, write_post, tmp_path):
    run_import(write_post("in/a.md", post(updated="2022-05-02 08:00:00")))
    out = tmp_path / "out"
    call_command("export_articles", str(out), stdout=io.StringIO())
    [exported] = list(out.rglob("*.md"))
    assert "updated: Mon, 02 May 2022 00:00:00 GMT" in exported.read_text(encoding="utf-8")
    Article.objects.all().delete()
    run_import(exported)
    assert Article.objects.get().updated_at == dt.datetime(2022, 5, 2, 0, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_an_archive_imported_before_updated_was_read_takes_it_on_the_next_import(run_import, write_post):
    """Files imported when `updated` was other front matter are read again (a new pipeline
    version): `updated` becomes the last-modified time, and a file without it keeps its time."""
    with_updated = write_post("a.md", post(title="'甲'", updated="2022-05-02 08:00:00"))
    without = write_post("b.md", post(title="'乙'"))
    run_import(with_updated, without)
    # As the previous version stored them: `updated` among the other front matter, the import's time.
    then = dt.datetime(2024, 1, 1, tzinfo=UTC)
    Article.objects.update(updated_at=then)
    Article.objects.filter(title="甲").update(extra_front_matter={"updated": "2022-05-02T08:00:00"})
    # Hashed with the previous pipeline version:
    ImportedFile.objects.update(content_hash="0" * 64)
    Article.objects.update(content_hash="0" * 64)
    assert "updated 2" in run_import(with_updated, without).stdout
    first, second = Article.objects.get(title="甲"), Article.objects.get(title="乙")
    assert (first.updated_at, first.extra_front_matter) == (dt.datetime(2022, 5, 2, tzinfo=UTC), {})
    assert second.updated_at == then
