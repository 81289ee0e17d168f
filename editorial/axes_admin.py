"""django-axes' login records in the admin: superusers only, in the 安全 (Security) section.

Its "Clean up expired attempts" declares no permission, so whoever may list the
attempts could run it; it deletes them, so here it needs the delete permission.
All three of its lists are shown to superusers alone, whatever permissions a
role is given: they hold IP addresses and user names. Their names, fields and
actions are django-axes' own translatable strings, translated in our catalogue
(locale/zh_Hans), and the section's name is `SecurityConfig.verbose_name`
(editorial.third_party_apps). Loaded by editorial.site.NewsroomAdminConfig once
every app's admin is registered (django-axes comes last in INSTALLED_APPS).
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class SuperusersOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_delete_permission(request, obj)


class AttemptAdmin(SuperusersOnly, AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes' own action fails (500) on a request its login handler has not stamped with
        # the attempt time, which an admin page's request never is; and its message is an
        # f-string inside gettext, which no catalogue can translate.
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, ngettext("Cleaned up %(n)d expired access attempt.",
                                            "Cleaned up %(n)d expired access attempts.", count) % {"n": count})

    # django-axes' two computed columns have no heading of their own (Django would print "Expiration").
    @admin.display(description=_("Expires At"))
    def expiration(self, obj: AccessAttempt):
        return super().expiration(obj)

    @admin.display(description=_("status"))
    def status(self, obj: AccessAttempt):
        return super().status(obj)


class LogAdmin(SuperusersOnly, AccessLogAdmin):
    pass


class FailureLogAdmin(SuperusersOnly, AccessFailureLogAdmin):
    pass


for model, model_admin in ((AccessAttempt, AttemptAdmin), (AccessLog, LogAdmin),
                           (AccessFailureLog, FailureLogAdmin)):
    if admin.site.is_registered(model):  # AXES_ENABLE_ADMIN
        admin.site.unregister(model)
        admin.site.register(model, model_admin)
