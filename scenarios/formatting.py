"""Numbers as a planner reads them: money with the scenario's currency, thousands separators,
integer counts, percentages and ratios; a missing figure is an en dash, never `None` or `nan`.

One place for these rules, so the report, its tables and the dashboard agree.
"""

from __future__ import annotations

import math
from numbers import Real

import pandas as pd

MISSING = "–"
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}


def _missing(value: object) -> bool:
    """Whether a cell holds no figure (None, NaN, infinite, pandas NA)."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, Real) and not math.isfinite(float(value))


def money(value: object, currency: str = "EUR", digits: int = 0) -> str:
    """`€12,345` (or `12,345 SEK` for a currency without a symbol here); negatives `-€1,200`."""
    if _missing(value):
        return MISSING
    amount = float(value)  # type: ignore[arg-type]
    if round(amount, digits) == 0:
        amount = 0.0
    text = f"{abs(amount):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def count(value: object) -> str:
    """An integer count with thousands separators: `10,507`."""
    return MISSING if _missing(value) else f"{round(float(value)):,}"  # type: ignore[arg-type]


def decimal(value: object, digits: int = 1) -> str:
    """A plain number with thousands separators and `digits` decimals: `1,234.5`."""
    return MISSING if _missing(value) else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def percent(value: object, digits: int = 1) -> str:
    """A share as a percentage: 0.032 -> `3.2%`."""
    return MISSING if _missing(value) else f"{float(value):.{digits}%}"  # type: ignore[arg-type]


def signed_percent(value: object, digits: int = 0) -> str:
    """A change as a signed percentage: 0.2 -> `+20%`."""
    return MISSING if _missing(value) else f"{float(value):+.{digits}%}"  # type: ignore[arg-type]


def ratio(value: object) -> str:
    """A return per unit of spend (ROAS, bid multiplier): `3.25`."""
    return decimal(value, 2)


def text(value: object) -> str:
    """A label cell: blank stays blank, a missing figure is an en dash."""
    return MISSING if _missing(value) else str(value)


def currency_symbol(currency: str) -> str:
    """The symbol used in axis labels: `€`, or the ISO code."""
    return SYMBOLS.get(currency, currency).strip()


def multiplier(value: object) -> str:
    """A bid multiplier: `1.25x`."""
    return MISSING if _missing(value) else f"{float(value):.2f}x"  # type: ignore[arg-type]
