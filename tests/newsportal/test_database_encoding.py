"""newsportal.E005: `migrate` refuses a PostgreSQL database that is not UTF8.

A SQL_ASCII database (what initdb makes where no locale is set) counts a column's length in
bytes: the first Chinese title longer than a third of its slug column fails to import. The
check makes `migrate`, the first command of every deployment, stop with the fix instead.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from newsportal.checks import DATABASE_NOT_UTF8, check_database_encoding
from tests.faults_support import PostgresAdmin, run_manage, with_database


@pytest.mark.django_db
def test_the_test_database_passes():
    assert check_database_encoding(databases=["default"]) == []


@pytest.mark.slow  # a database and a process of their own
def test_migrate_refuses_a_sql_ascii_database():
    if connection.vendor != "postgresql":
        pytest.skip("database encodings are PostgreSQL's (SQLite stores UTF-8 text)")
    pg = PostgresAdmin()
    name = f"encoding_{uuid.uuid4().hex[:12]}"
    pg.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    try:
        done = run_manage(with_database(pg.url, name), "migrate", "--noinput", timeout=300)
        assert done.returncode != 0
        assert DATABASE_NOT_UTF8 in done.stderr and "SQL_ASCII" in done.stderr, done.stderr
        assert "Applying" not in done.stdout  # refused before the first migration
    finally:
        pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
