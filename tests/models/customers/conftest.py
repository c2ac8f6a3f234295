"""Shared fixtures: CDNOW loaded once per session (it is read-only)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from models.customers import LoadedOrders, load_orders
from models.datasets import load_cdnow

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="session")
def cdnow() -> LoadedOrders:
    return load_orders(load_cdnow())


@pytest.fixture(scope="session")
def cdnow_sample_orders() -> pd.DataFrame:
    """The CDNOW 1/10 sample (tests/data/CDNOW_sample.txt.gz) as customer_id (the sample id),
    timestamp, amount: one row per source line."""
    with gzip.open(DATA / "CDNOW_sample.txt.gz", "rt") as handle:
        raw = pd.read_csv(
            handle, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "dollars"]
        )
    return pd.DataFrame(
        {
            "customer_id": raw["id"].astype(str),
            "timestamp": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            "amount": raw["dollars"],
        }
    )
