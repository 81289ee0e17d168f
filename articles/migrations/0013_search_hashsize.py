"""SQLite's search index buffers up to 32 MB of new entries before writing a segment.

FTS5 keeps the entries of the current transaction in memory and writes them
out as a new index segment when they pass `hashsize` (1 MB by default) or the
transaction commits; segments are later merged into larger ones. At 1 MB an
import batch was written as a dozen small segments, and merging them cost
about a third of indexing (docs/BENCHMARKS.md); at 32 MB a batch is about one
segment. The setting is stored in the index itself (articles_search_config),
so every connection uses it. It bounds the memory one writing transaction
may hold; ordinary saves hold a few kilobytes. PostgreSQL is not affected.
"""

from django.db import migrations

HASHSIZE = 32 * 1024 * 1024
DEFAULT_HASHSIZE = 1024 * 1024
SET_HASHSIZE = "INSERT INTO articles_search (articles_search, rank) VALUES ('hashsize', %s)"


def set_hashsize(size: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(SET_HASHSIZE, [size])

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0012_revision_bylines"),
    ]

    operations = [
        migrations.RunPython(set_hashsize(HASHSIZE), set_hashsize(DEFAULT_HASHSIZE), elidable=False),
    ]
