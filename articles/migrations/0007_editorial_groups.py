"""The newsroom's roles, as groups: Authors and Editors.

Permissions only say which models a role may touch; what an Author may do
with each article (only their own, never publish) is enforced by the admin
(articles.admin) on the server.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Authors": [
        ("articles", "article", ("add", "change", "view", "delete")),
        ("articles", "category", ("view",)),
        ("articles", "author", ("view",)),
        ("taggit", "tag", ("view",)),
    ],
    "Editors": [
        ("articles", "article", ("add", "change", "view", "delete")),
        ("articles", "category", ("add", "change", "view", "delete")),
        ("articles", "author", ("add", "change", "view", "delete")),
        ("taggit", "tag", ("add", "change", "view", "delete")),
        ("articles", "importedfile", ("view",)),
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_label in ("articles", "taggit"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # the historical app config lacks it
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model, actions in grants:
            codenames = [f"{action}_{model}" for action in actions]
            if name == "Editors" and model == "article":
                codenames.append("publish_article")
            group.permissions.add(*Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0006_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
