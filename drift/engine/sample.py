"""A uniform sample of a window from its fragments' reservoirs, decided before reading them. Pure.

Each fragment's reservoir is a uniform sample of the rows it stands for (`seen`, also stored as the
fragment's row count). Drawing how many rows each fragment contributes from a multivariate
hypergeometric over those counts, *before* streaming the fragments, keeps the merged sample uniform
over all the window's rows and touches each sampled row once, however many fragments there are.
(Merging pairwise would copy the growing sample again at every step.)

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> want = allocate([1_000, 3_000], 400, rng)
    >>> int(want.sum()), bool(want[1] > want[0])
    (400, True)
    >>> s = SampleBuilder(seen=2)
    >>> s.add({"seen": 1, "rows": {"x": [1.0]}}, 1, rng)
    >>> s.add({"seen": 1, "rows": {"x": [2.0]}}, 1, rng)
    >>> s.reservoir()
    {'seen': 2, 'rows': {'x': [1.0, 2.0]}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray


def allocate(seen: Sequence[int], size: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Rows each fragment contributes to a uniform sample of `size` rows (all rows when fewer)."""
    counts = np.asarray(seen, dtype=np.int64)
    total = int(counts.sum())
    if total <= size:
        return counts
    return rng.multivariate_hypergeometric(counts, size)


class SampleBuilder:
    """Collects each fragment's share of the sample; columns missing from a fragment are null."""

    def __init__(self, *, seen: int) -> None:
        self.seen = seen
        self.rows: dict[str, list[Any]] = {}
        self.held = 0

    def add(self, reservoir: Mapping[str, Any] | None, want: int, rng: np.random.Generator) -> None:
        rows = (reservoir or {}).get("rows") or {}
        held = len(next(iter(rows.values()), []))
        k = min(int(want), held)  # a fragment holds fewer rows than it stands for past its reservoir size
        if k <= 0:
            return
        take = np.sort(rng.choice(held, size=k, replace=False)).tolist() if k < held else None
        for name in rows.keys() - self.rows.keys():
            self.rows[name] = [None] * self.held
        for name, column in self.rows.items():
            values = rows.get(name)
            if values is None:
                column.extend([None] * k)
            else:  # the picked values, gathered in C
                column.extend(values[:held] if take is None else map(values.__getitem__, take))
        self.held += k

    def reservoir(self) -> dict[str, Any]:
        return {"seen": self.seen, "rows": self.rows}
