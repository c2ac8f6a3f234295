"""Audiences in scenarios: segments on the move become their own segments (stop: no spend),
and the report and scenario JSON show the MVC profile, lookalikes, movers and detargeting."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from models.audiences.plan import MOVER_SEGMENTS, STOP_SEGMENT
from optimizer import AllocationResult
from tests.scenarios.conftest import EXAMPLES, Example, run_example


def _example(stem: str) -> Example:
    return run_example(next(p for p in EXAMPLES if p.stem == stem))


@pytest.fixture(scope="module")
def reactivation() -> Example:
    return _example("reactivation")


def _spend(result: AllocationResult) -> pd.Series:
    frame = pd.DataFrame([a.model_dump() for a in result.allocations])
    return frame.groupby("segment")["spend"].sum()


def test_mover_segments_hold_the_movers_in_scope(reactivation: Example) -> None:
    for name, variant in reactivation.run.variants.items():
        valuation = variant.formed
        assert valuation.movers is not None, name
        counts = {m.move: m.customers for m in valuation.movers.moves}
        assignment = valuation.assignment
        stages = variant.scenario.segments.stages
        values = valuation.valuation.values
        in_scope = values.index[values["stage"].isin(stages)]
        sizes = valuation.segments.set_index("id")["size"]
        for move, segment_id in {**MOVER_SEGMENTS, "stop": STOP_SEGMENT}.items():
            # members counted independently: the movers report's count, less the customers
            # outside the scenario's stages (no detargeting in this scenario)
            assert sizes[segment_id] == (assignment.reindex(in_scope) == segment_id).sum()
            assert 0 < sizes[segment_id] <= counts[move], (name, move)
        # every in-scope customer is in exactly one customer segment
        customer_rows = valuation.segments[valuation.segments["kind"] == "customers"]
        assert customer_rows["size"].sum() == len(in_scope), name


def test_stop_segment_excluded_and_unpaid(reactivation: Example) -> None:
    for name, variant in reactivation.run.variants.items():
        assert STOP_SEGMENT in variant.problem.constraints.exclude, name
        if variant.result.allocations:
            assert _spend(variant.result).get(STOP_SEGMENT, 0.0) == 0.0, name
    base = _spend(reactivation.run.base.result)
    assert base.get(MOVER_SEGMENTS["reengage"], 0.0) > 0  # worth re-engaging at this budget


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by the heading just before it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heading = ""
        self._text: list[str] | None = None
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a heading, a table (under the last heading), a row or a cell."""
        if tag in ("h2", "h3"):
            self._in_heading, self.heading = True, ""
        elif tag == "table":
            self.tables[self.heading] = []
        elif tag == "tr":
            self.tables[self.heading].append([])
        elif tag in ("td", "th"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        """Close a heading or a cell (its text becomes the row's next cell)."""
        if tag in ("h2", "h3"):
            self._in_heading = False
        elif tag in ("td", "th") and self._text is not None:
            self.tables[self.heading][-1].append("".join(self._text).strip())
            self._text = None

    def handle_data(self, data: str) -> None:
        """Text of the current heading or cell."""
        if self._in_heading:
            self.heading += data
        elif self._text is not None:
            self._text.append(data)


def report_table(html: str, heading: str) -> pd.DataFrame:
    """The table under `heading` in a report, parsed (first row as the header)."""
    parser = _Tables()
    parser.feed(html)
    header, *rows = parser.tables[heading]
    return pd.DataFrame(rows, columns=header)


def test_reactivation_report_shows_mover_counts(reactivation: Example) -> None:
    """The movers table, parsed cell by cell: each move's row shows its own count and mean
    CLVs (in the report's formats), no move missing or extra."""
    report = reactivation.written["report"].read_text(encoding="utf-8")
    movers = reactivation.run.base.formed.movers
    assert movers is not None
    table = report_table(report, "Segments on the move").set_index("move")
    assert sorted(table.index) == sorted(m.move for m in movers.moves)
    for move in movers.moves:
        row = table.loc[move.move]
        assert int(row["customers"].replace(",", "")) == move.customers, move.move
        assert row["CLV at start"] == f"€{move.clv_start_mean:,.2f}", move.move
        assert row["CLV now"] == f"€{move.clv_end_mean:,.2f}", move.move
    data = json.loads(Path(reactivation.written["json"]).read_text())
    figures = data["variants"]["base"]["audiences"]
    assert {m["move"]: m["customers"] for m in figures["movers"]["moves"]} == {
        m.move: m.customers for m in movers.moves
    }
    assert figures["lookalikes"] is None


def test_demo_report_shows_the_mvc_profile(demo: Example) -> None:
    report = demo.written["report"].read_text(encoding="utf-8")
    assert "<h2 id='audiences'>Audiences</h2>" in report and "MVC profile" in report
    mvc = demo.run.base.customers.mvc
    # the top 1% by score: recomputed from the customer count
    assert mvc.mvc_customers == -(-mvc.customers // 100)
    assert f"<td>{mvc.mvc_customers:,.2f}</td>" in report
    data = json.loads(Path(demo.written["json"]).read_text())
    assert data["variants"]["base"]["audiences"]["mvc"]["mvc_customers"] == mvc.mvc_customers


def test_acquisition_report_shows_the_lookalike_table() -> None:
    example = _example("acquisition")
    report = example.written["report"].read_text(encoding="utf-8")
    assert "Lookalike audiences" in report
    lookalikes = example.run.base.formed.lookalikes
    assert lookalikes is not None
    segments = example.run.base.formed.segments.set_index("id")
    for audience in lookalikes.audiences:
        assert f"<td>{audience.id}</td>" in report
        assert segments.loc[audience.id, "size"] == audience.size
    data = json.loads(Path(example.written["json"]).read_text())
    figures = data["variants"]["base"]["audiences"]["lookalikes"]
    assert figures["holdout_auc"] == pytest.approx(lookalikes.holdout_auc)
    assert 0.5 < lookalikes.holdout_auc <= 1.0


def test_demo_json_has_the_detargeting_figures(demo: Example) -> None:
    data = json.loads(Path(demo.written["json"]).read_text())
    for name, variant in demo.run.variants.items():
        figures = data["variants"][name]["audiences"]["detargeting"]
        frame = variant.formed.detargeted
        if frame is None:
            assert figures is None, name
            continue
        assert figures["detargeted"] == int(frame["detargeted"].sum()) > 0
        assert figures["customers"] == len(frame)
        assert figures["spend_saved"] == pytest.approx(float(frame["spend_saved"].sum()))
