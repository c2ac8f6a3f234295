"""Orders files for the API tests, built here with known content so every count is known."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "CDNOW_sample.txt.gz"

GOOD_ROWS = [
    ("c1", "2024-01-05", "20.00"),
    ("c1", "2024-02-10", "35.50"),
    ("c2", "2024-01-07", "12.00"),
    ("c3", "2024-03-01", "99.90"),
    ("c3", "2024-03-20", "10.00"),
    ("c3", "2024-04-02", "5.00"),
]
BAD_ROWS = [
    ("", "2024-01-09", "10.00"),  # missing customer id
    ("c4", "not a date", "10.00"),  # unparseable date
    ("c5", "2024-01-09", "ten"),  # non-numeric amount
    ("c6", "2999-01-01", "10.00"),  # in the future
]


def orders_csv(rows: list[tuple[str, str, str]]) -> bytes:
    """A CSV with the three required columns."""
    lines = ["customer_id,timestamp,amount", *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def cdnow_sample() -> pd.DataFrame:
    """The CDNOW 1/10 sample (2,357 customers) as customer_id, timestamp, amount."""
    raw = pd.read_csv(
        SAMPLE, sep=r"\s+", header=None, names=["id", "sample_id", "date", "cds", "amount"]
    )
    return pd.DataFrame(
        {
            "customer_id": raw["id"].astype(str),
            "timestamp": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
        }
    )


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as Parquet bytes."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
