"""Translatable section names for the packages' apps on the admin index.

django-axes names its app not at all ("Axes") and django-tasks' database backend
in English ("Tasks Database Backend"), untranslated. Their app configs get a
translatable `verbose_name` here when the admin starts (NewsroomAdminConfig.ready),
and nothing else changes: INSTALLED_APPS, the apps' labels, tables, permissions
and URLs stay theirs.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext_lazy as _

SECTION_NAMES = {
    "axes": _("Security"),  # 安全: login attempts, failures and logs (superusers only, editorial.axes_admin)
    "django_tasks_database": _("Background tasks"),  # 后台任务: the db task backend's stored results
}

# Listed after the newsroom's own sections on the admin index (NewsroomAdminSite.get_app_list).
LAST_SECTIONS = ("django_tasks_database", "axes")


def name_sections() -> None:
    for label, name in SECTION_NAMES.items():
        if label in apps.app_configs:
            apps.get_app_config(label).verbose_name = name
