"""Keyed listings and the page cache.

* TaggedArticle gets a copy of its article's publication time and an index on
  (tag, published_at, article), like ArticleCategory, so a tag listing is one
  index range scan; the category index gets the article as its tie-break.
* ContentVersion: the one-row generation every cached page is keyed by
  (articles.cache), created here.
"""

import django.utils.timezone
from django.db import migrations, models


def copy_published_at(apps, schema_editor):
    TaggedArticle = apps.get_model("articles", "TaggedArticle")
    Article = apps.get_model("articles", "Article")
    TaggedArticle.objects.update(
        published_at=models.Subquery(
            Article.objects.filter(pk=models.OuterRef("content_object_id")).values("published_at")[:1]
        )
    )


def create_version_row(apps, schema_editor):
    ContentVersion = apps.get_model("articles", "ContentVersion")
    now = django.utils.timezone.now()
    ContentVersion.objects.get_or_create(
        pk=1, defaults={"generation": int(now.timestamp() * 1_000_000), "changed_at": now})


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0009_article_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="taggedarticle",
            name="published_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(copy_published_at, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="taggedarticle",
            index=models.Index(fields=["tag", "-published_at", "-content_object"], name="taggedarticle_listing_idx"),
        ),
        migrations.RemoveIndex(
            model_name="articlecategory",
            name="articlecategory_listing_idx",
        ),
        migrations.AddIndex(
            model_name="articlecategory",
            index=models.Index(fields=["category", "-published_at", "-article"], name="articlecategory_listing_idx"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["status", "published_date", "published_at"], name="article_status_day_idx"),
        ),
        migrations.CreateModel(
            name="ContentVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("generation", models.BigIntegerField(default=0)),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"verbose_name": "content version", "verbose_name_plural": "content versions"},
        ),
        migrations.RunPython(create_version_row, migrations.RunPython.noop),
    ]
