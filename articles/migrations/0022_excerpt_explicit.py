"""Article.excerpt_explicit: an excerpt imported as given, which saving keeps.

Hexo posts set their excerpt in the front matter (`excerpt`, `description`)
or with `<!-- more -->` in the body; the importer stores that excerpt and
this flag, so that a later save does not cut a new one from the body's start.
Existing articles get False: their excerpts were all cut from the body.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0021_image_attribute_order'),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='excerpt_explicit',
            field=models.BooleanField(default=False, editable=False, verbose_name='excerpt given'),
        ),
    ]
