"""Fast construction of pandas `str` columns from arrow arrays and category codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def str_column(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """A pandas `str` column from an arrow string array (nulls become missing)."""
    return pd.Series(values.to_pandas(), dtype="str")


def level_column(levels: tuple[str, ...] | np.ndarray, codes: np.ndarray) -> pd.Series:
    """A pandas `str` column naming each code's level (arrow take: no Python strings per row)."""
    return str_column(pa.array(np.asarray(levels, dtype=object)).take(pa.array(codes)))


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Arrow strings `prefix` + zero-padded number (O000000001, C00001234, ...)."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")
