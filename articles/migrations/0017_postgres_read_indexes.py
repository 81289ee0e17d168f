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

On PostgreSQL every index here is built and dropped CONCURRENTLY, outside a
transaction (`atomic = False`), so no reader or writer of the articles is blocked
while it runs (it first ran in one transaction, holding a lock that blocked every
read of the articles table; the end state is the same). Between the old listing
index's drop and the new one's build, listings read without it: slower, never
blocked. A concurrent build that fails leaves an INVALID index: drop it
(`DROP INDEX CONCURRENTLY name`) and run `migrate` again.
"""

from django.db import migrations, models

from articles.migrations._concurrently import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres

SEARCH_CREATE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_searchdocument_newest"
    " ON articles_searchdocument (published_at DESC NULLS LAST, article_id DESC)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_searchdocument_title_gin ON articles_searchdocument USING gin (title)",
    "ANALYZE articles_searchdocument",
)
SEARCH_DROP = (
    "DROP INDEX CONCURRENTLY IF EXISTS articles_searchdocument_newest",
    "DROP INDEX CONCURRENTLY IF EXISTS articles_searchdocument_title_gin",
)


def on_postgres(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("articles", "0016_import_run_process"),
    ]

    operations = [
        migrations.RunPython(on_postgres(SEARCH_CREATE), on_postgres(SEARCH_DROP), elidable=False),
        RemoveIndexConcurrentlyOnPostgres(model_name="article", name="article_status_published_idx"),
        AddIndexConcurrentlyOnPostgres(
            model_name="article",
            index=models.Index(fields=["status", "-published_at", "-id"], name="article_status_published_idx"),
        ),
    ]
