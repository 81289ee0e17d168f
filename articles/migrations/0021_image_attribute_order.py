"""The forced image attributes in one order in every stored body and revision.

nh3 added `referrerpolicy` and `loading` to every image in an order drawn at
random in each process, so bodies written by different processes (import
workers, web workers) differ only in that order. articles.sanitize now
writes them in one order; this rewrites the other into it, so that an
editor's first save of such an article does not record a body change that
nobody made, and stored bodies equal what sanitising their source gives now.

The pattern, with its raw double quotes, occurs only inside a tag: text and
attribute values are escaped by the sanitiser.
"""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace

OTHER_ORDER = 'loading="lazy" referrerpolicy="no-referrer"'
ORDER = 'referrerpolicy="no-referrer" loading="lazy"'  # articles.sanitize.FORCED_ATTRIBUTES


def one_order(apps, schema_editor) -> None:
    for name in ("Article", "HistoricalArticle"):
        model = apps.get_model("articles", name)
        model.objects.filter(body__contains=OTHER_ORDER).update(
            body=Replace("body", Value(OTHER_ORDER), Value(ORDER)))


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0020_body_images_alt"),
    ]

    operations = [
        migrations.RunPython(one_order, migrations.RunPython.noop),
    ]
