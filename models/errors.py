"""The root of every error clvbid raises on input it cannot use: what is wrong, where, and a hint.

Where is a location in the user's terms: the file, the row of that file (1-based, the header
not counted, as a spreadsheet shows it minus one), and the field (a column name or a settings
path such as `model.penalizer`). The CLI and the API format these errors in one place each
(api/commands/common.py, api/errors.py); nothing below them formats text for a face.
Kept free of heavy imports so that every package can raise it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Self


@dataclass(frozen=True)
class Where:
    """A location in the user's input; every part optional."""

    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The parts that are known, for a JSON body."""
        return {k: v for k, v in vars(self).items() if v is not None}


class ClvbidError(Exception):
    """Input or data that clvbid cannot use: `what` is wrong at `where`; `hint` says the fix."""

    def __init__(
        self,
        what: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(what)
        self.what = what
        self.where = Where(file=file, row=row, field=field)
        self.hint = hint

    def __str__(self) -> str:
        located = f"{self.where}: {self.what}" if str(self.where) else self.what
        return f"{located} ({self.hint})" if self.hint else located

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with the location and hint (errors cross worker-process boundaries)."""
        return (_rebuild, (type(self), self.what, vars(self.where), self.hint, self.__dict__))

    def located(self, **where: Any) -> Self:
        """The same error with the location parts given filled in where still unknown."""
        known = {k: v for k, v in vars(self.where).items() if v is not None}
        copy = _rebuild(type(self), self.what, {**where, **known}, self.hint, self.__dict__)
        copy.__traceback__ = self.__traceback__
        return copy

    def as_dict(self) -> dict[str, Any]:
        """What, where and hint as plain data (the API's error body)."""
        return {"detail": self.what, "where": self.where.as_dict() or None, "hint": self.hint}


def _rebuild(
    cls: type[ClvbidError],
    what: str,
    where: dict[str, Any],
    hint: str | None,
    state: dict[str, Any],
) -> ClvbidError:
    """An error of `cls` with this text, location and hint, bypassing subclass constructors."""
    error = cls.__new__(cls)
    Exception.__init__(error, what)
    error.__dict__.update(state)
    error.what = what
    error.where = replace(Where(), **where)
    error.hint = hint
    return error
