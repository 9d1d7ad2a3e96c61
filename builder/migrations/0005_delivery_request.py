from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("builder", "0004_merge_20261130_2014"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="headers",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="query",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="body",
            field=models.TextField(blank=True),
        ),
    ]
