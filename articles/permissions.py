"""Who may do what with an article: one place, used by the admin and the preview.

Editors (the `publish_article` permission) and superusers see and change
everything. Authors see and change only the articles they created, and only
until they are published; they may submit for review but never publish or
schedule.
"""

from __future__ import annotations

from articles.models import Article


def can_publish(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("articles.publish_article"))


def can_view(user, article: Article) -> bool:
    return can_publish(user) or (user.is_active and article.created_by_id == user.pk)


def can_edit(user, article: Article) -> bool:
    if can_publish(user):
        return True
    return can_view(user, article) and article.status != Article.Status.PUBLISHED


def visible_to(user, queryset):
    """The articles `user` may see in the admin."""
    return queryset if can_publish(user) else queryset.filter(created_by=user)


AUTHOR_STATUSES = (Article.Status.DRAFT, Article.Status.REVIEW)
