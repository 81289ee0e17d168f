"""Receivers of the articles app that are not another app's job.

The search index's receivers live in search.handlers, connected by the search
app's ready().
"""

from __future__ import annotations

from django.db.models.signals import pre_save
from django.dispatch import receiver
from taggit.models import Tag

from .models import unicode_slug, unique_slug


@receiver(pre_save, sender=Tag, dispatch_uid="articles.tags.never_an_empty_slug")
def give_tag_a_slug(sender, instance: Tag, **kwargs) -> None:
    """A tag named only with symbols ("<>", "&#") gets taggit's empty slug; its URL
    could not be built and every page listing it would fail. Such tags get
    `tag`, `tag-2`, … like the importer's (models.unicode_slug)."""
    if instance.slug.strip("-_"):
        return
    taken = Tag.objects.filter(slug__startswith="tag").exclude(pk=instance.pk).values_list("slug", flat=True)
    instance.slug = unique_slug(unicode_slug(instance.name, "tag", 100), set(taken), 100)
