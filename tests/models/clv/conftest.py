"""CDNOW reference summaries (tests/data/README.md): 2,357 customers, 39-week calibration."""

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """ID, x (frequency), t_x (recency), T in weeks and zbar (mean repeat spend)."""
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
