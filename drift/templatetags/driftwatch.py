"""Template filters and tags of the pages: every number, amount, share, duration and time goes through
here (`drift.formatting` holds the functions, shared with the sentence builders).

Times render as ``<time datetime="…">… UTC</time>``; static/js/base.js rewrites them into the viewer's
timezone, so a page without scripts still reads correctly.
"""

from datetime import UTC, date, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from drift import formatting

register = template.Library()


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    return formatting.money(value, currency)


@register.filter
def signed_money(value: Any, currency: str = "USD") -> str:
    """An amount with its sign always shown: '+€1,200', '-€350'."""
    text = formatting.money(value, currency)
    return f"+{text}" if text[:1] not in ("-", formatting.DASH) and value else text


@register.filter
def pct(value: Any) -> str:
    return formatting.percent(value)


@register.filter
def pts(value: Any) -> str:
    return formatting.points(value)


@register.filter
def count(value: Any) -> str:
    return formatting.count(value)


@register.filter
def num(value: Any) -> str:
    return formatting.number(value)


@register.filter
def ms(value: Any) -> str:
    return formatting.duration_ms(value)


@register.filter
def seconds(value: Any) -> str:
    return formatting.duration_s(value)


@register.filter
def record_value(value: Any) -> str:
    return formatting.record_value(value)


@register.filter
def words(value: Any) -> str:
    """A code name for people: ``credit_history_months`` → ``credit history months``."""
    return str(value or "").replace("_", " ")


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag
def when(value: datetime | date | str | None, style: str = "datetime") -> str:
    """`<time>` in UTC; `style` is datetime, date or relative (the script picks the local rendering).
    A calendar date (a due date) has no timezone: it renders as is, without the `datetime` attribute
    the script rewrites, so no reader sees it shifted to the day before."""
    if not value:
        return formatting.DASH
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_html("<time>{}</time>", value.isoformat())
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.astimezone(UTC) if timezone.is_aware(value) else value
    shown = value.strftime("%Y-%m-%d" if style == "date" else "%Y-%m-%d %H:%M UTC")
    return format_html('<time datetime="{}" data-style="{}">{}</time>', value.isoformat(), style, shown)


@register.filter
def utc_minute(value: datetime | None) -> str:
    """`2026-11-20 14:00` in UTC: plain text for option labels (60 per window picker; the `date`
    filter's locale lookups cost ~5 ms there)."""
    if not value:
        return formatting.DASH
    return (value.astimezone(UTC) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")


@register.simple_tag
def window(run: Any) -> str:
    """A run's window as two times."""
    if run is None:
        return formatting.DASH
    return format_html("{} → {}", when(run.window_start), when(run.window_end))


FORMATS = {
    "pct": formatting.percent,
    "pts": formatting.points,
    "count": formatting.count,
    "num": formatting.number,
    "ms": formatting.duration_ms,
}


@register.simple_tag
def cell(row: dict[str, Any], column: Any, currency: str = "") -> str:
    """One table cell, formatted by its column's kind (`drift.page_tables.Column`)."""
    value = row.get(column.key)
    # A row may name its own kinds where one column mixes units (a guardrail's ms beside a rate's %).
    kinds = row.get("_kinds")
    kind = kinds.get(column.key, column.kind) if kinds else column.kind
    kind = "count" if kind == "pct" and row.get("_counts") else kind
    if kind == "money":
        return formatting.money(value, row.get("currency") or currency)
    if kind == "time":
        return when(value)
    if kind == "bool":
        return formatting.DASH if value is None else ("yes" if value else "no")
    if kind in FORMATS:
        return FORMATS[kind](value)
    return formatting.DASH if value in (None, "") else str(value)


@register.filter
def numeric(column: Any) -> bool:
    return column.kind not in ("text", "time", "bool")


def _cell_class(column: Any) -> str:
    return ' class="num"' if numeric(column) else ' class="time"' if column.kind == "time" else ""


@register.simple_tag
def table_body(table: Any) -> str:
    """A table's rows as HTML, built here rather than by nested template loops: a technical page holds
    thousands of cells, and this is most of its rendering time. Every value is escaped (times arrive as
    safe `<time>` markup; everything else is text), then the whole is marked safe once: a
    `format_html` per cell cost the technical view ~10 ms."""
    classes = [_cell_class(c) for c in table.columns]
    rows = []
    for row in table.rows:
        flag = ' class="flag"' if row.get("status") == "alert" or row.get("drifted") else ""
        cells = "".join(
            f"<td{cls}>{conditional_escape(cell(row, c, table.currency))}</td>"
            for cls, c in zip(classes, table.columns, strict=True)
        )
        rows.append(f"<tr{flag}>{cells}</tr>")
    return mark_safe("\n".join(rows))  # every cell is escaped above
