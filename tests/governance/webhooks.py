"""A real HTTP receiver on 127.0.0.1 for webhook tests (notifications, the retraining pipeline)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Receiver:
    """A real HTTP server on 127.0.0.1 answering with scripted statuses (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}  # HTTP names are case-blind
                outer.received.append({"headers": headers, "body": body, "path": self.path})
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/driftwatch"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def json(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.received[i]["body"])


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def start(*statuses: int) -> Receiver:
        r = Receiver(list(statuses) or [200])
        r.thread.start()
        made.append(r)
        return r

    yield start
    for r in made:
        r.server.shutdown()
        r.server.server_close()
