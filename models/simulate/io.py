"""Write a simulated data set to Parquet or CSV files, and read it back with the same dtypes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from models.simulate.config import IDENTIFIER_TYPES
from models.simulate.generator import SimulatedData

FORMATS = ("parquet", "csv")
OBSERVED = ("orders", "holdout_orders", "contacts")
TRUTH = ("customers", "prospects", "identities")
TIMESTAMP_COLUMNS = ("timestamp", "first_order", "death_time")
# float columns whose values may all be whole numbers (CSV would read them back as integers)
FLOAT_COLUMNS = ("p_no_own_order_in_window", "ad_responsiveness")
IDENTIFIER_COLUMNS = (*IDENTIFIER_TYPES, "order_id", "person_id", "identifier")


def _check_format(fmt: str) -> None:
    """Raise a ValueError naming the allowed formats unless `fmt` is one of them."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """Write one frame; CSV timestamps are written to the second (that is their resolution)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if fmt == "parquet":
        pq.write_table(table, path)
        return
    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            table = table.set_column(
                index, column.name, table.column(index).cast(pa.timestamp("s"))
            )
    pa_csv.write_csv(table, path)


def write_simulated(
    data: SimulatedData, directory: str | Path, fmt: str = "parquet"
) -> dict[str, Path]:
    """Write orders, holdout_orders, contacts and truth/ (customers, prospects, identities,
    params.json) under `directory`; return the path of each file by name."""
    _check_format(fmt)
    root = Path(directory)
    (root / "truth").mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in (*OBSERVED, *TRUTH):
        path = root / ("truth" if name in TRUTH else "") / f"{name}.{fmt}"
        _write_frame(getattr(data, name), path, fmt)
        written[name] = path
    params = root / "truth" / "params.json"
    params.write_text(json.dumps(data.params(), indent=2) + "\n")
    written["params"] = params
    return written


def _read_frame(path: Path, fmt: str) -> pd.DataFrame:
    """Read one frame back with the generator's dtypes (str, datetime64[ns], int64, float64)."""
    if fmt == "parquet":
        frame = pd.read_parquet(path)
    else:  # identifiers such as loyalty card numbers are all digits: keep them strings
        dtypes = dict.fromkeys(IDENTIFIER_COLUMNS, "str") | dict.fromkeys(FLOAT_COLUMNS, "float64")
        frame = pd.read_csv(path, dtype=dtypes)
    for column in TIMESTAMP_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def read_simulated(directory: str | Path, fmt: str = "parquet") -> dict[str, pd.DataFrame]:
    """The frames written by `write_simulated` under `directory`, by name."""
    _check_format(fmt)
    root = Path(directory)
    return {
        name: _read_frame(root / ("truth" if name in TRUTH else "") / f"{name}.{fmt}", fmt)
        for name in (*OBSERVED, *TRUTH)
    }
