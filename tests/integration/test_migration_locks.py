"""No migration blocks the site while it builds or drops an index on PostgreSQL.

A release runs `migrate` while the old release still serves (docs/DEPLOY.md,
"Releases"). A plain CREATE INDEX blocks every write to its table while it builds,
DROP INDEX every read; on a table of many rows that is minutes of a site that
cannot serve. So every index a migration builds or drops on a table that exists
before it runs is built CONCURRENTLY (articles/migrations/_concurrently.py); an
index on a table the same migration creates is free (the table is empty and nobody
reads it yet). This runs every migration on a new PostgreSQL database, records the
statements each one sends, and checks them, so a future migration stays so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from tests.factories import PROJECT
from tests.faults_support import PostgresAdmin, subprocess_env, with_database

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's locks (tests/with_postgres.sh)")

# Ran, each in one transaction, before the rule: a database created or upgraded past them
# since has them already. Their index builds on existing tables stay as they were (history).
BEFORE_THE_RULE = {
    "articles.0001_initial", "articles.0006_workflow", "articles.0010_cache_and_listing_keys",
    "articles.0015_tag_name_case_insensitive",
}

MIGRATE_AND_RECORD = r"""
import json

import django

django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

statements = []
applying = [None]
apply_migration = MigrationExecutor.apply_migration


def recording(self, state, migration, *args, **kwargs):
    applying[0] = f"{migration.app_label}.{migration.name}"
    try:
        return apply_migration(self, state, migration, *args, **kwargs)
    finally:
        applying[0] = None


def watch(execute, sql, params, many, context):
    if applying[0]:
        statements.append([applying[0], sql, context["connection"].in_atomic_block])
    return execute(sql, params, many, context)


MigrationExecutor.apply_migration = recording
with connection.execute_wrapper(watch):
    call_command("migrate", verbosity=0)
print(json.dumps(statements))
"""

NAME = r'"?([\w.]+)"?'
CREATE_TABLE = re.compile(rf"^\s*CREATE TABLE (?:IF NOT EXISTS )?{NAME}", re.I)
CREATE_INDEX = re.compile(
    rf"^\s*CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?{NAME} ON (?:ONLY )?{NAME}", re.I)
DROP_INDEX = re.compile(rf"^\s*DROP INDEX (CONCURRENTLY )?(?:IF EXISTS )?{NAME}", re.I)
# A unique or primary key constraint added to a table builds its index under the table's lock.
ADD_CONSTRAINT = re.compile(rf"^\s*ALTER TABLE {NAME} ADD CONSTRAINT {NAME} (?:UNIQUE|PRIMARY KEY|EXCLUDE)", re.I)


def blocking_index_statements(statements: list[tuple[str, str, bool]]) -> list[str]:
    """The statements that build or drop an index under a lock that blocks readers or writers of a
    table the migration did not create, as 'migration: SQL'."""
    created: dict[str, set[str]] = {}
    index_table: dict[str, str] = {}
    blocking = []
    for migration, sql, _ in statements:
        new_tables = created.setdefault(migration, set())
        if table := CREATE_TABLE.match(sql):
            new_tables.add(table.group(1).lower())
        elif index := CREATE_INDEX.match(sql):
            concurrently, name, table = index.group(1), index.group(2).lower(), index.group(3).lower()
            index_table[name] = table
            if not concurrently and table not in new_tables:
                blocking.append(f"{migration}: {sql}")
        elif index := DROP_INDEX.match(sql):
            concurrently, name = index.group(1), index.group(2).lower()
            if not concurrently and index_table.get(name) not in new_tables:
                blocking.append(f"{migration}: {sql}")
        elif constraint := ADD_CONSTRAINT.match(sql):
            if constraint.group(1).lower() not in new_tables:
                blocking.append(f"{migration}: {sql}")
    return blocking


@pytest.fixture
def migrated_statements():
    """Every statement `migrate` sends a new PostgreSQL database: (migration, SQL, in a transaction)."""
    pg = PostgresAdmin()
    name = f"locks_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name}")
    try:
        done = subprocess.run([sys.executable, "-c", MIGRATE_AND_RECORD], cwd=PROJECT,
                              env=subprocess_env(with_database(pg.url, name)), capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        yield [tuple(row) for row in json.loads(done.stdout)]
    finally:
        pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.slow  # every migration, on a database of its own
@on_postgres
def test_our_migrations_build_and_drop_indexes_concurrently(migrated_statements):
    ours = [row for row in migrated_statements if row[0].startswith("articles.")]
    assert any(CREATE_INDEX.match(sql) for _, sql, _ in ours)  # the recording saw them
    blocking = [line for line in blocking_index_statements(ours) if line.split(":")[0] not in BEFORE_THE_RULE]
    assert blocking == [], "build or drop these CONCURRENTLY (articles/migrations/_concurrently.py)"


@pytest.mark.slow
@on_postgres
def test_0017_rebuilds_the_listing_index_concurrently_outside_a_transaction(migrated_statements):
    """The migration the operator met: it held a lock blocking every read of the articles table."""
    sent = [(sql, in_transaction) for migration, sql, in_transaction in migrated_statements
            if migration == "articles.0017_postgres_read_indexes" and "INDEX" in sql.upper()]
    assert [(re.sub(r"\s+", " ", sql.split(" ON ")[0]), in_transaction) for sql, in_transaction in sent] == [
        ("CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_searchdocument_newest", False),
        ("CREATE INDEX CONCURRENTLY IF NOT EXISTS articles_searchdocument_title_gin", False),
        ('DROP INDEX CONCURRENTLY IF EXISTS "article_status_published_idx"', False),
        ('CREATE INDEX CONCURRENTLY "article_status_published_idx"', False),
    ]


def test_the_check_finds_a_blocking_index_build():
    """The checker itself: a plain build on an existing table is caught, one on a new table is not."""
    statements = [
        ("articles.9998_new", 'CREATE TABLE "articles_new" ("id" bigint)', True),
        ("articles.9998_new", 'CREATE INDEX "new_idx" ON "articles_new" ("id")', True),
        ("articles.9999_old", 'CREATE INDEX "old_idx" ON "articles_article" ("slug")', True),
        ("articles.9999_old", 'CREATE INDEX CONCURRENTLY "ok_idx" ON "articles_article" ("slug")', False),
        ("articles.9999_old", 'DROP INDEX IF EXISTS "new_idx"', True),
        ("articles.9999_old", 'ALTER TABLE "articles_article" ADD CONSTRAINT "u" UNIQUE ("slug")', True),
    ]
    assert [line.split(":")[1].split()[:3] for line in blocking_index_statements(statements)] == [
        ["CREATE", "INDEX", '"old_idx"'], ["DROP", "INDEX", "IF"], ["ALTER", "TABLE", '"articles_article"']]
