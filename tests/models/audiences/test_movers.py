"""Segments on the move: the rules on hand-made values, and precision and recall against the
generator's truth (who really churned, who really grew, who really was not worth reaching)."""

from __future__ import annotations

import pandas as pd
import pytest

from models.audiences.evaluation import mover_truth
from models.audiences.movers import MoverSettings, MoversReport, find_movers, movers_report
from models.customers import LoadedOrders
from models.simulate import SimulatedData

from .conftest import END


def _values(clv: list[float], p_alive: list[float], tier: list[str]) -> pd.DataFrame:
    index = pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
    return pd.DataFrame(
        {"clv": clv, "p_alive": p_alive, "tier": tier, "value_per_conversion": 10.0}, index=index
    )


def test_rules_on_hand_made_values() -> None:
    start = _values(
        [100, 100, 40, 30, 50], [0.9, 0.9, 0.8, 0.8, 0.9], ["top", "top", "mid", "mid", "mid"]
    )
    end = _values(
        [45, 80, 70, 1, 48], [0.9, 0.5, 0.8, 0.1, 0.85], ["mid", "top", "mid", "low", "mid"]
    )
    end.loc["f"] = [200.0, 0.95, "top", 10.0]  # new since the start: no start values
    movers = find_movers(start, end, MoverSettings(near_top=0.8, cost_to_reach=2.0))
    # a: CLV fell by more than half; b: P(alive) fell by 0.4; c: rose to 70 >= 0.8 x 80 (the
    # lowest top-tier CLV) while not top; d: worth less than reaching them; e: small drop.
    assert movers["move"].to_dict() == {
        "a": "reengage",
        "b": "reengage",
        "c": "push",
        "d": "stop",
        "e": "",
        "f": "",
    }
    assert movers.attrs["top_tier_threshold"] == 80
    report = movers_report(movers, "2025-01-01", "2025-06-30")
    counts = {m.move: m.customers for m in report.moves}
    assert counts == {"reengage": 2, "push": 1, "stop": 1}
    reengage = next(m for m in report.moves if m.move == "reengage")
    assert reengage.clv_start_mean == pytest.approx(100.0)
    assert reengage.clv_end_mean == pytest.approx(62.5)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="clv_drop"):
        MoverSettings(clv_drop=0)
    with pytest.raises(ValueError, match="cost_to_reach"):
        MoverSettings(cost_to_reach=-1)


def test_movers_against_the_truth(
    movers: tuple[MoversReport, pd.DataFrame],
    loaded: LoadedOrders,
    world: SimulatedData,
    report_figure: list[str],
) -> None:
    report, frame = movers
    assert report.customers == len(frame) == 20_000
    checks = {c.name: c for c in mover_truth(frame, loaded, world, end=END)}
    for check in checks.values():
        report_figure.append(
            f"movers {check.name}: precision {check.precision:.3f}, recall {check.recall:.3f}, "
            f"base rate {check.base_rate:.3f} ({check.flagged} flagged of {check.population})"
        )
    # Re-engage: flagged customers really died far more often than valuable customers overall.
    assert checks["reengage"].precision >= 1.5 * checks["reengage"].base_rate
    assert checks["reengage"].recall >= 0.5
    # Push: really in the top 20% of the next half-year's margin, well above the base rate.
    assert checks["push"].precision >= 2.5 * checks["push"].base_rate
    # Stop: almost all of them really brought less than reaching them would cost.
    assert checks["stop"].precision >= 0.9
