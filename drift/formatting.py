"""How numbers read on the pages: money with its currency, shares, counts, durations. Pure.

The template filters in `drift.templatetags.driftwatch` are these functions; pure modules that write
sentences (`drift.briefing`) use them too, so a number reads the same everywhere.

Example:
    >>> money(-1234567.8, "EUR"), money(350, "USD"), money(7.5, "CHF")
    ('-€1.23M', '$350', 'CHF 7.50')
    >>> percent(0.0123), count(1234567), duration_ms(95_000)
    ('1.2%', '1,234,567', '1 min 35 s')
"""

from __future__ import annotations

import math
from typing import Any

from drift.narratives import number as _three_figures
from drift.narratives import pct as _pct

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
DASH = "—"


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def money(value: Any, currency: str = "USD") -> str:
    """An amount with its currency: whole units from 10 up, millions shortened, minus sign first."""
    x = _num(value)
    if x is None:
        return DASH
    a = abs(x)
    if round(a, 2) == 0:
        body = "0"
    elif a >= 1_000_000:
        body = f"{a / 1_000_000:.3g}M"
    elif a >= 10:
        body = f"{a:,.0f}"
    else:
        body = f"{a:,.2f}"
    code = (currency or "").upper()
    symbol = SYMBOLS.get(code)
    text = f"{symbol}{body}" if symbol else f"{code} {body}".strip()
    return f"-{text}" if x < 0 and round(a, 2) > 0 else text


def percent(value: Any) -> str:
    """A share (0-1) as a percentage: 0.234 → '23%', 0.012 → '1.2%'."""
    x = _num(value)
    return DASH if x is None else _pct(x)


def points(value: Any) -> str:
    """A change of a share, in percentage points, signed: -0.043 → '-4.3 pts'."""
    x = _num(value)
    if x is None:
        return DASH
    return f"{100 * x:+.1f} pts"


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    x = _num(value)
    return DASH if x is None else f"{round(x):,}"


def number(value: Any) -> str:
    """Three significant figures: 41213 → '41,200', 0.01234 → '0.0123'."""
    x = _num(value)
    return DASH if x is None else _three_figures(x)


def duration_ms(value: Any) -> str:
    """A duration given in milliseconds: '45 ms', '1.2 s', '3 min 5 s', '2 h 5 min', '3 days'."""
    x = _num(value)
    if x is None:
        return DASH
    if x < 1000:
        return f"{x:.0f} ms"
    s = x / 1000
    if s < 60:
        return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
    minutes, sec = divmod(round(s), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def duration_s(value: Any) -> str:
    """A duration given in seconds (see `duration_ms`)."""
    x = _num(value)
    return DASH if x is None else duration_ms(x * 1000)


def record_value(value: Any) -> str:
    """One value of one record, exact but readable (no rounding: a person checks it against the case):

    >>> record_value(24400), record_value(0.2021), record_value(True), record_value(1.0e5), record_value("")
    ('24,400', '0.2021', 'yes', '100,000', '—')
    """
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)
