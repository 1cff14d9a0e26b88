"""Signals map the engine's result shapes to one value, the engine's verdict and its threshold. No DB."""

import pytest

from governance.signals import UNKNOWN, Observation, observe, parse_signal
from tests.governance.conftest import check, feature, results


def test_share_drifted_reads_the_share_and_flags_any_drifted_feature():
    assert observe("data_drift.share_drifted", results(0.5)) == Observation(0.5, True, None)
    assert observe("data_drift.share_drifted", results(0.0)) == Observation(0.0, False, None)


def test_a_feature_signal_reads_its_effect_size_drifted_flag_and_learned_threshold():
    got = observe("data_drift.feature.income", results(0.5))

    assert got == Observation(0.3, True, 0.1)


def test_a_feature_absent_or_untestable_is_unknown():
    data = results()
    data["data_drift"]["features"].append({**feature("region", 0.0), "testable": False})

    assert observe("data_drift.feature.nope", data) == UNKNOWN
    assert observe("data_drift.feature.region", data) == UNKNOWN


def test_multivariate_reads_the_domain_classifier_auc_and_the_overall_verdict():
    data = results()
    data["data_drift"]["multivariate"]["drifted"] = True

    assert observe("data_drift.multivariate", data) == Observation(0.51, True, 0.55)
    assert observe("data_drift.multivariate.pca", data) == Observation(1.0, False, 1.2)


def test_data_quality_checks_read_the_observed_share_alert_and_the_limit_crossed():
    data = results(data_quality={**results()["data_quality"], "late": check(0.2, upper=0.05)})

    assert observe("data_quality.late", data) == Observation(0.2, True, 0.05)
    assert observe("data_quality.missing.age", data) == Observation(0.01, False, 0.05)
    low_volume = results(data_quality={**data["data_quality"], "volume": check(100, upper=1500, lower=500)})
    assert observe("data_quality.volume", low_volume) == Observation(100, True, 500)


def test_a_value_problem_never_seen_counts_as_a_zero_share():
    assert observe("data_quality.out_of_range.income", results()) == Observation(0.0, False, None)
    assert observe("data_quality.out_of_range.unknown_feature", results()) == UNKNOWN


def test_performance_without_labels_is_unknown_and_with_labels_reads_value_and_degraded():
    assert observe("performance.accuracy", results()) == UNKNOWN
    labelled = results(
        performance={
            "status": "ok",
            "metrics": {
                "accuracy": {"value": 0.7, "low": 0.68, "high": 0.72, "reference": 0.87, "degraded": True}
            },
        }
    )

    assert observe("performance.accuracy", labelled) == Observation(0.7, True, 0.87)
    assert observe("performance.roc_auc", labelled) == UNKNOWN


def test_estimated_performance_reads_the_label_free_estimate():
    assert observe("estimated_performance.accuracy", results()) == Observation(0.86, False, 0.87)


def test_calibration_compares_with_the_reference_plus_the_engines_material_increase():
    data = results(calibration={"status": "ok", "ece": 0.12, "reference_ece": 0.03, "worse": True})

    got = observe("calibration.ece", data)

    assert got.value == 0.12 and got.flag is True and got.threshold == pytest.approx(0.08)


def test_fairness_reads_an_attributes_gap_and_flags_a_material_one_clear_of_zero():
    gap = {
        "value": 0.15,
        "ci": {"low": 0.05, "high": 0.25, "level": 0.95, "n_resamples": 200},
        "reason": None,
    }
    report = {
        "attribute": "gender",
        "groups": [],
        "demographic_parity_difference": gap,
        "demographic_parity_ratio": {"value": 0.7, "ci": None},
        "four_fifths_passed": False,
    }
    data = results(fairness={"status": "ok", "attributes": [report], "flags": []})

    assert observe("fairness.gender.demographic_parity_difference", data) == Observation(0.15, True, 0.1)
    assert observe("fairness.gender.demographic_parity_ratio", data) == Observation(0.7, True, 0.8)
    assert observe("fairness.region.demographic_parity_difference", data) == UNKNOWN


def test_concept_drift_detectors_count_detections():
    data = results(
        concept_drift={
            "status": "ok",
            "error_rate": 0.2,
            "reference_error_rate": 0.1,
            "detectors": {
                "adwin": {"drifts": 2, "first_drift_at": "2026-11-02T03:00:00Z"},
                "ddm": {"drifts": 0, "first_drift_at": None},
            },
            "conditional": {"income": {"drifted": True, "p_value": 0.001, "effect": 0.3}},
            "drifted": True,
        }
    )

    assert observe("concept_drift.adwin", data) == Observation(2, True, 0.0)
    assert observe("concept_drift.ddm", data) == Observation(0, False, 0.0)
    assert observe("concept_drift.drifted", data) == Observation(1.0, True, None)
    assert observe("concept_drift.conditional.income", data) == Observation(0.3, True, None)
    assert observe("concept_drift.error_rate", data) == Observation(0.2, None, 0.1)


def test_operations_read_latency_error_rate_volume_and_queue_depth():
    ops = {**results()["operations"], "health": {"samples": 3, "queue_depth_max": 42, "queue_depth_avg": 10}}
    ops["latency_ms"] = {**ops["latency_ms"], "usual_p95": 20.0, "slower": True}
    data = results(operations=ops)

    assert observe("operations.latency_p95", data) == Observation(40.0, True, 30.0)
    assert observe("operations.latency_p99", data) == Observation(80.0, None, None)
    assert observe("operations.error_rate", data) == Observation(0.001, False, 0.01)
    assert observe("operations.queue_depth", data) == Observation(42, None, None)
    assert observe("operations.volume", data) == Observation(1000, None, None)
    assert observe("operations.queue_depth", results()) == UNKNOWN


def test_a_failed_or_missing_section_makes_every_signal_in_it_unknown():
    assert (
        observe("data_drift.share_drifted", {"data_drift": {"status": "error", "reason": "boom"}}) == UNKNOWN
    )
    assert observe("operations.error_rate", {}) == UNKNOWN


@pytest.mark.parametrize(
    "text",
    ["", "data_drift", "data_drift.feature.", "fairness.gender.bogus", "latency", "performance.Bad-Name"],
)
def test_malformed_signals_are_refused(text):
    with pytest.raises(ValueError):
        parse_signal(text)
