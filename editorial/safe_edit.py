"""No lost work in the article form (#19): the conflict of two saves, and the preview of unsaved edits.

- **Conflict.** `ArticleAdminForm` refuses a save based on an older version
  (optimistic locking). `conflict_since` says what the other save changed since
  the version the editor opened (newsroom.revisions' comparison, the body as a
  paragraph diff), and the form is re-based on the current version: the editor's
  values stay in the form, so saving again — after reading what changed — puts
  their text over the other one, knowingly.
- **Preview.** `form_preview` renders the form's current values, unsaved, through
  the public article template (articles.views.PreviewView): staff who may change
  the article (or add one), POST with the CSRF token, never cached, and framed by
  our own admin only (X-Frame-Options SAMEORIGIN and CSP frame-ancestors 'self' on
  this view alone; every other page stays DENY / 'none').
- **Local drafts** live in the browser (static/js/admin-draft.js); the server
  keeps nothing of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from csp.constants import SELF
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.db.models.functions import Lower
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.text import Truncator
from django.views.generic import DetailView
from taggit.models import Tag

from newsroom import byline_links, revisions
from articles.models import Article, ArticleByline, ArticleCategory, Author, group_bylines
from articles.related import tags_and_keywords
from articles.slugs import unicode_slug
from articles.views import PreviewView

# The change form frames the preview; no other admin page frames anything.
FRAME_OUR_PREVIEW = {"frame-src": [SELF]}


# -- the conflict -------------------------------------------------------------

@dataclass
class Conflict:
    """What another save changed between the version a form was opened at and now."""

    seen_version: int | None
    current_version: int
    saved_by: str = ""
    saved_at: dt.datetime | None = None
    # None when the opened version is in no revision (nothing to compare with).
    changes: list[revisions.Change] | None = None
    body_diff: list[tuple[str, str]] = field(default_factory=list)


def conflict_since(article_id: int, seen_version: int | None) -> Conflict:
    """The other save(s) since `seen_version`: who saved last, when, and every field that changed."""
    article = Article.objects.get(pk=article_id)
    latest = revisions.latest_revision(article)
    conflict = Conflict(seen_version=seen_version, current_version=article.version)
    if latest is not None and latest.version == article.version:
        conflict.saved_by = str(latest.history_user or "")
        conflict.saved_at = latest.history_date
    seen = (revisions.Revision.objects.filter(id=article_id, version=seen_version)
            .order_by("-history_date", "-history_id").first() if seen_version is not None else None)
    if seen is not None:
        now = revisions.current_state(article)
        conflict.changes = [
            revisions.Change(c.field, c.label, Truncator(c.old).chars(200), Truncator(c.new).chars(200))
            for c in revisions.changes(seen, now) if c.field != "body"
        ]
        conflict.body_diff = revisions.body_diff(seen.body, article.body)
    return conflict


def rebase(form, version: int) -> None:
    """Show the bound form at `version`: the editor's values stay, the next save is based on the current version."""
    data = form.data.copy()
    data["version"] = str(version)
    form.data = data


def rebase_rows(data, prefix: str, existing: set[int]):
    """An inline formset's POST data on the current version: rows whose link the other save deleted become new rows.

    Without this a stale form's row that names a deleted link (its id) fails the
    second save too ("select a valid choice"), however often it is repeated. Rows
    that still exist keep their id; a deleted row the editor also deleted goes.
    """
    try:
        total, initial = int(data[f"{prefix}-TOTAL_FORMS"]), int(data[f"{prefix}-INITIAL_FORMS"])
    except (KeyError, ValueError):
        return data
    rows = [{key[len(f"{prefix}-{i}-"):]: data.getlist(key) for key in data if key.startswith(f"{prefix}-{i}-")}
            for i in range(total)]

    def row_id(row) -> int | None:
        value = (row.get("id") or [""])[0]
        return int(value) if value.isdigit() else None

    kept = [row for row in rows[:initial] if row_id(row) in existing]
    moved = [{k: v for k, v in row.items() if k != "id"} for row in rows[:initial]
             if row_id(row) not in existing and not row.get("DELETE")]
    ordered = kept + moved + rows[initial:]
    rebased = data.copy()
    for key in [key for key in rebased if key.startswith(f"{prefix}-") and key.split("-")[1].isdigit()]:
        del rebased[key]
    for i, row in enumerate(ordered):
        for name, values in row.items():
            rebased.setlist(f"{prefix}-{i}-{name}", values)
    rebased[f"{prefix}-TOTAL_FORMS"], rebased[f"{prefix}-INITIAL_FORMS"] = str(len(ordered)), str(len(kept))
    return rebased


# -- the preview of unsaved edits -------------------------------------------------

class FormPreviewView(PreviewView):
    """The staff preview (public template, never cached) of an article built from a form's POST, not saved."""

    article: Article | None = None  # given to as_view()
    http_method_names = ["post"]
    post = DetailView.get

    def get_object(self, queryset=None) -> Article:
        return self.article

    def tags_and_keywords(self, article: Article):
        return article.preview_tags, article.preview_keywords


def form_preview(model_admin, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
    """POST: the article as the form now holds it, rendered as readers will see it once saved."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if object_id is None:
        if not model_admin.has_add_permission(request):
            raise PermissionDenied
        obj = None
    else:
        obj = model_admin.get_object(request, unquote(object_id))  # from the user's own queryset
        if obj is None or not model_admin.has_change_permission(request, obj):
            raise Http404
    article = article_from_form(model_admin, request, obj)
    response = FormPreviewView.as_view(article=article)(request)
    # Framed by the change form beside it (same origin only): this view alone.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response._csp_replace = {"frame-ancestors": [SELF]}
    return response


def article_from_form(model_admin, request: HttpRequest, obj: Article | None) -> Article:
    """An unsaved article holding the form's values: fields, categories, bylines and tags.

    Fields that do not validate keep their stored (or default) value: a preview is
    shown whatever the form's errors. The version check is not a preview's business.
    """
    article = obj if obj is not None else Article(created_by=request.user)
    data = request.POST.copy()
    data["version"] = str(article.version) if obj is not None else ""
    form = model_admin.get_form(request, obj, change=obj is not None)(data, request.FILES, instance=article)
    form.is_valid()  # construct_instance: the valid fields are on `article` now
    article.sanitise_and_derive_fields()  # what save() would store: sanitised body, excerpt, day
    if not article.slug:
        article.slug = unicode_slug(article.title, "article")

    formsets, _inlines = model_admin._create_formsets(request, article, change=obj is not None)
    rows = {fs.model: [f.cleaned_data for f in fs.forms
                       if f.is_valid() and f.cleaned_data and not f.cleaned_data.get("DELETE")]
            for fs in formsets}
    chosen = [row["category"] for row in rows.get(ArticleCategory, []) if row.get("category")]
    # Saving links every ancestor, so the page's trail is the deepest category's lineage.
    deepest = max(chosen, key=lambda c: (c.depth, c.path), default=None)
    article.__dict__["category_trail"] = deepest.lineage if deepest else []
    corrected = any(fs.model is ArticleByline and fs.has_changed() for fs in formsets)
    article.__dict__["byline_groups"] = _byline_groups(
        rows.get(ArticleByline, []) if corrected or article.bylines_edited else _detected_rows(article))
    names = form.cleaned_data.get("tags") if "tags" in form.cleaned_data else list(obj.tags.names()) if obj else []
    article.preview_tags = _tags_named(names or [])
    article.preview_keywords = tags_and_keywords(obj)[1] if obj is not None else []
    return article


def _detected_rows(article: Article) -> list[dict]:
    """The bylines a save will detect in the dateline (newsroom.operations' rule), as byline rows, unsaved."""
    credits = byline_links.detected(article)
    known = {author.name: author for author in Author.objects.filter(name__in=[name for _role, name in credits])}
    return [{"role": role, "position": i,
             "author": known.get(name) or Author(name=name, slug=unicode_slug(name, "author", 100))}
            for i, (role, name) in enumerate(credits)]


def _byline_groups(rows: list[dict]) -> list[tuple[str, list]]:
    rows = sorted((r for r in rows if r.get("author")), key=lambda r: r.get("position") or 0)
    return group_bylines((row["role"], row["author"]) for row in rows)


def _tags_named(names: list[str]) -> list[Tag]:
    """The tags as the page will list them: existing ones by name (any case), new ones with the slug they will get.

    One query whatever the number of names: by lower(name), the unique index of migration 0015 that
    makes 'ETF' and 'etf' one tag, and by the exact name (SQLite's lower() folds ASCII only)."""
    folded = {name.lower() for name in names}
    found = Tag.objects.annotate(folded_name=Lower("name")).filter(Q(folded_name__in=folded) | Q(name__in=names))
    existing = {tag.name.lower(): tag for tag in found}
    for name in names:
        if name.lower() not in existing:
            existing[name.lower()] = Tag(name=name, slug=unicode_slug(name, "tag"))
    return sorted({existing[n.lower()].name: existing[n.lower()] for n in names}.values(), key=lambda t: t.name)
