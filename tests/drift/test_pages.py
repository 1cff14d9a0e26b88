"""The HTML pages: sign-in, roles, what each page shows, CSV downloads, empty states, and that pages read
analyses and profiles rather than raw predictions."""

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

from drift.models import AnalysisRun, MonitoredModel, RunStatus
from drift.services.registry import model_create, version_create
from tests.drift.pages_support import as_role, forget_events, plain_static_files, seeded

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


def latest_run(model: MonitoredModel) -> AnalysisRun:
    return AnalysisRun.objects.filter(model=model, status=RunStatus.DONE).order_by("-window_start").first()


# --- signing in and roles ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/portfolio.csv", "/models/credit-risk/", "/models/credit-risk/features/income/"]
)
def test_signed_out_visitors_are_sent_to_the_login_page_and_back(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.django_db
def test_the_login_page_signs_a_person_in_and_out(carol: User) -> None:
    client = Client()
    assert "Sign in to Driftwatch" in page(client, "/login/")
    response = client.post("/login/", {"username": "carol", "password": "carol-pass-123", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Portfolio" in page(client, "/")
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message(carol: User) -> None:
    html = Client().post("/login/", {"username": "carol", "password": "nope"}).content.decode()
    assert "did not match" in html


@pytest.mark.django_db
def test_a_person_without_a_role_is_told_what_to_ask_for() -> None:
    client = Client()
    client.force_login(User.objects.create_user("nobody", password="x"))
    html = page(client, "/", 403)
    assert "no Driftwatch role yet" in html


@pytest.mark.django_db
def test_navigation_shows_each_role_only_what_it_may_use(story: MonitoredModel) -> None:
    viewer = page(as_role("viewer"), "/")
    assert "Portfolio" in viewer and "API docs" not in viewer and 'href="/admin/"' not in viewer
    analyst = page(as_role("analyst"), "/")
    assert "API docs" in analyst and 'href="/admin/"' in analyst
    assert 'href="/admin/"' in page(as_role("admin"), "/")


@pytest.mark.django_db
def test_a_viewer_sees_no_action_and_cannot_post_one(story: MonitoredModel) -> None:
    client = as_role("viewer")
    html = page(client, "/models/credit-risk/?view=technical")
    assert "Re-analyse" not in html
    response = client.post("/models/credit-risk/reanalyse/", {"run": latest_run(story).pk})
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_analyst_re_analyses_the_chosen_window(
    story: MonitoredModel, django_capture_on_commit_callbacks: Any, eager_celery: Any
) -> None:
    client = as_role("analyst")
    run = latest_run(story)
    assert "Re-analyse this window" in page(client, f"/models/credit-risk/?run={run.pk}")
    with django_capture_on_commit_callbacks(execute=True):  # the queued run executes (eager Celery)
        response = client.post(
            "/models/credit-risk/reanalyse/", {"run": run.pk, "version": run.version.version}
        )
    assert response.status_code == 302 and f"run={run.pk}" in response["Location"]
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.trigger == "manual"


# --- portfolio --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_portfolio_shows_health_headline_money_serving_and_trend(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), "/")
    assert "Consumer credit risk" in html
    assert 'class="status status-act"' in html  # human review and a critical event → act
    assert "human review" in html and "Inputs changed: decisions go to underwriters" in html
    assert "€" in html and "vs reference rate" in html
    assert latest_run(story).narrative.split(".")[0] in html  # the headline is the narrative's first sentence
    spark = re.search(r'<script id="trend-credit-risk" type="application/json">(.*?)</script>', html, re.S)
    assert spark and json.loads(spark.group(1))["data"][0]["y"]
    assert "How the status is decided" in html


@pytest.mark.django_db
def test_the_portfolio_downloads_as_csv(story: MonitoredModel) -> None:
    response = as_role("viewer").get("/portfolio.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["Model"] == "Consumer credit risk" and rows[0]["Status"] == "act"
    assert rows[0]["Serving mode"] == "human_review" and rows[0]["Currency"] == "EUR"
    assert float(rows[0]["Value of decisions"]) != 0


@pytest.mark.django_db
def test_a_model_without_versions_or_analyses_gets_an_empty_state_that_says_what_to_do(
    story: MonitoredModel, carol: User
) -> None:
    model_create(slug="fresh", name="Fresh model", task="binary_classification", owner="ops")
    client = Client()
    client.force_login(carol)
    assert "No version registered yet" in page(client, "/")
    assert "No version yet" in page(client, "/models/fresh/")
    version_create(
        model=MonitoredModel.objects.get(slug="fresh"),
        version="v1",
        features=[{"name": "x", "type": "numeric"}],
        stage="production",
    )
    assert "Not analysed yet" in page(client, "/models/fresh/")


@pytest.mark.django_db
def test_an_empty_portfolio_says_how_to_start(story: MonitoredModel, carol: User) -> None:
    forget_events(MonitoredModel.objects.all())
    MonitoredModel.objects.all().delete()  # rolled back with the test
    client = Client()
    client.force_login(carol)
    assert "No models yet" in page(client, "/")


# --- the model page ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_executive_view_tells_the_story_without_statistical_jargon(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), "/models/credit-risk/")
    for heading in ("What changed", "Why it matters", "What happens next"):
        assert heading in html
    assert "Share of changed inputs above 30%" in html  # the open event, in the next steps and the table
    assert "Partner channel shifts the applicant mix" in html  # the incident
    assert not JARGON.search(html), JARGON.search(html)
    for name in ("performance", "outcomes"):
        assert figure(html, name)["data"], name
    assert "fig-heatmap" not in html  # few charts: the heatmap is technical


@pytest.mark.django_db
def test_the_header_facts_start_with_no_separator_however_they_wrap(story: MonitoredModel) -> None:
    html = page(as_role("frontline"), "/models/credit-risk/")
    head = re.search(r'<div class="facts-line"><p class="meta">(.*?)</p></div>', html, re.S)
    assert head, "no header facts"
    items = re.findall(r"^\s*(<span.*)$", head.group(1), re.M)
    assert len(items) >= 5  # serving, owner, predictions, report, events, incidents
    for item in items:  # the "·" comes from CSS, clipped at a line's start; the text brings none
        text = re.sub(r"<[^>]+>", "", item).strip()
        assert not text.startswith(("·", "—")), text
    assert "&nbsp;—" in items[0] or "—" not in items[0]  # the reason stays glued to the serving mode


@pytest.mark.django_db
def test_every_executive_window_is_free_of_jargon(story: MonitoredModel) -> None:
    client = as_role("viewer")
    for run in AnalysisRun.objects.filter(model=story, kind="analysis"):
        html = page(client, f"/models/credit-risk/?run={run.pk}")
        assert not JARGON.search(html), (run, JARGON.search(html))


@pytest.mark.django_db
def test_the_technical_view_shows_every_chart_with_events_as_markers(story: MonitoredModel) -> None:
    html = page(as_role("analyst"), "/models/credit-risk/?view=technical")
    for name in (
        "performance",
        "outcomes",
        "heatmap",
        "calibration",
        "quality",
        "latency",
        "volume",
        "queue",
        "confidence",
        "attribution",
        "fairness_0",
    ):
        assert f'id="fig-{name}"' in html, name
    heatmap = figure(html, "heatmap")["data"][0]
    assert heatmap["type"] == "heatmap" and "income" in heatmap["y"] and heatmap["customdata"]
    # an identifier has no drift statistic: no empty row for it, and no chip linking to it
    assert "customer_id" not in heatmap["y"]
    assert 'class="chip" href="/models/credit-risk/features/customer_id/' not in html
    assert 'class="chip" href="/models/credit-risk/features/income/' in html
    assert figure(html, "quality")["layout"]["yaxis"]["tickformat"] in (".0%", ".1%")
    events = [t for t in figure(html, "latency")["data"] if t["name"] == "Events"]
    assert events and "Share of changed inputs above 30%" in events[0]["text"]
    assert "/models/credit-risk/features/income/" in html


@pytest.mark.django_db
def test_the_window_picker_chooses_an_older_window(story: MonitoredModel) -> None:
    older = (
        AnalysisRun.objects.filter(model=story, status=RunStatus.DONE, kind="analysis")
        .order_by("window_start")
        .first()
    )
    html = page(as_role("viewer"), f"/models/credit-risk/?run={older.pk}")
    assert f'<option value="{older.pk}" selected>' in html


@pytest.mark.django_db
def test_unknown_models_windows_and_tables_are_404(story: MonitoredModel) -> None:
    client = as_role("viewer")
    page(client, "/models/nope/", 404)
    page(client, "/models/credit-risk/?run=999999", 404)
    page(client, "/models/credit-risk/?version=v9", 404)
    page(client, "/models/credit-risk/tables/nope.csv", 404)
    page(client, "/models/credit-risk/features/nope/", 404)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "table",
    [
        "outcomes",
        "events",
        "metrics",
        "features",
        "quality",
        "quality_alerts",
        "fairness",
        "operations",
        "attribution",
    ],
)
def test_every_model_table_downloads_as_csv(story: MonitoredModel, table: str) -> None:
    response = as_role("viewer").get(f"/models/credit-risk/tables/{table}.csv?view=technical")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"credit-risk-{table}.csv" in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert len(header) >= 3


@pytest.mark.django_db
def test_the_outcomes_table_turns_counts_into_money(story: MonitoredModel) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(as_role("viewer").get("/models/credit-risk/tables/outcomes.csv").content.decode())
        )
    )
    assert [r["Outcome"] for r in rows] == [
        "Correctly flagged",
        "Flagged in error",
        "Correctly cleared",
        "Missed",
    ]
    for r in rows:
        assert float(r["Total"]) == pytest.approx(float(r["Count"]) * float(r["Value of one"]))


# --- the feature page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_feature_page_shows_distribution_history_quality_and_lineage(story: MonitoredModel) -> None:
    html = page(as_role("viewer"), "/models/credit-risk/features/channel/")
    dist = figure(html, "distribution")
    assert [t["name"] for t in dist["data"]] == ["Reference", "This window"]
    assert "web" in dist["data"][0]["x"]
    assert figure(html, "statistic")["data"][1]["name"] == "Learned threshold"
    assert "Where the window" in html and "loan-origination" in html


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["distribution", "history", "quality", "lineage"])
def test_every_feature_table_downloads_as_csv(story: MonitoredModel, table: str) -> None:
    response = as_role("viewer").get(f"/models/credit-risk/features/income/tables/{table}.csv")
    assert response.status_code == 200
    assert next(csv.reader(io.StringIO(response.content.decode())))


# --- what pages read ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/models/credit-risk/", "/models/credit-risk/?view=technical"])
def test_dashboards_never_read_raw_predictions_and_use_few_queries(story: MonitoredModel, url: str) -> None:
    client = as_role("viewer")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "drift_predictionlog" in s or "drift_outcome" in s]
    assert len(sql) <= 25, len(sql)


@pytest.mark.django_db
def test_the_feature_page_reads_lineage_from_a_bounded_sample_only(story: MonitoredModel) -> None:
    client = as_role("viewer")
    with CaptureQueriesContext(connection) as queries:
        page(client, "/models/credit-risk/features/income/")
    raw = [q["sql"] for q in queries.captured_queries if "drift_predictionlog" in q["sql"]]
    assert len(raw) == 1 and "LIMIT 2000" in raw[0]
