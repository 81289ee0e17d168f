"""The articles app's receivers, connected once from `ArticlesConfig.ready()`.

- every database connection gets the write watcher that bumps the content
  version (articles.content_version), paused while `migrate` runs;
- category links made by `categories.add()`/`set()` get their time and
  ancestors, tag links their time (articles.models);
- a tag named only with symbols gets a usable slug.

Other apps connect their own (newsroom.handlers: bylines and revisions;
search.handlers: the index), each from its own ready().
"""

from __future__ import annotations

from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed, post_migrate, pre_migrate, pre_save
from taggit.models import Tag

from articles import content_version
from articles.models import (
    ArticleCategory, TaggedArticle, stamp_added_tags, sync_added_category_links, unicode_slug, unique_slug,
)


def give_tag_a_slug(sender, instance: Tag, **kwargs) -> None:
    """A tag named only with symbols ("<>", "&#") gets taggit's empty slug; its URL
    could not be built and every page listing it would fail. Such tags get
    `tag`, `tag-2`, … like the importer's (models.unicode_slug)."""
    if instance.slug.strip("-_"):
        return
    taken = Tag.objects.filter(slug__startswith="tag").exclude(pk=instance.pk).values_list("slug", flat=True)
    instance.slug = unique_slug(unicode_slug(instance.name, "tag", 100), set(taken), 100)


def connect() -> None:
    connection_created.connect(content_version.install_write_watcher, dispatch_uid="articles.watch_writes")
    pre_migrate.connect(content_version.pause_during_migrate, dispatch_uid="articles.pause_during_migrate")
    post_migrate.connect(content_version.resume_after_migrate, dispatch_uid="articles.resume_after_migrate")
    m2m_changed.connect(sync_added_category_links, sender=ArticleCategory, dispatch_uid="articles.category_links")
    m2m_changed.connect(stamp_added_tags, sender=TaggedArticle, dispatch_uid="articles.tag_links")
    pre_save.connect(give_tag_a_slug, sender=Tag, dispatch_uid="articles.tags.never_an_empty_slug")
