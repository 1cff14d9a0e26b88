"""Rule validation and evaluation: pure, no database."""

import pytest

from governance.policies import describe, evaluate, evaluate_rule, rule_key, validate_rules
from tests.governance.conftest import SHARE_RULE, results


def rule(**overrides):
    clean, errors = validate_rules([{**SHARE_RULE, **overrides}])
    assert errors == []
    return clean[0]


def fields(rules):
    return {e["field"]: e["message"] for e in validate_rules(rules)[1]}


def test_the_issues_example_rule_is_valid_and_normalised():
    clean, errors = validate_rules([SHARE_RULE])

    assert errors == []
    assert clean[0]["windows"] == 1 and clean[0]["actions"][0] == {
        "type": "serving_mode",
        "mode": "human_review",
    }


def test_errors_name_the_rule_index_and_field():
    errors = fields([SHARE_RULE, {**SHARE_RULE, "op": "~", "value": "high", "severity": "loud"}])

    assert set(errors) == {"rules[1].op", "rules[1].value", "rules[1].severity"}


def test_actions_are_checked_one_by_one():
    errors = fields(
        [
            {
                **SHARE_RULE,
                "actions": [
                    {"type": "serving_mode", "mode": "normal"},
                    {"type": "open_incident"},
                    {"type": "reboot"},
                    {"type": "open_event", "extra": 1},
                ],
            }
        ]
    )

    assert set(errors) == {
        "rules[0].actions[0].mode",
        "rules[0].actions[1].severity",
        "rules[0].actions[2].type",
        "rules[0].actions[3].extra",
    }


def test_a_learned_rule_takes_no_fixed_value_and_needs_an_engine_verdict():
    learned = {"signal": "data_drift.feature.income", "learned": True}

    assert fields([learned]) == {}
    assert set(fields([{**learned, "op": ">", "value": 1}])) == {"rules[0].op", "rules[0].value"}
    assert "rules[0].learned" in fields([{"signal": "operations.queue_depth", "learned": True}])


def test_persistence_is_windows_or_m_of_k_never_both():
    assert "rules[0].m_of_k" in fields([{**SHARE_RULE, "m_of_k": [2, 3]}])  # SHARE_RULE has windows
    no_windows = {k: v for k, v in SHARE_RULE.items() if k != "windows"}
    assert fields([{**no_windows, "m_of_k": [2, 3]}]) == {}
    assert "rules[0].m_of_k" in fields([{**no_windows, "m_of_k": [4, 3]}])
    assert "rules[0].windows" in fields([{**SHARE_RULE, "windows": 0}])


@pytest.mark.parametrize("bad", [None, [], "rules", [1]])
def test_rules_must_be_a_non_empty_list_of_objects(bad):
    assert validate_rules(bad)[1]


def test_an_unknown_signal_and_an_unknown_field_are_named():
    errors = fields([{**SHARE_RULE, "signal": "vibes", "colour": "red"}])

    assert set(errors) == {"rules[0].signal", "rules[0].colour"}


def test_a_fixed_rule_breaches_when_the_comparison_holds():
    verdict = evaluate_rule(rule(), results(0.5), history=[])

    assert (verdict.breached, verdict.fired, verdict.value, verdict.threshold) == (True, True, 0.5, 0.2)
    assert [a["type"] for a in verdict.actions] == ["serving_mode", "open_event"]


def test_windows_n_needs_n_consecutive_breaches():
    two = rule(windows=2)

    assert not evaluate_rule(two, results(0.5), history=[False]).fired
    assert evaluate_rule(two, results(0.5), history=[False, True]).fired
    assert evaluate_rule(two, results(0.5), history=[True, False, True]).windows == 2


def test_an_unknown_window_never_breaches_and_never_resets_persistence():
    two = rule(signal="performance.accuracy", op="<", value=0.8, windows=2)
    labelled = results(
        performance={"status": "ok", "metrics": {"accuracy": {"value": 0.7, "degraded": True}}}
    )

    unknown = evaluate_rule(two, results(), history=[True])
    after_gap = evaluate_rule(two, labelled, history=[True, None])

    assert (unknown.breached, unknown.fired, unknown.actions) == (None, False, ())
    assert after_gap.fired and after_gap.windows == 2


def test_m_of_k_fires_on_a_breaching_window_when_m_of_the_last_k_breached():
    m_of_k = {k: v for k, v in rule().items() if k != "windows"} | {"m_of_k": [2, 3]}

    assert evaluate_rule(m_of_k, results(0.5), history=[True, False]).fired
    assert not evaluate_rule(m_of_k, results(0.5), history=[True, False, False]).fired
    assert not evaluate_rule(m_of_k, results(0.0), history=[True, True]).fired


def test_a_learned_rule_follows_the_engines_flag_and_reports_its_threshold():
    fixed = {k: v for k, v in SHARE_RULE.items() if k not in ("op", "value")}
    learned = validate_rules([{**fixed, "signal": "data_drift.feature.income", "learned": True}])[0][0]

    drifted = evaluate_rule(learned, results(0.5), history=[])
    stable = evaluate_rule(learned, results(0.0), history=[])

    assert (drifted.breached, drifted.value, drifted.threshold) == (True, 0.3, 0.1)
    assert stable.breached is False and stable.actions == ()


def test_the_rule_key_ignores_actions_and_severity_but_not_the_condition():
    base = rule()

    assert rule_key(base) == rule_key({**base, "severity": "info", "actions": []})
    assert rule_key(base) != rule_key({**base, "value": 0.3})


def test_evaluate_uses_each_rules_own_history():
    rules = [rule(windows=2), rule(signal="data_drift.feature.income", op=">", value=0.2)]
    histories = {rule_key(rules[0]): [True]}

    verdicts = evaluate(rules, results(0.5), histories)

    assert [v.fired for v in verdicts] == [True, True] and [v.index for v in verdicts] == [0, 1]


def test_describe_says_the_condition_in_words():
    assert describe(rule(windows=3)) == "data_drift.share_drifted > 0.2 for 3 windows"
