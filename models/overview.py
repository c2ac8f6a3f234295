"""Headline figures of a transactions frame: what a planner checks first about a data set."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TransactionsOverview:
    """Customers, orders, revenue and date range of a transactions frame."""

    customers: int
    orders: int
    revenue: float
    first_order: pd.Timestamp
    last_order: pd.Timestamp

    def as_rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for a two-column table."""
        return [
            ("customers", f"{self.customers:,}"),
            ("orders", f"{self.orders:,}"),
            ("revenue", f"{self.revenue:,.2f}"),
            ("first order", self.first_order.date().isoformat()),
            ("last order", self.last_order.date().isoformat()),
        ]


def overview(transactions: pd.DataFrame) -> TransactionsOverview:
    """Summarise a frame with columns customer_id, timestamp and amount (one row per order)."""
    return TransactionsOverview(
        customers=int(transactions["customer_id"].nunique()),
        orders=len(transactions),
        revenue=float(transactions["amount"].sum()),
        first_order=transactions["timestamp"].min(),
        last_order=transactions["timestamp"].max(),
    )
