"""Keep the search index in step with every save and delete of an article.

The index is written inside the same transaction as the article (Article.save
and Django's delete both run in one), so a rolled-back save leaves no trace in
the index and a committed one is searchable at once. The importer's bulk path
sends no signals; it indexes each batch itself (importing.load). After
`migrate`, an index that a migration has just created is filled.

`connect` is called once, from `SearchConfig.ready()`. The search app comes
after ``articles`` in INSTALLED_APPS, so these receivers run after the
articles app's own (bylines detected, revision recorded, then indexed).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_migrate, post_save

from articles.models import Article

from . import index

# Only these fields reach the index (the time orders PostgreSQL's candidates):
# a save that touches none of them (say, update_fields=["status"]) leaves the
# index as it is.
INDEXED_FIELDS = frozenset({"title", "body", "published_at"})


def index_saved_article(sender, instance: Article, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not INDEXED_FIELDS & set(update_fields):
        return
    # The instance already holds the sanitised body save() wrote: no query needed.
    index.index_rows([(instance.pk, instance.title, instance.body, instance.published_at)])


def unindex_deleted_article(sender, instance: Article, **kwargs) -> None:
    index.remove_articles([instance.pk])


def fill_new_index(sender, app_config, using: str, **kwargs) -> None:
    """Index the existing articles once a migration has created the (empty) index.

    Here rather than in the migration, so it always runs today's indexing code
    against the final schema.
    """
    if app_config.label == "articles":
        index.fill_if_empty(using)


def connect() -> None:
    """Connect the receivers (their dispatch_uids are the ones they had in articles.handlers)."""
    post_save.connect(index_saved_article, sender=Article, dispatch_uid="articles.search.index_saved_article")
    post_delete.connect(unindex_deleted_article, sender=Article, dispatch_uid="articles.search.unindex_deleted_article")
    post_migrate.connect(fill_new_index, dispatch_uid="articles.search.fill_new_index")
