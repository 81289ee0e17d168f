"""The newsroom's admin site: Django's, with the editor's desk as its index (editorial.desk)
and a view-on-site shortcut that asks who is looking.

Django's `/admin/r/<content type>/<id>/` redirects any staff user to the
public URL of any object with one, drafts included: an Author could learn the
day and title slug of a colleague's embargoed story by counting ids. Here it
redirects only users the object's admin lets view the object, to where that
admin says (an unpublished article: the staff preview); everyone else gets 404.

Installed in INSTALLED_APPS as `editorial.site.NewsroomAdminConfig`, in
place of "django.contrib.admin", so `admin.site` is this site.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path


class NewsroomAdminSite(admin.AdminSite):
    # The index is the editor's desk (editorial.desk) above the list of models.
    index_template = "admin/desk_index.html"

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        from editorial.desk import desk_for  # loaded with the settings, before the models

        return super().index(request, {"desk": desk_for(request), **(extra_context or {})})

    def get_urls(self):
        shortcut = path("r/<path:content_type_id>/<path:object_id>/", self.admin_view(self.view_on_site),
                        name="view_on_site")
        return [shortcut if getattr(url, "name", None) == "view_on_site" else url for url in super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """Django's list (sorted by name), with the packages' sections (安全, 后台任务) last."""
        from editorial.third_party_apps import LAST_SECTIONS

        app_list = super().get_app_list(request, app_label)
        return sorted(app_list, key=lambda app: LAST_SECTIONS.index(app["app_label"]) + 1
                      if app["app_label"] in LAST_SECTIONS else 0)

    def view_on_site(self, request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
        # Imported here: this module is loaded with the settings, before the models.
        from django.contrib.contenttypes.models import ContentType
        from django.contrib.contenttypes.views import shortcut

        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist):
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.view_on_site:
            raise Http404
        obj = model_admin.get_object(request, unquote(object_id))  # from the user's own queryset
        if obj is None or not model_admin.has_view_or_change_permission(request, obj):
            raise Http404
        if callable(model_admin.view_on_site):
            return HttpResponseRedirect(model_admin.view_on_site(obj))
        return shortcut(request, content_type_id, object_id)


class NewsroomAdminConfig(AdminConfig):
    default_site = "editorial.site.NewsroomAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin is registered now
        from editorial import axes_admin  # noqa: F401  (amends django-axes' admin)
        from editorial.third_party_apps import name_sections

        name_sections()
