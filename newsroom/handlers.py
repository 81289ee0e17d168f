"""The newsroom's receivers, connected once from `NewsroomConfig.ready()`.

After an article's row is saved, two things happen in this order, in one
receiver so the order is written down rather than implied by import order:

1. its bylines are detected from the dateline and stored (unless an editor
   corrected them), then
2. the stored bylines, categories and tags are folded into the revision that
   the save has just written (django-simple-history writes it in its own
   post_save receiver, connected when the models load, so before this one).

The search index (search.handlers) reads only the title, body and time, so it
does not depend on either step; the search app is listed after this one all
the same, so an article is indexed after its bylines and revision are settled.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_save
from simple_history.signals import pre_create_historical_record

from articles.models import Article, ArticleCategory, TaggedArticle

from . import byline_links, revisions


def settle_saved_article(sender, instance: Article, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:  # loaddata: the fixture holds the bylines and revisions it means to
        return
    byline_links.detect_on_save(instance, update_fields)
    revisions.record_links(instance)


def connect() -> None:
    post_save.connect(settle_saved_article, sender=Article, dispatch_uid="newsroom.settle_saved_article")
    pre_create_historical_record.connect(
        revisions.snapshot_links, sender=revisions.Revision, dispatch_uid="newsroom.revisions.snapshot_links")
    for through in (ArticleCategory, TaggedArticle):
        m2m_changed.connect(revisions.fold_link_changes, sender=through,
                            dispatch_uid=f"newsroom.revisions.{through.__name__}_links")
