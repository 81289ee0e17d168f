"""The import history (ImportRun) in the admin, and the upload page that adds to it.

Read-only for everyone: runs are written only by the importer (and
importing.runs, which marks runs whose process died "interrupted" when
the history is viewed); superusers alone may delete old ones.

An upload is checked in the request, stored and queued (importing.tasks);
the request answers with a redirect (303) to the run's page, which shows
its status, a progress bar and, once done, the result. The page follows the
run by itself: a static script (static/js/import-run.js; the CSP allows no
inline script) polls the run's JSON (`<id>/progress/`, the same permission
as the page) while it is queued or running. Without scripts, a link reloads. Editors
(`view_importrun`) see the history and (`upload_importrun`) may upload;
Authors have neither, so the admin answers them 403. Both permissions come
from migration 0008.
"""

from __future__ import annotations

import logging
import socket

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from importing.error_lines import translated_lines, translated_reason
from editorial.desk import FailuresFilter
from importing.runs import mark_interrupted_runs
from articles.models import Article, ImportRun
from articles.task_queue import QueueUnavailable
from importing.tasks import queue_upload, settle_runs
from importing.upload import UploadImportForm

logger = logging.getLogger(__name__)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    # Status and failures first, so they show at 1280 px without scrolling sideways.
    list_display = ("started_at", "run_status", "failed", "created", "updated", "unchanged", "kept_local_edits",
                    "dry_run", "who", "source")
    # FailuresFilter: the desk's "imports with failures" links to it (editorial.desk).
    list_filter = (FailuresFilter, "status", "origin", "dry_run", ("user", admin.RelatedOnlyFieldListFilter),
                   "started_at")
    date_hierarchy = "started_at"
    list_select_related = ("user",)
    # The status, what failed and why, and the articles written come first; how the run was made after.
    fieldsets = (
        (None, {"fields": ("live", "failure", "error_list", "written_list", "warning_list",
                           "ignored_list")}),
        (_("Result"), {"fields": ("created", "updated", "unchanged", "kept_local_edits", "failed")}),
        (_("Run"), {"fields": ("origin", "who", "started_at", "finished_at", "source_list")}),
        (_("Process"), {"fields": ("host", "pid")}),
        (_("Options"), {"fields": ("time_zone", "overwrite_edited", "dry_run")}),
    )
    readonly_fields = ("live", "failure", "who", "source_list", "error_list", "written_list", "warning_list", "ignored_list")

    class Media:
        js = ("js/import-run.js",)

    # -- history is written by the importer, never by hand -----------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm("articles.upload_importrun")

    @admin.display(description=_("who"), ordering="user__username")
    def who(self, run: ImportRun) -> str:
        return run.who

    @admin.display(description=_("status"), ordering="status")
    def run_status(self, run: ImportRun) -> str:
        if run.status == ImportRun.Status.RUNNING and run.host and run.host != socket.gethostname():
            # Its process cannot be checked from this machine: say where it runs.
            return gettext("running on %(host)s") % {"host": run.host}
        return run.get_status_display()

    @admin.display(description=_("source"))
    def source(self, run: ImportRun) -> str:
        text = run.source_display
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description=_("source"))
    def source_list(self, run: ImportRun) -> str:
        return format_html_join("", "<div>{}</div>", ((s,) for s in run.sources)) or "—"

    @admin.display(description=_("failure reason"))
    def failure(self, run: ImportRun) -> str:
        # Stored in English like the error lines; shown in the reader's language (importing.error_lines).
        return translated_reason(run.failure_reason) or "—"

    @admin.display(description=_("failed files"))
    def error_list(self, run: ImportRun) -> str:
        # Stored in the importer's English; shown in the reader's language (importing.error_lines).
        return _numbered(translated_lines(run.errors), "import-errors")

    @admin.display(description=_("warnings"))
    def warning_list(self, run: ImportRun) -> str:
        return _numbered(translated_lines(run.warnings), "import-warnings")

    @admin.display(description=_("articles written"))
    def written_list(self, run: ImportRun) -> str:
        return written_articles(run, self.admin_site.name)

    @admin.display(description=_("ignored files"))
    def ignored_list(self, run: ImportRun) -> str:
        return _numbered(run.ignored, "import-ignored")

    @admin.display(description=_("status"))
    def live(self, run: ImportRun) -> str:
        """The status, a progress bar while queued or running, and the counts: what the script refreshes."""
        progress_url = reverse("admin:articles_importrun_progress", args=[run.pk], current_app=self.admin_site.name)
        state = progress_state(run, self.run_status(run))
        bar = format_html('<progress data-run="progress" max="{}" value="{}">{}</progress>',
                          max(state["files_total"] or 0, 1), state["files_done"], state["files_text"])
        reload = format_html(
            '<noscript><a href="" id="import-run-reload">{}</a></noscript>',
            gettext("Reload this page to see the progress")) if run.in_progress else ""
        return format_html(
            '<div id="import-run-live" data-progress-url="{}" data-in-progress="{}" data-status="{}" '
            'data-errors-title="{}" data-warnings-title="{}">'
            '<strong data-run="status">{}</strong>'
            '<div data-run="progress-box"{}>{} <span data-run="files">{}</span>{}</div>'
            '<div data-run="counts">{}</div></div>',
            progress_url, "1" if run.in_progress else "0", run.status,
            gettext("Files that could not be imported"), gettext("Imported with a warning"),
            state["status_display"],
            "" if run.in_progress else " hidden", bar, state["files_text"], reload, state["counts_text"])

    def changelist_view(self, request: HttpRequest, extra_context=None):
        mark_interrupted_runs()  # a killed import's run would otherwise say "running" for ever
        settle_runs(ImportRun.objects.filter(
            origin=ImportRun.Origin.UPLOAD, status__in=UNSETTLED).exclude(task_id="")[:100])
        extra_context = {**(extra_context or {}), "has_upload_permission": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        self._settled(object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def _settled(self, object_id) -> ImportRun | None:
        """The run, marked interrupted if its process died, or failed if its task did (importing.tasks)."""
        mark_interrupted_runs()
        run = self.get_object_or_none(object_id)
        if run is not None:
            settle_runs([run])
        return run

    def get_object_or_none(self, object_id) -> ImportRun | None:
        try:
            return ImportRun.objects.select_related("user").get(pk=int(object_id))
        except (ValueError, TypeError, ImportRun.DoesNotExist):
            return None

    def progress_view(self, request: HttpRequest, object_id) -> JsonResponse:
        """The run's status, progress and result as JSON, for the run page's script."""
        run = self._settled(object_id)
        if run is None:
            raise Http404
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        state = progress_state(run, self.run_status(run))
        # Never cached (the admin's views are never_cache): each poll sees the run as it is.
        return JsonResponse({**state, "errors": translated_lines(run.errors),
                             "warnings": translated_lines(run.warnings)})

    # -- the upload page ---------------------------------------------------------

    def get_urls(self):
        # csrf_exempt only so the size check below runs before Django reads the body;
        # the CSRF check itself is made right after it (csrf_protect in upload_view).
        view = self.admin_site.admin_view(csrf_exempt(self.upload_view))
        progress = self.admin_site.admin_view(self.progress_view)
        return [path("upload/", view, name="articles_importrun_upload"),
                path("<path:object_id>/progress/", progress, name="articles_importrun_progress"),
                *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_upload_permission(request):
            raise PermissionDenied
        limit = settings.NEWSPORTAL_UPLOAD_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.method == "POST" and length > limit:
            return self._render_upload(request, UploadImportForm(), status=413, error=gettext(
                "The upload is %(size)s bytes, over the limit of %(limit)s bytes (NEWSPORTAL_UPLOAD_MAX_BYTES). "
                "Upload fewer files at a time.") % {"size": f"{length:,}", "limit": f"{limit:,}"})
        try:
            return csrf_protect(self._upload)(request)
        except TooManyFilesSent:
            return self._render_upload(request, UploadImportForm(), status=400, error=gettext(
                "At most %(n)d files can be uploaded at once; put more in a .zip archive.")
                % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FILES})
        except (RequestDataTooBig, TooManyFieldsSent):
            return self._render_upload(request, UploadImportForm(), status=400,
                                       error=gettext("The upload's form data is too large."))

    def _upload(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self._render_upload(request, UploadImportForm())
        form = UploadImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render_upload(request, form)
        # Stored and queued: a task worker imports it (importing.tasks); its page shows how it goes.
        try:
            run = queue_upload(form.import_source(), form.import_options(), request.user)
        except QueueUnavailable as exc:
            logger.warning("import upload not queued: %s", exc)
            return self._render_upload(request, UploadImportForm(), status=503, error=gettext(
                "The task queue cannot be reached (is its Redis running?), so the upload was not queued and "
                "nothing was imported. Upload the files again once it is back."))
        return HttpResponseRedirect(reverse(
            "admin:articles_importrun_change", args=[run.pk], current_app=self.admin_site.name), status=303)

    def _render_upload(self, request: HttpRequest, form: UploadImportForm, status: int = 200,
                       **context) -> HttpResponse:
        return TemplateResponse(request, "admin/articles/importrun/upload.html", {
            **self.admin_site.each_context(request),
            "title": _("Import articles from files"),
            "opts": self.model._meta,
            "form": form,
            "upload_limit": settings.NEWSPORTAL_UPLOAD_MAX_BYTES,
            "post_limit": settings.NEWSPORTAL_IMPORT_MAX_BYTES,
            "has_view_permission": self.has_view_permission(request),
            **context,
        }, status=status)


UNSETTLED = (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING, ImportRun.Status.INTERRUPTED)


def progress_state(run: ImportRun, status_display: str) -> dict:
    """What the run page shows and its script refreshes (all plain text; the script sets textContent)."""
    total, done = run.files_total, run.files_done
    if total is None:
        files_text = gettext("waiting for a task worker") if run.status == ImportRun.Status.QUEUED else "…"
    else:
        files_text = gettext("%(done)s of %(total)s files") % {"done": f"{done:,}", "total": f"{total:,}"}
    counts_text = "" if run.in_progress else gettext(
        "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
        "%(kept)s kept local edits, %(failed)s failed") % {
        "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
        "kept": run.kept_local_edits, "failed": run.failed}
    return {
        "status": run.status, "status_display": str(status_display), "in_progress": run.in_progress,
        "failure_reason": translated_reason(run.failure_reason), "files_total": total, "files_done": done,
        "files_text": files_text, "counts_text": counts_text,
        "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
        "kept_local_edits": run.kept_local_edits, "failed": run.failed,
    }


def written_articles(run: ImportRun, site_name: str) -> str:
    """The articles the run created and those it updated, each linked to its change page.

    The run keeps the ids it wrote (the first ImportRun.WRITTEN_KEPT); an article
    made after the run started was created by it (imports match by import key, so
    no one else could have made it first). Articles deleted since are left out.
    """
    if not run.written:
        return "—"
    articles = Article.objects.filter(pk__in=run.written).only("id", "title", "created_at").in_bulk()
    groups = {True: [], False: []}
    for pk in run.written:
        if pk in articles:
            groups[articles[pk].created_at >= run.started_at].append(articles[pk])
    parts = []
    for created, label, total in ((True, pgettext("import count", "created"), run.created),
                                  (False, pgettext("import count", "updated"), run.updated)):
        if not groups[created]:
            continue
        links = format_html_join("", '<li><a href="{}">{}</a></li>', (
            (reverse("admin:articles_article_change", args=[a.pk], current_app=site_name), a.title)
            for a in groups[created]))
        more = total - len(groups[created])
        tail = format_html("<p>{}</p>", ngettext("and %(n)s more", "and %(n)s more", more) % {"n": f"{more:,}"}) \
            if more > 0 else ""
        parts.append(format_html('<div class="import-written"><h3>{} ({})</h3><ol>{}</ol>{}</div>',
                                 label, f"{total:,}", links, tail))
    return format_html_join("", "{}", ((p,) for p in parts)) or "—"


def _numbered(lines: list[str], css_class: str) -> str:
    """A run's error or warning lines as a numbered list; a dash when there are none."""
    if not lines:
        return "—"
    return format_html('<ol class="{}">{}</ol>', css_class,
                       format_html_join("", "<li>{}</li>", ((line,) for line in lines)))
