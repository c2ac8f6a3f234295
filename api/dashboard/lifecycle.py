"""The lifecycle indicator of a stored dataset, computed in a worker: customers per stage at
each of the last twelve month-ends, and the moves between stages over the last month."""

from __future__ import annotations

from typing import Any

from api.tasks import StoredOrders, _load


def lifecycle(orders: StoredOrders, months: int, window_months: int) -> dict[str, Any]:
    """Monthly stage counts (`counts`: month -> stage -> customers) and the last month's moves
    (`moves`: from-stage -> to-stage -> customers, with `start` and `end`)."""
    import pandas as pd  # in the worker only (api.tasks)

    from models.customers.lifecycle import month_ends, stage_counts, stage_transitions

    loaded = _load(orders)
    (last,) = loaded.connection.execute("SELECT max(day) FROM orders").fetchall()[0]
    dates = month_ends(pd.Timestamp(last) + pd.offsets.MonthEnd(0), months)
    counts = stage_counts(loaded, dates=dates, window_months=window_months)
    moves = stage_transitions(loaded, start=dates[-2], end=dates[-1], window_months=window_months)
    return {
        "counts": {d.date().isoformat(): row.to_dict() for d, row in counts.iterrows()},
        "moves": {str(k): {str(c): int(v) for c, v in row.items()} for k, row in moves.iterrows()},
        "start": dates[-2].date().isoformat(),
        "end": dates[-1].date().isoformat(),
    }
