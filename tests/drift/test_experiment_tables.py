"""The experiment page's tables as rendered cells: each value in its own unit on the page, raw in the CSV.
No database."""

from drift.page_tables.experiments import guardrails_table
from drift.templatetags.driftwatch import table_body

RESULTS = {
    "guardrails": [
        {
            "metric": "latency_p95",
            "label": "latency p95",
            "challenger": "v2",
            "control_value": 68.8,
            "challenger_value": 79.1,
            "margin": 0.3,
            "limit": 89.4,
            "status": "pending",
        },
        {
            "metric": "error_rate",
            "label": "serving error rate",
            "challenger": "v2",
            "control_value": 0.00196,
            "challenger_value": 0.0,
            "margin": 0.005,
            "status": "pass",
        },
    ]
}


def test_each_guardrail_shows_its_values_and_margin_in_its_own_unit():
    html = table_body(guardrails_table(RESULTS))

    latency, errors = html.split("\n")
    assert '<td class="num">69 ms</td><td class="num">79 ms</td><td class="num">30%</td>' in latency
    assert '<td class="num">0.2%</td><td class="num">0%</td><td class="num">+0.5 pts</td>' in errors
    assert "0.00196" not in html


def test_the_csv_keeps_the_guardrail_values_raw():
    rows = guardrails_table(RESULTS).values()

    assert [row[3:6] for row in rows] == [[68.8, 79.1, 0.3], [0.00196, 0.0, 0.005]]
