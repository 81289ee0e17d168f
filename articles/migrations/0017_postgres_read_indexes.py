"""Indexes for PostgreSQL's reads (docs/BENCHMARKS.md, "PostgreSQL: what profiling found").

* The search table gets an index newest first and a GIN index on titles
  (PostgreSQL only): articles.search finds the candidates of a word in most
  articles (证券, 券商) without visiting every match — the newest title
  matches through the GIN index on `title`, then the newest other matches by
  walking `(published_at, article_id)` newest first (see _PostgresBackend).
  SQLite's FTS5 index reads rowids in either order already.
* `article_status_published_idx` gets the id: PostgreSQL's indexes do not
  carry it as SQLite's do, so the published listing's `(published_at, id)`
  order, and an old `?page=N` link's OFFSET, read every row's status from the
  table (45 ms for page 2,000); with it they read the index alone. On SQLite
  the id was in the index already (as the rowid), in ascending order.
"""

from django.db import migrations, models

SEARCH_CREATE = (
    "CREATE INDEX IF NOT EXISTS articles_searchdocument_newest"
    " ON articles_searchdocument (published_at DESC NULLS LAST, article_id DESC)",
    "CREATE INDEX IF NOT EXISTS articles_searchdocument_title_gin ON articles_searchdocument USING gin (title)",
    "ANALYZE articles_searchdocument",
)
SEARCH_DROP = (
    "DROP INDEX IF EXISTS articles_searchdocument_newest",
    "DROP INDEX IF EXISTS articles_searchdocument_title_gin",
)


def on_postgres(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0016_import_run_process"),
    ]

    operations = [
        migrations.RunPython(on_postgres(SEARCH_CREATE), on_postgres(SEARCH_DROP), elidable=False),
        migrations.RemoveIndex(model_name="article", name="article_status_published_idx"),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["status", "-published_at", "-id"], name="article_status_published_idx"),
        ),
    ]
