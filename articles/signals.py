"""Keep the search index in step with every save and delete of an article.

The index is written inside the same transaction as the article (Article.save
and Django's delete both run in one), so a rolled-back save leaves no trace in
the index and a committed one is searchable at once. The importer's bulk path
sends no signals; it indexes each batch itself (articles.load). After
`migrate`, an index that a migration has just created is filled.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_migrate, post_save, pre_save
from django.dispatch import receiver
from taggit.models import Tag

from . import search
from .models import Article, unicode_slug, unique_slug

# Only these fields reach the index (the time orders PostgreSQL's candidates):
# a save that touches none of them (say, update_fields=["status"]) leaves the
# index as it is.
INDEXED_FIELDS = frozenset({"title", "body", "published_at"})


@receiver(post_save, sender=Article, dispatch_uid="articles.search.index_saved_article")
def index_saved_article(sender, instance: Article, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not INDEXED_FIELDS & set(update_fields):
        return
    # The instance already holds the sanitised body save() wrote: no query needed.
    search.index_rows([(instance.pk, instance.title, instance.body, instance.published_at)])


@receiver(post_delete, sender=Article, dispatch_uid="articles.search.unindex_deleted_article")
def unindex_deleted_article(sender, instance: Article, **kwargs) -> None:
    search.remove_articles([instance.pk])


@receiver(post_migrate, dispatch_uid="articles.search.fill_new_index")
def fill_new_index(sender, app_config, using: str, **kwargs) -> None:
    """Index the existing articles once a migration has created the (empty) index.

    Here rather than in the migration, so it always runs today's indexing code
    against the final schema.
    """
    if app_config.label == "articles":
        search.fill_if_empty(using)


@receiver(pre_save, sender=Tag, dispatch_uid="articles.tags.never_an_empty_slug")
def give_tag_a_slug(sender, instance: Tag, **kwargs) -> None:
    """A tag named only with symbols ("<>", "&#") gets taggit's empty slug; its URL
    could not be built and every page listing it would fail. Such tags get
    `tag`, `tag-2`, … like the importer's (models.unicode_slug)."""
    if instance.slug.strip("-_"):
        return
    taken = Tag.objects.filter(slug__startswith="tag").exclude(pk=instance.pk).values_list("slug", flat=True)
    instance.slug = unique_slug(unicode_slug(instance.name, "tag", 100), set(taken), 100)
