"""Learned thresholds, cached per (version, reference, feature, mode, method, window-size bucket).

Learning simulates hundreds of reference chunks, so it happens once per bucket (a power of two of the
window's non-null count) and each window rescales the cached threshold to its own size. Windows that
pass feed their effect size into the null (bounded by `drift.stats.thresholds.MAX_NULL`), and a person
marking a drift as a false alarm lifts the floor (`threshold_mark_false_alarm`). The null of the PCA
reconstruction error (`drift.stats.multivariate.learn_pca_threshold`, a hundred refits) is cached the
same way, per bucket of the window's sample rows, and rescaled to each window's sample.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast

from drift.models import AnalysisRun, FeatureResult, LearnedThreshold, ModelVersion
from drift.services.fragments import decode_json
from drift.stats import multivariate as mv
from drift.stats import thresholds as th
from monitoring_site.errors import ApplicationError

MIN_BUCKET = 4  # windows below 16 values share one threshold
Key = tuple[str, str, str, int]
# The PCA reconstruction-error null is cached in the same table under a name no feature can have
# (feature names start with a letter or an underscore); it is never adapted by passing windows.
PCA_KEY = ("(multivariate)", "pca", "reconstruction")


def bucket(window_size: int) -> int:
    return max(MIN_BUCKET, round(math.log2(max(window_size, 1))))


def _to_state(threshold: th.LearnedThreshold) -> dict[str, Any]:
    state = asdict(threshold)
    # JSONB refuses NaN and infinity; a null draw that is not finite says nothing anyway.
    state["null"] = [v for v in threshold.null if math.isfinite(v)]
    return state


def _from_state(state: Mapping[str, Any]) -> th.LearnedThreshold:
    return th.LearnedThreshold(**{**state, "null": tuple(state["null"])})


class CachedThresholds:
    """A `drift.engine.context.ThresholdSource` backed by `LearnedThreshold` rows of one reference."""

    def __init__(self, version: ModelVersion, reference_digest: str) -> None:
        self.version = version
        self.digest = reference_digest
        # Thresholds of an earlier reference can never be used again.
        LearnedThreshold.objects.filter(version=version).exclude(reference_digest=reference_digest).delete()
        # Each state holds a thousand null draws: read as text and decoded by orjson, not the json module.
        stored = LearnedThreshold.objects.filter(version=version, reference_digest=reference_digest)
        self.states: dict[Key, dict[str, Any]] = {
            (feature, mode, method, window_bucket): decode_json(state)
            for feature, mode, method, window_bucket, state in stored.values_list(
                "feature", "mode", "method", "window_bucket", Cast("state", TextField())
            )
        }
        self.learned = 0

    def get(
        self,
        feature: str,
        mode: str,
        method: str,
        window_size: int,
        learn: Callable[[int], th.LearnedThreshold],
    ) -> th.LearnedThreshold:
        key = (feature, mode, method, bucket(window_size))
        state = self.states.get(key)
        if state is None:
            learned = learn(2 ** key[3])
            state = self._store(key, _to_state(learned), learned.value)
            self.learned += 1
        return th.rescale_threshold(_from_state(state), window_size)

    def pca_threshold(self, window_size: int, learn: Callable[[int], mv.PCAThreshold]) -> mv.PCAThreshold:
        """The PCA null for windows of `window_size` sample rows, learned once per size bucket."""
        key = (*PCA_KEY, bucket(window_size))
        state = self.states.get(key)
        if state is None:
            learned = learn(2 ** key[3])
            state = asdict(learned)
            if not all(math.isfinite(v) for v in state.values()):  # JSONB refuses NaN: not cached
                return mv.rescale_pca_threshold(learned, window_size)
            state = self._store(key, state, learned.value)
            self.learned += 1
        return mv.rescale_pca_threshold(mv.PCAThreshold(**state), window_size)

    def _store(self, key: Key, state: dict[str, Any], value: float) -> dict[str, Any]:
        fields = {
            "version": self.version,
            "reference_digest": self.digest,
            "feature": key[0],
            "mode": key[1],
            "method": key[2],
            "window_bucket": key[3],
        }
        try:
            with transaction.atomic():
                row = LearnedThreshold.objects.create(**fields, state=state, value=value)
        except IntegrityError:  # another worker learned it first: theirs is as good
            row = LearnedThreshold.objects.get(**fields)
        self.states[key] = row.state
        return row.state


def _adapt(row: LearnedThreshold, window_size: int, effect: float, *, false_alarm: bool) -> None:
    """Update a locked row with one window's effect size, at that window's scale."""
    at_window = th.rescale_threshold(_from_state(row.state), window_size)
    updated = th.update_threshold(at_window, effect, false_alarm=false_alarm)
    back = th.rescale_threshold(updated, 2**row.window_bucket)
    row.state, row.value = _to_state(back), back.value


def thresholds_feed(
    *, version: ModelVersion, reference_digest: str, features: Iterable[Mapping[str, Any]]
) -> int:
    """Feed the effect sizes of features that passed in one window into their thresholds' nulls."""
    fed = 0
    with transaction.atomic():
        for f in features:
            if not f.get("testable") or f.get("drifted") or f.get("effect_size") is None:
                continue
            key = (f["feature"], f["mode"], f["effect_method"], bucket(f["n_current"]))
            row = (
                LearnedThreshold.objects.select_for_update()
                .filter(
                    version=version,
                    reference_digest=reference_digest,
                    feature=key[0],
                    mode=key[1],
                    method=key[2],
                    window_bucket=key[3],
                )
                .first()
            )
            if row is None:
                continue
            _adapt(row, f["n_current"], float(f["effect_size"]), false_alarm=False)
            row.passes = F("passes") + 1
            row.save(update_fields=["state", "value", "passes", "updated_at"])
            fed += 1
    return fed


@transaction.atomic
def threshold_mark_false_alarm(*, run: AnalysisRun, feature: str) -> LearnedThreshold:
    """A person judged the drift of `feature` in `run` a false alarm: the same change passes next time."""
    result = FeatureResult.objects.filter(run=run, feature=feature).first()
    if result is None:
        raise ApplicationError(
            f"Analysis {run.pk} has no drift result for feature '{feature}'.",
            errors=[{"field": "feature", "message": "no result in this run"}],
            status=404,
        )
    if not result.drifted or result.effect_size is None:
        raise ApplicationError(
            f"'{feature}' was not flagged as drifted in analysis {run.pk}; only a flagged feature can be "
            "a false alarm.",
            errors=[{"field": "feature", "message": "not flagged as drifted"}],
        )
    row = (
        LearnedThreshold.objects.select_for_update()
        .filter(
            version=run.version,
            reference_digest=run.reference_digest,
            feature=feature,
            mode=result.mode,
            method=result.effect_method,
            window_bucket=bucket(result.n_current),
        )
        .first()
    )
    if row is None:
        raise ApplicationError(
            f"The threshold behind this result no longer exists (the reference of {run.version} changed).",
            errors=[{"field": "feature", "message": "threshold gone with the old reference"}],
            status=409,
        )
    _adapt(row, result.n_current, result.effect_size, false_alarm=True)
    row.false_alarms = F("false_alarms") + 1
    row.save(update_fields=["state", "value", "false_alarms", "updated_at"])
    row.refresh_from_db()
    return row
