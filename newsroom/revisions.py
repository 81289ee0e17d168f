"""Article revisions: what each one held, what changed, and restoring one.

django-simple-history writes a revision (`Article.history`) on every
`Article.save()`: who (the request's user), when, and every column. This
module adds what the library cannot see at that moment — the article's
categories and tags — and the newsroom's policies:

- Bulk imports write no revision per article (they must stay fast). Instead,
  before an editor's first change to an article whose stored version has no
  revision yet (a fresh import, or one an import updated since), the edit
  records that stored version first (`record_unrevised_version`), so the
  editor can always go back to what the import wrote.
- Restoring a revision is an editor's edit like any other
  (newsroom.operations.restore_revision): it bumps `version` (forms opened
  before it are refused), goes through the sanitiser, and is itself a revision.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from newsroom import byline_links
from articles.models import Article, Author
from articles.sanitize import html_to_text

Revision = Article.history.model

# The fields a restore puts back; bookkeeping (owner, import metadata,
# version) always stays as it is now.
RESTORED_FIELDS = (
    "title", "slug", "body", "status", "published_at", "author_id",
    "head_image", "thumbnail", "comments_enabled", "extra_front_matter",
)
# Compared between revisions, in the order an editor reads them.
COMPARED_FIELDS = (*RESTORED_FIELDS[:-1], "category_names", "tag_names", "byline_credits", "extra_front_matter")

# Compared fields no reader of the site sees: an edit that changes only these
# (publishing, taking back to draft, sending to review, comments, the other
# front matter) leaves the article's last-modified time as it was.
UNSEEN_FIELDS = frozenset({"status", "comments_enabled", "extra_front_matter"})

_LABELS = {
    "author_id": gettext_lazy("author"),
    "category_names": gettext_lazy("categories"),
    "tag_names": gettext_lazy("tags"),
    "byline_credits": gettext_lazy("bylines"),
}


# -- what a revision holds --------------------------------------------------

def links_snapshot(article: Article) -> dict[str, list]:
    """The article's categories, tags and bylines as a revision stores them."""
    categories = sorted(article.categories.all(), key=lambda c: c.path)
    paths = [c.path for c in categories]
    # Only the deepest node of each chain is named: 金融 › 财联社 › 深度, not all three.
    leaves = [c for c in categories if not any(p.startswith(c.path + "/") for p in paths)]
    return {
        "category_ids": [c.pk for c in categories],
        "category_names": [c.path_display for c in leaves],
        "tag_names": sorted(article.tags.names()),
        "byline_credits": [list(credit) for credit in byline_links.current(article)] if article.pk else [],
    }


def snapshot_links(sender, instance: Article, history_instance, **kwargs) -> None:
    """Receiver (newsroom.handlers): a revision being written gets the article's links."""
    for name, value in links_snapshot(instance).items():
        setattr(history_instance, name, value)


def record_links(article: Article) -> None:
    """Update the latest revision's categories and tags to what the article has now.

    Links are written after the article's row (the admin saves its inline and
    tags after the article; code adds them to a created article), so they are
    folded into the revision of the version they belong to — never into an
    older one.
    """
    latest = latest_revision(article)
    if latest is not None and latest.version == article.version:
        Revision.objects.filter(pk=latest.pk).update(**links_snapshot(article))


def fold_link_changes(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """Receiver (newsroom.handlers): categories or tags added or removed after the
    article's row was saved belong to the revision of that version."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        record_links(instance)
    elif pk_set:
        for article in Article.objects.filter(pk__in=pk_set):
            record_links(article)


def drop_if_unchanged(article: Article) -> bool:
    """Undo the revision of a save that changed none of the compared fields.

    An editor who presses Save without changing anything (or a form that
    re-sends what is stored) made no revision: keeping one would put an empty
    entry in the history and bump the version, so that a colleague's form
    opened a moment earlier is refused for a conflict that is not there. The
    article's row goes back to the version and time of the revision that
    stays. Returns whether a revision was dropped.
    """
    latest = latest_revision(article)
    if latest is None or latest.version != article.version:
        return False
    previous = previous_revision(latest)
    if previous is None or changes(previous, latest):
        return False
    with transaction.atomic():
        latest.delete()
        Article.objects.filter(pk=article.pk, version=article.version).update(
            version=previous.version, updated_at=previous.updated_at)
    article.version, article.updated_at = previous.version, previous.updated_at
    return True


def keep_modified_time_if_unseen(article: Article) -> bool:
    """Wind the last-modified time back if the latest save changed nothing a reader sees.

    The revision stays (an editor did change the status, say); only
    `updated_at`, on the row and on that revision, goes back to the previous
    revision's, so the site's dateModified, sitemap lastmod, Atom <updated>
    and the API's updated_at do not move for bookkeeping. Returns whether it
    was wound back.
    """
    latest = latest_revision(article)
    if latest is None or latest.version != article.version:
        return False
    previous = previous_revision(latest)
    if previous is None or any(change.field not in UNSEEN_FIELDS for change in changes(previous, latest)):
        return False
    with transaction.atomic():
        Article.objects.filter(pk=article.pk, version=article.version).update(updated_at=previous.updated_at)
        Revision.objects.filter(pk=latest.pk).update(updated_at=previous.updated_at)
    article.updated_at = latest.updated_at = previous.updated_at
    return True


def record_unrevised_version(article_id: int) -> Revision | None:
    """Record the stored version as a revision if none holds it yet (see the module's docstring)."""
    stored = Article.objects.filter(pk=article_id).first()
    if stored is None:
        return None
    latest = latest_revision(stored)
    if latest is not None and latest.version == stored.version:
        return None
    reason = _("As imported") if stored.source_path else _("Saved without a revision")
    stored._history_user = None  # written by an import or a script, not by whoever saves now
    record, = Article.history.bulk_history_create(
        [stored], update=latest is not None, default_change_reason=reason,
        default_date=_written_at(stored, latest), custom_historical_attrs=links_snapshot(stored),
    )
    return record


def _written_at(stored: Article, latest: Revision | None):
    """When the unrevised version was written, as its revision's date: the last time an import
    recorded one of its files, else its last-modified time; never before the latest revision,
    whose place in the history it follows (an import's `updated` may be years old)."""
    moment = stored.source_files.aggregate(last=Max("imported_at"))["last"] or stored.updated_at
    if latest is not None and moment <= latest.history_date:
        moment = latest.history_date + dt.timedelta(microseconds=1)
    return moment


def current_state(article: Article) -> Revision:
    """The article as it is now, shaped like a revision (not saved), to compare with one."""
    values = {field.attname: getattr(article, field.attname) for field in Revision.tracked_fields}
    return Revision(**values, **links_snapshot(article))


def latest_revision(article: Article) -> Revision | None:
    return article.history.order_by("-history_date", "-history_id").first()


def previous_revision(revision: Revision) -> Revision | None:
    moment = revision.history_date
    earlier = Q(history_date__lt=moment) | Q(history_date=moment, history_id__lt=revision.history_id)
    return Revision.objects.filter(earlier, id=revision.id).order_by("-history_date", "-history_id").first()


# -- comparing --------------------------------------------------------------

@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


def _display(revision_or_article, name: str) -> str:
    value = getattr(revision_or_article, name)
    if name == "author_id":
        return str(Author.objects.filter(pk=value).first() or "—") if value else "—"
    if name == "status":
        return str(Article.Status(value).label)
    if name == "published_at":
        return formats.localize(timezone.localtime(value))
    if name in ("category_names", "tag_names"):
        return ", ".join(value) or "—"
    if name == "byline_credits":
        return ", ".join(f"{role} {who}" for role, who in value) or "—"
    if name == "body":
        return html_to_text(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value) if value not in (None, "") else "—"


def label(name: str) -> str:
    return capfirst(_LABELS[name] if name in _LABELS else Article._meta.get_field(name).verbose_name)


def changes(old, new) -> list[Change]:
    """The editorial fields that differ between two revisions (or a revision and the article)."""
    result = []
    for name in COMPARED_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if name in ("category_names", "tag_names"):
            before, after = sorted(before), sorted(after)
        elif name == "published_at":  # the admin's form keeps whole seconds
            before, after = before.replace(microsecond=0), after.replace(microsecond=0)
        if before != after:
            result.append(Change(name, label(name), _display(old, name), _display(new, name)))
    return result


# A body's blocks, each compared as one line of text.
_BLOCK_START = re.compile(r"(?=<(?:p|h[1-6]|li|blockquote|tr|figure|pre|hr)\b)", re.IGNORECASE)


def _blocks(body_html: str) -> list[str]:
    return [text for text in map(html_to_text, _BLOCK_START.split(body_html)) if text]


def body_diff(old_html: str, new_html: str, context: int = 1) -> list[tuple[str, str]]:
    """The changed blocks of two bodies' text, with `context` unchanged blocks around each.

    (marker, text) pairs: '-' removed, '+' added, ' ' unchanged, '…' blocks left out.
    """
    lines = difflib.unified_diff(_blocks(old_html), _blocks(new_html), n=context, lineterm="")
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if result:
                result.append(("…", ""))
            continue
        result.append((line[0], line[1:]))
    return result
