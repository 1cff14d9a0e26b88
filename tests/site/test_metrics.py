"""GET /metrics: Prometheus text format, ingest tallies, analysis durations, deliveries, queue depth."""

import re
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from monitoring_site.metrics import family, histogram
from tests.conftest import make_user, prediction
from tests.faults.services import private_redis

TOKEN = "metrics-token-for-tests-0123456789"
URL = "/api/v1/models/credit-risk/predictions/"
# One sample line: a metric name, optional labels, a number (the exposition format, version 0.0.4).
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+Inf]+$'
)


@pytest.fixture(autouse=True)
def _metrics_settings(settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "METRICS_TOKEN": TOKEN, "METRICS_CACHE_SECONDS": 0}
    settings.CELERY_BROKER_URL = ""


def scrape(client, **extra) -> dict[str, float]:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert answer.status_code == 200, answer.content[:300]
    assert answer["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for line in answer.content.decode().splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        assert SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


@pytest.mark.django_db
def test_it_needs_the_token_or_a_staff_user(client, settings):
    signed_out = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    client.force_login(make_user("bob", "frontline"))
    not_staff = client.get("/metrics")
    staff = make_user("sam", "viewer")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    as_staff = client.get("/metrics")

    assert signed_out.status_code == 401 and signed_out["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert (wrong.status_code, not_staff.status_code, as_staff.status_code) == (403, 403, 200)
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "METRICS_TOKEN": ""}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 200  # staff session
    client.logout()
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
def test_it_counts_ingested_records_by_model_and_outcome(client, api, alice, credit_v1):
    analyst = api(alice)
    analyst.post(URL, {"version": "v1", "records": [prediction(n) for n in range(3)]}, format="json")
    analyst.post(URL, {"version": "v1", "records": [prediction(n) for n in range(2, 5)]}, format="json")
    bad = prediction(9, features={"income": "lots"})
    analyst.post(URL + "?partial=true", {"version": "v1", "records": [bad, prediction(8)]}, format="json")

    m = scrape(client)

    labels = '{{model="credit-risk",kind="predictions",outcome="{}"}}'
    assert m["driftwatch_ingest_records_total" + labels.format("accepted")] == 6
    assert m["driftwatch_ingest_records_total" + labels.format("duplicate")] == 1
    assert m["driftwatch_ingest_records_total" + labels.format("refused")] == 1
    assert m['driftwatch_ingest_batches_total{model="credit-risk",kind="predictions"}'] == 3
    assert m["driftwatch_database_up"] == 1


@pytest.mark.django_db
def test_it_reports_analysis_durations_as_a_histogram(client, credit_v1):
    from drift.models import AnalysisRun

    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours, seconds in ((1, 2.0), (2, 40.0), (3, None)):
        started = start - timedelta(hours=hours)
        AnalysisRun.objects.create(
            model=credit_v1.model,
            version=credit_v1,
            window_start=started - timedelta(hours=1),
            window_end=started,
            status="done" if seconds else "running",
            started_at=started,
            finished_at=started + timedelta(seconds=seconds) if seconds else None,
        )

    m = scrape(client)

    h = "driftwatch_analysis_duration_seconds"
    assert m[f'{h}_bucket{{kind="analysis",le="1"}}'] == 0
    assert m[f'{h}_bucket{{kind="analysis",le="2.5"}}'] == 1
    assert m[f'{h}_bucket{{kind="analysis",le="60"}}'] == 2
    assert m[f'{h}_bucket{{kind="analysis",le="+Inf"}}'] == m[f'{h}_count{{kind="analysis"}}'] == 2
    assert m[f'{h}_sum{{kind="analysis"}}'] == pytest.approx(42.0)
    assert m['driftwatch_analysis_runs{status="running"}'] == 1


@pytest.mark.django_db
def test_it_counts_notification_deliveries_by_status(client, credit_model):
    from governance.models import Delivery, NotificationChannel

    hook = NotificationChannel.objects.create(
        model=credit_model, name="hook", kind="webhook", target="https://example.com/h"
    )
    for n, status in enumerate(["failed", "failed", "sent"]):
        Delivery.objects.create(
            channel=hook, topic=f"t{n}", message={}, status=status, created_at=timezone.now()
        )

    m = scrape(client)

    d = 'driftwatch_notification_deliveries_total{{model="credit-risk",channel="webhook",status="{}"}}'
    assert (m[d.format("failed")], m[d.format("sent")]) == (2, 1)


@pytest.mark.django_db
def test_it_reads_the_queue_depth_from_the_broker(client, settings):
    with private_redis() as broker:
        settings.CELERY_BROKER_URL = broker.url
        import redis

        r = redis.Redis.from_url(broker.url)
        r.rpush("celery", "a", "b", "c")
        r.rpush("celery\x06\x169", "d")
        r.hset("unacked", "tag", "x")

        m = scrape(client)
        broker.stop()
        down = scrape(client)

    assert m['driftwatch_celery_queue_length{queue="celery"}'] == 4
    assert m["driftwatch_celery_unacked"] == 1 and m["driftwatch_broker_up"] == 1
    assert down["driftwatch_broker_up"] == 0 and "driftwatch_celery_unacked" not in down


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_reported_not_fatal(client, monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr("monitoring_site.metrics._ingest_lines", down)

    m = scrape(client)

    assert m["driftwatch_database_up"] == 0


@pytest.mark.django_db
def test_the_answer_is_cached_briefly(client, api, alice, credit_v1, settings):
    settings.DRIFTWATCH = {**settings.DRIFTWATCH, "METRICS_CACHE_SECONDS": 60}
    key = 'driftwatch_ingest_records_total{model="credit-risk",kind="predictions",outcome="accepted"}'
    api(alice).post(URL, {"version": "v1", "records": [prediction(1)]}, format="json")
    assert scrape(client)[key] == 1
    api(alice).post(URL, {"version": "v1", "records": [prediction(2)]}, format="json")
    assert scrape(client)[key] == 1


def test_the_exposition_helpers_escape_labels_and_write_histograms():
    assert family("x_total", "counter", "Things.", [({"a": 'q"\\\n'}, 2)]) == [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{a="q\\"\\\\\\n"} 2',
    ]
    assert histogram("d", "D.", [({}, [1, 3], 4, 12.5)], (1, 5))[2:] == [
        'd_bucket{le="1"} 1',
        'd_bucket{le="5"} 3',
        'd_bucket{le="+Inf"} 4',
        "d_count 4",
        "d_sum 12.5",
    ]


@pytest.mark.django_db
def test_the_scraper_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
