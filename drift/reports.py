"""The weekly model-health report: ISO weeks, a week's roll-up of run summaries, and its sentences. Pure.

A week is an ISO week (Monday 00:00 UTC to the next Monday), named ``YYYY-Www``. The report's
figures add up the week's windows: predictions, labelled outcomes, the headline metric weighted by
the rows behind each window (realised from labels, or estimated before they arrive), the value of the
decisions in money, the features that changed and in how many windows. The sentences say it in plain
words: no statistical jargon, the same rule as the executive view.

Example:
    >>> from datetime import UTC, datetime
    >>> week = parse_week("2026-W47")
    >>> week.start.isoformat(), week.end.isoformat(), week.label
    ('2026-11-16T00:00:00+00:00', '2026-11-23T00:00:00+00:00', '2026-W47')
    >>> last_complete_week(datetime(2026, 11, 26, 10, tzinfo=UTC)).label
    '2026-W47'
    >>> series = [{"rows": 100, "performance": {"status": "ok", "labelled": 80, "metrics": {
    ...     "accuracy": {"value": 0.8, "reference": 0.9}}}},
    ...           {"rows": 300, "estimated_performance": {"status": "ok", "metrics": {
    ...     "accuracy": {"value": 0.85, "reference": 0.9}}}}]
    >>> p = performance_rollup(series, "accuracy")
    >>> p["realised"]["value"], p["realised"]["labelled"], p["estimated"]["value"], p["reference"]
    (0.8, 80, 0.85, 0.9)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from drift.briefing import MIN_LABELLED, MODE_WORDS, Impact, primary_metric
from drift.formatting import count, money, percent

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.number, 1), datetime.min.time(), UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the next Monday, 00:00 UTC."""
        return self.start + timedelta(days=7)

    def shifted(self, weeks: int) -> Week:
        y, w, _ = (self.start + timedelta(weeks=weeks)).isocalendar()
        return Week(y, w)

    @property
    def title(self) -> str:
        last = self.end - timedelta(days=1)
        return f"week {self.number} of {self.year} ({self.start:%d %b} to {last:%d %b %Y})"


def week_of(moment: datetime) -> Week:
    y, w, _ = moment.astimezone(UTC).isocalendar()
    return Week(y, w)


def last_complete_week(now: datetime) -> Week:
    return week_of(now).shifted(-1)


def parse_week(value: str | None, now: datetime | None = None) -> Week:
    """`YYYY-Www` (ISO week), or the last complete week when empty. ValueError says what is wrong."""
    now = now or datetime.now(UTC)
    if not value:
        return last_complete_week(now)
    found = WEEK.match(value.strip())
    if not found:
        raise ValueError(f"week must look like 2026-W07 (an ISO year and week number), not '{value[:20]}'")
    year, number = int(found.group(1)), int(found.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no ISO week {number}") from None
    week = Week(year, number)
    if week.start > now:
        raise ValueError(f"week {week.label} has not started yet")
    return week


# --- figures -------------------------------------------------------------------------------------------


def _weighted(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def performance_rollup(series: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any]:
    """The week's headline metric: realised (weighted by labelled outcomes, windows with at least
    `MIN_LABELLED`), estimated (weighted by predictions), and the reference value."""
    realised, estimated, reference = [], [], None
    labelled = 0
    for s in series:
        perf = s.get("performance") or {}
        m = (perf.get("metrics") or {}).get(key) or {}
        n = int(perf.get("labelled") or 0)
        if perf.get("status") == "ok" and m.get("value") is not None and n >= MIN_LABELLED:
            realised.append((float(m["value"]), float(n)))
            labelled += n
            reference = m.get("reference", reference)
        est = s.get("estimated_performance") or {}
        e = (est.get("metrics") or {}).get(key) or {}
        if est.get("status") == "ok" and e.get("value") is not None and s.get("rows"):
            estimated.append((float(e["value"]), float(s["rows"])))
            reference = reference if reference is not None else e.get("reference")
    return {
        "realised": {"value": _weighted(realised), "labelled": labelled, "windows": len(realised)},
        "estimated": {"value": _weighted(estimated), "windows": len(estimated)},
        "reference": reference,
    }


def drifted_features(cells: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(feature, windows it changed in), most often first: from the heatmap cells of the week."""
    counts: dict[str, int] = {}
    for c in cells:
        if c.get("drifted"):
            counts[str(c["feature"])] = counts.get(str(c["feature"]), 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _words(name: Any) -> str:
    return str(name).replace("_", " ")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def segment_findings(section: Mapping[str, Any] | None) -> list[str]:
    """Where the window's change sits, in sentences: the segment it concentrates in (with the features
    that concentrate there), and any segment whose share of requests moved."""
    if not section or section.get("status") != "ok":
        return []
    where: dict[tuple[str, str], dict[str, Any]] = {}
    moved: dict[str, Mapping[str, Any]] = {}
    for entry in section.get("features") or []:
        for seg in entry.get("segments") or [] if entry.get("drifted") else []:
            value = seg.get("concentrated_in")
            if value:
                top = next((s for s in seg.get("segments") or [] if s.get("value") == value), {})
                slot = where.setdefault((seg["by"], value), {"features": [], "share": top.get("share")})
                slot["features"].append(_words(entry["feature"]))
            mix = seg.get("mix") or {}
            if mix.get("moved") and seg["by"] not in moved:
                moved[seg["by"]] = mix
    out = []
    for (by, value), found in sorted(where.items(), key=lambda kv: -len(kv[1]["features"])):
        share = f" ({percent(found['share'])} of requests)" if found.get("share") is not None else ""
        out.append(
            f"The change concentrates in {_words(by)} = {value}{share}, for {_join(found['features'][:3])}."
        )
    for by, mix in moved.items():
        ref, cur = mix.get("reference_share"), mix.get("current_share")
        verb = "rose" if (cur or 0) > (ref or 0) else "fell"
        out.append(
            f"The share of {_words(by)} '{mix.get('value')}' {verb} from {percent(ref)} to {percent(cur)} "
            "of requests."
        )
    return out


# --- the story -----------------------------------------------------------------------------------------


def what_changed(
    *,
    windows: int,
    drifted: Sequence[tuple[str, int]],
    segments: Sequence[str],
    concept_windows: int,
    quality_windows: int,
) -> str:
    if not windows:
        return "No window of this week was analysed."
    out = []
    if drifted:
        names = [f"{_words(f)} ({n} of {windows} windows)" for f, n in drifted[:4]]
        if len(drifted) > 4:
            names.append(f"{len(drifted) - 4} more")
        out.append(f"Inputs changed against the reference: {_join(names)}.")
        out += list(segments[:2])
    else:
        out.append(f"No input changed materially against the reference in the {windows} analysed windows.")
    if concept_windows:
        out.append(
            f"In {concept_windows} window{'s' if concept_windows > 1 else ''}, outcomes no longer followed "
            "the model's scores as they did on the reference."
        )
    if quality_windows:
        out.append(
            f"Data-quality checks alerted in {quality_windows} window{'s' if quality_windows > 1 else ''}."
        )
    return " ".join(out)


def why_it_matters(
    *, perf: Mapping[str, Any], task: str, impact: Impact | None, rows: int, kpi: str = ""
) -> str:
    _, name, higher = primary_metric(task)
    show = percent if higher else (lambda v: f"{v:,.3g}")
    out = []
    realised, estimated, ref = perf["realised"], perf["estimated"], perf.get("reference")
    against = f" against {show(ref)} on the reference" if ref is not None else ""
    if realised["value"] is not None:
        out.append(
            f"{name} was {show(realised['value'])}{against}, measured on {count(realised['labelled'])} "
            "labelled predictions."
        )
    elif estimated["value"] is not None:
        out.append(
            f"Before outcomes arrive, {name.lower()} is estimated at {show(estimated['value'])}{against}."
        )
    elif rows:
        out.append(f"{name} is not known yet for this week: no outcomes and no estimate.")
    if impact is not None:
        text = f"The model's {count(impact.rows)} decisions were worth {money(impact.total, impact.currency)}"
        diff = impact.difference
        if diff is not None and abs(diff) >= 0.005 * max(abs(impact.total), 1.0):
            side = "more" if diff > 0 else "less"
            text += f", {money(abs(diff), impact.currency)} {side} than the reference's rate would have given"
        out.append(f"{text} ({impact.basis}).")
    elif rows:
        out.append("Business impact is not known: set the value of each outcome on the model.")
    if kpi:
        out.append(f"The model serves this goal: {kpi}")
    return " ".join(out)


def what_happened(
    *,
    events_opened: Sequence[Mapping[str, Any]],
    events_closed: Sequence[Mapping[str, Any]],
    incidents_opened: Sequence[Mapping[str, Any]],
    incidents_resolved: Sequence[Mapping[str, Any]],
    mode_changes: Sequence[Mapping[str, Any]],
    actions: int,
    serving_mode: str,
) -> str:
    out = []
    if events_opened or events_closed:
        out.append(
            f"{len(events_opened)} event{'s' if len(events_opened) != 1 else ''} opened and "
            f"{len(events_closed)} closed."
        )
    if incidents_opened or incidents_resolved:
        out.append(
            f"{len(incidents_opened)} incident{'s' if len(incidents_opened) != 1 else ''} opened and "
            f"{len(incidents_resolved)} resolved."
        )
    for change in mode_changes[:3]:
        to = MODE_WORDS.get(str(change.get("to")), str(change.get("to")))
        actor = str(change.get("actor") or "")
        # A policy's recorded reason quotes its rule; the actions table keeps it, the sentence says who.
        who = " (by a monitoring policy)" if actor.startswith("policy") else f" (by {actor})" if actor else ""
        out.append(f"Serving changed on {change['at']:%d %b}: {to}{who}.")
    if actions:
        out.append(f"{actions} action{'s' if actions != 1 else ''} recorded in the audit trail.")
    if not out:
        out.append("No events, incidents or actions this week.")
    if serving_mode != "normal":
        out.append(f"Now: the model is {MODE_WORDS.get(serving_mode, serving_mode)}.")
    return " ".join(out)
