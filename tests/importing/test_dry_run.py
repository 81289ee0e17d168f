"""A dry run is the real import, rolled back: same constraints, same counts, nothing left behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from taggit.models import Tag

from articles.models import (
    Article, ArticleByline, ArticleCategory, ArticleRedirect, Author, Category, ContentVersion, ImportedFile, ImportRun,
    TaggedArticle,
)
from search.backends import TABLES as SEARCH_TABLES
from tests.factories import SEEDS, post

pytestmark = pytest.mark.django_db

COUNTED = ("created", "updated", "unchanged", "kept_local_edits", "failed")


def search_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(SEARCH_TABLES[connection.vendor])}")
        return cursor.fetchone()[0]


def database_state() -> dict:
    """Everything an import writes (or bumps), in a form two moments can be compared by."""
    return {
        "counts": {model.__name__: model.objects.count() for model in (
            Article, Category, Tag, Author, ArticleByline, ArticleCategory, TaggedArticle, ImportedFile,
            ArticleRedirect)},
        "search rows": search_rows(),
        "generation": list(ContentVersion.objects.values_list("generation", flat=True)),
        "articles": list(Article.objects.order_by("pk").values_list(
            "pk", "version", "content_hash", "slug", "title", "edited_locally", "status")),
        "bodies": hashlib.sha256("".join(Article.objects.order_by("pk").values_list("body", flat=True))
                                 .encode()).hexdigest(),
        "files": list(ImportedFile.objects.order_by("path").values_list("path", "content_hash", "article_id")),
    }


def outcome(run: ImportRun) -> tuple[int, ...]:
    return tuple(getattr(run, name) for name in COUNTED)


def generate_corpus(out: Path, count: int, seed: int) -> Path:
    call_command("generate_corpus", "--count", str(count), "--out", str(out), "--seed", str(seed), verbosity=0)
    return out


def dry_then_real(run_import, *args) -> tuple[ImportRun, ImportRun, dict, dict]:
    """A dry run, then the same import for real: their runs, and the database before and after the dry run."""
    before = database_state()
    dry = run_import("--dry-run", *args)
    after_dry = database_state()
    dry_run = ImportRun.objects.latest("pk")
    real = run_import(*args)
    real_run = ImportRun.objects.latest("pk")
    assert dry_run.dry_run and not real_run.dry_run and dry_run.finished_at
    assert dry.exit_code == real.exit_code
    assert dry.stdout == f"Dry run (nothing written): would have {real.stdout}"
    assert dry.error_lines == real.error_lines
    return dry_run, real_run, before, after_dry


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_leaves_nothing_and_counts_what_the_real_run_then_does(run_import, tmp_path):
    # Autocommit, as in production: the dry run's transaction is the outermost one,
    # and the run record must be written outside it to survive its rollback.
    corpus = generate_corpus(tmp_path / "corpus", 160, seed=15)
    # Copies of stories a batch or more after their first file: a later batch
    # must see what the earlier ones wrote, as it does in a real run.
    first, second = sorted(corpus.rglob("*.txt"))[:2]
    (corpus / "zz").mkdir()
    (corpus / "zz" / "copy.md").write_bytes(first.read_bytes())
    (corpus / "zz" / "variant.md").write_bytes(second.read_bytes() + "\n<p>更正。</p>\n".encode())
    args = ("--batch-size", "25", "--workers", "2", SEEDS, corpus)

    dry_run, real_run, before, after_dry = dry_then_real(run_import, *args)

    assert after_dry == before
    assert dry_run.status == real_run.status == ImportRun.Status.SUCCEEDED
    assert outcome(dry_run) == outcome(real_run)
    # Not an empty comparison: the real run wrote all of it.
    assert real_run.created == Article.objects.count() > 100
    assert real_run.unchanged >= 1 and real_run.updated >= 1  # the copy, the variant
    # (The search table is no model's, so a transactional test's flush leaves other tests' rows in it.)
    assert search_rows() - before["search rows"] == Article.objects.count() and ArticleByline.objects.exists()


def test_a_dry_run_over_an_imported_archive_changes_nothing_and_counts_updates(run_import, write_post, tmp_path):
    corpus = generate_corpus(tmp_path / "corpus", 90, seed=16)
    assert run_import(corpus).exit_code == 0
    files = sorted(corpus.rglob("*.txt"))
    for path in files[:6]:
        path.write_bytes(path.read_bytes() + "\n<p>更正：数据已更新。</p>\n".encode())
    edited = Article.objects.get(source_path=str(files[6]))
    Article.objects.filter(pk=edited.pk).update(edited_locally=True)
    files[6].write_bytes(files[6].read_bytes() + "\n<p>编辑改过。</p>\n".encode())
    write_post("new/1.md", post(title="'新稿一'", tags="[新股, ETF]", categories="[新栏目, 子栏目]", author="新记者"))
    write_post("new/2.md", post(title="'新稿二'", date="2022-05-01 09:00:00"))
    write_post("new/bad.md", "no front matter")

    dry_run, real_run, before, after_dry = dry_then_real(run_import, "--batch-size", "4", corpus, tmp_path / "new")

    assert after_dry == before
    assert outcome(dry_run) == outcome(real_run)
    assert real_run.created == 2 and real_run.updated >= 6 and real_run.kept_local_edits == 1
    assert real_run.failed == 1 and real_run.status == dry_run.status == ImportRun.Status.WITH_ERRORS
    assert database_state() != before


def test_a_dry_run_that_breaks_a_database_constraint_fails_that_file(run_import, write_post):
    forbid_title("禁用标题")
    good = write_post("in/good.md", post(title="'可以'"))
    bad = write_post("in/bad.md", post(title="'禁用标题'"))
    before = database_state()

    result = run_import("--dry-run", good.parent)

    assert result.exit_code == 3
    assert "would have created 1, updated 0, unchanged 0, failed 1" in result.stdout
    [line] = result.error_lines
    assert line.startswith(f"{bad}: database error:") and "forbidden_title" in line
    assert database_state() == before
    run = ImportRun.objects.get()
    assert run.dry_run and run.status == ImportRun.Status.WITH_ERRORS and run.errors == [line]
    # The real run meets the same constraint, and imports the rest.
    real = run_import(good.parent)
    [real_line] = real.error_lines  # PostgreSQL's message quotes the row: its id and times differ
    assert real_line.startswith(f"{bad}: database error:") and "forbidden_title" in real_line
    assert list(Article.objects.values_list("title", flat=True)) == ["可以"]


def forbid_title(title: str) -> None:
    """A check of the database's own that the importer cannot know of (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE articles_article ADD CONSTRAINT forbidden_title CHECK (title <> '{title}')")
        else:
            cursor.execute(
                f"CREATE TRIGGER forbidden_title BEFORE INSERT ON articles_article WHEN NEW.title = '{title}' "
                "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: forbidden_title'); END")
