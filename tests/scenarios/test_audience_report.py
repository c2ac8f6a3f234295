"""Audiences in scenarios: segments on the move become their own segments (stop: no spend),
and the report and scenario JSON show the MVC profile, lookalikes, movers and detargeting."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from models.audiences.plan import MOVER_SEGMENTS, STOP_SEGMENT
from optimizer import AllocationResult
from tests.html_tables import table_with
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


def test_reactivation_report_shows_mover_counts(reactivation: Example) -> None:
    report = reactivation.written["report"].read_text(encoding="utf-8")
    assert "Segments on the move" in report
    movers = reactivation.run.base.formed.movers
    assert movers is not None
    table = table_with(report, "move")
    assert {move: row[1:4] for move, row in table.items()} == {
        m.move: [f"{m.customers:,}", f"€{m.clv_start_mean:,.2f}", f"€{m.clv_end_mean:,.2f}"]
        for m in movers.moves
    }
    data = json.loads(Path(reactivation.written["json"]).read_text())
    figures = data["variants"]["base"]["audiences"]
    assert {m["move"]: m["customers"] for m in figures["movers"]["moves"]} == {
        m.move: m.customers for m in movers.moves
    }
    assert figures["lookalikes"] is None


def test_demo_report_shows_the_mvc_profile(demo: Example) -> None:
    report = demo.written["report"].read_text(encoding="utf-8")
    assert '<h2 id="audiences-title">Audiences</h2>' in report and "MVC profile" in report
    mvc = demo.run.base.customers.mvc
    # the top 1% by score: recomputed from the customer count
    assert mvc.mvc_customers == -(-mvc.customers // 100)
    row = table_with(report, "Measure")["customers"]
    assert row[1:] == [f"{mvc.mvc_customers:,}", f"{mvc.customers:,}"]
    data = json.loads(Path(demo.written["json"]).read_text())
    assert data["variants"]["base"]["audiences"]["mvc"]["mvc_customers"] == mvc.mvc_customers


def test_acquisition_report_shows_the_lookalike_table() -> None:
    example = _example("acquisition")
    report = example.written["report"].read_text(encoding="utf-8")
    assert "Lookalike audiences" in report
    lookalikes = example.run.base.formed.lookalikes
    assert lookalikes is not None
    segments = example.run.base.formed.segments.set_index("id")
    table = table_with(report, "audience")
    for audience in lookalikes.audiences:
        assert table[audience.id][1] == f"{audience.size:,}"
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
