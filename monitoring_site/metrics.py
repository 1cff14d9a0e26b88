"""`GET /metrics`: Driftwatch's own health in the Prometheus text format (version 0.0.4).

Everything is read from tables Driftwatch keeps anyway, with a few grouped aggregates, and from the
broker's queue lengths; nothing is counted in process memory, so the figures are the same whichever web
process answers and survive restarts. The answer is cached for `METRICS_CACHE_SECONDS`.

| metric | type | labels |
|---|---|---|
| driftwatch_ingest_records_total | counter | model, kind, outcome (accepted, duplicate, refused, …) |
| driftwatch_ingest_batches_total | counter | model, kind (predictions, outcomes, reference) |
| driftwatch_analysis_duration_seconds | histogram | kind: runs that started and finished |
| driftwatch_analysis_runs | gauge | status |
| driftwatch_notification_deliveries_total | counter | model, channel, status (pending, sent, failed) |
| driftwatch_celery_queue_length | gauge | queue: messages waiting in the broker |
| driftwatch_celery_unacked | gauge | messages taken by workers and not yet acknowledged |
| driftwatch_broker_up, driftwatch_database_up | gauge | 1 when it answered |

Access: `Authorization: Bearer <DRIFTWATCH_METRICS_TOKEN>` (for Prometheus), or a signed-in staff user.
Without a configured token only staff can read it. The path is exempt from the HTTPS redirect, like the
probes, because scrapers reach the web process directly inside the network.
"""

import hmac
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CACHE_KEY = "dw:metrics:v1"
# Upper bounds (seconds) of the analysis-duration histogram: a window analysis takes seconds to minutes.
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
# Celery's Redis transport keeps one list per priority step; messages without priority use the first.
PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)

Sample = tuple[Mapping[str, str], float]


# --- exposition format (pure) ----------------------------------------------------------------------


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def family(name: str, kind: str, help_text: str, samples: Iterable[Sample], suffix: str = "") -> list[str]:
    """Lines of one metric family: HELP, TYPE, then one line per sample (labels in the given order).

    >>> family("x_total", "counter", "Things.", [({"a": 'b"c'}, 2)])
    ['# HELP x_total Things.', '# TYPE x_total counter', 'x_total{a="b\\\\"c"} 2']
    """
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lines.append(_sample(name + suffix, labels, value))
    return lines


def _sample(name: str, labels: Mapping[str, str], value: float) -> str:
    if labels:
        inner = ",".join(f'{key}="{escape_label(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {format_value(value)}"
    return f"{name} {format_value(value)}"


def histogram(
    name: str,
    help_text: str,
    series: Sequence[tuple[Mapping[str, str], Sequence[int], int, float]],
    buckets: Sequence[float],
) -> list[str]:
    """A histogram family from (labels, cumulative counts per bucket, count, sum) per series."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for labels, cumulative, count, total in series:
        for bound, n in zip(buckets, cumulative, strict=True):
            lines.append(_sample(f"{name}_bucket", {**labels, "le": format_value(bound)}, n))
        lines.append(_sample(f"{name}_bucket", {**labels, "le": "+Inf"}, count))
        lines.append(_sample(f"{name}_count", labels, count))
        lines.append(_sample(f"{name}_sum", labels, total))
    return lines


# --- collection ------------------------------------------------------------------------------------


def _ingest_lines() -> list[str]:
    from drift.models import IngestionBatch

    rows = (
        IngestionBatch.objects.values("model__slug", "kind")
        .annotate(
            batches=Count("id"),
            accepted=Sum("accepted"),
            duplicate=Sum("duplicates"),
            refused=Sum("rejected"),
            flagged=Sum("flagged"),
            late=Sum("late"),
        )
        .order_by("model__slug", "kind")
    )
    records: list[Sample] = []
    batches: list[Sample] = []
    for row in rows:
        base = {"model": row["model__slug"], "kind": row["kind"]}
        batches.append((base, row["batches"]))
        for outcome in ("accepted", "duplicate", "refused", "flagged", "late"):
            records.append(({**base, "outcome": outcome}, row[outcome] or 0))
    return family(
        "driftwatch_ingest_records_total",
        "counter",
        "Records received by the ingestion API (flagged and late records are also accepted).",
        records,
    ) + family(
        "driftwatch_ingest_batches_total", "counter", "Ingestion requests, refused ones included.", batches
    )


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1e6  # SQLite hands durations back in microseconds


def _analysis_lines() -> list[str]:
    from drift.models import AnalysisRun

    timed = AnalysisRun.objects.filter(started_at__isnull=False, finished_at__isnull=False).annotate(
        duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    )
    aggregates = {
        f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
        for i, bound in enumerate(DURATION_BUCKETS)
    }
    series = []
    for row in (
        timed.values("kind").annotate(n=Count("id"), total=Sum("duration"), **aggregates).order_by("kind")
    ):
        cumulative = [row[f"le_{i}"] for i in range(len(DURATION_BUCKETS))]
        series.append(({"kind": row["kind"]}, cumulative, row["n"], _seconds(row["total"])))
    statuses = AnalysisRun.objects.values("status").annotate(n=Count("id")).order_by("status")
    return histogram(
        "driftwatch_analysis_duration_seconds",
        "Time from a worker claiming an analysis run to its results being stored.",
        series,
        DURATION_BUCKETS,
    ) + family(
        "driftwatch_analysis_runs",
        "gauge",
        "Analysis runs by status (pending and running ones are waiting for or using a worker).",
        [({"status": row["status"]}, row["n"]) for row in statuses],
    )


def _delivery_lines() -> list[str]:
    from governance.models import Delivery

    rows = (
        Delivery.objects.values("channel__model__slug", "channel__kind", "status")
        .annotate(n=Count("id"))
        .order_by("channel__model__slug", "channel__kind", "status")
    )
    return family(
        "driftwatch_notification_deliveries_total",
        "counter",
        "Notification deliveries by status; failed ones gave up after their retries.",
        [
            (
                {"model": r["channel__model__slug"], "channel": r["channel__kind"], "status": r["status"]},
                r["n"],
            )
            for r in rows
        ],
    )


def _broker_lines() -> list[str]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return []  # embedded mode (tasks run in-process) or a broker we cannot ask
    import redis

    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            pipe = client.pipeline(transaction=False)
            pipe.llen(queue)
            for step in PRIORITY_STEPS:
                pipe.llen(f"{queue}{PRIORITY_SEP}{step}")
            pipe.hlen("unacked")
            *lengths, unacked = pipe.execute()
        finally:
            client.close()
    except redis.RedisError as exc:
        log.warning("metrics: the broker does not answer (%s)", type(exc).__name__)
        return family("driftwatch_broker_up", "gauge", "1 when the broker answered.", [({}, 0)])
    return (
        family("driftwatch_broker_up", "gauge", "1 when the broker answered.", [({}, 1)])
        + family(
            "driftwatch_celery_queue_length",
            "gauge",
            "Task messages waiting in the broker for a worker.",
            [({"queue": queue}, sum(lengths))],
        )
        + family(
            "driftwatch_celery_unacked",
            "gauge",
            "Task messages taken by workers and not acknowledged yet (running or reserved).",
            [({}, unacked)],
        )
    )


def collect() -> str:
    """The whole exposition text."""
    from monitoring_site.db_errors import is_database_unavailable

    started = time.perf_counter()
    lines: list[str] = []
    try:
        lines += _ingest_lines() + _analysis_lines() + _delivery_lines()
        database_up = 1
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        log.warning("metrics: the database does not answer (%s)", type(exc).__name__)
        database_up = 0
    lines += family("driftwatch_database_up", "gauge", "1 when the database answered.", [({}, database_up)])
    lines += _broker_lines()
    lines += family(
        "driftwatch_metrics_collect_seconds",
        "gauge",
        "Time taken to collect these metrics.",
        [({}, round(time.perf_counter() - started, 6))],
    )
    return "\n".join(lines) + "\n"


def allowed(request: HttpRequest) -> bool | None:
    """True when the caller may read the metrics, False when signed in without rights, None when not
    identified at all (401)."""
    token = settings.DRIFTWATCH.get("METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.is_active and user.is_staff)
    return None


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    verdict = allowed(request)
    if not verdict:
        response = HttpResponse(
            "Send Authorization: Bearer <DRIFTWATCH_METRICS_TOKEN>, or sign in as staff.\n",
            status=401 if verdict is None else 403,
            content_type="text/plain; charset=utf-8",
        )
        if verdict is None:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    seconds = int(settings.DRIFTWATCH.get("METRICS_CACHE_SECONDS", 10))
    body = None
    if seconds > 0:
        try:
            body = cache.get(CACHE_KEY)
        except Exception:  # a cache that does not answer only costs a fresh collection
            body = None
    if body is None:
        body = collect()
        if seconds > 0:
            try:
                cache.set(CACHE_KEY, body, timeout=seconds)
            except Exception:
                log.warning("metrics: could not cache the answer", exc_info=True)
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
