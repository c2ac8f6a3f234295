"""Read an orders or contacts source into a DuckDB table, whatever shape the export has.

Sources: a DataFrame, Parquet, or delimited text (plain or gzipped). Text is read as text
(every value a string, so that bad values are seen, not guessed) by DuckDB's CSV reader,
which detects the delimiter and the header. On top of it:

- encodings: DuckDB reads UTF-8, UTF-16 and Latin-1 itself; any other encoding Python knows
  (cp1252, the Excel-on-Windows default) is transcoded to UTF-8 in a stream into a temporary
  file first. Undecodable bytes are reported with their line and the encoding to try.
- runs of whitespace as the delimiter (the CDNOW master, fixed-width exports): detected when
  DuckDB finds a single column whose first line splits on whitespace, or asked for with
  delimiter "whitespace". The first line is the header unless one of its fields is a number.
- header-less files get DuckDB's column names column0, column1, ...; map them like any other
  column (columns={"customer_id": "column0"}).

The loader reads orders through `open_source`: a view with SOURCE_ROW, the data row number
of the source (header not counted), straight over the file for Parquet and for text DuckDB
decodes, so the row checks read the file once instead of copying it into a table first.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeAlias

import duckdb
import pandas as pd

from models.customers.errors import (
    EmptyFileError,
    MissingFileError,
    OrdersEncodingError,
    OrdersFileError,
)

Source: TypeAlias = "str | Path | pd.DataFrame"

WHITESPACE = "whitespace"
DELIMITER_NAMES = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
# Python's codec names of the encodings DuckDB's CSV reader decodes itself -> DuckDB's names.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}
WINDOWS_ENCODING = "cp1252"
SNIFF_BYTES = 1 << 16
CHUNK_BYTES = 1 << 20
SOURCE_ROW = "clvbid_source_row"  # the column of `open_source`'s data row numbers (from 1)


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzipped (as DuckDB reads it)."""
    return gzip.open(path) if path.suffix.lower() == ".gz" else path.open("rb")


def _codec(encoding: str | None, file: str) -> str:
    """Python's canonical name of `encoding` (UTF-8 when None)."""
    try:
        return codecs.lookup(encoding or "utf-8").name
    except (LookupError, ValueError) as error:  # ValueError: a name holding a NUL byte
        raise OrdersEncodingError(
            f"unknown encoding {encoding!r}",
            file=file,
            hint="name an encoding Python knows, e.g. utf-8, cp1252 or latin-1",
            fix=[("encoding", WINDOWS_ENCODING)],
        ) from error


def _check_not_empty(path: Path) -> None:
    """Raise when the file has nothing but blank space."""
    with _open_bytes(path) as stream:
        try:
            head = stream.read(SNIFF_BYTES)
        except (OSError, EOFError) as error:
            raise OrdersFileError(f"could not read the file: {error}", file=str(path)) from error
    if not head.strip():
        raise EmptyFileError(
            "the file is empty: it has no header and no rows",
            file=str(path),
            hint="export the orders again; the file should start with a header line",
        )


def _undecodable(path: Path, codec: str) -> OrdersEncodingError:
    """The error for the first bytes of the file that `codec` cannot decode: line and bytes."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines = 0
    with _open_bytes(path) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                line = lines + decoder.decode(chunk[: error.start]).count("\n") + 1
                bad = error.object[error.start : error.end]
                break
            lines += text.count("\n")
        else:
            line, bad = lines + 1, b""
    suggested = "utf-16" if _has_utf16_mark(path) else WINDOWS_ENCODING
    if suggested == codec:
        suggested = "utf-8"
    return OrdersEncodingError(
        f"line {line} holds bytes {bad!r} that are not {codec} text",
        file=str(path),
        row=line - 1 if line > 1 else None,
        hint=f"the file is in another encoding; try {suggested} (Excel on Windows saves "
        "cp1252 in Western Europe and the Americas)",
        fix=[("encoding", suggested)],
    )


def _has_utf16_mark(path: Path) -> bool:
    """True when the file starts with a UTF-16 byte-order mark."""
    with _open_bytes(path) as stream:
        return stream.read(2) in {codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE}


def _as_duckdb_text(path: Path, codec: str, workdir: Path) -> tuple[Path, str]:
    """A path and encoding DuckDB can read: the file itself, or a UTF-8 copy made in a stream."""
    if codec in DUCKDB_ENCODINGS:
        return path, DUCKDB_ENCODINGS[codec]
    target = workdir / f"{path.stem}.utf-8.csv"
    try:
        with (
            _open_bytes(path) as raw,
            io.TextIOWrapper(raw, encoding=codec, newline="") as text,
            target.open("w", encoding="utf-8", newline="") as out,
        ):
            shutil.copyfileobj(text, out)
    except UnicodeDecodeError as error:
        raise _undecodable(path, codec) from error
    return target, "utf-8"


def _first_line(path: Path, duckdb_encoding: str) -> str:
    """The first non-blank line of a text file DuckDB can read (for delimiter detection)."""
    codec = {"latin-1": "iso8859-1"}.get(duckdb_encoding, duckdb_encoding)
    with _open_bytes(path) as stream:
        head = stream.read(SNIFF_BYTES).decode(codec, errors="replace")
    return next((line for line in head.splitlines() if line.strip()), "")


def _line_end_options(path: Path) -> str:
    """Extra reader options for the file's line ends: none, except where its head ends lines
    both with CRLF and with a bare LF (a header written by one program, rows appended by
    another), which DuckDB's strict sniffer refuses outright; read leniently, the fields come
    out without the CR."""
    with _open_bytes(path) as stream:
        head = stream.read(SNIFF_BYTES)
    return ", strict_mode = false" if 0 < head.count(b"\r\n") < head.count(b"\n") else ""


def _delimiter(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, given: str | None) -> str:
    """The delimiter to read with: the one given, else whitespace when DuckDB's sniffer finds a
    single column whose first line splits on runs of whitespace, else "" (DuckDB detects)."""
    if given:
        name = given.lower()
        return WHITESPACE if name == WHITESPACE else DELIMITER_NAMES.get(name, given)
    (columns,) = con.execute(
        f"SELECT Columns FROM sniff_csv({sql_string(str(path))}, "
        f"encoding = {sql_string(encoding)}, all_varchar = true{_line_end_options(path)})"
    ).fetchall()[0]
    if len(columns) == 1 and len(_first_line(path, encoding).split()) > 1:
        return WHITESPACE
    return ""


def _read_whitespace(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, table: str) -> None:
    """Read a file whose fields are separated by runs of spaces or tabs into `table`.

    Each line is split in DuckDB (no Python per row); blank lines are skipped. The first line
    names the columns unless one of its fields is a number; missing trailing fields are NULL.
    """
    lines = f"{table}_lines"
    con.execute(
        f"""CREATE TEMP TABLE {lines} AS
        SELECT regexp_split_to_array(trim(line, E' \\t\\r'), '\\s+') AS fields
        FROM read_csv({sql_string(str(path))}, columns = {{'line': 'VARCHAR'}},
                      delim = E'\\x01', quote = '', escape = '', header = false,
                      auto_detect = false, encoding = {sql_string(encoding)})
        WHERE trim(line, E' \\t\\r') <> ''"""
    )
    first, width = con.execute(
        f"SELECT (SELECT fields FROM {lines} WHERE rowid = 0), max(len(fields)) FROM {lines}"
    ).fetchall()[0]
    first = first or []
    header = bool(first) and not any(is_number(value) for value in first)
    names = [
        first[i] if header and i < len(first) else f"column{i}" for i in range(int(width or 0))
    ]
    selected = ", ".join(
        f'fields[{i + 1}] AS "{name.replace(chr(34), chr(34) * 2)}"' for i, name in enumerate(names)
    )
    con.execute(
        f"""CREATE TABLE {table} AS SELECT {selected} FROM {lines}
        WHERE rowid >= {int(header)} ORDER BY rowid"""
    )
    con.execute(f"DROP TABLE {lines}")


def is_number(text: str) -> bool:
    """True for a field that reads as a number (a data row, not a header)."""
    return re.fullmatch(r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?", text) is not None


def _read_text(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Read delimited text into `table`, every value as text (transcoded copies are dropped
    once the table is built)."""
    _check_not_empty(path)
    with tempfile.TemporaryDirectory(prefix="clvbid-text-") as workdir:
        readable, duckdb_encoding = _as_duckdb_text(
            path, _codec(encoding, str(path)), Path(workdir)
        )
        _read_readable(con, readable, duckdb_encoding, table, delimiter)


def _read_readable(
    con: duckdb.DuckDBPyConnection,
    readable: Path,
    duckdb_encoding: str,
    table: str,
    delimiter: str | None,
) -> None:
    """Read text DuckDB can decode into `table`, splitting on the delimiter given or detected."""
    delim = _delimiter(con, readable, duckdb_encoding, delimiter)
    if delim == WHITESPACE:
        _read_whitespace(con, readable, duckdb_encoding, table)
        return
    reader = _csv_reader(readable, duckdb_encoding, delim)
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}")


def _csv_reader(path: Path, duckdb_encoding: str, delim: str) -> str:
    """SQL of DuckDB's reader of a delimited file, every value as text (`delim` "": detected)."""
    options = (f", delim = {sql_string(delim)}" if delim else "") + _line_end_options(path)
    return f"""read_csv({sql_string(str(path))}, all_varchar = true,
        encoding = {sql_string(duckdb_encoding)}{options})"""


def _existing(source: str | Path) -> Path:
    """The path of a source file; MissingFileError when there is no such file."""
    path = Path(source)
    if not path.is_file():
        raise MissingFileError(f"no such file: {path}", file=str(path), hint="check the path")
    return path


@contextmanager
def source_errors(source: Source, encoding: str | None = None) -> Iterator[None]:
    """Turn DuckDB's errors in reading the source file into OrdersEncodingError (bytes the
    encoding cannot decode, with their line) or OrdersFileError (anything else it cannot
    read); a DataFrame's errors pass as they are."""
    try:
        yield
    except duckdb.Error as error:
        if isinstance(source, pd.DataFrame):
            raise
        path = Path(source)
        if "unicode" in str(error).lower():
            raise _undecodable(path, _codec(encoding, str(path))) from error
        raise OrdersFileError(
            f"could not read the file: {str(error).splitlines()[0]}",
            file=str(path),
            hint="give delimited text (CSV) or a Parquet file",
        ) from error


def read_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> None:
    """Materialise the source as `table`; its rowid + 1 is the data row number in the source.

    `encoding` (default UTF-8) and `delimiter` (default: detected; "whitespace" for runs of
    blanks, "tab", or one character) apply to text files.
    """
    if isinstance(source, pd.DataFrame):
        con.register("_source_frame", source)
        # Insertion order is the source order, so rowid numbers the rows as they were read.
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM _source_frame")
        con.unregister("_source_frame")
        return
    path = _existing(source)
    with source_errors(path, encoding):
        if path.suffix.lower() in PARQUET_SUFFIXES:
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_parquet({sql_string(str(path))})"
            )
        else:
            _read_text(con, path, table, encoding=encoding, delimiter=delimiter)


UNNUMBERED = "_rows"  # suffix of the view of `open_source` without SOURCE_ROW (CSV only)


def _file_reader(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str | None, delimiter: str | None
) -> tuple[str, str | None] | None:
    """SELECT of the file's columns and SOURCE_ROW read straight from the file, and for CSV
    the SELECT of the columns alone (its row numbers cost a serial pass); None when the file
    needs a table first (text in an encoding DuckDB does not decode, or split on runs of
    whitespace)."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        numbered = f"""SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {SOURCE_ROW}
            FROM read_parquet({sql_string(str(path))}, file_row_number = true)"""
        return numbered, None
    _check_not_empty(path)
    duckdb_encoding = DUCKDB_ENCODINGS.get(_codec(encoding, str(path)))
    if duckdb_encoding is None:
        return None
    delim = _delimiter(con, path, duckdb_encoding, delimiter)
    if delim == WHITESPACE:
        return None
    # The CSV reader keeps the file's order (preserve_insertion_order), so row_number() OVER ()
    # numbers the rows as they are in the file, in one thread.
    reader = _csv_reader(path, duckdb_encoding, delim)
    numbered = f"SELECT *, row_number() OVER () AS {SOURCE_ROW} FROM {reader}"
    return numbered, f"SELECT * FROM {reader}"


def open_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    view: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> bool:
    """Create `view`: the source's columns and SOURCE_ROW, each row's data row number.

    Over the file itself for Parquet and text DuckDB decodes (read once by the row checks, not
    copied first: wrap the statements that read it in `source_errors`); over a table that
    `read_source` fills otherwise (DataFrames, transcoded or whitespace-split text).
    `close_source` drops both. Returns whether `view` + UNNUMBERED was made too, the rows of a
    CSV file in its order without their numbers: read in parallel into a table, they are
    numbered by the order they are stored in (preserve_insertion_order), where `view`'s
    row_number() OVER () reads the file in one thread.
    """
    if not isinstance(source, pd.DataFrame):
        path = _existing(source)
        with source_errors(path, encoding):
            reader = _file_reader(con, path, encoding, delimiter)
            if reader is not None:  # binding it sniffs the file: errors possible here too
                numbered, unnumbered = reader
                con.execute(f"CREATE VIEW {view} AS {numbered}")
                if unnumbered is not None:
                    con.execute(f"CREATE VIEW {view}{UNNUMBERED} AS {unnumbered}")
                return unnumbered is not None
    read_source(con, source, f"{view}_table", encoding=encoding, delimiter=delimiter)
    con.execute(f"CREATE VIEW {view} AS SELECT *, rowid + 1 AS {SOURCE_ROW} FROM {view}_table")
    return False


def close_source(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Drop a view of `open_source`, and its table or unnumbered view when it has one."""
    con.execute(f"DROP VIEW {view}")
    con.execute(f"DROP VIEW IF EXISTS {view}{UNNUMBERED}")
    con.execute(f"DROP TABLE IF EXISTS {view}_table")
