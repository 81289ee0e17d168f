"""The import_articles command, through call_command, against a real database."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from django.db import IntegrityError, connection
from taggit.models import Tag

from importing.load import ArticleLoader
from articles.models import Article, ArticleCategory, Author, Category
from tests.factories import PROJECT, SEEDS, SHANGHAI, post

pytestmark = pytest.mark.django_db(transaction=False)


def counts() -> tuple[int, int, int, int]:
    return Article.objects.count(), Category.objects.count(), Author.objects.count(), Tag.objects.count()


# --- the seeds ----------------------------------------------------------------


def test_seeds_import(run_import):
    result = run_import(SEEDS)
    assert result.exit_code == 0, result.stderr
    assert "created 2, updated 0, unchanged 0, failed 0" in result.stdout
    article = Article.objects.get(title__startswith="涨停有因")
    assert article.status == Article.Status.PUBLISHED
    assert article.published_at == dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=dt.timezone.utc)
    assert article.author.name == "财联社"
    assert article.comments_enabled is False
    assert article.head_image == article.thumbnail == "https://img.cls.cn/images/20220429/2451e5nC7Z.jpg"
    assert sorted(c.path for c in article.categories.all()) == ["金融", "金融/财联社", "金融/财联社/深度"]
    assert article.source_path.endswith("000_a0c2001c312cffc3.txt")
    assert len(article.content_hash) == 64 and article.import_key
    assert 'referrerpolicy="no-referrer"' in article.body
    assert "<div" not in article.body
    assert article.excerpt.startswith("财联社4月29日讯（记者 黄靖斯），华林证券")
    assert article.get_absolute_url().startswith("/2022/04/30/")


def test_second_run_changes_nothing(run_import):
    run_import(SEEDS)
    before = counts()
    result = run_import(SEEDS)
    assert result.exit_code == 0
    assert "created 0, updated 0, unchanged 2, failed 0" in result.stdout
    assert counts() == before == (2, 3, 2, 0)  # authors: the outlet and the seed's reporter


def test_renamed_file_is_the_same_article(run_import, tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(SEEDS / "000_a0c2001c312cffc3.txt", tmp_path / "a" / "original.txt")
    run_import(tmp_path / "a")
    (tmp_path / "b").mkdir()
    renamed = tmp_path / "b" / "renamed.md"
    # Same story, other name and slightly different bytes (a trailing line).
    renamed.write_bytes((SEEDS / "000_a0c2001c312cffc3.txt").read_bytes() + b"\n<p>more</p>\n")
    result = run_import(renamed)
    assert "created 0, updated 1" in result.stdout
    assert Article.objects.count() == 1
    assert Article.objects.get().source_path == str(renamed)


def test_changed_file_updates_its_article_in_place(run_import, write_post):
    path = write_post("story.md", post(tags="[券商]", categories="[金融, 财联社]", body="<p>第一版</p>"))
    run_import(path)
    original = Article.objects.get()
    write_post("story.md", post(tags="[腾讯]", categories="[科技]", body="<p>第二版</p>"))
    result = run_import(path)
    assert "created 0, updated 1, unchanged 0, failed 0" in result.stdout
    article = Article.objects.get()
    assert article.pk == original.pk and article.slug == original.slug
    assert article.body == "<p>第二版</p>"
    assert list(article.tags.names()) == ["腾讯"]
    assert [c.path for c in article.categories.all()] == ["科技"]


def test_same_story_twice_in_one_run_makes_one_article(run_import, write_post):
    write_post("dir/a.md", post(body="<p>一</p>"))
    write_post("dir/b.md", post(body="<p>二</p>"))
    result = run_import(write_post("dir/a.md", post(body="<p>一</p>")).parent)
    assert result.exit_code == 0
    assert Article.objects.count() == 1


# --- the real corpus ----------------------------------------------------------


@pytest.mark.corpus
def test_real_corpus_147_import_and_3_fail(run_import, corpus_dir):
    result = run_import(corpus_dir)
    assert result.exit_code == 3
    assert "created 147, updated 0, unchanged 0, failed 3" in result.stdout
    errors = result.error_lines
    assert len(errors) == 3, errors
    by_file = {line.split(": ", 1)[0].rsplit("/", 1)[-1]: line for line in errors}
    assert "invalid YAML at line 3" in by_file["\"\"\"\"\"\"\"'第10集'\"\"\"\"\"\"\".md"]
    for name in (" .md", "gameres_ .md"):
        assert "title is blank" in by_file[name] and "'Invalid Date' is not a date" in by_file[name]
    assert Article.objects.count() == 147


@pytest.mark.corpus
def test_real_corpus_is_idempotent(run_import, corpus_dir):
    run_import(corpus_dir)
    before = counts()
    result = run_import(corpus_dir)
    assert "created 0, updated 0, unchanged 147, failed 3" in result.stdout
    assert counts() == before


@pytest.mark.corpus
def test_real_corpus_categories_are_hexo_chains(run_import, corpus_dir):
    run_import(corpus_dir)
    deep = Category.objects.get(path="金融/财联社/深度")
    assert deep.parent.path == "金融/财联社" and deep.parent.parent.path == "金融"
    # every article in a leaf is also linked to each ancestor
    for article in deep.articles.all():
        assert {"金融", "金融/财联社"} <= set(article.categories.values_list("path", flat=True))
    assert Category.objects.filter(name="新浪财经-国內").exists()  # NFKC: full-width hyphen
    # plain-text wire stories became paragraphs
    telegraph = Article.objects.get(title="10余省水泥价格上涨")
    assert telegraph.body.startswith("<p>【10余省水泥价格上涨】") and telegraph.body.endswith("</p>")


# --- failures are isolated and reported --------------------------------------


def test_bad_files_are_reported_and_the_rest_imported(run_import, write_post):
    write_post("in/good.md", post(title="'好文章'"))
    write_post("in/bad-yaml.md", "---\ntitle: [unclosed\ndate: 2022-01-01\n---\nbody")
    write_post("in/binary.txt", b"\x00\x01\x02\x03")
    write_post("in/empty.md", "")
    write_post("in/gbk.txt", post(title="'中文'").encode("gbk"))
    write_post("in/notes.rst", "ignored: not a post suffix")
    result = run_import(write_post("in/good2.markdown", post(title="'也好'")).parent)
    assert result.exit_code == 3
    assert "created 2, updated 0, unchanged 0, failed 4" in result.stdout
    assert len(result.error_lines) == 4
    for name in ("bad-yaml.md", "binary.txt", "empty.md", "gbk.txt"):
        assert sum(name in line for line in result.error_lines) == 1, name
    assert set(Article.objects.values_list("title", flat=True)) == {"好文章", "也好"}


def test_missing_path_is_an_error_but_others_import(run_import, tmp_path):
    result = run_import(tmp_path / "nope", SEEDS)
    assert result.exit_code == 3
    assert "nope: no such file or directory" in result.stderr
    assert Article.objects.count() == 2


def test_max_bytes(run_import, write_post):
    path = write_post("big.md", post(body="<p>" + "长" * 5000 + "</p>"))
    result = run_import("--max-bytes", "1000", path)
    assert result.exit_code == 3 and "over the 1,000-byte limit" in result.stderr
    assert Article.objects.count() == 0


def test_dry_run_writes_nothing_but_reports(run_import, write_post):
    path = write_post("a.md", post())
    write_post("b.md", "no front matter")
    result = run_import("--dry-run", path.parent)
    assert result.exit_code == 3
    assert "would have created 1, updated 0, unchanged 0, failed 1" in result.stdout
    assert counts() == (0, 0, 0, 0)


def test_hostile_body_is_sanitised_on_import(run_import, write_post):
    body = '<p>ok</p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>'
    run_import(write_post("xss.md", post(body=body)))
    stored = Article.objects.get().body
    assert "<script" not in stored and "onerror" not in stored and "javascript:" not in stored


def test_titles_and_names_are_stored_as_given(run_import, write_post):
    run_import(write_post("t.md", post(title="'<b>A & B</b>'", author="'<i>记者</i>'")))
    article = Article.objects.get()
    assert article.title == "<b>A & B</b>" and article.author.name == "<i>记者</i>"


def test_tags_and_authors_are_shared_not_duplicated(run_import, write_post):
    write_post("t/1.md", post(title="'一'", tags="[券商, ETF]", author="财联社"))
    write_post("t/2.md", post(title="'二'", tags="[券商, etf]", author="' 财联社'"))
    run_import(write_post("t/3.md", post(title="'三'", tags="券商")).parent)
    assert Tag.objects.count() == 2 and Author.objects.count() == 1
    assert Tag.objects.get(name="券商").slug == "券商"
    assert Article.objects.filter(tags__name="券商").count() == 3


def test_same_category_name_under_other_parents_is_distinct(run_import, write_post):
    write_post("c/1.md", post(title="'一'", categories="[金融, 财联社, 深度]"))
    run_import(write_post("c/2.md", post(title="'二'", categories="[科技, 深度]")).parent)
    assert Category.objects.filter(name="深度").count() == 2
    assert set(Category.objects.values_list("path", flat=True)) == {
        "金融", "金融/财联社", "金融/财联社/深度", "科技", "科技/深度"}


def test_several_chains_link_every_node(run_import, write_post):
    run_import(write_post("m.md", post(categories="\n - [金融, 财联社]\n - [科技, 36kr, 快讯]")))
    paths = set(Article.objects.get().categories.values_list("path", flat=True))
    assert paths == {"金融", "金融/财联社", "科技", "科技/36kr", "科技/36kr/快讯"}
    link = ArticleCategory.objects.filter(category__path="科技").get()
    assert link.published_at == Article.objects.get().published_at


# --- time zones ---------------------------------------------------------------


def test_beijing_midnight_boundary(run_import, write_post):
    write_post("tz/late.md", post(title="'晚'", date="Fri, 26 Mar 2021 15:59:58 GMT"))
    run_import(write_post("tz/next.md", post(title="'次日'", date="Fri, 26 Mar 2021 23:59:58 GMT")).parent)
    late, next_day = Article.objects.get(title="晚"), Article.objects.get(title="次日")
    assert late.published_date == dt.date(2021, 3, 26)
    assert next_day.published_date == dt.date(2021, 3, 27)
    assert next_day.get_absolute_url().startswith("/2021/03/27/")
    assert next_day.published_at.astimezone(SHANGHAI).hour == 7


def test_timezone_option_for_naive_dates(run_import, write_post):
    path = write_post("n.md", post(date="2022-04-30 09:33:09"))
    run_import("--timezone", "UTC", path)
    assert Article.objects.get().published_at == dt.datetime(2022, 4, 30, 9, 33, 9, tzinfo=dt.timezone.utc)
    # Re-reading with another zone is a different interpretation: the article moves.
    result = run_import("--timezone", "Asia/Shanghai", path)
    assert "updated 1" in result.stdout
    assert Article.objects.get().published_at == dt.datetime(2022, 4, 30, 1, 33, 9, tzinfo=dt.timezone.utc)


def test_unknown_timezone_is_a_clear_error(run_import):
    result = run_import("--timezone", "Mars/Olympus", SEEDS)
    assert result.exit_code != 0 and "--timezone" in result.stderr


# --- slugs --------------------------------------------------------------------


def test_slugs_unique_per_day_and_bounded(run_import, write_post):
    long_title = "'" + "华林证券" * 40 + "'"
    write_post("s/1.md", post(title=long_title, date="Sat, 30 Apr 2022 01:00:00 GMT"))
    write_post("s/2.md", post(title=long_title, date="Sat, 30 Apr 2022 02:00:00 GMT"))
    write_post("s/3.md", post(title=long_title, date="Sun, 01 May 2022 02:00:00 GMT"))
    run_import(write_post("s/4.md", post(title="'！？。'", date="Sun, 01 May 2022 03:00:00 GMT")).parent)
    slugs = {a.title[:4] + str(a.published_date): a.slug for a in Article.objects.all()}
    day1 = Article.objects.filter(published_date=dt.date(2022, 4, 30)).values_list("slug", flat=True)
    assert len(set(day1)) == 2 and all(len(s) <= 80 for s in day1)
    assert Article.objects.get(title="！？。").slug == "article"
    assert all(slugs.values())


# --- as a real process, on a real SQLite file -------------------------------------


def _manage(*args: str, db_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SECRET_KEY": "x", "DJANGO_DEBUG": "0"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env,
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "sqlite", reason="checks SQLite file settings")
def test_command_process_exit_codes_and_wal_mode(tmp_path):
    db = tmp_path / "site.sqlite3"
    url = f"sqlite:///{db}"
    assert _manage("migrate", "--noinput", "-v0", db_url=url).returncode == 0
    ok = _manage("import_articles", str(SEEDS), db_url=url)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("created 2, updated 0, unchanged 0, failed 0")
    assert ok.stderr == ""  # no progress bar when not on a terminal
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter here")
    failed = _manage("import_articles", str(bad), str(SEEDS), db_url=url)
    assert failed.returncode == 3  # some files failed
    assert f"{bad}: no front matter" in failed.stderr
    assert "Traceback" not in failed.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM articles_article").fetchone()[0] == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_the_import_leaves_the_connection_settings_as_they_were(run_import):
    """The import enlarges its connection's page cache; a web request that runs
    an import (the upload page) must get its connection back unchanged."""
    def cache_size() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache_size()
    assert run_import(SEEDS).exit_code == 0
    assert cache_size() == before


def test_a_database_error_fails_only_its_own_file(run_import, write_post, monkeypatch, tmp_path):
    """A batch that hits a database error is rolled back and retried file by file."""
    original = ArticleLoader._write_links

    def failing_for_one_story(self, links):
        if any(article.title == "坏" for article, _ in links):
            raise IntegrityError("simulated constraint failure")
        return original(self, links)

    monkeypatch.setattr(ArticleLoader, "_write_links", failing_for_one_story)
    write_post("db/1.md", post(title="'好一'", categories="[甲]"))
    write_post("db/2.md", post(title="'坏'", categories="[乙]", author="坏作者"))
    result = run_import(write_post("db/3.md", post(title="'好二'", categories="[甲]")).parent)
    assert result.exit_code == 3
    assert "created 2, updated 0, unchanged 0, failed 1" in result.stdout
    [error] = result.error_lines
    assert error.startswith(str(tmp_path / "db" / "2.md")) and "database error" in error
    assert set(Article.objects.values_list("title", flat=True)) == {"好一", "好二"}
    # nothing of the failed file is left behind
    assert not Category.objects.filter(name="乙").exists() and not Author.objects.filter(name="坏作者").exists()


def test_recrawled_copies_of_a_story_settle_after_one_run(run_import, write_post):
    """Two files with one story but different bytes must not overwrite each other on every run."""
    write_post("feed/a.md", post(headimg="'https://picsum.photos/400/300?random=1'"))
    folder = write_post("feed/b.md", post(headimg="'https://picsum.photos/400/300?random=2'")).parent
    first = run_import(folder)
    assert "created 1, updated 1, unchanged 0, failed 0" in first.stdout
    article = Article.objects.get()
    for _ in range(2):
        again = run_import(folder)
        assert "created 0, updated 0, unchanged 2, failed 0" in again.stdout
    assert Article.objects.get().updated_at == article.updated_at


def test_byte_identical_copy_under_another_name_is_unchanged(run_import, write_post):
    run_import(write_post("one/a.md", post()))
    result = run_import(write_post("two/copy.md", post()))
    assert "created 0, updated 0, unchanged 1, failed 0" in result.stdout
    assert Article.objects.count() == 1


def test_deleted_article_comes_back_on_reimport(run_import, write_post):
    path = write_post("a.md", post())
    run_import(path)
    Article.objects.get().delete()
    assert "created 1" in run_import(path).stdout


@pytest.mark.corpus
def test_worker_processes_import_exactly_what_one_process_does(run_import, corpus_dir):
    """The CPU stage in a worker process changes nothing but the speed."""
    parallel = run_import("--workers", "1", corpus_dir)
    assert "created 147, updated 0, unchanged 0, failed 3" in parallel.stdout
    assert len(parallel.error_lines) == 3
    snapshot = {a.import_key: (a.title, a.slug, a.body, a.published_at) for a in Article.objects.all()}
    Article.objects.all().delete()
    from articles.models import ImportedFile
    ImportedFile.objects.all().delete()
    single = run_import("--workers", "0", corpus_dir)
    assert "created 147, updated 0, unchanged 0, failed 3" in single.stdout
    assert {a.import_key: (a.title, a.slug, a.body, a.published_at) for a in Article.objects.all()} == snapshot
    assert sorted(parallel.error_lines) == sorted(single.error_lines)


@pytest.mark.corpus
def test_what_the_workers_derive_is_what_a_save_derives(run_import, corpus_dir):
    """Excerpts and dateline bylines computed beside parsing equal those of a plain model save."""
    from articles.models import ArticleByline

    run_import("--workers", "1", corpus_dir)

    def derived() -> dict[int, tuple]:
        credits = {}
        for row in ArticleByline.objects.order_by("position").values("article_id", "role", "author__name"):
            credits.setdefault(row["article_id"], []).append((row["role"], row["author__name"]))
        return {a.id: (a.excerpt, credits.get(a.id, [])) for a in Article.objects.all()}

    imported = derived()
    assert sum(1 for _, credited in imported.values() if credited) >= 10  # the corpus has datelines
    Article.objects.update(excerpt="", bylines_edited=False)
    ArticleByline.objects.all().delete()
    for article in Article.objects.all():
        article.body = article.body + ""  # a new string: derived again, as an editor's save does
        article.save()
    assert derived() == imported


def test_search_finds_imported_articles_from_worker_processes(run_import, tmp_path):
    from search.query import search

    for i in range(3):
        (tmp_path / f"{i}.md").write_text(post(title=f"'券商观察{i}'"), encoding="utf-8")
    run_import("--workers", "1", tmp_path)
    assert len(search("券商")) == 3


def test_negative_workers_is_an_error(run_import):
    assert run_import("--workers", "-1", SEEDS).exit_code != 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's visibility map")
@pytest.mark.django_db(transaction=True)
def test_a_large_import_leaves_postgres_tables_vacuumed(run_import, write_post):
    """After more than 1,000 new articles the importer runs VACUUM (ANALYZE)
    on the tables it filled: it marks their pages all-visible, so index-only
    scans (archive counts, listings) stay index-only. (Whether pages get
    marked also depends on the commits being flushed, which this throwaway
    cluster's synchronous_commit=off delays: the test checks the VACUUM.)"""
    paths = [write_post(f"p{i}.md", post(title=f"'新闻{i}'", date=f"2022-04-01 10:{i // 60:02d}:{i % 60:02d}",
                                         body=f"<p>第{i}篇</p>")) for i in range(1001)]
    result = run_import(paths[0].parent)
    assert result.exit_code == 0, result.err
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL")
        vacuumed = {row[0] for row in cursor.fetchall()}
    assert {"articles_article", "articles_articlecategory", "articles_searchdocument"} <= vacuumed


def test_a_nul_escaped_in_an_extra_field_is_dropped_not_fatal(run_import, write_post):
    """YAML can spell a NUL ("\\0"); PostgreSQL's jsonb cannot store one. The
    article imports on every database, its extra field without the NUL."""
    path = write_post("p.md", post(title="'空字符'", note='"a\\0b"', **{'"k\\0ey"': "v"}))
    result = run_import(path)
    assert result.exit_code == 0, result.err
    assert Article.objects.get(title="空字符").extra_front_matter == {"note": "ab", "key": "v"}
