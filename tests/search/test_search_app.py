"""The search app as a Django app: its URL, its system check, its command, its pure tokeniser."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import checks as django_checks
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from articles.models import Article
from search import checks, handlers
from search.backends import TABLES as INDEX_TABLES
from search.query import search
from tests.factories import publish


def test_the_search_page_keeps_its_url_and_name():
    assert reverse("articles:search") == "/search/"
    assert resolve("/search/").view_name == "articles:search"


def _fts5_warnings() -> list[django_checks.CheckMessage]:
    return [message for message in django_checks.run_checks() if message.id == checks.MISSING_FTS5]


def test_no_fts5_warning_where_sqlite_has_it():
    assert checks.sqlite_has_fts5()  # the test machines' SQLite has FTS5
    assert _fts5_warnings() == []


def test_a_sqlite_without_fts5_is_warned_about_once_per_sqlite_database(monkeypatch):
    monkeypatch.setattr(checks, "sqlite_has_fts5", lambda: False)
    sqlite_aliases = [alias for alias, db in settings.DATABASES.items() if db["ENGINE"].endswith("sqlite3")]
    warnings = _fts5_warnings()
    assert [w.level for w in warnings] == [django_checks.WARNING] * len(sqlite_aliases)
    for warning, alias in zip(warnings, sqlite_aliases):
        assert f"'{alias}'" in warning.msg and "FTS5" in warning.msg


def test_sqlite_has_fts5_says_no_when_the_module_is_missing(monkeypatch):
    import sqlite3

    class NoFts5:
        def execute(self, sql):
            raise sqlite3.OperationalError("no such module: fts5")

        def close(self):
            pass

    monkeypatch.setattr(checks.sqlite3, "connect", lambda name: NoFts5())
    assert not checks.sqlite_has_fts5()


@pytest.mark.django_db
def test_rebuild_search_index_reports_what_it_indexed():
    first, second = publish("券商", body="<p>券商</p>"), publish("腾讯", body="<p>腾讯</p>")
    Article.objects.filter(pk=first.pk).update(title="京东")  # behind the receivers' back
    out = io.StringIO()
    call_command("rebuild_search_index", stdout=out)
    assert out.getvalue().startswith("indexed 2 articles in ")
    assert search("京东") == [first.pk] and search("腾讯") == [second.pk]


@pytest.mark.django_db
def test_the_index_receivers_are_connected_once_by_the_app():
    """A save writes the index once, even if connect() runs again (say, ready() twice): same dispatch_uids."""
    handlers.connect()
    index_table = INDEX_TABLES[connection.vendor]
    with CaptureQueriesContext(connection) as queries:
        article = publish("券商", body="<p>券商</p>")
    # executemany is logged as "N times: INSERT ...".
    writes = [q["sql"] for q in queries.captured_queries if f"INSERT INTO {index_table} " in q["sql"]]
    assert len(writes) == 1, writes
    assert search("券商") == [article.pk]


@pytest.mark.parametrize("module", ["search.tokens"])
def test_the_pure_tokeniser_loads_without_the_orm(module):
    """The importer's worker processes tokenise bodies: that must not set the ORM up."""
    code = (
        "import sys; import " + module + "; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('django.db', 'articles.models'))); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
