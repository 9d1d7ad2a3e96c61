import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runner", "0013_run_deadline"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="resolve_original",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name="run",
            name="resolved_by_run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="runner.run",
            ),
        ),
    ]
