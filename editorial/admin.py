"""The editorial admin: articles, the category tree, authors and tags."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext, ngettext
from simple_history.admin import SimpleHistoryAdmin
from taggit.admin import TagAdmin as TaggitTagAdmin
from taggit.models import Tag

from search.query import search
from search.tasks import enqueue_reindex

from newsroom import keywords, operations, revisions
from newsroom.tasks import enqueue_redetect_bylines, enqueue_suggestions
from editorial import date_drilldown, safe_edit
from editorial.desk import QUEUE_PARAMETER, Queue, QueueFilter, queue_url, queues_for, status_badge
from editorial.widgets import body_widget
from importing.parse import PUBLICATION_YEARS
from articles.models import (
    Article, ArticleByline, ArticleCategory, Author, Category, HeadlineSlot, LegacyURL, TagSuggestion, local_date,
)
from articles.task_queue import QueueUnavailable
from articles.permissions import AUTHOR_STATUSES, can_edit, can_publish, can_view, visible_to
from articles.slugs import SLUG_MAX_LENGTH, prepopulated_slug

logger = logging.getLogger(__name__)


def check_publication_time(moment: dt.datetime) -> None:
    """Refuse a time the site cannot store or show: the importer's years, in UTC and in Beijing.

    Year 1 in Beijing is year 0 in UTC, which no database column holds.
    """
    try:
        years = {moment.year, moment.astimezone(dt.timezone.utc).year, local_date(moment).year}
    except (OverflowError, ValueError):
        years = {0}
    if not all(year in PUBLICATION_YEARS for year in years):
        raise ValidationError(
            _("Enter a time between the years %(first)d and %(last)d."),
            code="out_of_range", params={"first": PUBLICATION_YEARS[0], "last": PUBLICATION_YEARS[-1]},
        )


def publication_time_from_text(text: str) -> dt.datetime:
    """A publication time typed into a URL, read in the current time zone; ValidationError if it is none."""
    moment = forms.DateTimeField().clean(text)
    check_publication_time(moment)
    return moment


class MoveToCategoryForm(forms.Form):
    category = forms.ModelChoiceField(label=_("category"), queryset=Category.objects.order_by("path"))


class ArticleCategoryFormSet(forms.BaseInlineFormSet):
    def save_new(self, form, commit=True):
        # A new row for a category the article is already filed under (an
        # ancestor linked by itself, or a form posted without its existing rows)
        # keeps that link: the database's unique constraint would refuse a second.
        existing = ArticleCategory.objects.filter(article=self.instance, category=form.instance.category).first()
        return existing if existing is not None else super().save_new(form, commit)


class ArticleCategoryInline(admin.TabularInline):
    """An article's categories; choosing a leaf links its ancestors too."""

    model = ArticleCategory
    formset = ArticleCategoryFormSet
    fields = ("category",)
    autocomplete_fields = ("category",)
    extra = 1
    verbose_name = _("category")
    verbose_name_plural = _("categories")

    # The links are part of the article: whoever may edit the article may file
    # it (no role has permissions on the link model itself), as Django does for
    # an auto-created many-to-many table.
    def _article_admin(self) -> admin.ModelAdmin:
        return self.admin_site.get_model_admin(Article)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._article_admin().has_view_permission(request, obj)

    def has_add_permission(self, request, obj) -> bool:
        return self.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._article_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class BylineInline(admin.TabularInline):
    """The reporters credited on the article; changing them marks the bylines as corrected."""

    model = ArticleByline
    fields = ("role", "author", "position")
    autocomplete_fields = ("author",)
    extra = 0
    verbose_name = _("byline")
    verbose_name_plural = _("bylines (detected from the dateline; correct them here)")


class ArticleAdminForm(forms.ModelForm):
    """Checks, on the server, what the user may set, and refuses stale edits."""

    # The version the editor started from (optimistic locking).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    may_publish = True  # set per request by ArticleAdmin.get_form

    class Meta:
        model = Article
        fields = "__all__"
        widgets = {"body": body_widget()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_published_at(self):
        moment = self.cleaned_data["published_at"]
        if moment is not None:
            check_publication_time(moment)
        return moment

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        # The admin's JavaScript fills a new article's slug from its title by Django's rule,
        # which drops signs and decimals ("0.23%" → "023"): such a slug is left empty, so that
        # saving makes it by the site's rule (articles.slugs: "0-23-pct"). One the editor typed stays.
        if self.instance.pk is None and slug and slug == prepopulated_slug(self.data.get("title", ""), SLUG_MAX_LENGTH):
            return ""
        return slug

    def clean_status(self):
        status = self.cleaned_data["status"]
        if not self.may_publish and status not in AUTHOR_STATUSES:
            raise ValidationError(_("Only editors can publish or schedule articles; submit it for review."))
        return status

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            current = Article.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
            if cleaned.get("version") != current:
                # What the other save changed is shown above the form, and the editor's values stay
                # in it, re-based on the current version: saving again keeps their text (safe_edit).
                self.conflict = safe_edit.conflict_since(self.instance.pk, cleaned.get("version"))
                safe_edit.rebase(self, current)
                raise ValidationError(_(
                    "Someone else saved this article while you were editing it. Your changes are not saved "
                    "yet: what they changed is shown below and your text is still in the form. Save again "
                    "to put your version over theirs."
                ), code="stale")
        return cleaned


@admin.register(Article)
class ArticleAdmin(SimpleHistoryAdmin):
    form = ArticleAdminForm
    list_display = ("title", "status_badge", "published_time", "author", "category_paths")
    # The quick filters first (editorial.desk: the desk's lists link to them).
    list_filter = (QueueFilter, "status", "categories", "author", "tags", "published_at", "bylines_edited")
    list_per_page = 50
    date_hierarchy = "published_at"
    # Titles and bodies are searched with the site's own Chinese-capable index.
    search_fields = ("title",)
    search_help_text = _("Searches titles and bodies; two-character Chinese words work.")
    autocomplete_fields = ("author",)
    prepopulated_fields = {"slug": ("title",)}  # by Django's rule; ArticleAdminForm.clean_slug makes it ours
    list_select_related = ("author",)
    actions = ("publish", "unpublish", "move_to_category", "redetect_bylines", "accept_suggested_tags",
               "reindex_for_search")
    readonly_fields = ("suggested_tags", "source_path", "import_key", "content_hash", "last_import",
                       "created_at", "updated_at")
    # The classes place the fieldsets on wide screens (static/css/admin-desk.css):
    # the text in the main column, tags and categories beside it.
    fieldsets = (
        (None, {"classes": ("article-head",),
                "fields": ("title", "slug", "status", "published_at", "author", "bylines_edited")}),
        (_("Content"), {"classes": ("article-text",),
                        "fields": ("body", "head_image", "thumbnail", "comments_enabled")}),
        (_("Tags"), {"classes": ("article-tags",), "fields": ("tags", "suggested_tags")}),
        (_("Import"), {"classes": ("collapse", "article-import"),
                       "fields": ("source_path", "import_key", "content_hash", "last_import",
                                  "extra_front_matter", "created_at", "updated_at")}),
    )

    class Media:
        # Local drafts and leaving with unsaved changes; the preview beside the form (safe_edit).
        # On the list too: a save lands there, and the draft it saved is deleted there.
        js = ("js/admin-draft.js", "js/admin-preview.js")
        css = {"all": ("css/admin-safe.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return visible_to(request.user, super().get_queryset(request).prefetch_related("categories"))

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)  # staff, CSRF-protected, never cached
        return [
            path("add/preview/", preview, name="articles_article_preview_add"),
            path("<path:object_id>/preview/", preview, name="articles_article_preview"),
            *super().get_urls(),
        ]

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if "data" in kwargs and obj is not None and obj.pk and request.POST.get("version") != str(obj.version):
            # A stale save (refused by the form): its rows re-based too, so saving again goes through.
            existing = set(kwargs["queryset"].filter(article=obj).values_list("pk", flat=True))
            kwargs["data"] = safe_edit.rebase_rows(kwargs["data"], prefix, existing)
        return kwargs

    def preview_view(self, request: HttpRequest, object_id: str | None = None):
        return safe_edit.form_preview(self, request, object_id)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        response._csp_replace = safe_edit.FRAME_OUR_PREVIEW  # the preview panel's frame
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.may_publish = can_publish(request.user)
        return form

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status" and not can_publish(request.user):
            kwargs["choices"] = [c for c in Article.Status.choices if c[0] in AUTHOR_STATUSES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or can_view(request.user, obj))

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or can_edit(request.user, obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or can_edit(request.user, obj))

    def has_publish_permission(self, request) -> bool:
        return can_publish(request.user)

    def save_model(self, request, obj: Article, form, change: bool) -> None:
        """Nothing yet: the article is saved with its inlines, as one edit, in save_related."""

    def save_related(self, request, form, formsets, change) -> None:
        def save_links() -> None:
            super(ArticleAdmin, self).save_related(request, form, formsets, change)
            self._decide_suggestion(request, form.instance)

        operations.save_as_edit(
            form.instance, request.user, save_links=save_links,
            bylines_corrected=any(fs.model is ArticleByline and fs.has_changed() for fs in formsets))
        # Keyword suggestions follow the text: a worker computes them after the
        # commit (newsroom.tasks), for a new article, a changed title or body, or
        # an article that has none yet. Opening the form computes nothing.
        if (not change or {"title", "body"} & set(form.changed_data)
                or not TagSuggestion.objects.filter(article=form.instance).exists()):
            enqueue_suggestions([form.instance.pk])

    def view_on_site(self, obj: Article) -> str:
        """Unpublished articles open in the staff preview, published ones on the site.

        The admin's /admin/r/ shortcut asks this too (NewsroomAdminSite), for
        users who may view the article only.
        """
        if not obj.is_published:
            return reverse("articles:preview", kwargs={"pk": obj.pk})
        return obj.get_absolute_url()

    def delete_model(self, request, obj: Article) -> None:
        operations.delete_articles([obj], request.user)

    def delete_queryset(self, request, queryset: QuerySet[Article]) -> None:
        operations.delete_articles(queryset, request.user)

    def get_deleted_objects(self, objs, request):
        # What an article owns (suggestions, links, source files) goes with it:
        # deleting follows the article's own permission, not the permissions on
        # those models, which no role but superusers has (e.g. delete_tagsuggestion).
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        refused = any(not self.has_delete_permission(request, obj) for obj in objs)
        return deleted, counts, {self.model._meta.verbose_name} if refused else set(), protected

    # -- publication times typed into URLs: a 400, never a 500 ----------------------

    _TIME_PARAMETERS = frozenset(f"published_at{lookup}" for lookup in ("", "__exact", "__gt", "__gte", "__lt",
                                                                        "__lte"))

    def get_changelist_instance(self, request):
        request.GET = self._checked_time_parameters(request.GET)
        try:
            changelist = super().get_changelist_instance(request)  # counts the rows: the query runs here
            changelist.queryset = date_drilldown.for_drilldown(changelist.queryset)  # the years' links
            return changelist
        except (OverflowError, ValueError) as error:
            # Another lookup on a time no column holds (?published_at__year__gte=1):
            # Django lets any lookup on a listed field through.
            raise BadRequest(f"not a publication time: {error}") from error

    def _checked_time_parameters(self, params):
        """The list's query with its publication times checked and read in the newsroom's zone."""
        checked = params.copy()
        try:
            for key in self._TIME_PARAMETERS & set(params):
                checked.setlist(key, [publication_time_from_text(v).isoformat() for v in params.getlist(key)])
            year, month, day = (params.get(f"published_at__{part}") for part in ("year", "month", "day"))
            if year is not None or month is not None or day is not None:  # the date hierarchy's links
                try:
                    first = dt.datetime(int(year or 2000), int(month or 1), int(day or 1))
                except (TypeError, ValueError) as error:
                    raise IncorrectLookupParameters(error) from error
                if first.year not in PUBLICATION_YEARS:
                    raise IncorrectLookupParameters(first.year)
        except (ValidationError, IncorrectLookupParameters) as error:
            raise BadRequest(f"not a publication time: {error}") from error
        return checked

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if initial.get("published_at"):  # e.g. /add/?published_at=2022-04-30 09:00
            try:
                initial["published_at"] = publication_time_from_text(initial["published_at"])
            except ValidationError as error:
                raise BadRequest(f"not a publication time: {error}") from error
        return initial

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        ids = search(search_term, queryset=Article.objects.all(), limit=5000)
        return queryset.filter(pk__in=ids), False

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, article: Article) -> str:
        return status_badge(article)

    @admin.display(description=_("publication time"), ordering="published_at")
    def published_time(self, article: Article) -> str:
        # Compact (2024-12-28 09:52, in the newsroom's zone), the day above the time when the
        # list is narrow: the title column keeps the room.
        moment = timezone.localtime(article.published_at)
        return format_html('<time datetime="{}"><span>{}</span> <span>{}</span></time>', moment.isoformat(),
                           moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M"))

    @admin.display(description=_("categories"))
    def category_paths(self, article: Article) -> str:
        # From the prefetched links: no query per row. Compact: the deepest category
        # (深度), the whole path (金融 › 财联社 › 深度) in its tooltip.
        trail = [c.name for c in article.category_trail]
        if len(trail) <= 1:
            return trail[0] if trail else "—"
        return format_html('<span title="{}">{}</span>', " › ".join(trail), trail[-1])

    def changelist_view(self, request, extra_context=None):
        # The quick filters again as links above the list (the same URLs as the desk's).
        current = request.GET.get(QUEUE_PARAMETER)
        quick = [{"label": Queue.LABELS[q], "url": queue_url(q), "current": q == current}
                 for q in queues_for(request.user)]
        return super().changelist_view(request, {"quick_filters": quick, **(extra_context or {})})

    @admin.display(description=_("suggested tags"))
    def suggested_tags(self, article: Article):
        """Pending keyword suggestions, each accepted or rejected in one click (saving the form too)."""
        from editorial.keyword_admin import decision_buttons

        if article is None or article.pk is None:
            return "—"
        pending = keywords.offered(
            article.tag_suggestions.filter(state=TagSuggestion.State.PENDING).order_by("-score"), article)
        if not pending:
            return "—"
        return format_html_join(" ", "{}", ((decision_buttons(s, formaction=False),) for s in pending))

    def response_change(self, request, obj):
        if "_accept_suggestion" in request.POST or "_reject_suggestion" in request.POST:
            return HttpResponseRedirect(request.get_full_path())  # back to the article, like "save and continue"
        return super().response_change(request, obj)

    def _decide_suggestion(self, request: HttpRequest, article: Article) -> None:
        for key in ("_accept_suggestion", "_reject_suggestion"):
            value = request.POST.get(key, "")
            if value.isdigit():
                chosen = list(TagSuggestion.objects.filter(pk=int(value), article=article))
                if key == "_accept_suggestion":
                    # The form's save is the editor's edit; the tag joins it.
                    operations.accept_suggestions(chosen, request.user, as_edit=False)
                else:
                    operations.reject_suggestions(chosen, request.user)

    def has_decide_suggestions_permission(self, request) -> bool:
        """Deciding on suggestions is the Editors' (see migration 0011), as on the suggestions' own list."""
        return self.has_change_permission(request) and request.user.has_perm("articles.change_tagsuggestion")

    @admin.action(description=_("Accept the suggested tags of selected articles"),
                  permissions=["decide_suggestions"])
    def accept_suggested_tags(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        articles = [a for a in queryset.select_related("author") if can_edit(request.user, a)]
        count = operations.accept_suggested_tags(articles, request.user)
        self.message_user(request, ngettext("%d tag added.", "%d tags added.", count) % count, messages.SUCCESS)

    @admin.display(description=_("last import"))
    def last_import(self, article: Article):
        latest = article.source_files.order_by("-imported_at").first()
        return latest.imported_at if latest else "—"

    def get_inlines(self, request, obj):
        return [BylineInline, ArticleCategoryInline]

    # -- revisions: the history list is simple-history's; a revision's page is ours --

    history_list_display = ["version"]
    object_history_template = "admin/articles/article/object_history.html"
    revision_template = "admin/articles/article/revision.html"

    def _article_or_404(self, request: HttpRequest, object_id: str) -> Article:
        """The article, if this user may see it; its history is as private as the article."""
        article = self.get_object(request, object_id)
        if article is None or not self.has_view_permission(request, article):
            raise Http404(_("No such article."))
        return article

    def history_view(self, request, object_id, extra_context=None):
        article = self._article_or_404(request, object_id)
        latest = revisions.latest_revision(article)
        context = {
            "unrevised_version": latest is None or latest.version != article.version,
            "article": article,
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, extra_context=context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        # Our comparison: the editorial fields plus the categories and tags the
        # revisions keep, texts shortened (the revision's page has the full diff).
        records = list(historical_records)
        for newer, older in zip(records, records[1:]):
            newer.history_delta_changes = [
                {"field": c.label, "old": Truncator(c.old).chars(80), "new": Truncator(c.new).chars(80)}
                for c in revisions.changes(older, newer)
            ]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One revision: what it held, how it differs from now, and restoring it."""
        article = self._article_or_404(request, object_id)
        if not str(version_id).isdigit():
            raise Http404(_("No such revision."))
        revision = get_object_or_404(revisions.Revision, id=article.pk, history_id=version_id)
        may_restore = self.has_change_permission(request, article)
        if request.method == "POST":
            if not may_restore:
                raise PermissionDenied
            try:
                seen = int(request.POST.get("version", ""))
            except ValueError:
                seen = -1
            try:
                operations.restore_revision(revision, request.user, seen_version=seen)
            except operations.RestoreRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(request, _("The revision was restored; it is now the article's current version."),
                              messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
        now = revisions.current_state(article)
        previous = revisions.previous_revision(revision)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revision of %(title)s") % {"title": revision.title},
            "opts": self.model._meta,
            "original": article,
            "article": article,
            "revision": revision,
            "changes_from_previous": revisions.changes(previous, revision) if previous else None,
            "changes_to_now": revisions.changes(revision, now),
            "body_diff": revisions.body_diff(revision.body, article.body),
            "may_restore": may_restore,
            "is_current": revision.version == article.version,
            **(extra_context or {}),
        }
        return render(request, self.revision_template, context)

    @admin.action(description=_("Publish selected articles"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = operations.publish(queryset, request.user)
        self.message_user(request, ngettext("%d article published.", "%d articles published.", count) % count,
                          messages.SUCCESS)

    @admin.action(description=_("Unpublish selected articles (back to draft)"), permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = operations.unpublish(queryset, request.user)
        self.message_user(request, ngettext(
            "%d article moved back to draft.", "%d articles moved back to draft.", count) % count, messages.SUCCESS)

    def _queue_unavailable(self, request: HttpRequest, exc: QueueUnavailable) -> None:
        """An action whose tasks could not be queued (RQ's Redis down): say so, not a 500."""
        logger.warning("admin action %s not queued: %s", request.POST.get("action"), exc)
        self.message_user(request, gettext(
            "The task queue cannot be reached (is its Redis running?), so nothing, or only part, was queued. "
            "Run the action again once it is back: that is safe."), messages.ERROR)

    @admin.action(description=_("Detect bylines again (discards corrections)"), permissions=["publish"])
    def redetect_bylines(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        # A task worker does it (newsroom.tasks): thousands of articles outlast a request.
        try:
            count = enqueue_redetect_bylines(queryset.values_list("pk", flat=True), request.user)
        except QueueUnavailable as exc:
            return self._queue_unavailable(request, exc)
        self.message_user(request, ngettext(
            "Byline detection queued for %(n)d article; a task worker does it in a moment.",
            "Byline detection queued for %(n)d articles; a task worker does it in a moment.", count,
        ) % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Index the selected articles again for search"), permissions=["publish"])
    def reindex_for_search(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        # Saves keep the index current; this is for text changed behind Django's back. A task worker does it.
        try:
            count = enqueue_reindex(queryset.values_list("pk", flat=True))
        except QueueUnavailable as exc:
            return self._queue_unavailable(request, exc)
        self.message_user(request, ngettext(
            "Search indexing queued for %(n)d article; a task worker does it in a moment.",
            "Search indexing queued for %(n)d articles; a task worker does it in a moment.", count,
        ) % {"n": count}, messages.SUCCESS)

    @admin.action(description=_("Move selected articles to a category"), permissions=["publish"])
    def move_to_category(self, request: HttpRequest, queryset: QuerySet[Article]):
        form = MoveToCategoryForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            category = form.cleaned_data["category"]
            count = operations.move_to_category(queryset, category, request.user)
            self.message_user(
                request, ngettext("%(n)d article moved to %(c)s.", "%(n)d articles moved to %(c)s.",
                                  count) % {"n": count, "c": category},
                messages.SUCCESS,
            )
            return None
        return render(request, "admin/articles/move_to_category.html", {
            **self.admin_site.each_context(request),
            "title": _("Move articles to a category"), "form": form, "articles": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
        })


@admin.register(LegacyURL)
class LegacyURLAdmin(admin.ModelAdmin):
    """Old addresses of imported articles (Hexo permalinks): each answers with a 301 to its article."""

    list_display = ("path", "article")
    search_fields = ("path", "article__title")
    autocomplete_fields = ("article",)
    list_select_related = ("article",)


class NamedRowAdmin(admin.ModelAdmin):
    """Categories, tags and authors are saved and deleted by the newsroom's operations.

    They say which pages print the rows (articles.content_keys.entity_change),
    so a rename refreshes those pages only, not the whole cache.
    """

    def save_model(self, request, obj, form, change) -> None:
        operations.save_named(obj, request.user)

    def delete_model(self, request, obj) -> None:
        operations.delete_named([obj], request.user)

    def delete_queryset(self, request, queryset) -> None:
        operations.delete_named(queryset, request.user)


@admin.register(HeadlineSlot)
class HeadlineSlotAdmin(admin.ModelAdmin):
    """The home page's 要闻 block: which article is the lead (头条) or a headline, from when until when.

    A placement is history: once saved, only its end time may change (to take it
    down early); to show another article, add a placement (articles.models.HeadlineSlot).
    """

    list_display = ("position", "article", "starts_at", "ends_at", "is_live", "created_by", "created_at")
    list_filter = ("position",)
    list_select_related = ("article", "created_by")
    search_fields = ("article__title",)
    autocomplete_fields = ("article",)
    date_hierarchy = "starts_at"
    fields = ("position", "article", "starts_at", "ends_at", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return ("position", "article", "starts_at", *self.readonly_fields)

    @admin.display(description=_("showing now"), boolean=True)
    def is_live(self, slot: HeadlineSlot) -> bool:
        # The rule of HeadlineSlot.objects.live(), on the row at hand (no query a row).
        now, article = timezone.now(), slot.article
        return (slot.starts_at <= now and (slot.ends_at is None or slot.ends_at > now)
                and article.status == Article.Status.PUBLISHED and article.published_at <= now)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Category)
class CategoryAdmin(NamedRowAdmin):
    list_display = ("indented_name", "path", "published_articles", "front_order")
    search_fields = ("name", "path")
    ordering = ("path",)
    fields = ("name", "slug", "parent", "front_order")
    autocomplete_fields = ("parent",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, category: Category) -> str:
        # Indented with ideographic spaces: plain text, no inline style.
        return "\u3000" * category.depth + ("└ " if category.depth else "") + category.name

    @admin.display(description=_("articles"), ordering="article_count")
    def published_articles(self, category: Category) -> int:
        return category.article_count

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "parent" in form.base_fields:
            # A category cannot move under itself or its own descendants.
            form.base_fields["parent"].queryset = Category.objects.exclude(path=obj.path).exclude(
                path__startswith=obj.path + "/")
        return form


class MergeMixin:
    """A merge action: the selected rows fold into the one with the most articles.

    The queryset must be annotated with `n`, the article count (the list shows
    it); subclasses name the operation in `merge_rows` (newsroom.operations).
    Merging deletes rows and changes published articles, so it takes changing
    and deleting the rows and publishing (Editors).
    """

    merge_rows: Callable[..., operations.MergeResult]

    @admin.display(description=_("articles"), ordering="n")
    def article_count(self, obj) -> int:
        return obj.n

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return (self.has_change_permission(request) and self.has_delete_permission(request)
                and can_publish(request.user))

    @admin.action(description=_("Merge selected rows into the one with the most articles"), permissions=["merge"])
    def merge(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.count() < 2:
            self.message_user(request, _("Select at least two to merge."), messages.WARNING)
            return
        result = self.merge_rows(queryset, request.user)
        self.message_user(request, ngettext("Merged %(n)d row into %(kept)s.", "Merged %(n)d rows into %(kept)s.",
                                            result.merged) % {"n": result.merged, "kept": result.kept},
                          messages.SUCCESS)


@admin.register(Author)
class AuthorAdmin(MergeMixin, NamedRowAdmin):
    list_display = ("name", "slug", "article_count")
    ordering = ("name",)  # stable pages in the list and the autocomplete
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    actions = ("merge",)

    merge_rows = staticmethod(operations.merge_authors)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("articles"))


admin.site.unregister(Tag)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("name", "slug")

    def clean_name(self) -> str:
        # One tag per name whatever its case (the lower(name) index of migration
        # 0015): say which tag exists instead of failing on the insert.
        name = self.cleaned_data["name"]
        other = Tag.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).first()
        if other is not None:
            raise ValidationError(_("The tag “%(name)s” already exists; tags differing only in case are one tag."),
                                  code="unique", params={"name": other.name})
        return name


@admin.register(Tag)
class TagAdmin(MergeMixin, NamedRowAdmin, TaggitTagAdmin):
    form = TagForm
    list_display = ("name", "slug", "article_count")
    actions = ("merge",)

    def get_urls(self):
        # taggit's own merge page moves only its generic TaggedItem links (our
        # articles use TaggedArticle) and creates its target by exact name,
        # which the case-insensitive index rejects; the merge action replaces it.
        return [url for url in super().get_urls() if url.name != "taggit_tag_merge_tags"]

    merge_rows = staticmethod(operations.merge_tags)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("articles_taggedarticle_items"))


admin.site.site_header = _("Newsroom")
admin.site.site_title = _("Newsroom admin")

# The import history and upload page, and the keyword admin, register themselves.
from editorial import import_admin, keyword_admin  # noqa: E402,F401
