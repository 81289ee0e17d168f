"""The import history (ImportRun) in the admin, and the upload page that adds to it.

Read-only for everyone: runs are written only by the importer (and
importing.runs, which marks runs whose process died "interrupted" when
the history is viewed); superusers alone may delete old ones. Editors
(`view_importrun`) see the history and (`upload_importrun`) may upload;
Authors have neither, so the admin answers them 403. Both permissions come
from migration 0008.
"""

from __future__ import annotations

import socket

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from importing.runs import mark_interrupted_runs
from articles.models import ImportRun
from importing.service import run_import
from importing.upload import UploadImportForm


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "who", "source", "created", "updated", "unchanged", "kept_local_edits",
                    "failed", "run_status", "dry_run")
    list_filter = ("status", "origin", "dry_run", ("user", admin.RelatedOnlyFieldListFilter), "started_at")
    date_hierarchy = "started_at"
    list_select_related = ("user",)
    fieldsets = (
        (None, {"fields": ("status", "failure_reason", "origin", "who", "started_at", "finished_at",
                           "source_list")}),
        (_("Process"), {"fields": ("host", "pid")}),
        (_("Options"), {"fields": ("time_zone", "overwrite_edited", "dry_run")}),
        (_("Result"), {"fields": ("created", "updated", "unchanged", "kept_local_edits", "failed",
                                  "error_list", "warning_list")}),
    )
    readonly_fields = ("who", "source_list", "error_list", "warning_list")

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

    @admin.display(description=_("errors"))
    def error_list(self, run: ImportRun) -> str:
        return _numbered(run.errors, "import-errors")

    @admin.display(description=_("warnings"))
    def warning_list(self, run: ImportRun) -> str:
        return _numbered(run.warnings, "import-warnings")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        mark_interrupted_runs()  # a killed import's run would otherwise say "running" for ever
        extra_context = {**(extra_context or {}), "has_upload_permission": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        mark_interrupted_runs()
        return super().change_view(request, object_id, form_url, extra_context)

    # -- the upload page ---------------------------------------------------------

    def get_urls(self):
        # csrf_exempt only so the size check below runs before Django reads the body;
        # the CSRF check itself is made right after it (csrf_protect in upload_view).
        view = self.admin_site.admin_view(csrf_exempt(self.upload_view))
        return [path("upload/", view, name="articles_importrun_upload"), *super().get_urls()]

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
        report = run_import(form.import_source(), form.import_options(), user=request.user)
        return self._render_upload(request, UploadImportForm(), report=report, run_url=reverse(
            "admin:articles_importrun_change", args=[report.run.pk], current_app=self.admin_site.name))

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


def _numbered(lines: list[str], css_class: str) -> str:
    """A run's error or warning lines as a numbered list; a dash when there are none."""
    if not lines:
        return "—"
    return format_html('<ol class="{}">{}</ol>', css_class,
                       format_html_join("", "<li>{}</li>", ((line,) for line in lines)))
