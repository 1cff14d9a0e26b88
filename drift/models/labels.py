"""Label fragments: what the outcomes of one batch say about one version's predictions of one hour."""

from django.db import models

from drift.models.registry import ModelVersion


class LabelFragment(models.Model):
    """Label-dependent aggregates of the predictions one outcome batch labelled, for one prediction hour.

    Kept like profile fragments (append-only, merged per window): exact label and confusion counts plus
    a bounded reservoir of labelled rows (time, score, prediction, label, raw feature values), so
    performance, calibration, fairness and concept drift never read raw rows. An outcome labels its
    prediction once (one-to-one), so fragments never count a prediction twice.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="label_fragments")
    hour = models.DateTimeField(help_text="Start of the hour (UTC) of the labelled predictions' timestamps.")
    rows = models.PositiveIntegerField()
    sketch = models.JSONField()
    is_drill = models.BooleanField(default=False, help_text="Labels of a governance drill's predictions.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Analyses: label fragments of one version over a window of prediction hours.
            models.Index(fields=["version", "hour"], name="labelfrag_version_hour"),
        ]

    def __str__(self) -> str:
        return f"labels of {self.version} {self.hour:%Y-%m-%d %H}:00 ({self.rows} rows)"
