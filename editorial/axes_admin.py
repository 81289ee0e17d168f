"""django-axes' login attempts in the admin, with a permission on its one action.

Its "Clean up expired attempts" declares no permission, so whoever may list the
attempts could run it; it deletes them, so here it needs the delete permission
(superusers: no role has any on django-axes' models). Loaded by
editorial.site.NewsroomAdminConfig once every app's admin is registered
(django-axes comes last in INSTALLED_APPS).
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class AttemptAdmin(AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


if admin.site.is_registered(AccessAttempt):  # AXES_ENABLE_ADMIN
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AttemptAdmin)
