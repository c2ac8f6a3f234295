"""What the orders loader raises on a file it cannot use: each a `ClvbidError` with where and fix.

Every error names the file, the data row (1-based, header not counted, as in rejects.csv) and
the field when they are known. `fix` lists the `load_orders` keyword arguments that would
mend it, as (argument, value) pairs (e.g. ("timestamp_format", "%m/%d/%Y"), or
("columns", "amount=<column>") for a column mapping): the hint stays neutral, and each face
(CLI option, API field) phrases the fix in its own syntax from `fix`.
"""

from __future__ import annotations

from typing import Any

from models.errors import ClvbidError


class OrdersError(ClvbidError, ValueError):
    """An orders (or contacts) file that cannot be loaded; `fix`: load_orders arguments to try."""

    def __init__(
        self, what: str, *, fix: list[tuple[str, str]] | None = None, **where_and_hint: Any
    ) -> None:
        super().__init__(what, **where_and_hint)
        self.fix = list(fix or [])


class OrdersFileError(OrdersError):
    """The file cannot be read as a table at all (not CSV or Parquet, or corrupt)."""


class MissingFileError(OrdersFileError, FileNotFoundError):
    """There is no file at the path given."""


class EmptyFileError(OrdersError):
    """The file holds no bytes (or only blank lines): nothing to load."""


class OrdersEncodingError(OrdersError):
    """The file's bytes are not text in the encoding used to read it."""


class OrdersSchemaError(OrdersError):
    """The source lacks a required column, or a mapping names a column that is not there."""


class OrdersValidationError(OrdersError):
    """Strict mode: the first bad row, with its source row number, field and reason."""

    def __init__(
        self, row: int, field: str, reason: str, value: object, *, file: str | None = None
    ) -> None:
        super().__init__(f"{reason} (value {value!r})", file=file, row=row, field=field)
        self.row, self.field, self.reason, self.value = row, field, reason, value


class NoValidOrdersError(OrdersError):
    """Every row was rejected, or the file has a header but no data rows."""
