"""Index operations that never block readers on PostgreSQL (docs/ARCHITECTURE.md, "The apps": **Migrations**).

A plain CREATE INDEX holds a lock that blocks every write to its table while it
builds, and DROP INDEX one that blocks every read, for as long as the build or the
wait for running queries lasts: on the articles table, the whole site. On
PostgreSQL these build and drop the index CONCURRENTLY (Django's
AddIndexConcurrently / RemoveIndexConcurrently: the migration must say
`atomic = False`); other databases (SQLite) run the ordinary operation, which is
all they have. The end state, and the migration state, are the ordinary
operations'.

Migrations import these (a module of the migrations package, not live code: the
loader skips names starting with `_`, and tests/integration/test_migrations.py
allows imports from the migrations package). History depends on them: never
change what they do, add new ones beside them.
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class _ConcurrentlyOnPostgres:
    """The concurrent operation on PostgreSQL; elsewhere (SQLite) `plain`, the ordinary one."""

    plain: type[migrations.AddIndex] | type[migrations.RemoveIndex]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, AddIndexConcurrently):
    """AddIndex, built CONCURRENTLY on PostgreSQL."""

    plain = migrations.AddIndex


class RemoveIndexConcurrentlyOnPostgres(_ConcurrentlyOnPostgres, RemoveIndexConcurrently):
    """RemoveIndex, dropped CONCURRENTLY on PostgreSQL."""

    plain = migrations.RemoveIndex
