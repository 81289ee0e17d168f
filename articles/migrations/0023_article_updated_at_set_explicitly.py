"""updated_at is no longer auto_now: it is the article's last-modified time as a reader sees it.

Set by the import (Hexo's `updated`, else the time of a write that changed
what is shown), by Article.save(), and wound back by an editor's save that
changed nothing shown. Existing rows keep their value.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0022_excerpt_explicit'),
    ]

    operations = [
        migrations.AlterField(
            model_name='article',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated'),
        ),
        migrations.AlterField(
            model_name='historicalarticle',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='updated'),
        ),
    ]
