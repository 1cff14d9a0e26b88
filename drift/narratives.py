"""Plain-language summaries of analysis results: deterministic templates, no language model. Pure.

What changed (which features, by how much against the reference), where it concentrates (segments),
then data quality, performance, calibration, fairness, concept, drivers and operations, each only when
there is something to say. No statistical jargon: the numbers are averages, shares and rates.

Example:
    >>> results = {"data_drift": {"status": "ok", "features": [
    ...     {"feature": "income", "type": "numeric", "drifted": True, "effect_size": 0.5, "threshold": 0.1,
    ...      "summary": {"reference_mean": 50300.0, "current_mean": 41200.0, "mean_change": -0.181}}],
    ...     "multivariate": {}}}
    >>> narrate(results)
    'Income changed against the reference. Average income fell 18% against the reference (41,200 vs 50,300).'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

MAX_FEATURES = 3
MIN_MEAN_CHANGE = 0.01
MIN_SHARE = 0.01


def number(x: float) -> str:
    """Three significant figures with thousands separators: 41213 → '41,200', 0.01234 → '0.0123'."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    rounded = round(x, -math.floor(math.log10(abs(x))) + 2)
    return f"{rounded:,.0f}" if abs(rounded) >= 100 else f"{rounded:.3g}"


def pct(x: float) -> str:
    """A share as a percentage, with a decimal only below 10 %: 0.234 → '23%', 0.012 → '1.2%'."""
    p = 100 * x
    return f"{p:.1f}%" if 0 < abs(p) < 10 and round(p, 1) != round(p) else f"{p:.0f}%"


def _name(feature: str) -> str:
    return feature.replace("_", " ")


def _join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _numeric(entry: Mapping[str, Any]) -> str:
    s, name = entry.get("summary", {}), _name(entry["feature"])
    change, ref, cur = s.get("mean_change"), s.get("reference_mean"), s.get("current_mean")
    if change is not None and abs(change) >= MIN_MEAN_CHANGE:
        verb = "rose" if change > 0 else "fell"
        against = f"({number(cur)} vs {number(ref)})"
        return f"Average {name} {verb} {pct(abs(change))} against the reference {against}."
    ref_sd, cur_sd = s.get("reference_std"), s.get("current_std")
    if ref_sd and cur_sd and abs(cur_sd / ref_sd - 1) >= 0.1:
        verb = "widened" if cur_sd > ref_sd else "narrowed"
        return (
            f"The spread of {name} {verb} by {pct(abs(cur_sd / ref_sd - 1))} against the reference, "
            f"while its average barely moved."
        )
    return f"The distribution of {name} changed shape against the reference, while its average barely moved."


def _categorical(entry: Mapping[str, Any]) -> str:
    s, name = entry.get("summary", {}), _name(entry["feature"])
    if entry.get("type") == "boolean":
        ref, cur = s.get("reference_true_share"), s.get("current_true_share")
        if ref is not None and cur is not None:
            return (
                f"{name.capitalize()} is true for {pct(cur)} of requests, against {pct(ref)}"
                " in the reference."
            )
        return f"The values of {name} changed against the reference."
    new = s.get("new_values") or {}
    if new and s.get("new_share", 0) >= MIN_SHARE:
        value, share = max(new.items(), key=lambda kv: kv[1])
        return f"A new {name} value '{value}' now makes up {pct(share)} of requests."
    for share in s.get("shares", []):
        if abs(share["current"] - share["reference"]) >= MIN_SHARE:
            verb = "rose" if share["current"] > share["reference"] else "fell"
            return (
                f"The share of {name} '{share['value']}' {verb} from {pct(share['reference'])} to "
                f"{pct(share['current'])}."
            )
    return f"The mix of {name} values changed against the reference."


def _mix_change(seg: Mapping[str, Any]) -> str:
    """``customer segment 'new' rose from 30% to 42% of requests``."""
    mix = seg["mix"]
    verb = "rose" if mix["current_share"] > mix["reference_share"] else "fell"
    return (
        f"{_name(seg['by'])} '{mix['value']}' {verb} from {pct(mix['reference_share'])} to "
        f"{pct(mix['current_share'])} of requests"
    )


def _segment(entry: Mapping[str, Any], told: set[str]) -> str:
    """Where a feature's change comes from: the segment mix (told once per segment feature: `told`
    holds those whose shift is already said), or the one segment it concentrates in."""
    feature = _name(entry["feature"])
    for seg in entry.get("segments", []):
        if seg.get("mix_explains"):
            if seg["by"] in told:
                return f"Most of the change in {feature} comes from that shift in {_name(seg['by'])}."
            told.add(seg["by"])
            return f"Most of the change in {feature} comes from the mix: {_mix_change(seg)}."
    for seg in entry.get("segments", []):
        where = seg.get("concentrated_in")
        if where:
            top = next((s for s in seg["segments"] if s["value"] == where), seg["segments"][0])
            return (
                f"The change in {feature} concentrates in {_name(seg['by'])} = {where} "
                f"({pct(top['share'])} of requests)."
            )
    return ""


def _mix_moves(entries: list[Mapping[str, Any]], told: set[str]) -> list[str]:
    """A segment mix that moved and was not told yet, once per segment feature."""
    out = []
    for entry in entries:
        for seg in entry.get("segments", []):
            if (seg.get("mix") or {}).get("moved") and seg["by"] not in told:
                told.add(seg["by"])
                change = _mix_change(seg)
                out.append(change[:1].upper() + change[1:] + ".")
    return out


def _drift(section: Mapping[str, Any]) -> list[str]:
    entries = section.get("features", [])
    drifted = [e for e in entries if e.get("drifted")]
    drifted.sort(
        key=lambda e: -(e["effect_size"] / e["threshold"] if e.get("threshold") else e["effect_size"])
    )
    out = []
    tested = sum(1 for e in entries if e.get("testable", True))
    if drifted:
        names = [_name(e["feature"]) for e in drifted]
        extra = len(names) - MAX_FEATURES
        head = _join([*names[:MAX_FEATURES], f"{extra} more"] if extra > 0 else names)
        which = "features" if tested == len(entries) else "testable features"
        count = f" ({len(names)} of {tested} {which})." if len(names) > 1 else "."
        out.append(f"{head} changed against the reference{count}")
        told: set[str] = set()  # segment features whose shift is already told
        for e in drifted[:MAX_FEATURES]:
            out.append(_numeric(e) if e.get("type") == "numeric" else _categorical(e))
            told.add(e["feature"])  # a segment feature detailed on its own tells its shift
            segment = _segment(e, told)
            if segment:
                out.append(segment)
        out += _mix_moves(drifted, told)
    elif entries and not tested and any("too few rows" in (e.get("explanation") or "") for e in entries):
        out.append(
            "This window is too small to compare with the reference: no feature has enough values to test."
        )
    elif entries:
        multi = section.get("multivariate", {})
        if multi.get("drifted"):
            out.append(
                "Each feature looks like the reference on its own, but the way features move together "
                "has changed."
            )
        else:
            out.append("No feature changed materially against the reference.")
    if section.get("stale_rows"):
        out.append(
            f"{number(section['stale_rows'])} rows are waiting to be re-profiled for the current "
            "reference and were left out."
        )
    return out


def _usual(check: Mapping[str, Any]) -> str:
    """What the share is compared with: earlier windows, or the reference (zero when it has none)."""
    if check.get("rule") == "reference":
        return f"({pct(check['center'])} in the reference)" if check.get("center") else "(normally none)"
    return f"(usually {pct(check['center'])})"


def _quality(section: Mapping[str, Any]) -> list[str]:
    out = []
    for name, entry in section.get("features", {}).items():
        miss = entry.get("missing", {})
        if miss.get("status") == "alert":
            out.append(f"Missing values in {_name(name)} rose to {pct(miss['observed'])} {_usual(miss)}.")
        for problem, what in (
            ("out_of_range", "outside the declared range"),
            ("undeclared_category", "categories the schema does not declare"),
        ):
            check = entry.get(problem, {})
            if check.get("status") == "alert":
                out.append(f"{pct(check['observed'])} of {_name(name)} values were {what}.")
    for key, text in (("late", "of predictions arrived late"), ("refused", "of records sent were refused")):
        check = section.get(key, {})
        if check.get("status") == "alert":
            out.append(f"{pct(check['observed'])} {text} {_usual(check)}.")
    volume = section.get("volume", {})
    if volume.get("status") == "alert":
        side = "below" if volume["observed"] < volume["center"] else "above"
        out.append(
            f"Traffic was {number(volume['observed'])} predictions, {side} the usual range "
            f"(about {number(volume['center'])})."
        )
    return out


PRIMARY = ("accuracy", "roc_auc", "f1", "macro_f1", "precision", "recall", "mae", "rmse", "r2")
PROBABILITY_FIT = ("log_loss", "brier")
NAMES = {
    "accuracy": "Accuracy",
    "roc_auc": "Ranking quality",
    "f1": "F1",
    "macro_f1": "Macro F1",
    "precision": "Precision",
    "recall": "Recall",
    "mae": "Mean absolute error",
    "rmse": "Typical error (RMSE)",
    "r2": "Explained variance",
    "mape": "Mean percentage error",
    "log_loss": "Log loss",
    "brier": "Brier score",
}


def _show(name: str, value: float) -> str:
    return number(value) if name in ("mae", "rmse", "log_loss", "brier") else pct(value)


def _performance(results: Mapping[str, Any]) -> list[str]:
    out = []
    perf = results.get("performance", {})
    if perf.get("status") == "ok":
        metrics = perf.get("metrics", {})
        worse = perf.get("degraded", [])
        n = number(perf.get("labelled", 0))
        headline = next((m for m in PRIMARY if m in worse), None)
        if headline:
            m = metrics[headline]
            verb = "rose" if m["value"] > m["reference"] else "fell"
            out.append(
                f"{NAMES.get(headline, headline)} {verb} from {_show(headline, m['reference'])} on the "
                f"reference to {_show(headline, m['value'])} ({n} labelled predictions)."
            )
        elif any(m in worse for m in PROBABILITY_FIT):
            out.append(
                f"Predicted probabilities fit the outcomes less well than on the reference ({n} labelled "
                "predictions)."
            )
        else:
            name = next((m for m in PRIMARY if metrics.get(m, {}).get("value") is not None), None)
            if name:
                m = metrics[name]
                ref = f" (reference {_show(name, m['reference'])})" if m.get("reference") is not None else ""
                out.append(
                    f"Performance holds: {NAMES.get(name, name).lower()} {_show(name, m['value'])}{ref} "
                    f"on {n} labelled predictions."
                )
        business = perf.get("business") or {}
        cur, ref = business.get("per_prediction"), business.get("reference_per_prediction")
        if cur is not None and ref is not None and abs(cur - ref) > 1e-9:
            out.append(
                f"In business terms each prediction is worth {number(cur)} {business['currency']}, "
                f"against {number(ref)} on the reference."
            )
    est = results.get("estimated_performance", {})
    if est.get("status") == "ok" and perf.get("status") != "ok":
        m = est["metrics"].get("accuracy", {})
        if m.get("value") is not None:
            ref = f" (reference {pct(m['reference'])})" if m.get("reference") is not None else ""
            likely = " — likely worse than the reference" if m.get("degraded") else ""
            out.append(f"Without labels yet, accuracy is estimated at {pct(m['value'])}{ref}{likely}.")
    cal = results.get("calibration", {})
    if cal.get("status") == "ok" and cal.get("worse"):
        out.append(
            f"Predicted probabilities are further from observed outcomes than on the reference "
            f"(off by {pct(cal['ece'])} on average, against {pct(cal['reference_ece'])})."
        )
    return out


def _fairness(section: Mapping[str, Any]) -> list[str]:
    out = []
    if section.get("status") != "ok":
        return out
    for attr in section.get("attributes", []):
        name = _name(attr["attribute"])
        dp = attr.get("demographic_parity_difference") or {}
        ci = dp.get("ci") or {}
        if dp.get("value") is not None and dp["value"] >= 0.1 and (not ci or ci.get("low", 0) > 0):
            groups = [g for g in attr.get("groups", []) if g.get("selection_rate") is not None]
            lo = min(groups, key=lambda g: g["selection_rate"])
            hi = max(groups, key=lambda g: g["selection_rate"])
            out.append(
                f"Positive decisions differ between {name} groups: {pct(hi['selection_rate'])} for "
                f"{hi['group']} against {pct(lo['selection_rate'])} for {lo['group']}."
            )
        eo = attr.get("equalized_odds_difference") or {}
        if eo.get("value") is not None and eo["value"] >= 0.1 and (eo.get("ci") or {}).get("low", 1) > 0:
            out.append(
                f"Among people with the same true outcome, {name} groups are treated differently "
                f"(rates up to {pct(eo['value'])} apart)."
            )
        if attr.get("four_fifths_passed") is False:
            out.append(
                f"The {name} group with the lowest rate gets positive decisions less than four fifths as "
                "often as the highest."
            )
    return out


def _concept(section: Mapping[str, Any]) -> list[str]:
    if section.get("status") != "ok" or not section.get("drifted"):
        return []
    out = []
    if section.get("given_score_drifted") or section.get("drifted_features"):
        cond = section.get("conditional", {})
        where = sorted(section.get("drifted_features", []), key=lambda f: -(cond[f].get("effect") or 0))
        tail = f", most of all across {_join([_name(f) for f in where[:2]])}" if where else ""
        out.append(f"Outcomes no longer follow the model's scores as they did on the reference{tail}.")
        bands = _moved_bands(section, where)
        moved = (cond.get("score") or {}).get("effect")
        if bands:
            out += bands
        elif moved:
            size = f"{100 * moved:.1f}" if moved < 0.1 else f"{100 * moved:.0f}"
            out.append(f"At the same score, the outcome rate moved by {size} percentage points on average.")
    adwin = (section.get("detectors") or {}).get("adwin") or {}
    if adwin.get("drifts"):
        out.append(
            f"The error rate shifted during the window (first around {_clock(adwin['first_drift_at'])})."
        )
    return out


_GENERIC_POSITIVE = frozenset({"1", "1.0", "true", "yes", "positive"})


def _moved_bands(section: Mapping[str, Any], features: list[str]) -> list[str]:
    """'Among predictions scored 0.42 to 0.57, the default rate is now 18%, where the reference says 9%.'
    for the (at most two) score bands that moved most, else for the most-changed feature's cell that did.
    """
    cond, target = section.get("conditional", {}), section.get("target")
    label = str(section.get("positive_label") or "")
    named = label.isalpha() and label.lower() not in _GENERIC_POSITIVE  # "default", "churn", not "1"
    what = {"error": "the error rate", "large_error": "the share of large errors"}.get(
        str(target), f"the {label} rate" if named else "the outcome rate"
    )
    moves = list((cond.get("score") or {}).get("moved") or [])[:2]
    feature = next((f for f in features if (cond.get(f) or {}).get("moved")), None)
    if not moves and feature:
        moves = cond[feature]["moved"][:1]
    out = []
    for m in moves:
        band = str(m["score_band"])
        if band == "no score":
            who = "without a score"
        elif target == "large_error":  # regression: the bands are of the predicted value
            who = band if band.startswith("below") else f"of {band}"
        else:
            who = f"scored {band}"
        if "feature_bin" in m:
            who = f"with {_name(str(feature))} {m['feature_bin']} {who}"
        out.append(
            f"Among predictions {who}, {what} is now {pct(m['window_rate'])}, where the reference says "
            f"{pct(m['reference_rate'])}."
        )
    return out


def _clock(iso: Any) -> str:
    """'2026-11-20T14:57:03Z' → '14:57 UTC on 20 Nov' (anything else as it came)."""
    try:
        when = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return f"{when:%H:%M} UTC on {when.day} {when:%b}"


def _drivers(section: Mapping[str, Any]) -> list[str]:
    if section.get("status") != "ok" or not section.get("changed"):
        return []
    ref, win = section.get("reference_ranking", []), section.get("window_ranking", [])
    if ref and win and ref[0] != win[0]:
        return [
            f"What drives the predictions changed: {_name(win[0])} now matters most (it was {_name(ref[0])})."
        ]
    return ["What drives the predictions changed against the reference."]


def _operations(section: Mapping[str, Any]) -> list[str]:
    out = []
    latency = section.get("latency_ms") or {}
    if latency.get("slower"):
        out.append(
            f"Responses slowed: 95% of predictions took under {number(latency['p95'])} ms, against about "
            f"{number(latency['usual_p95'])} ms usually."
        )
    errors = section.get("errors") or {}
    if errors.get("status") == "alert":
        out.append(f"{pct(section['error_rate']).capitalize()} of predictions failed.")
    return out


def narrate(results: Mapping[str, Any]) -> str:
    """A few sentences over a run's results (sections missing or not ok are skipped)."""
    statuses = {s.get("status") for s in results.values() if isinstance(s, Mapping)}
    if statuses and statuses <= {"no_data", "error", "not_applicable"} and "ok" not in statuses:
        first = next(iter(results.values()))
        return str(first.get("reason", "Nothing to report."))
    sentences: list[str] = []
    drift = results.get("data_drift", {})
    if drift.get("status") == "ok":
        sentences += _drift(drift)
    quality = results.get("data_quality", {})
    if quality.get("status") == "ok":
        sentences += _quality(quality)
    sentences += _performance(results)
    sentences += _fairness(results.get("fairness", {}))
    sentences += _concept(results.get("concept_drift", {}))
    sentences += _drivers(results.get("attribution", {}))
    ops = results.get("operations", {})
    if ops.get("status") == "ok":
        sentences += _operations(ops)
    # Sentences may open with a feature name; capitalise their first letter only.
    sentences = [s[:1].upper() + s[1:] for s in sentences]
    return " ".join(sentences) if sentences else "Nothing notable changed in this window."
