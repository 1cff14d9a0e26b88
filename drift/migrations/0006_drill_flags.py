# Drill telemetry (governance drills): flags that keep it out of real metrics, and the drill run kind.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("drift", "0005_experiments"),
    ]

    operations = [
        migrations.AddField(
            model_name="predictionlog",
            name="is_drill",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="ingestionbatch",
            name="is_drill",
            field=models.BooleanField(default=False, help_text="A governance drill's synthetic batch."),
        ),
        migrations.AddField(
            model_name="profilefragment",
            name="is_drill",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="labelfragment",
            name="is_drill",
            field=models.BooleanField(default=False, help_text="Labels of a governance drill's predictions."),
        ),
        migrations.AlterField(
            model_name="analysisrun",
            name="kind",
            field=models.CharField(
                choices=[
                    ("analysis", "Window analysis"),
                    ("holdout", "Rolling holdout evaluation"),
                    ("drill", "Drill analysis (synthetic telemetry)"),
                ],
                default="analysis",
                max_length=16,
            ),
        ),
    ]
