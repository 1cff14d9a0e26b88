"""A table as data: columns with a display kind, rows of raw values (the CSV keeps them raw)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | money | pct | pts | count | num | ms | time | bool


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    empty: str = "Nothing to show yet."
    caption: str = ""
    currency: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def values(self) -> list[list[Any]]:
        return [[row.get(c.key) for c in self.columns] for row in self.rows]
