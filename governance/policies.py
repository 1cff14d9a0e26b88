"""Policy rules: validation and evaluation. Pure (no Django): rules, results and history in, verdicts out.

A rule watches one signal (`governance.signals`) of every analysis run of its model:

    {"signal": "data_drift.share_drifted", "op": ">", "value": 0.2,      # or "learned": true
     "windows": 2,                                                        # or "m_of_k": [3, 5]
     "severity": "critical",
     "actions": [{"type": "serving_mode", "mode": "human_review"}, {"type": "open_event"}]}

A fixed rule breaches when `value op threshold` holds; a learned rule when the engine flags the signal
(its learned threshold, control limit or "degraded" verdict). A run where the signal is unknown (its
section has no data yet) neither breaches nor breaks a streak: it is left out of the history.
Persistence: `windows: N` fires when the last N known verdicts breached; `m_of_k: [M, K]` fires on a
breaching run when at least M of the last K known verdicts breached.

Example:
    >>> rules, errors = validate_rules([{"signal": "data_drift.share_drifted", "op": ">", "value": 0.2,
    ...                                  "windows": 2, "actions": [{"type": "open_event"}]}])
    >>> errors
    []
    >>> results = {"data_drift": {"status": "ok", "share_drifted": 0.5, "drifted_features": ["a"]}}
    >>> v = evaluate_rule(rules[0], results, history=[True, None])
    >>> v.breached, v.fired, v.windows, v.value
    (True, True, 2, 0.5)
    >>> evaluate_rule(rules[0], results, history=[False]).fired
    False
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.signals import Results, observe, parse_signal

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
SEVERITIES = ("info", "warning", "critical")
SERVING_MODES = ("human_review", "fallback", "paused")
INCIDENT_SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
ACTION_FIELDS: dict[str, dict[str, tuple[str, ...] | None]] = {
    # action type → its fields (a tuple of allowed values, or None for free text)
    "notify": {},
    "open_event": {},
    "serving_mode": {"mode": SERVING_MODES},
    "open_incident": {"severity": INCIDENT_SEVERITIES},
    "request_retraining": {"note": None},
    "schedule_holdout": {},
}
RULE_FIELDS = frozenset(
    {"signal", "op", "value", "learned", "windows", "m_of_k", "severity", "actions", "description"}
)
MAX_RULES = 50
MAX_WINDOWS = 100
MAX_TEXT = 1000

Rule = dict[str, Any]
Error = dict[str, str]


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def rule_key(rule: Mapping[str, Any]) -> str:
    """Identifies a rule's condition across policy versions (its actions and severity may change)."""
    condition = {k: rule.get(k) for k in ("signal", "op", "value", "learned")}
    return hashlib.sha256(json.dumps(condition, sort_keys=True).encode()).hexdigest()[:16]


def describe(rule: Mapping[str, Any]) -> str:
    """The condition in words, e.g. ``data_drift.share_drifted > 0.2 for 2 windows``."""
    what = (
        f"{rule['signal']} flagged by the engine"
        if rule.get("learned")
        else f"{rule['signal']} {rule['op']} {rule['value']:g}"
    )
    if "m_of_k" in rule:
        m, k = rule["m_of_k"]
        return f"{what} in {m} of {k} windows"
    n = rule.get("windows", 1)
    return what if n == 1 else f"{what} for {n} windows"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WINDOWS


def _validate_actions(actions: Any, at: str, errors: list[Error]) -> list[dict[str, Any]]:
    if not isinstance(actions, list):
        errors.append({"field": at, "message": "must be a list of actions"})
        return []
    out, seen = [], set()
    for j, action in enumerate(actions):
        where = f"{at}[{j}]"
        if not isinstance(action, dict):
            errors.append({"field": where, "message": "must be an object with a 'type'"})
            continue
        kind = action.get("type")
        if not isinstance(kind, str) or kind not in ACTION_FIELDS:
            errors.append({"field": f"{where}.type", "message": f"must be one of {', '.join(ACTION_FIELDS)}"})
            continue
        if kind in seen:
            errors.append({"field": f"{where}.type", "message": f"'{kind}' appears twice in this rule"})
            continue
        seen.add(kind)
        fields = ACTION_FIELDS[kind]
        clean: dict[str, Any] = {"type": kind}
        for name in sorted(set(action) - {"type"} - set(fields)):
            errors.append({"field": f"{where}.{name}", "message": f"'{kind}' takes no '{name}'"})
        for name, allowed in fields.items():
            value = action.get(name)
            if allowed is None:  # optional text
                if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
                    errors.append({"field": f"{where}.{name}", "message": f"text of at most {MAX_TEXT}"})
                elif value:
                    clean[name] = value
            elif value not in allowed:
                errors.append({"field": f"{where}.{name}", "message": f"must be one of {', '.join(allowed)}"})
            else:
                clean[name] = value
        out.append(clean)
    return out


def _validate_rule(rule: Any, i: int, errors: list[Error]) -> Rule | None:
    at = f"rules[{i}]"
    if not isinstance(rule, dict):
        errors.append({"field": at, "message": "must be an object"})
        return None
    before = len(errors)
    for name in sorted(set(rule) - RULE_FIELDS):
        errors.append({"field": f"{at}.{name}", "message": "unknown field"})
    clean: Rule = {"signal": rule.get("signal")}
    try:
        signal = parse_signal(rule.get("signal"))  # type: ignore[arg-type]
    except ValueError as exc:
        errors.append({"field": f"{at}.signal", "message": str(exc)})
        signal = None
    learned = rule.get("learned", False)
    if not isinstance(learned, bool):
        errors.append({"field": f"{at}.learned", "message": "must be true or false"})
    elif learned:
        clean["learned"] = True
        for name in ("op", "value"):
            if name in rule:
                errors.append(
                    {"field": f"{at}.{name}", "message": "a learned rule takes no fixed op or value"}
                )
        if signal is not None and not signal.learnable:
            errors.append(
                {
                    "field": f"{at}.learned",
                    "message": f"the engine has no verdict for '{signal.text}'; give an op and a fixed value",
                }
            )
    else:
        # Checked as text first: a list or object cannot even be looked up in the dict (was a 500).
        if not isinstance(rule.get("op"), str) or rule.get("op") not in OPS:
            errors.append({"field": f"{at}.op", "message": f"must be one of {' '.join(OPS)}"})
        if not _is_number(rule.get("value")):
            errors.append(
                {"field": f"{at}.value", "message": "must be a finite number (or set learned: true)"}
            )
        clean["op"], clean["value"] = rule.get("op"), rule.get("value")
    if "windows" in rule and "m_of_k" in rule:
        errors.append({"field": f"{at}.m_of_k", "message": "give either windows or m_of_k, not both"})
    elif "m_of_k" in rule:
        mk = rule["m_of_k"]
        if not (isinstance(mk, list) and len(mk) == 2 and all(_is_count(x) for x in mk) and mk[0] <= mk[1]):
            errors.append(
                {"field": f"{at}.m_of_k", "message": f"must be [M, K] with 1 <= M <= K <= {MAX_WINDOWS}"}
            )
        clean["m_of_k"] = mk
    else:
        windows = rule.get("windows", 1)
        if not _is_count(windows):
            errors.append(
                {"field": f"{at}.windows", "message": f"must be a whole number from 1 to {MAX_WINDOWS}"}
            )
        clean["windows"] = windows
    severity = rule.get("severity", "warning")
    if severity not in SEVERITIES:
        errors.append({"field": f"{at}.severity", "message": f"must be one of {', '.join(SEVERITIES)}"})
    clean["severity"] = severity
    description = rule.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        errors.append({"field": f"{at}.description", "message": f"text of at most {MAX_TEXT} characters"})
    elif description:
        clean["description"] = description
    clean["actions"] = _validate_actions(rule.get("actions", []), f"{at}.actions", errors)
    return clean if len(errors) == before else None


def validate_rules(rules: Any) -> tuple[list[Rule], list[Error]]:
    """(normalised rules, errors); each error names its field, e.g. ``rules[1].op``."""
    if not isinstance(rules, list) or not rules:
        return [], [{"field": "rules", "message": "must be a non-empty list of rules"}]
    if len(rules) > MAX_RULES:
        return [], [{"field": "rules", "message": f"at most {MAX_RULES} rules per policy"}]
    errors: list[Error] = []
    clean = [_validate_rule(rule, i, errors) for i, rule in enumerate(rules)]
    keys = [rule_key(r) for r in clean if r is not None]
    for i, rule in enumerate(clean):
        if rule is not None and keys.count(rule_key(rule)) > 1:
            errors.append({"field": f"rules[{i}]", "message": "the same condition appears twice; merge them"})
            break
    return ([r for r in clean if r is not None] if not errors else []), errors


@dataclass(frozen=True)
class RuleVerdict:
    """One rule on one run. `breached` is this run alone (None: unknown); `fired`, with persistence."""

    index: int
    rule_key: str
    signal: str
    breached: bool | None
    fired: bool
    value: float | None
    threshold: float | None
    windows: int  # consecutive breaching known runs, this one included
    severity: str
    actions: tuple[dict[str, Any], ...]  # what to do (empty unless fired)


def _trailing(flags: Sequence[bool]) -> int:
    count = 0
    for flag in reversed(flags):
        if not flag:
            break
        count += 1
    return count


def evaluate_rule(
    rule: Mapping[str, Any], results: Results, history: Sequence[bool | None], *, index: int = 0
) -> RuleVerdict:
    """Judge one validated rule on one run's `results`, given the rule's earlier verdicts (oldest
    first, None for runs where the signal was unknown)."""
    obs = observe(rule["signal"], results)
    if rule.get("learned"):
        breached, threshold = obs.flag, obs.threshold
    else:
        breached = None if obs.value is None else OPS[rule["op"]](obs.value, float(rule["value"]))
        threshold = float(rule["value"])
    known = [flag for flag in history if flag is not None]
    if breached is None:
        fired, windows = False, 0
    else:
        seq = [*known, breached]
        windows = _trailing(seq)
        if "m_of_k" in rule:
            m, k = rule["m_of_k"]
            fired = breached and sum(seq[-k:]) >= m
        else:
            fired = windows >= rule.get("windows", 1)
    return RuleVerdict(
        index=index,
        rule_key=rule_key(rule),
        signal=rule["signal"],
        breached=breached,
        fired=fired,
        value=obs.value,
        threshold=threshold,
        windows=windows,
        severity=rule.get("severity", "warning"),
        actions=tuple(rule.get("actions", ())) if fired else (),
    )


def history_needed(rule: Mapping[str, Any]) -> int:
    """How many earlier known verdicts persistence can look at."""
    return max(rule["m_of_k"][1] if "m_of_k" in rule else rule.get("windows", 1), 1)


def evaluate(
    rules: Sequence[Mapping[str, Any]], results: Results, histories: Mapping[str, Sequence[bool | None]]
) -> list[RuleVerdict]:
    """Every rule's verdict; `histories` maps `rule_key(rule)` to that rule's earlier verdicts."""
    return [
        evaluate_rule(rule, results, histories.get(rule_key(rule), ()), index=i)
        for i, rule in enumerate(rules)
    ]
