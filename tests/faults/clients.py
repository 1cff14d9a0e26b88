"""Telemetry clients for the fault tests: they send batches and retry on 503 as integrations should."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import requests

from tests.faults.seed import record


def recent(minutes: int = 30) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    refused_503: list[dict[str, Any]] = field(default_factory=list)
    connection_errors: int = 0
    unexpected: list[tuple[int, str]] = field(default_factory=list)
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    batches: int = 0

    def saw(self, response: requests.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 503:
                self.refused_503.append(
                    {"retry_after": response.headers.get("Retry-After"), "body": response.json()}
                )
            elif response.status_code != 200:
                self.unexpected.append((response.status_code, response.text[:300]))


def send_until_stored(
    session: requests.Session,
    url: str,
    body: dict[str, Any],
    tally: Tally,
    *,
    pause: float = 0.2,
    give_up_after: float = 60.0,
) -> dict[str, Any]:
    """POST a batch until it is answered 200, honouring 503 (with a short pause instead of the
    advertised Retry-After, to keep the test quick). Returns the 200 answer's body."""
    deadline = time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        try:
            response = session.post(url, json=body, timeout=30)
        except requests.ConnectionError:
            with tally.lock:
                tally.connection_errors += 1
            time.sleep(pause)
            continue
        tally.saw(response)
        if response.status_code == 200:
            return response.json()
        if response.status_code == 503:
            time.sleep(pause)
            continue
        raise AssertionError(f"unexpected answer {response.status_code}: {response.text[:500]}")
    raise AssertionError(f"batch not stored after {give_up_after:.0f} s")


def ingest_until(
    stop: threading.Event,
    *,
    base: str,
    token: str,
    slug: str,
    version: str,
    tally: Tally,
    client: int,
    batch_size: int = 50,
    timestamp: str | None = None,
) -> None:
    """One client thread: sends fresh batches until `stop` is set, each until stored."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    rng = Random(client)
    url = f"{base}/api/v1/models/{slug}/predictions/"
    stamp = timestamp or recent()
    n = 0
    while not stop.is_set():
        records = [record(n + i, rng, prefix=f"c{client}", timestamp=stamp) for i in range(batch_size)]
        n += batch_size
        answer = send_until_stored(session, url, {"version": version, "records": records}, tally)
        with tally.lock:
            tally.sent += batch_size
            tally.batches += 1
            tally.accepted += answer["accepted"]
            tally.duplicates += answer["duplicates"]
