"""The editorial operations: what an editor does to articles, authors, tags and suggestions.

Each operation is one function taking the objects, the acting user and its
options. It checks the permission the operation needs (PermissionDenied,
before anything is written), does its work in one transaction, writes the
revisions and log entries, and returns what the caller tells the user (a
count, a report). The admin (editorial), the management commands and
anything else that edits articles call these; none repeats their steps.

`user=None` is the system — a management command or the importer, which run
with the server's own rights — and is not checked.

At the heart of most of them is `save_as_edit`, the one way an article is
saved as an editor's edit (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from taggit.models import Tag

from articles import content_keys
from articles.iterables import batched
from articles.models import (
    Article, ArticleByline, Author, Category, TaggedArticle, TagSuggestion, sync_category_links,
)
from articles.permissions import AUTHOR_STATUSES, can_edit, can_publish

from . import byline_links, keywords, revisions

# The revision's change-reason column holds 100 characters.
REASON_LENGTH = 100


class RestoreRefused(Exception):
    """A restore that must not happen; the message says why, for the editor."""


# -- permissions --------------------------------------------------------------

def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _may_publish(user) -> bool:
    return user is None or can_publish(user)


def _may_edit(user, article: Article) -> bool:
    return user is None or can_edit(user, article)


def _may_merge(user, model: type[models.Model]) -> bool:
    """Merging deletes rows and changes published articles: changing and deleting the rows, and publishing."""
    if user is None:
        return True
    opts = model._meta
    return (can_publish(user)
            and user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")
            and user.has_perm(f"{opts.app_label}.{get_permission_codename('delete', opts)}"))


def _check_may_save(user, article: Article) -> None:
    """Editors save anything; others only what they may edit, and never into a published status."""
    if user is None or can_publish(user):
        return
    stored = Article.objects.filter(pk=article.pk).only("created_by", "status").first() if article.pk else None
    _require(article.status in AUTHOR_STATUSES and can_edit(user, stored or article))


# -- saving an article as an editor's edit ------------------------------------

def save_as_edit(article: Article, user, *, fields: Iterable[str] | None = None,
                 save_links: Callable[[], None] | None = None, bylines_corrected: bool = False,
                 reason: str | None = None, local_edit: bool = True) -> bool:
    """Save `article`'s changes as `user`'s edit, with its revision; False if it changed nothing.

    The sequence, in one transaction:

    1. the stored version gets a revision first if it has none (e.g. what an
       import wrote), so the editor can always go back to it;
    2. the row is saved — all of it, or only `fields` — by `user`, with
       `reason` on the revision, and marked `edited_locally` (a later import
       keeps it) unless `local_edit` is False (a merge re-points links only);
    3. `save_links()` saves what belongs to the article beside its row (the
       admin's inlines and tags, a move's categories, an accepted tag);
    4. when the body was saved, the bylines are settled after the links: an
       editor's correction (`bylines_corrected`) is kept from now on,
       otherwise the dateline decides;
    5. the links are folded into the revision just written, and that revision
       is dropped again (version and time rewound) if nothing an editor reads
       changed (`newsroom.revisions.drop_if_unchanged`); if what changed is
       nothing a reader sees (a status, say), the revision stays but the
       last-modified time goes back (`newsroom.revisions.keep_modified_time_if_unseen`).
    """
    if article.pk is None and user is not None:
        article.created_by = user
    _check_may_save(user, article)
    update_fields = None if fields is None else [*fields, "updated_at", *(["edited_locally"] if local_edit else [])]
    body_saved = update_fields is None or "body" in update_fields
    # The one way articles are edited: what the edit touches is recorded as content
    # keys (articles.content_keys), so only the pages that show the article go stale.
    with content_keys.article_change(article):
        if article.pk is not None:
            revisions.record_unrevised_version(article.pk)
        if local_edit:
            article.edited_locally = True
        if body_saved:
            article._settle_bylines_later = True  # step 4, once the links are saved (newsroom.byline_links)
        else:
            # The stored body is already sanitised and is not written: not sanitised again.
            article._sanitized_body = article._excerpt_of = article.body
        article._history_user = user
        if reason:
            article._change_reason = Truncator(reason).chars(REASON_LENGTH)
        article.save(update_fields=update_fields)
        if save_links is not None:
            save_links()
            sync_category_links(article)  # links saved without m2m signals (the admin's inline) need it too
        if body_saved:
            _settle_bylines(article, corrected=bylines_corrected)
        revisions.record_links(article)
        if revisions.drop_if_unchanged(article):
            return False
        revisions.keep_modified_time_if_unseen(article)
        return True


def _settle_bylines(article: Article, *, corrected: bool) -> None:
    if corrected and not article.bylines_edited:
        Article.objects.filter(pk=article.pk).update(bylines_edited=True)
        article.bylines_edited = True
    elif not article.bylines_edited:
        byline_links.set_bylines(article, byline_links.detected(article))


# -- publication ---------------------------------------------------------------

def set_status(articles: Iterable[Article], user, status: str) -> int:
    """Give `articles` the status, each as `user`'s edit; returns how many changed.

    Saved one by one so every save path (sanitising, search index, revisions)
    runs. Publishing, scheduling and taking back to draft are the Editors';
    sending to review is anyone's who may edit the article.
    """
    if status != Article.Status.REVIEW:  # sending to review is checked per article, by save_as_edit
        _require(_may_publish(user))
    with transaction.atomic():
        changed = [article for article in articles if article.status != status]
        for article in changed:
            article.status = status
            save_as_edit(article, user, fields=["status"])
    return len(changed)


def publish(articles: Iterable[Article], user) -> int:
    return set_status(articles, user, Article.Status.PUBLISHED)


def unpublish(articles: Iterable[Article], user) -> int:
    """Back to draft."""
    return set_status(articles, user, Article.Status.DRAFT)


def send_to_review(articles: Iterable[Article], user) -> int:
    return set_status(articles, user, Article.Status.REVIEW)


# -- categories ----------------------------------------------------------------

def move_to_category(articles: Iterable[Article], category: Category, user) -> int:
    """File `articles` under `category` only (and its ancestors), each as `user`'s edit; returns how many."""
    _require(_may_publish(user))
    moved = 0
    with transaction.atomic():
        for article in articles:
            # A new version even though the row is unchanged: a form opened
            # before the move would otherwise put the old categories back.
            save_as_edit(article, user, fields=[],
                         save_links=lambda article=article: article.categories.set([category]))
            moved += 1
    return moved


# -- categories, tags and authors: saving and deleting ----------------------------

def _kind_of(model: type[models.Model]) -> str:
    """The content_keys kind of a category, tag or author model."""
    return {Category: "category", Tag: "tag", Author: "author"}[model]


def _may(user, action: str, model: type[models.Model]) -> bool:
    opts = model._meta
    return user is None or user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


def save_named(row: Category | Tag | Author, user) -> None:
    """Save a category, tag or author (new, renamed, moved under another parent) as `user`'s change.

    Only the pages that print it go stale (articles.content_keys.entity_change):
    its own pages and feeds, the pages naming it (its articles', the listings
    whose cards show it), its index; for a category, those of the categories below it too.
    """
    _require(_may(user, "change" if row.pk else "add", type(row)))
    with content_keys.entity_change(_kind_of(type(row)), [row.pk]) as rows:
        row.save()
        rows.add(row.pk)


def delete_named(rows: Iterable[Category | Tag | Author], user) -> int:
    """Delete categories, tags or authors (one kind); returns how many rows were deleted.

    Their articles stay, without them: those articles' pages, the pages that
    print the rows, and the related lists drawn from them go stale.
    """
    rows = list(rows)
    if not rows:
        return 0
    model = type(rows[0])
    _require(_may(user, "delete", model))
    with content_keys.entity_change(_kind_of(model), [row.pk for row in rows]):
        _total, deleted = model.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return deleted.get(model._meta.label, 0)


def delete_articles(articles: Iterable[Article], user) -> int:
    """Delete articles (with what they own: links, bylines, suggestions, source records); returns how many.

    Their pages and every listing, feed, archive and neighbour page that
    showed them go stale (articles.content_keys.articles_write), nothing else.
    """
    articles = list(articles)
    _require(_may(user, "delete", Article) and all(_may_edit(user, article) for article in articles))
    ids = [article.pk for article in articles]
    with content_keys.articles_write() as write:
        write.changing(ids)
        Article.objects.filter(pk__in=ids).delete()
    return len(ids)


# -- merging authors and tags ----------------------------------------------------

@dataclass
class MergeResult:
    kept: models.Model
    merged: int  # rows merged into `kept` (and deleted)
    articles: int  # articles re-pointed, each with a revision
    reason: str


def merge_authors(authors: Iterable[Author], user) -> MergeResult:
    """Fold the authors into the one with the most articles (as outlet); bylines move too."""
    return _merge(Author.objects.annotate(n=Count("articles")), authors, user,
                  articles_of=_articles_of_authors, repoint=_repoint_authors)


def merge_tags(tags: Iterable[Tag], user) -> MergeResult:
    """Fold the tags into the one on the most articles."""
    return _merge(Tag.objects.annotate(n=Count("articles_taggedarticle_items")), tags, user,
                  articles_of=_articles_of_tags, repoint=_repoint_tags)


def _merge(counted: QuerySet, selected: Iterable[models.Model], user, *,
           articles_of: Callable[[list], QuerySet[Article]],
           repoint: Callable[[models.Model, list], None]) -> MergeResult:
    _require(_may_merge(user, counted.model))
    rows = sorted(counted.filter(pk__in=[row.pk for row in selected]), key=lambda row: (-row.n, row.pk))
    if len(rows) < 2:
        raise ValueError("a merge needs at least two rows")
    keep, others = rows[0], rows[1:]
    merged_away = counted.model.objects.filter(pk__in=[row.pk for row in others])
    reason = _("Merged %(names)s into %(kept)s") % {"names": ", ".join(str(row) for row in others), "kept": keep}
    # The rows and their articles' links change: articles.content_keys says which pages that touches.
    with content_keys.entity_change(_kind_of(counted.model), [row.pk for row in rows]):
        touched = list(articles_of(others).values_list("pk", flat=True))
        for article_id in touched:  # what the import wrote stays in the history
            revisions.record_unrevised_version(article_id)
        if user is not None:
            LogEntry.objects.log_actions(user_id=user.pk, queryset=merged_away, action_flag=DELETION)
        repoint(keep, others)
        merged_away.delete()
        if user is not None:
            LogEntry.objects.log_actions(user_id=user.pk, queryset=[keep], action_flag=CHANGE,
                                         change_message=reason, single_object=True)
        for article in Article.objects.filter(pk__in=touched):
            # A new version too: a form opened before the merge would put the
            # merged-away author or tag back. Not a local edit: a later import
            # may still update the article.
            save_as_edit(article, user, fields=[], reason=reason, local_edit=False)
    return MergeResult(kept=keep, merged=len(others), articles=len(touched), reason=reason)


def _articles_of_authors(rows: list[Author]) -> QuerySet[Article]:
    in_bylines = ArticleByline.objects.filter(author__in=rows).values("article_id")
    return Article.objects.filter(Q(author__in=rows) | Q(pk__in=in_bylines))


def _repoint_authors(keep: Author, others: list[Author]) -> None:
    Article.objects.filter(author__in=others).update(author=keep, updated_at=timezone.now())
    # Bylines move too; an article crediting both keeps one line, the first.
    already = set(ArticleByline.objects.filter(author=keep).values_list("article_id", flat=True))
    for link in ArticleByline.objects.filter(author__in=others).order_by("position", "id"):
        if link.article_id in already:
            link.delete()
        else:
            already.add(link.article_id)
            ArticleByline.objects.filter(pk=link.pk).update(author=keep)


def _articles_of_tags(rows: list[Tag]) -> QuerySet[Article]:
    return Article.objects.filter(tagged_items__tag__in=rows).distinct()


def _repoint_tags(keep: Tag, others: list[Tag]) -> None:
    already = TaggedArticle.objects.filter(tag=keep).values_list("content_object_id", flat=True)
    moved = TaggedArticle.objects.filter(tag__in=others).exclude(content_object_id__in=already)
    # The links carry their article's publication time (the tag listing's index reads it).
    TaggedArticle.objects.bulk_create(
        TaggedArticle(content_object_id=article_id, tag=keep, published_at=published_at)
        for article_id, published_at in set(moved.values_list("content_object_id", "content_object__published_at"))
    )


# -- bylines ------------------------------------------------------------------------

def settle_bylines(articles: QuerySet[Article], user=None, *, discard_corrections: bool = False,
                   dry_run: bool = False, batch_size: int = 500, on_batch: Callable[[int], None] | None = None,
                   examples: int = 10) -> byline_links.RedetectReport:
    """Detect the bylines of `articles` again from their datelines.

    Editors' corrections are kept unless `discard_corrections` (the admin's
    action: the editor asked for detection on exactly these articles).
    """
    _require(_may_publish(user))
    if discard_corrections and not dry_run:
        with content_keys.articles_write() as write:  # their pages, not every page
            corrected = list(articles.filter(bylines_edited=True).values_list("pk", flat=True))
            write.changing(corrected)
            Article.objects.filter(pk__in=corrected).update(bylines_edited=False)
            write.written(corrected)
    return byline_links.redetect(articles, dry_run=dry_run, batch_size=batch_size, on_batch=on_batch,
                                 examples=examples)


# -- keyword suggestions ----------------------------------------------------------------

@dataclass
class SuggestReport:
    articles: int  # articles examined
    made: int  # suggestions stored


def suggest_tags(articles: QuerySet[Article], *, batch_size: int = 200) -> SuggestReport:
    """Compute and store keyword suggestions for `articles`, a batch at a time (decided ones stay)."""
    ids = list(articles.order_by("pk").values_list("pk", flat=True).distinct())
    made = 0
    for chunk in batched(ids, batch_size):
        made += keywords.suggest(Article.objects.filter(pk__in=chunk).select_related("author"))
    return SuggestReport(articles=len(ids), made=made)


def accept_suggestions(suggestions: Iterable[TagSuggestion], user, *, as_edit: bool = True) -> int:
    """Make the suggestions tags of their articles; returns how many were accepted.

    `as_edit`: saved as the user's edit of each article (a revision, kept by
    later imports). False when the tags join a save already under way (the
    article's own form, which is the edit).
    """
    by_article: dict[int, list[TagSuggestion]] = {}
    for suggestion in suggestions:
        if suggestion.state != TagSuggestion.State.ACCEPTED:
            by_article.setdefault(suggestion.article_id, []).append(suggestion)
    articles = list(Article.objects.filter(pk__in=by_article))
    _require(all(_may_edit(user, article) for article in articles))
    with transaction.atomic():
        for article in articles:
            chosen = by_article[article.pk]
            if as_edit:
                save_as_edit(article, user, fields=[],
                             save_links=lambda article=article, chosen=chosen: keywords.tag(article, chosen, user))
            else:
                keywords.tag(article, chosen, user)
    return sum(len(chosen) for chosen in by_article.values())


def reject_suggestions(suggestions: Sequence[TagSuggestion], user) -> int:
    """Mark the suggestions rejected (the article is not changed); returns how many were."""
    articles = Article.objects.filter(pk__in={s.article_id for s in suggestions})
    _require(all(_may_edit(user, article) for article in articles))
    return keywords.reject(suggestions, user)


def accept_suggested_tags(articles: Iterable[Article], user) -> int:
    """Suggest tags for the articles that have none yet, then accept every pending one; returns tags added."""
    articles = list(articles)
    _require(all(_may_edit(user, article) for article in articles))
    keywords.suggest(a for a in articles if not a.tag_suggestions.exists())
    return accept_suggestions(
        TagSuggestion.objects.filter(article__in=articles, state=TagSuggestion.State.PENDING), user)


# -- restoring a revision ----------------------------------------------------------------

def restore_revision(revision: revisions.Revision, user, *, seen_version: int) -> Article:
    """Make `revision` the article's current state, as a new save by `user`.

    `seen_version` is the article's version the user saw when choosing to
    restore; if it has been saved since, nothing is written (optimistic
    locking). Restoring is an edit like any other: it bumps the version, goes
    through the sanitiser, and is itself a revision.
    """
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=revision.id)
        _require(_may_edit(user, article))
        if article.version != seen_version:
            raise RestoreRefused(_(
                "Someone else saved this article after you opened this revision. Nothing was "
                "restored: open the history again and choose the revision once more."))
        if not _may_publish(user) and revision.status not in AUTHOR_STATUSES:
            raise RestoreRefused(_(
                "This revision is published or scheduled; only editors can restore it."))
        for name in revisions.RESTORED_FIELDS:
            setattr(article, name, getattr(revision, name))
        article.bylines_edited = revision.bylines_edited
        if article.author_id and not Author.objects.filter(pk=article.author_id).exists():
            article.author_id = None  # the author was deleted or merged away since

        def restore_links() -> None:
            article.categories.set(Category.objects.filter(pk__in=revision.category_ids))
            article.tags.set(revision.tag_names)
            if revision.bylines_edited:
                # An editor's correction then; otherwise the restored body's detected bylines stand.
                byline_links.set_bylines(article, [tuple(credit) for credit in revision.byline_credits])

        save_as_edit(article, user, save_links=restore_links, reason=_(
            "Restored the revision of %(date)s (version %(version)s)") % {
            "date": formats.localize(timezone.localtime(revision.history_date)), "version": revision.version})
    return article
