"""The model page's body (story, charts, tables) rendered once per state, then read from the cache.

Its key digests everything the body shows: the finished runs it charts and the chosen one (each by id
and `finished_at`: a re-run rewrites results with a new time), the model's own fields, the governance
state (serving mode, open events and incidents, event and flag markers), the view, the query string
(the CSV links carry it), the role's wording, and the code that renders it. So the key changes whenever
the body would, and a cached body is never stale: no invalidation anywhere.

What this saves: building ~17 figures and ~11 tables and rendering ~90 KB of HTML, about half the
technical view's server time, for every reader after the first of each state (`bench/pages.py`).
"""

import hashlib
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from drift.page_selectors import ModelPage

CODE_DIRS = ("drift", "governance", "monitoring_site", "templates")
# Fields of `ModelPage` the key holds by identity (runs by id and finish time, model and version by
# their fields) or that derive from those; every other field goes into the key by value.
BY_KEY = {"model", "versions", "version", "runs", "run", "results", "series", "cells", "windows"}


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Names, sizes and times of the code and templates, once per process: a deploy changes every key
    (a shared Redis cache would otherwise serve bodies an older release rendered)."""
    h = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".py", ".html"):
                stat = path.stat()
                h.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def _fields(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")} if obj is not None else {}


def model_body_key(
    page: ModelPage, request: HttpRequest, *, technical: bool, can_analyse: bool, can_explore: bool
) -> str:
    """The cache key of the page's body, or "" (no caching) when a run it shows is not finished."""
    finished = {r.pk: r.finished_at for r in page.runs}
    charted = [(s["run_id"], finished.get(s["run_id"])) for s in page.series]
    if page.run is None or page.run.finished_at is None or any(at is None for _, at in charted):
        return ""
    # Every other field of the page as it is (governance state, markers, impact, and any field added
    # later), so that a new input of the body cannot be forgotten here.
    rest = [(f.name, getattr(page, f.name)) for f in fields(page) if f.name not in BY_KEY]
    state = (
        code_digest(),
        technical,
        request.GET.urlencode(),
        can_analyse,
        can_explore,
        _fields(page.model),
        _fields(page.version),
        (page.run.pk, page.run.finished_at),
        charted,
        rest,
    )
    return "pages:model-body:" + hashlib.sha256(repr(state).encode()).hexdigest()
