"""Bundled demo data: the CDNOW transactions (see models/data/README.md for attribution)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

TRANSACTION_COLUMNS = ["customer_id", "timestamp", "amount", "quantity"]


def cdnow_master_path() -> Path:
    """Path of the bundled, gzipped CDNOW master file (23,570 customers, 1997-98)."""
    return Path(str(resources.files("models") / "data" / "CDNOW_master.txt.gz"))


def load_cdnow(path: str | Path | None = None) -> pd.DataFrame:
    """Load CDNOW as a clean transactions frame: customer_id, timestamp, amount, quantity.

    One row per original line (same-day purchases are kept apart; the summary merges them),
    sorted by customer and time. `customer_id` is the zero-padded string of the source.
    """
    raw = pd.read_csv(
        path or cdnow_master_path(),
        sep=r"\s+",
        dtype={"customer_id": str, "date": str, "number_of_cds": "int64"},
    )
    frame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["dollar_value"].astype("float64"),
            "quantity": raw["number_of_cds"].astype("int64"),
        }
    )
    return frame.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
