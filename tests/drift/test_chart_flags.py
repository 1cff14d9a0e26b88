"""Frontline flags on the time charts: pure figure code, checked without a database."""

import doctest
import json

from drift.charts import annotations, pages
from drift.charts.base import empty_figure

W = ["2026-11-18T00:00:00+00:00", "2026-11-19T00:00:00+00:00"]
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> & <b>bold</b>'
FLAGS = [
    {"id": 1, "target": "time_range", "at": "2026-11-19T03:00:00+00:00", "start": "2026-11-19T00:00:00+00:00",
     "end": "2026-11-19T06:00:00+00:00", "category": "Data problem", "status": "open", "by": "bob",
     "what": "2026-11-19 00:00 to 2026-11-19 06:00 UTC", "note": HOSTILE},
    {"id": 2, "target": "segment", "at": W[1], "category": "Edge case", "status": "accepted", "by": "<bob>",
     "what": "Segment region = <north>", "note": "x" * 1000},
]  # fmt: skip


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(annotations).failed == 0


def test_notes_and_names_are_escaped_and_only_line_breaks_stay_markup() -> None:
    text = annotations.hover_text(FLAGS[0])
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "&amp;" in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert text.replace("<br>", "").count("<") == 0  # nothing but the line breaks we add is markup
    other = annotations.hover_text(FLAGS[1])
    assert "&lt;bob&gt;" in other and "&lt;north&gt;" in other
    assert len(other) < 500 and other.endswith("…")  # the hover keeps a long note short


def test_a_time_range_is_a_band_and_every_flag_a_star_on_a_fixed_overlay_axis() -> None:
    fig = {"data": [{"type": "scatter", "x": W, "y": [0.9, 0.8]}], "layout": {}}
    fig = annotations.annotation_markers(fig, FLAGS)

    stars = fig["data"][-1]
    assert stars["name"] == "Flags" and stars["x"] == [FLAGS[0]["at"], W[1]] and stars["customdata"] == [1, 2]
    assert stars["yaxis"] == "y9" and fig["layout"]["yaxis9"]["range"] == [0, 1]
    bands = fig["layout"]["shapes"]
    assert len(bands) == 1 and (bands[0]["x0"], bands[0]["x1"]) == (FLAGS[0]["start"], FLAGS[0]["end"])
    json.dumps(fig, allow_nan=False)


def test_no_flags_leaves_the_figure_alone() -> None:
    fig = {"data": [{"type": "scatter", "x": W, "y": [1, 2]}], "layout": {}}
    assert annotations.annotation_markers(fig, []) == {
        "data": [{"type": "scatter", "x": W, "y": [1, 2]}],
        "layout": {},
    }


def test_flags_go_on_time_charts_only_and_never_on_an_empty_one() -> None:
    figs = {
        "latency": {"data": [{"type": "scatter", "x": W, "y": [1, 2]}], "layout": {}},
        "outcomes": {"data": [{"type": "bar", "x": ["tp"], "y": [1]}], "layout": {}},
        "quality": empty_figure("No checks yet."),
    }
    pages.with_flags(figs, FLAGS)
    assert figs["latency"]["data"][-1]["name"] == "Flags"
    assert all(t.get("name") != "Flags" for t in figs["outcomes"]["data"] + figs["quality"]["data"])
