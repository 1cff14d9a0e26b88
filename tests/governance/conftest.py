"""Governance fixtures: hand-built analysis runs (the engine's result shapes), a frozen clock, eager Celery.

Nothing here imports Django at module level, so the pure tests in this folder run without it.
"""

import copy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

# A real HTTP receiver on 127.0.0.1 for webhook tests: the `receiver(200, 500, ...)` fixture.
from tests.governance.webhooks import receiver  # noqa: F401

# The clock of every governance test; analysis windows are the days before it.
NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
FIRST_DAY = datetime(2026, 11, 1, tzinfo=UTC)


def feature(
    name: str, effect: float, *, threshold: float = 0.1, drifted: bool | None = None
) -> dict[str, Any]:
    """One entry of results.data_drift.features, as `drift.engine.drift.decide_features` writes it."""
    return {
        "feature": name,
        "type": "numeric",
        "role": "input",
        "mode": "binned",
        "method": "ks_binned",
        "statistic": effect,
        "p_value": 0.0001 if effect > threshold else 0.4,
        "effect_method": "wasserstein",
        "effect_size": effect,
        "threshold": threshold,
        "drifted": effect > threshold if drifted is None else drifted,
        "significant": effect > threshold,
        "testable": True,
        "reason": "",
        "explanation": "",
        "n_reference": 2000,
        "n_current": 1000,
        "nulls": 0,
        "summary": {},
    }


def check(
    observed: float, *, upper: float = 0.05, lower: float = 0.0, count: int = 0, total: int = 1000
) -> dict:
    """A control-limit check of results.data_quality / operations (`drift.engine.quality._check`)."""
    return {
        "status": "alert" if observed > upper or observed < lower else "ok",
        "observed": observed,
        "center": (upper + lower) / 2,
        "lower": lower,
        "upper": upper,
        "rule": "reference",
        "reason": "",
        "count": count,
        "total": total,
    }


BASE: dict[str, Any] = {
    "data_drift": {
        "status": "ok",
        "features": [feature("income", 0.02), feature("age", 0.01)],
        "drifted_features": [],
        "share_drifted": 0.0,
        "multivariate": {
            "status": "ok",
            "features": ["income", "age"],
            "pca": {
                "method": "pca_reconstruction",
                "statistic": 1.0,
                "expected": 1.0,
                "threshold": 1.2,
                "p_value": 0.5,
                "drifted": False,
                "n_reference": 2000,
                "n_current": 1000,
                "testable": True,
                "reason": "",
            },
            "domain_classifier": {
                "method": "domain_classifier",
                "statistic": 0.51,
                "expected": 0.5,
                "threshold": 0.55,
                "p_value": 0.4,
                "drifted": False,
                "n_reference": 2000,
                "n_current": 1000,
                "testable": True,
                "reason": "",
            },
            "drifted": False,
        },
        "rows": 1000,
        "reference_rows": 2000,
    },
    "data_quality": {
        "status": "ok",
        "rows": 1000,
        "features": {"income": {"missing": check(0.0)}, "age": {"missing": check(0.01)}},
        "late": check(0.0),
        "refused": check(0.0),
        "volume": check(1000, upper=1500, lower=500, count=1000),
        "alerts": [],
    },
    "performance": {"status": "no_data", "reason": "No outcomes have arrived yet.", "labelled": 0},
    "estimated_performance": {
        "status": "ok",
        "metrics": {
            "accuracy": {"value": 0.86, "low": 0.84, "high": 0.88, "reference": 0.87, "degraded": False}
        },
        "degraded": [],
    },
    "calibration": {"status": "no_data", "reason": "No outcomes have arrived yet."},
    "fairness": {"status": "not_applicable", "reason": "No feature has the sensitive role."},
    "concept_drift": {"status": "no_data", "reason": "No outcomes have arrived yet."},
    "attribution": {"status": "ok"},
    "operations": {
        "status": "ok",
        "volume": 1000,
        "error_rate": 0.001,
        "errors": {"status": "ok", "count": 1, "total": 1000, "upper": 0.01, "reason": ""},
        "latency_ms": {"p50": 20.0, "p95": 40.0, "p99": 80.0, "mean": 22.0, "max": 120.0, "count": 1000},
        "health": {"samples": 0},
    },
}


def results(share: float = 0.0, **sections: Any) -> dict[str, Any]:
    """Engine-shaped results: `share` of the two features drifted (0, 0.5 or 1), sections replaced."""
    out = copy.deepcopy(BASE)
    drift = out["data_drift"]
    effects = {0.0: (0.02, 0.01), 0.5: (0.3, 0.01), 1.0: (0.3, 0.25)}[share]
    drift["features"] = [feature("income", effects[0]), feature("age", effects[1])]
    drift["drifted_features"] = [f["feature"] for f in drift["features"] if f["drifted"]]
    drift["share_drifted"] = share
    out.update(sections)
    return out


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture(autouse=True)
def _eager_celery(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process even when CELERY_BROKER_URL is set (the PostgreSQL + Redis CI run)."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from monitoring_site.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def clock() -> Iterator[datetime]:
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


@pytest.fixture
def make_run(credit_v1: Any) -> Callable[..., Any]:
    """`make_run(day, results)`: a finished analysis of credit-risk v1 over day `day` of November."""
    from drift.models import AnalysisResult, AnalysisRun, FeatureResult, RunStatus

    def make(day: int, data: dict[str, Any], *, status: str = RunStatus.DONE) -> AnalysisRun:
        start = FIRST_DAY + timedelta(days=day)
        run = AnalysisRun.objects.create(
            model=credit_v1.model,
            version=credit_v1,
            window_start=start,
            window_end=start + timedelta(days=1),
            status=status,
            rows=1000,
            reference_digest="ref0",
        )
        AnalysisResult.objects.bulk_create(
            AnalysisResult(run=run, section=name, status=section["status"], data=section)
            for name, section in data.items()
        )
        FeatureResult.objects.bulk_create(
            FeatureResult(
                run=run,
                feature=f["feature"],
                mode=f["mode"],
                method=f["method"],
                statistic=f["statistic"],
                p_value=f["p_value"],
                effect_method=f["effect_method"],
                effect_size=f["effect_size"],
                threshold=f["threshold"],
                drifted=f["drifted"],
                n_current=f["n_current"],
            )
            for f in data.get("data_drift", {}).get("features", [])
        )
        return run

    return make


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Evaluate the policies on a run, running what they enqueue after commit (notifications)."""
    from governance.services.policies import policies_evaluate

    def run(analysis: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return policies_evaluate(run_id=analysis.pk)

    return run


SHARE_RULE: dict[str, Any] = {
    "signal": "data_drift.share_drifted",
    "op": ">",
    "value": 0.2,
    "windows": 1,
    "severity": "critical",
    "actions": [{"type": "serving_mode", "mode": "human_review"}, {"type": "open_event"}],
}


@pytest.fixture
def share_policy(credit_model: Any, alice: Any) -> Any:
    """The issue's example policy on credit-risk: share drifted > 0.2 → human review and an event."""
    from governance.services.policies import policy_create

    return policy_create(model=credit_model, name="Drift guard", rules=[SHARE_RULE], by=alice)


def assert_error(response: Any, status: int, *, field: str | None = None, says: str = "") -> dict[str, Any]:
    """The answer has `status`, the API's error shape, and an error naming `field` (when given)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if field is not None:
        assert any(e.get("field") == field and says in e.get("message", "") for e in body["errors"]), (
            f"no error for {field!r} saying {says!r} in {body['errors']}"
        )
    elif says:
        assert says in body["detail"], body
    return body
