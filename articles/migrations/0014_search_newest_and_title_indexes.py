"""PostgreSQL's search table gets an index newest first and a GIN index on titles.

articles.search finds the candidates of a word in most articles (证券, 券商)
without visiting every match: the newest title matches through the GIN index
on `title`, then the newest other matches by walking `(published_at,
article_id)` newest first (see _PostgresBackend). Both indexes are small
(the title vector and two scalars). SQLite's FTS5 index reads rowids in
either order already and needs neither.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS articles_searchdocument_newest"
    " ON articles_searchdocument (published_at DESC NULLS LAST, article_id DESC)",
    "CREATE INDEX IF NOT EXISTS articles_searchdocument_title_gin ON articles_searchdocument USING gin (title)",
    "ANALYZE articles_searchdocument",
)
DROP = (
    "DROP INDEX IF EXISTS articles_searchdocument_newest",
    "DROP INDEX IF EXISTS articles_searchdocument_title_gin",
)


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0013_search_hashsize"),
    ]

    operations = [
        migrations.RunPython(run(CREATE), run(DROP), elidable=False),
    ]
