"""Which writes change the content version: the tables come from the app registry, not from names."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from articles import content_version
from articles.models import Article, ContentVersion
from search.backends import TABLES as INDEX_TABLES

pytestmark = pytest.mark.django_db


def generation() -> int:
    return ContentVersion.objects.get().generation


def test_every_content_model_table_is_watched_and_no_bookkeeping_table_is():
    tables = content_version.content_tables()
    for label in ("articles", "taggit"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            watched = model._meta.db_table.lower() in tables
            assert watched == (model._meta.label_lower not in content_version.BOOKKEEPING_MODELS), model
    # The many-to-many tables Django creates (no model file names them) are content too.
    assert Article.categories.through._meta.db_table in tables
    assert "articles_importrun" not in tables and "articles_contentversion" not in tables


def test_a_table_of_another_app_is_not_content_even_if_its_name_starts_like_one():
    # The old rule matched "articles_" and "taggit_" prefixes; a table named so by
    # another app (or a leftover) is not content.
    assert content_version.written_content_table('INSERT INTO "articles_something_else" VALUES (1)') is None
    assert content_version.written_content_table('UPDATE "articles_article" SET title = 1') == "articles_article"
    assert content_version.written_content_table('DELETE FROM "taggit_tag"') == "taggit_tag"
    assert content_version.written_content_table('UPDATE "auth_user" SET x = 1') is None


def test_the_search_index_tables_are_content_so_a_rebuild_makes_a_new_version(django_user_model):
    Article.objects.create(title="央行降准", body="<p>央行宣布降准。</p>", status=Article.Status.PUBLISHED)
    assert set(INDEX_TABLES.values()) <= content_version.content_tables()
    before = generation()
    call_command("rebuild_search_index", verbosity=0)
    assert generation() > before


def test_a_write_to_a_bookkeeping_table_leaves_the_version_alone():
    before = generation()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_importrun SET sources = sources")
    assert generation() == before
