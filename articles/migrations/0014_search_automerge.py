"""SQLite's search index merges its segments 16 at a time instead of 4.

Every commit that indexes articles writes a new segment (an import batch of
2,000 articles, about one); FTS5 merges segments of one level into the next
once `automerge` of them have gathered, so each entry is rewritten about
log_automerge(segments) times. At 4, merging was a quarter of the import's
index writing: on 20,000 generated files, 16 wrote 24% fewer bytes and took
25% less CPU time in the index (docs/BENCHMARKS.md). Searches read a few
more, smaller segments; the measured effect on query time was within noise.
Stored in the index itself (articles_search_config), like `hashsize`.
PostgreSQL is not affected.
"""

from django.db import migrations

AUTOMERGE = 16
DEFAULT_AUTOMERGE = 4
SET_AUTOMERGE = "INSERT INTO articles_search (articles_search, rank) VALUES ('automerge', %s)"


def set_automerge(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(SET_AUTOMERGE, [value])

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0013_search_hashsize"),
    ]

    operations = [
        migrations.RunPython(set_automerge(AUTOMERGE), set_automerge(DEFAULT_AUTOMERGE), elidable=False),
    ]
