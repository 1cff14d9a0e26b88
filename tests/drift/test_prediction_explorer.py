"""The prediction explorer: filters, keyset pages, drill-down, PII never shown, frontline and up only."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from drift.decisions import low_confidence_band
from drift.models import MonitoredModel, PredictionLog
from drift.page_selectors.predictions import model_threshold
from tests.drift.pages_support import as_role, plain_static_files, seeded

URL = "/models/credit-risk/predictions/"
WIDE = "start=2000-01-01&end=2100-01-01"


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    plain_static_files(settings)


@pytest.fixture(scope="module")
def story(django_db_setup: Any, django_db_blocker: Any) -> Iterator[MonitoredModel]:
    yield from seeded(django_db_blocker, governance=False)


def record_ids(html: str) -> list[str]:
    return re.findall(r'href="/models/credit-risk/predictions/([^"/]+)/"', html)


def get(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


@pytest.mark.django_db
def test_viewers_cannot_explore_predictions(story: MonitoredModel) -> None:
    get(as_role("viewer"), URL, 403)
    assert "Explore predictions" not in get(as_role("viewer"), "/models/credit-risk/")
    assert "Explore predictions" in get(as_role("frontline"), "/models/credit-risk/")


@pytest.mark.django_db
def test_pages_follow_each_other_newest_first_without_overlap(story: MonitoredModel) -> None:
    client = as_role("frontline")
    first = get(client, f"{URL}?{WIDE}")
    ids = record_ids(first)
    assert len(ids) == 50
    older = re.search(r'href="\?([^"]*cursor=[^"]*)">Older', first)
    assert older
    second = record_ids(get(client, f"{URL}?{older.group(1).replace('&amp;', '&')}"))
    assert second and not set(ids) & set(second)
    newest = list(
        PredictionLog.objects.filter(model=story)
        .order_by("-timestamp", "-id")
        .values_list("record_id", flat=True)[:100]
    )
    assert ids + second == newest[: len(ids) + len(second)]


@pytest.mark.django_db
def test_filters_narrow_the_rows(story: MonitoredModel) -> None:
    client = as_role("frontline")
    html = get(client, f"{URL}?{WIDE}&segment=customer_segment%3Dnew&low=1")
    ids = record_ids(html)
    assert ids
    # Low confidence = near the model's own decision threshold (from its outcome values), not near 50 %.
    low, high = low_confidence_band(model_threshold(story))
    assert low_confidence_band(0.5) != (low, high)
    for row in PredictionLog.objects.filter(model=story, record_id__in=ids):
        assert row.features["customer_segment"] == "new" and low < row.score < high
    threshold = f"{model_threshold(story):.0%}"
    assert f"around the {threshold} decision threshold" in html and "of 50%" not in html
    pending = record_ids(get(client, f"{URL}?{WIDE}&outcome=unlabelled"))
    assert pending and not PredictionLog.objects.filter(record_id__in=pending, outcome__isnull=False).exists()
    defaulted = record_ids(get(client, f"{URL}?{WIDE}&outcome=label:1"))
    assert defaulted and all(
        str(r.outcome.label) == "1" for r in PredictionLog.objects.filter(record_id__in=defaulted)
    )


@pytest.mark.django_db
def test_bad_filters_are_explained_not_fatal(story: MonitoredModel) -> None:
    client = as_role("frontline")
    html = get(client, f"{URL}?start=yesterday&segment=income%3D5")
    assert "not a date or time" in html and "cannot be filtered on" in html
    get(client, f"{URL}?version=v9", 404)
    assert "No predictions match" in get(client, f"{URL}?start=2000-01-01&end=2000-01-02")


@pytest.mark.django_db
def test_a_prediction_shows_lineage_and_outcome_but_never_a_hashed_value(story: MonitoredModel) -> None:
    row = PredictionLog.objects.filter(model=story, outcome__isnull=False).select_related("outcome").first()
    html = get(as_role("frontline"), f"{URL}{row.record_id}/")
    assert row.features["customer_id"] not in html  # stored as a keyed hash: not shown either
    assert "hashed (not shown)" in html
    assert "pipeline version" in html and str(row.lineage["pipeline_version"]) in html
    assert "not known yet" not in html
    get(as_role("frontline"), f"{URL}no-such-record/", 404)


@pytest.mark.django_db
def test_a_prediction_shows_its_values_as_people_read_them(story: MonitoredModel) -> None:
    row = PredictionLog.objects.filter(model=story, features__has_mortgage=True).first()
    assert row is not None

    html = get(as_role("frontline"), f"{URL}{row.record_id}/")

    # Exact values, with thousands separators and yes/no, not Python's 24400 and True.
    income = row.features["income"]
    assert f"<td>income</td><td>{round(income):,}</td>" in html and "<td>yes</td>" in html
    assert "<td>True</td>" not in html and "<td>False</td>" not in html
