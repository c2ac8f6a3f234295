"""The bundled CDNOW loader returns the whole cohort, cleanly typed."""

import pandas as pd

from models.datasets import TRANSACTION_COLUMNS, load_cdnow
from models.overview import overview


def test_cdnow_has_every_row_and_customer() -> None:
    frame = load_cdnow()
    assert list(frame.columns) == TRANSACTION_COLUMNS
    assert len(frame) == 69_659
    assert frame["customer_id"].nunique() == 23_570
    assert frame["customer_id"].str.len().eq(5).all()


def test_cdnow_types_and_ranges() -> None:
    frame = load_cdnow()
    assert pd.api.types.is_datetime64_any_dtype(frame["timestamp"])
    assert frame["amount"].dtype == "float64"
    assert frame["quantity"].dtype == "int64"
    assert frame["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert frame["timestamp"].max() == pd.Timestamp("1998-06-30")
    assert (frame["amount"] >= 0).all()
    assert (frame["amount"] == 0).sum() == 80
    first = frame.groupby("customer_id")["timestamp"].min()
    assert first.max() <= pd.Timestamp("1997-03-25")


def test_overview_matches_frame() -> None:
    frame = load_cdnow()
    summary = overview(frame)
    assert summary.customers == 23_570
    assert summary.orders == 69_659
    assert abs(summary.revenue - frame["amount"].sum()) < 1e-6
    assert dict(summary.as_rows())["customers"] == "23,570"
