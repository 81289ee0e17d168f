"""Print, as JSON, what a database holds and every inconsistency found in it.

Run as a script against DATABASE_URL (tests/faults_support.py does), so the
concurrency and fault tests can inspect a database that other processes
wrote, on SQLite and PostgreSQL alike:

    DATABASE_URL=sqlite:////tmp/x.sqlite3 python tests/db_probe.py
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from taggit.models import Tag  # noqa: E402

from search.backends import postgres as postgres_backend  # noqa: E402
from search.backends import sqlite as sqlite_backend  # noqa: E402
from articles.models import (  # noqa: E402
    Article, ArticleByline, ArticleCategory, Author, Category, ImportedFile, ImportRun, TaggedArticle,
)


def duplicates(values) -> list:
    return sorted(str(value) for value, n in Counter(values).items() if n > 1)


def ids(sql: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(row[0] for row in cursor.fetchall())


def orphans(table: str, column: str) -> list[int]:
    """Rows of `table` whose `column` names no article."""
    return ids(f"SELECT t.{column} FROM {table} t LEFT JOIN articles_article a ON a.id = t.{column} "
               f"WHERE a.id IS NULL")


def main() -> None:
    search_table, search_column = (
        (sqlite_backend.SQLITE_TABLE, "rowid") if connection.vendor == "sqlite" else (postgres_backend.POSTGRES_TABLE, "article_id"))
    imported = Article.objects.filter(import_key__isnull=False)
    report = {
        "articles": Article.objects.count(),
        "categories": Category.objects.count(),
        "authors": Author.objects.count(),
        "tags": Tag.objects.count(),
        "imported_files": ImportedFile.objects.count(),
        "duplicate_import_keys": duplicates(imported.values_list("import_key", flat=True)),
        "duplicate_authors": duplicates(Author.objects.values_list("name", flat=True)),
        "duplicate_categories": duplicates(Category.objects.values_list("parent_id", "name")),
        "duplicate_tags": duplicates(name.casefold() for name in Tag.objects.values_list("name", flat=True)),
        "without_imported_file": sorted(imported.filter(source_files__isnull=True).values_list("id", flat=True)),
        "without_category": sorted(imported.filter(categories__isnull=True).values_list("id", flat=True)),
        "without_search_row": ids(
            f"SELECT a.id FROM articles_article a LEFT JOIN {search_table} s ON s.{search_column} = a.id "
            f"WHERE s.{search_column} IS NULL"),
        "orphans": {
            "search": orphans(search_table, search_column),
            "categories": orphans(ArticleCategory._meta.db_table, "article_id"),
            "tags": orphans(TaggedArticle._meta.db_table, "content_object_id"),
            "bylines": orphans(ArticleByline._meta.db_table, "article_id"),
            "imported_files": orphans(ImportedFile._meta.db_table, "article_id"),
        },
        "runs": [
            {"status": r.status, "created": r.created, "updated": r.updated, "unchanged": r.unchanged,
             "failed": r.failed, "failure_reason": r.failure_reason, "host": r.host, "pid": r.pid}
            for r in ImportRun.objects.order_by("pk")
        ],
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
