"""The full-text search index (articles.search), in the form the database supports.

SQLite: an FTS5 virtual table. PostgreSQL: a table of tsvectors with a GIN
index. Neither is a Django model, so both are created here with SQL, for the
running database's vendor only; other databases get nothing.

Only the tables: the articles already in the database are indexed by the
post_migrate hook in articles.signals, with the code of the day, so this
migration never runs indexing code written for a later schema.
"""

from django.db import migrations

SQLITE_CREATE = (
    # `ascii` keeps every non-ASCII token exactly as articles.search wrote it
    # (unicode61 would re-split by its own Unicode 6.1 tables).
    "CREATE VIRTUAL TABLE articles_search USING fts5(title, body, tokenize = 'ascii')"
)
SQLITE_DROP = "DROP TABLE IF EXISTS articles_search"

# No foreign key: a key to articles_article would make Django's flush (which
# truncates only model tables) fail. Rows of deleted articles are removed by
# the post_delete signal, and search() joins with the articles anyway.
# `title` is the title's tokens alone: small enough to stay inline, so ranking
# can prefer title matches without reading the large `document` (see
# articles.search._PostgresBackend).
POSTGRES_CREATE = (
    "CREATE TABLE articles_searchdocument ("
    " article_id bigint PRIMARY KEY,"
    " title tsvector NOT NULL,"
    " document tsvector NOT NULL)",
    "CREATE INDEX articles_searchdocument_document_gin ON articles_searchdocument USING gin (document)",
)
POSTGRES_DROP = "DROP TABLE IF EXISTS articles_searchdocument"


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        for statement in POSTGRES_CREATE:
            schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0002_article_redirects"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
