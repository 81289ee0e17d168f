"""Stored bodies get what the sanitiser now adds: alt="" on every image without an alt.

articles.sanitize gives such images an empty alt (HTML requires the
attribute). Bodies stored before that would keep their images without one
until edited, since an import skips unchanged files, and the first no-op save
of such an article would record a body change. The same rewrite is applied
here to every stored body with an image, in batches; nothing else changes
(updated_at, the revisions and the search text stay as they are).

The rules are copied, not imported, so that this migration means the same
whatever articles.sanitize later becomes.
"""

import re

from django.db import migrations

# As in articles.sanitize: an <img> tag as nh3 serialises it (every value
# double-quoted, no raw `"` inside), and whether it has an alt.
IMG_TAG = re.compile(r'<img((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*/?>')
ALT_ATTRIBUTE = re.compile(r'\salt(?:=|\s|$)')
BATCH = 500


def with_alt(body: str) -> str:
    return IMG_TAG.sub(lambda tag: tag[0] if ALT_ATTRIBUTE.search(tag[1]) else f'<img alt=""{tag[1]}>', body)


def add_missing_alt(apps, schema_editor) -> int:
    """Rewrite the bodies whose images lack an alt; returns how many changed."""
    Article = apps.get_model("articles", "Article")
    articles = Article.objects.using(schema_editor.connection.alias)
    # The ids first: SQLite does not isolate a read cursor from writes to the
    # same table on its connection.
    pks = list(articles.filter(body__contains="<img").order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(pks), BATCH):
        for pk, body in articles.filter(pk__in=pks[start:start + BATCH]).values_list("pk", "body"):
            fixed = with_alt(body)
            if fixed != body:
                articles.filter(pk=pk).update(body=fixed)
                changed += 1
    return changed


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0019_tag_suggestion_name_index"),
    ]

    operations = [
        migrations.RunPython(add_missing_alt, migrations.RunPython.noop, elidable=True),
    ]
