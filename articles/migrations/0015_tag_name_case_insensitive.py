"""One tag per name whatever its case: a unique index on lower(taggit_tag.name).

taggit's Tag.name is unique only as spelled, while the site treats "AI" and
"ai" as one tag (TAGGIT_CASE_INSENSITIVE, the importer's casefold maps). Two
imports, or an import and an editor, racing to create the same tag in two
cases could so far both succeed unless their slugs happened to collide. With
this index the second insert fails with an IntegrityError, the importer
re-reads the tags and links the other process's one (articles.load), and
taggit's get_or_create(name__iexact=...) finds it (the admin, keywords).

Before the index is built, tags that already differ only in case are merged
into the oldest of them (lowest id): every link to the others is moved to it
(a link the article already has is dropped), then the others are deleted. So
upgrading a live database whose history has such duplicates cannot fail.

Limits: "the same name" is the database's lower(). SQLite's lower() folds
ASCII letters only ("Ä" and "ä" stay two tags there); PostgreSQL's follows
the database's collation. Chinese has no case, and the importer's NFKC
normalisation already folds full-width Latin letters ("ＡＩ") to ASCII, so
for a Chinese newsroom the ASCII limit is what matters. The importer and
taggit still match names case-insensitively among themselves beyond that.
"""

from django.db import migrations
from django.db.models.functions import Lower
from django.utils import timezone

INDEX = "taggit_tag_name_lower_uniq"
CREATE_INDEX = f"CREATE UNIQUE INDEX {INDEX} ON taggit_tag (lower(name))"
DROP_INDEX = f"DROP INDEX IF EXISTS {INDEX}"


def bump_content_generation(connection) -> None:
    """A new content generation, so pages cached before the merge are not served again.

    A frozen copy of articles.cache.bump_generation as it was when this migration
    was written (a migration must not import code that may change or move): the
    generation grows with the clock as well as by one, and the row is made again
    if a flushed database lost it. The process's remembered version needs no
    forgetting here: the post_migrate bump that follows every migrate does that.
    """
    now = timezone.now()
    now_us = int(now.timestamp() * 1_000_000)
    table = connection.ops.quote_name("articles_contentversion")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET generation = CASE WHEN generation >= %s THEN generation + 1 ELSE %s END,"
            " changed_at = %s WHERE id = %s",
            [now_us, now_us, now, 1],
        )
        if cursor.rowcount == 0:
            cursor.execute(
                f"INSERT INTO {table} (id, generation, changed_at) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                [1, now_us, now],
            )


def tag_link_models(apps):
    """(model, tag field, the other fields of the link's unique key) of every model linking to a tag."""
    Tag = apps.get_model("taggit", "Tag")
    links = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not (field.is_relation and field.many_to_one and field.related_model is Tag):
                continue
            key: set[str] = set()
            for together in model._meta.unique_together:
                if field.name in together:
                    key |= set(together) - {field.name}
            for constraint in model._meta.constraints:
                fields = getattr(constraint, "fields", ())
                if field.name in fields:
                    key |= set(fields) - {field.name}
            links.append((model, field, sorted(model._meta.get_field(name).attname for name in key)))
    return links


def merge_case_duplicates(apps, schema_editor) -> int:
    """Fold tags whose lower(name) is equal into the oldest; returns how many tags were removed."""
    Tag = apps.get_model("taggit", "Tag")
    db = schema_editor.connection.alias
    groups: dict[str, list[int]] = {}
    rows = Tag.objects.using(db).annotate(key=Lower("name")).order_by("pk").values_list("key", "pk")
    for key, pk in rows:
        groups.setdefault(key, []).append(pk)
    merges = [(pks[0], pks[1:]) for pks in groups.values() if len(pks) > 1]
    if not merges:
        return 0
    links = tag_link_models(apps)
    for keep, others in merges:
        for model, field, key in links:
            manager = model._base_manager.using(db)
            kept = set(manager.filter(**{field.attname: keep}).values_list(*key)) if key else set()
            for link in manager.filter(**{f"{field.attname}__in": others}).order_by("pk"):
                link_key = tuple(getattr(link, name) for name in key)
                if key and link_key in kept:
                    manager.filter(pk=link.pk).delete()  # the article already has the kept tag
                else:
                    kept.add(link_key)
                    manager.filter(pk=link.pk).update(**{field.attname: keep})
        Tag.objects.using(db).filter(pk__in=others).delete()
    # Tag pages and listings cached under the old content generation are stale now.
    bump_content_generation(schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys of the deleted rows now: PostgreSQL
        # will not build an index on a table with trigger events pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
    return sum(len(others) for _, others in merges)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0014_search_automerge"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [
        # Merged tags cannot be split again; going back only drops the index.
        migrations.RunPython(merge_case_duplicates, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(CREATE_INDEX, DROP_INDEX, elidable=False),
    ]
