"""Import runs record their process (host, pid, start time); a new status, "interrupted".

A SIGKILLed import could not record its end and stayed "running" forever;
with its process recorded, articles.import_runs can see that the process is
gone and mark the run interrupted. Runs from before this migration have no
process recorded and are left as they are.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0015_tag_name_case_insensitive'),
    ]

    operations = [
        migrations.AddField(
            model_name='importrun',
            name='host',
            field=models.CharField(blank=True, help_text='The machine (host name) whose process ran the import.', max_length=255, verbose_name='host'),
        ),
        migrations.AddField(
            model_name='importrun',
            name='pid',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='process id'),
        ),
        migrations.AddField(
            model_name='importrun',
            name='process_started',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='process start'),
        ),
        migrations.AlterField(
            model_name='importrun',
            name='status',
            field=models.CharField(choices=[('running', 'running'), ('succeeded', 'succeeded'), ('with_errors', 'finished with file errors'), ('failed', 'failed'), ('interrupted', 'interrupted')], default='running', max_length=12, verbose_name='status'),
        ),
    ]
