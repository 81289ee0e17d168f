"""ImportRun: the history of every import; Editors may read it and upload files.

Authors get neither permission: they cannot see import runs or open the
upload page (the admin checks these permissions on the server).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

EDITOR_PERMISSIONS = ("view_importrun", "upload_importrun")


def grant_editors(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True  # the historical app config lacks it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(*Permission.objects.filter(
        content_type__app_label="articles", codename__in=EDITOR_PERMISSIONS))


def revoke_editors(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Editors"):
        group.permissions.remove(*Permission.objects.filter(
            content_type__app_label="articles", codename__in=EDITOR_PERMISSIONS))


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0007_editorial_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('origin', models.CharField(choices=[('command', 'command line'), ('upload', 'upload')], max_length=10, verbose_name='origin')),
                ('system_user', models.CharField(blank=True, help_text='user@host of a command-line run.', max_length=200, verbose_name='system user')),
                ('started_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='started')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                ('status', models.CharField(choices=[('running', 'running'), ('succeeded', 'succeeded'), ('with_errors', 'finished with file errors'), ('failed', 'failed')], default='running', max_length=12, verbose_name='status')),
                ('failure_reason', models.TextField(blank=True, verbose_name='failure reason')),
                ('sources', models.JSONField(default=list, verbose_name='source')),
                ('dry_run', models.BooleanField(default=False, verbose_name='dry run')),
                ('overwrite_edited', models.BooleanField(default=False, verbose_name='overwrite edited')),
                ('time_zone', models.CharField(max_length=64, verbose_name='time zone')),
                ('created', models.PositiveIntegerField(default=0, verbose_name='created')),
                ('updated', models.PositiveIntegerField(default=0, verbose_name='updated')),
                ('unchanged', models.PositiveIntegerField(default=0, verbose_name='unchanged')),
                ('kept_local_edits', models.PositiveIntegerField(default=0, verbose_name='kept local edits')),
                ('failed', models.PositiveIntegerField(default=0, verbose_name='failed')),
                ('errors', models.JSONField(blank=True, default=list, verbose_name='errors')),
                ('user', models.ForeignKey(blank=True, help_text='The staff user who uploaded the files; empty for command-line runs.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_runs', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'import run',
                'verbose_name_plural': 'import runs',
                'ordering': ['-started_at', '-id'],
                'permissions': [('upload_importrun', 'Can import articles by uploading files')],
                'get_latest_by': 'started_at',
            },
        ),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
