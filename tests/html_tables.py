"""Read the tables of an HTML page into rows of cell texts (standard library only), so tests
check a parsed table, not a substring that could match anywhere on the page."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Collects every <table> as a list of rows of stripped cell texts, keyed by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
            self.tables[dict(attrs).get("id") or f"table{len(self.tables)}"] = self._table
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_tables(page: str) -> dict[str, list[list[str]]]:
    """Every table of `page` by its id: a header row then the body rows, as cell texts."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def table_with(page: str, header: str) -> dict[str, list[str]]:
    """The first table whose header row starts with `header`, as {first cell: row cells}."""
    for rows in html_tables(page).values():
        if rows and rows[0] and rows[0][0] == header:
            return {row[0]: row for row in rows[1:] if row}
    raise AssertionError(f"no table headed {header!r} on the page")
