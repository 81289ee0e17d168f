"""PostgreSQL's search table gets each article's publication time.

articles.search orders the candidates of a very common word by it (after title
matches) before reading any large tsvector. Filled from the articles in SQL, so
no index needs rebuilding. SQLite's FTS5 index does not use it.
"""

from django.db import migrations

ADD_COLUMN = "ALTER TABLE articles_searchdocument ADD COLUMN IF NOT EXISTS published_at timestamp with time zone"
FILL_COLUMN = (
    "UPDATE articles_searchdocument AS d SET published_at = a.published_at"
    " FROM articles_article AS a WHERE a.id = d.article_id"
)
DROP_COLUMN = "ALTER TABLE articles_searchdocument DROP COLUMN IF EXISTS published_at"


def add_published_at(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD_COLUMN)
        schema_editor.execute(FILL_COLUMN)


def drop_published_at(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_COLUMN)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0004_imported_files"),
    ]

    operations = [
        migrations.RunPython(add_published_at, drop_published_at, elidable=False),
    ]
