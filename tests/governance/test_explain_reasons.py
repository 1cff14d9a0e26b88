"""Audit reasons and actors in words for the weekly report (governance.explain_reasons). No database."""

import doctest

from drift.page_tables.report import actions_table
from governance import explain_reasons
from governance.explain_reasons import policy_ids, readable_actor, readable_reason


def test_the_worked_examples_in_the_docstring_hold() -> None:
    assert doctest.testmod(explain_reasons).failed == 0


def test_a_policy_breach_reads_in_words_with_whole_percents() -> None:
    said = readable_reason("Population shift v1: data_drift.share_drifted = 0.7857 (threshold 0.2)")
    assert said == (
        "Population shift v1: A share of the inputs (79%) changed against the reference data; "
        "the policy allows up to 20%"
    )
    assert "data_drift" not in said and "0.7857" not in said


def test_text_that_is_not_an_observation_stays_as_written() -> None:
    assert readable_reason("Manual fallback (serving_mode.fallback = 3)") == (
        "Manual fallback (serving_mode.fallback = 3)"
    )
    assert readable_reason("") == ""


def test_policy_actors_are_named_and_people_stay_as_recorded() -> None:
    assert policy_ids(["policy:1", "alice", "policy:x", "system:sweep"]) == {1}
    assert readable_actor("policy:1", {1: "Population shift"}) == "policy 'Population shift'"
    assert readable_actor("policy:9", {}) == "policy:9"  # deleted since: the id is all there is
    assert readable_actor("alice", {1: "x"}) == "alice"


def test_the_report_audit_table_says_why_in_words() -> None:
    rows = [
        {
            "at": "2026-11-20T00:00:00+00:00",
            "actor": "policy 'Population shift'",
            "action": "serving_mode.change",
            "reason": "Population shift v1: data_drift.share_drifted = 0.7857 (threshold 0.2)",
        }
    ]
    row = actions_table(rows, 1).rows[0]
    assert row["reason"].endswith("(79%) changed against the reference data; the policy allows up to 20%")
    assert row["actor"] == "policy 'Population shift'"


def test_a_fired_rule_reads_in_words_with_its_span() -> None:
    said = readable_reason(
        "Requested by policy 'P' v1: data_drift.share_drifted > 0.2 for 2 windows (observed 0.2143)."
    )
    assert said == (
        "Requested by policy 'P' v1: A share of the inputs (21%) changed against the reference data; "
        "the policy allows up to 20%, for 2 windows in a row."
    )
    learned = readable_reason(
        "P v1: concept_drift.drifted flagged by the engine in 2 of 3 windows (observed 1)"
    )
    assert learned.startswith("P v1: The link between the inputs and the outcomes changed, in 2 of 3 windows")
