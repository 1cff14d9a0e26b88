"""Audit reasons and actors in words, for readers of the weekly report. Pure (no Django).

A policy's breach is recorded as "<policy> v<n>: <signal> = <value> (threshold <t>)", its actions as
"policy '<name>' v<n>: <signal> > <t> (observed <value>)" (the exact figures stay in the audit trail);
a reader gets the same clause the event page says (`governance.explain`).

Example:
    >>> readable_reason("Shift v1: data_drift.share_drifted = 0.5 (threshold 0.2)")
    'Shift v1: Half of the inputs (50%) changed against the reference data; the policy allows up to 20%'
    >>> readable_actor("policy:3", {3: "Population shift"}), readable_actor("alice", {})
    ("policy 'Population shift'", 'alice')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from governance.explain import what_was_seen
from governance.signals import parse_signal

NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# "<signal> = <value>[ (threshold <t>)]" as governance.services.events._observed writes it.
OBSERVED = re.compile(
    rf"(?P<signal>[a-z_]+(?:\.[A-Za-z0-9_\-]+)+) = (?P<value>{NUMBER}|unknown)"
    rf"(?: \(threshold (?P<threshold>{NUMBER})\))?"
)
# "<signal> > <limit>[ for 2 windows] (observed <value>)" as governance.services.actions writes a rule
# that fired (governance.policies.describe), or "<signal> flagged by the engine … (observed <value>)".
RULE_FIRED = re.compile(
    rf"(?P<signal>[a-z_]+(?:\.[A-Za-z0-9_\-]+)+) (?:(?:>=|<=|>|<|==|!=) (?P<threshold>{NUMBER})"
    rf"|flagged by the engine)(?P<span> for \d+ windows| in \d+ of \d+ windows)?"
    rf" \(observed (?P<value>{NUMBER}|unknown)\)"
)
POLICY_ACTOR = re.compile(r"^policy:(\d+)$")


def _clause(match: re.Match[str]) -> str:
    try:
        parse_signal(match["signal"])
    except ValueError:  # not a signal after all ("a.b = 3" in a person's note): leave it as written
        return match[0]
    value = None if match["value"] == "unknown" else float(match["value"])
    threshold = float(match["threshold"]) if match["threshold"] else None
    span = match.groupdict().get("span") or ""
    if span.startswith(" for "):
        span = f",{span} in a row"
    elif span:
        span = f",{span}"
    return what_was_seen(match["signal"], value, threshold) + span


def readable_reason(reason: str) -> str:
    """The reason with each recorded observation said in words; other text unchanged."""
    return RULE_FIRED.sub(_clause, OBSERVED.sub(_clause, reason or ""))


def policy_ids(actors: Iterable[str]) -> set[int]:
    """Ids of the policies among audit actors ('policy:<id>'), to look their names up in one query."""
    return {int(m[1]) for a in actors if (m := POLICY_ACTOR.match(str(a or "")))}


def readable_actor(actor: str, policy_names: Mapping[int, str]) -> str:
    """'policy:<id>' as "policy '<name>'" (when the name is known); anyone else as recorded."""
    m = POLICY_ACTOR.match(str(actor or ""))
    if m and int(m[1]) in policy_names:
        return f"policy '{policy_names[int(m[1])]}'"
    return str(actor or "")
