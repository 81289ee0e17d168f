"""Translatable section names for the packages' apps on the admin index.

django-axes names its app not at all ("Axes") and django-tasks' database backend
in English ("Tasks Database Backend"), untranslated. Their app configs get a
translatable `verbose_name` here when the admin starts (NewsroomAdminConfig.ready),
and nothing else changes: INSTALLED_APPS, the apps' labels, tables, permissions
and URLs stay theirs.

PACKAGE_MESSAGES lists the packages' own English words that the admin shows and
that no package translates into Chinese: our catalogue (locale/zh_Hans) gives
them, since Django looks a msgid up in every catalogue. They are listed here,
marked with gettext_noop, so that `make messages` (makemessages, which reads only
our code) keeps them and their translations.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

SECTION_NAMES = {
    "axes": _("Security"),  # 安全: login attempts, failures and logs (superusers only, editorial.axes_admin)
    "django_tasks_database": _("Background tasks"),  # 后台任务: the db task backend's stored results
}

PACKAGE_MESSAGES = (
    # Django's admin index (admin/app_list.html): its tables' headings for screen readers, which
    # Django 5.2's zh_Hans catalogue does not translate yet.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-axes (axes/models.py, axes/admin.py): no zh_Hans catalogue.
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access Attempt"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("Locked Out"),
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Yes"),
    gettext_noop("No"),
    # django-tasks-db (django_tasks_db/models.py): no zh_Hans catalogue.
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
)

# Listed after the newsroom's own sections on the admin index (NewsroomAdminSite.get_app_list).
LAST_SECTIONS = ("django_tasks_database", "axes")


def name_sections() -> None:
    for label, name in SECTION_NAMES.items():
        if label in apps.app_configs:
            apps.get_app_config(label).verbose_name = name
