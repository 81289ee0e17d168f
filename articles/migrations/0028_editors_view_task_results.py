"""Editors may read the background tasks' results in the admin (django-tasks-db's list).

A failed task (an upload's import, a purge) is marked failed with its error; the
Editors, who run the uploads, must be able to see it, not only superusers.
Read only: django-tasks-db's admin allows no add, change or delete anyway.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = ("view_dbtaskresult",)


def grant_editors(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("django_tasks_database")
    app_config.models_module = True  # the historical app config lacks it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(*Permission.objects.filter(
        content_type__app_label="django_tasks_database", codename__in=EDITOR_PERMISSIONS))


def revoke_editors(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Editors"):
        group.permissions.remove(*Permission.objects.filter(
            content_type__app_label="django_tasks_database", codename__in=EDITOR_PERMISSIONS))


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0027_importrun_queued_progress'),
        ('django_tasks_database', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(grant_editors, revoke_editors),
    ]
