"""LegacyURL: old addresses of imported articles (Hexo permalinks), answering with a 301.

Editors may see, correct and remove them in the admin; Authors may not.
"""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

EDITOR_PERMISSIONS = ("view_legacyurl", "add_legacyurl", "change_legacyurl", "delete_legacyurl")


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
        ('articles', '0024_importrun_warnings'),
    ]

    operations = [
        migrations.CreateModel(
            name='LegacyURL',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('path', models.CharField(max_length=1000, unique=True)),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='legacy_urls', to='articles.article')),
            ],
            options={
                'verbose_name': 'old URL',
                'verbose_name_plural': 'old URLs',
            },
        ),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
