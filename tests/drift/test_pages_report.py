"""The weekly model-health report and the model page's drift-by-segment and concept-drift sections,
through the test client on the seeded demo story."""

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from drift import reports
from drift.models import AnalysisRun, MonitoredModel, RunStatus
from drift.services.registry import model_create, version_create
from tests.drift.pages_support import as_role, plain_static_files, seeded

JARGON = re.compile(r"\bPSI\b|\bKS\b|p-value|wasserstein|jensen", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    plain_static_files(settings)


@pytest.fixture(scope="module")
def story(django_db_setup: Any, django_db_blocker: Any) -> Iterator[MonitoredModel]:
    yield from seeded(django_db_blocker)


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def figure(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script id="fig-{name}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no figure {name}"
    return json.loads(found.group(1))


def story_week(model: MonitoredModel) -> str:
    """The ISO week of the story's latest analysed window (the story moves with the clock)."""
    run = AnalysisRun.objects.filter(model=model, status=RunStatus.DONE).order_by("-window_start").first()
    return reports.week_of(run.window_start).label


# --- the weekly report ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_page_links_to_its_weekly_report(story: MonitoredModel) -> None:
    assert 'href="/models/credit-risk/report/"' in page(as_role("viewer"), "/models/credit-risk/")


@pytest.mark.django_db
def test_the_weekly_report_tells_the_week_in_figures_sentences_and_charts(story: MonitoredModel) -> None:
    week = story_week(story)
    html = page(as_role("viewer"), f"/models/credit-risk/report/?week={week}")
    for heading in ("The week in figures", "What changed", "Why it matters", "What happened"):
        assert heading in html, heading
    for fact in ("Predictions", "Value of the decisions", "Events opened / closed", "Serving-mode changes"):
        assert fact in html, fact
    assert "€" in html  # business impact in money
    assert "Share of changed inputs above 30%" in html  # the story's event, opened this week
    for name in ("performance", "value", "heatmap", "volume"):
        assert figure(html, name)["data"], name
    assert "css/report.css" in html and "js/report.js" in html  # the print stylesheet and A4-sized charts
    assert not JARGON.search(html), JARGON.search(html)
    assert f"?week={week}" in html  # CSV links keep the week


@pytest.mark.django_db
def test_the_report_heatmap_speaks_to_executives(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), f"/models/credit-risk/report/?week={story_week(story)}")
    heatmap = figure(html, "heatmap")["data"][0]
    assert "÷" not in heatmap["colorbar"]["title"]["text"] and "alarm" in heatmap["colorbar"]["title"]["text"]
    assert all("_" not in row for row in heatmap["y"])  # "credit history months", not code names
    assert "customer id" not in heatmap["y"]  # an identifier is never compared: no empty row


@pytest.mark.django_db
def test_the_report_audit_names_policies_and_says_why_in_words(story: MonitoredModel) -> None:
    from governance.models import AuditEntry, Policy

    policy = Policy.objects.filter(model=story).first()
    assert policy is not None
    run = AnalysisRun.objects.filter(model=story, status=RunStatus.DONE).order_by("-window_start").first()
    AuditEntry.objects.create(
        model=story,
        actor=f"policy:{policy.pk}",
        action="serving_mode.change",
        object_type="model",
        object_id=str(story.pk),
        reason=f"{policy.name} v1: data_drift.share_drifted = 0.7857 (threshold 0.2)",
        at=run.window_start,
    )
    html = page(as_role("viewer"), f"/models/credit-risk/report/?week={story_week(story)}")
    actions = html[html.index('id="table-actions"') :]
    assert f"policy &#x27;{policy.name}&#x27;" in actions and f"policy:{policy.pk}" not in actions
    assert "data_drift.share_drifted" not in actions and "0.7857" not in actions
    assert "(79%) changed against the reference data; the policy allows up to 20%" in actions


@pytest.mark.django_db
def test_the_weekly_report_defaults_to_the_last_complete_week(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), "/models/credit-risk/report/")
    assert "model health, week " in html
    assert 'name="week"' in html and "data-print" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("week", "says"),
    [
        ("2026-47", "Week must look like 2026-W07"),
        ("2026-W60", "2026 has no ISO week 60"),
        ("2999-W01", "has not started yet"),
        ("<script>", "Week must look like"),
    ],
)
def test_a_bad_week_answers_400_with_what_is_wrong(story: MonitoredModel, week: str, says: str) -> None:
    response = as_role("viewer").get("/models/credit-risk/report/", {"week": week})
    html = response.content.decode()
    assert response.status_code == 400 and says in html
    assert "Show the last complete week" in html and "'<script>'" not in html  # escaped
    csv_answer = as_role("viewer").get("/models/credit-risk/report/tables/windows.csv", {"week": week})
    assert csv_answer.status_code == 400


@pytest.mark.django_db
def test_a_week_without_analyses_and_a_model_without_data_get_empty_states(
    story: MonitoredModel, carol: User
) -> None:
    client = Client()
    client.force_login(carol)
    html = page(client, "/models/credit-risk/report/?week=2020-W10")
    assert "No analysed window in this week" in html and "fig-performance" not in html
    model_create(slug="fresh", name="Fresh model", task="binary_classification", owner="ops")
    assert "No version yet" in page(client, "/models/fresh/report/")
    version_create(
        model=MonitoredModel.objects.get(slug="fresh"),
        version="v1",
        features=[{"name": "x", "type": "numeric"}],
        stage="production",
    )
    assert "No analysed window in this week" in page(client, "/models/fresh/report/")
    page(client, "/models/nope/report/", 404)
    page(client, "/models/credit-risk/report/?version=v9", 404)


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["windows", "governance", "actions"])
def test_every_report_table_downloads_as_csv(story: MonitoredModel, table: str) -> None:
    week = story_week(story)
    response = as_role("viewer").get(f"/models/credit-risk/report/tables/{table}.csv?week={week}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"credit-risk-{week.lower()}-{table}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows[0]) >= 3
    if table == "windows":
        assert len(rows) > 1


@pytest.mark.django_db
def test_the_weekly_report_reads_no_raw_predictions(story: MonitoredModel) -> None:
    client = as_role("viewer")
    url = f"/models/credit-risk/report/?week={story_week(story)}"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "drift_predictionlog" in s or "drift_outcome" in s]
    assert len(sql) <= 30, len(sql)


# --- drift by segment and concept drift on the model page -------------------------------------------


@pytest.mark.django_db
def test_the_technical_view_shows_drift_by_segment_and_concept_drift(story: MonitoredModel) -> None:
    html = page(as_role("analyst"), "/models/credit-risk/?view=technical")
    assert 'href="#segments"' in html and 'href="#concept"' in html
    assert "Drift by segment" in html and "Concept drift" in html
    segments = figure(html, "segments")
    # The story's windows are small: the segments are either charted or the chart says why not.
    assert segments["data"] or segments["layout"]["annotations"][0]["text"]
    mix = figure(html, "segment_mix")
    assert [t["name"] for t in mix["data"]] == ["Reference", "This window"]
    assert any("customer segment" in label for label in mix["data"][0]["x"])
    concept = figure(html, "concept")
    names = [t["name"] for t in concept["data"]]
    assert "Error rate" in names and "Reference error rate" in names
    # The story's windows are small: the outcome change at the same score is drawn, with its threshold,
    # or the chart says when it will be.
    if "Outcome change at the same score" in names:
        assert "Threshold" in names
    else:
        assert "once score bands have enough outcomes" in concept["layout"]["annotations"][0]["text"]


@pytest.mark.django_db
def test_the_executive_story_names_the_segment_that_moved(story: MonitoredModel) -> None:
    from drift.models import FeatureResult

    shifted = (
        FeatureResult.objects.filter(run__model=story, run__status=RunStatus.DONE, drifted=True)
        .order_by("-run__window_start")
        .values_list("run_id", flat=True)
        .first()
    )
    html = page(as_role("viewer"), f"/models/credit-risk/?run={shifted}")
    changed = re.search(r"<h2>What changed</h2>\s*<p>(.*?)</p>", html, re.S).group(1)
    assert "customer segment" in changed.lower(), changed
    assert not JARGON.search(changed)


@pytest.mark.django_db
def test_the_executive_view_keeps_segment_and_concept_charts_out(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), "/models/credit-risk/")
    assert "fig-segments" not in html and "fig-concept" not in html
    assert not JARGON.search(html)


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["segments", "concept"])
def test_the_segment_and_concept_tables_download_as_csv(story: MonitoredModel, table: str) -> None:
    response = as_role("viewer").get(f"/models/credit-risk/tables/{table}.csv?view=technical")
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert len(header) >= 5


# --- the model page's caches ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_body_is_built_once_per_state_and_again_when_the_state_changes(
    story: MonitoredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drift.views import model as views

    built: list[bool] = []
    real = views._body
    monkeypatch.setattr(views, "_body", lambda *a, **k: built.append(True) or real(*a, **k))
    viewer = as_role("viewer")
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')  # masked anew on every response
    first = token.sub("", page(viewer, "/models/credit-risk/?view=technical"))
    assert token.sub("", page(viewer, "/models/credit-risk/?view=technical")) == first and len(built) == 1
    page(as_role("analyst"), "/models/credit-risk/?view=technical")  # an analyst's wording differs
    assert len(built) == 2
    from governance.models import DriftEvent

    run = AnalysisRun.objects.filter(model=story, status=RunStatus.DONE).order_by("-window_start").first()
    DriftEvent.objects.create(
        model=story,
        signal="performance.accuracy",
        severity="warning",
        title="A new event the page must show",
        detected_at=run.window_start,
        last_seen_at=run.window_start,
    )
    assert "A new event the page must show" in page(viewer, "/models/credit-risk/?view=technical")
    assert len(built) == 3


@pytest.mark.django_db
def test_a_re_analysed_window_is_read_again_not_from_the_cache(story: MonitoredModel) -> None:
    from django.utils import timezone

    from drift.models import AnalysisResult

    viewer = as_role("viewer")
    result = AnalysisResult.objects.filter(run__model=story, section="performance", status="ok").first()
    url = f"/models/credit-risk/tables/metrics.csv?run={result.run_id}"

    def measured() -> int:
        rows = csv.DictReader(io.StringIO(viewer.get(url).content.decode()))
        return sum(r["Measured or estimated"] == "measured" for r in rows)

    assert measured() > 0
    before = page(viewer, f"/models/credit-risk/?run={result.run_id}&view=technical")  # cached now
    assert "<td>measured</td>" in before
    # What a re-run does: new results, stored with a new finish time (drift.services.analyses._store).
    result.data = {"status": "no_data", "reason": "Re-analysed: no labels any more."}
    result.status = "no_data"
    result.save()
    AnalysisRun.objects.filter(pk=result.run_id).update(finished_at=timezone.now())
    assert measured() == 0
    after = page(viewer, f"/models/credit-risk/?run={result.run_id}&view=technical")
    assert "<td>measured</td>" not in after


@pytest.mark.django_db
def test_a_failing_cache_costs_speed_not_the_page(
    story: MonitoredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import cache

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "set", "set_many"):
        monkeypatch.setattr(cache, name, broken)
    html = page(as_role("viewer"), "/models/credit-risk/?view=technical")
    assert figure(html, "heatmap")["data"] and "What changed" in html
