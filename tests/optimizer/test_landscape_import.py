"""Landscape import: Google Ads simulations (JSON and CSV export) and the generic CSV are read,
cleaned (dominated points and convex kinks dropped and reported), scaled and fitted.

Fixtures are written from the Google Ads API's documented field names:
https://developers.google.com/google-ads/api/reference/rpc/latest/CampaignCriterionSimulation
https://developers.google.com/google-ads/api/reference/rpc/latest/BidModifierSimulationPoint
https://developers.google.com/google-ads/api/reference/rpc/latest/CpcBidSimulationPoint
(REST JSON uses camelCase and writes int64 fields such as costMicros as strings.)
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.landscape_import import (
    LandscapeImportError,
    clean_landscape,
    clean_landscapes,
    concave_hull,
    fit_curve,
    read_landscapes,
)
from optimizer.schema import LandscapePoint

# (bid modifier, cost, conversions) over 7 days: 0.5 is a convex kink (2 conversions for 40
# where 60 buys 6: below the line from no spend to 0.8), 1.2 is dominated by 1.0.
POINTS = [
    (0.5, 40.0, 2.0),
    (0.8, 60.0, 6.0),
    (1.0, 100.0, 9.0),
    (1.2, 130.0, 8.5),
    (1.5, 180.0, 12.0),
]
KEPT = [0.8, 1.0, 1.5]


def _rest_json() -> dict:
    """A GoogleAdsService.Search response with one CampaignCriterionSimulation (BID_MODIFIER)."""
    return {
        "results": [
            {
                "campaignCriterionSimulation": {
                    "resourceName": "customers/1/campaignCriterionSimulations/"
                    "111~222~BID_MODIFIER~UNIFORM~20240101~20240107",
                    "campaignId": "111",
                    "criterionId": "222",
                    "type": "BID_MODIFIER",
                    "modificationMethod": "UNIFORM",
                    "startDate": "2024-01-01",
                    "endDate": "2024-01-07",
                    "bidModifierPointList": {
                        "points": [
                            {
                                "bidModifier": m,
                                "biddableConversions": n,
                                "biddableConversionsValue": 50 * n,
                                "clicks": str(int(cost * 2)),
                                "costMicros": str(int(cost * 1_000_000)),
                                "impressions": str(int(cost * 40)),
                            }
                            for m, cost, n in POINTS
                        ]
                    },
                }
            }
        ]
    }


def _export_csv(path: Path) -> Path:
    """The same simulation as a CSV export: one row per point, GAQL field paths as headers."""
    prefix = "campaign_criterion_simulation"
    rows = [
        {
            f"{prefix}.campaign_id": 111,
            f"{prefix}.criterion_id": 222,
            f"{prefix}.start_date": "2024-01-01",
            f"{prefix}.end_date": "2024-01-07",
            f"{prefix}.bid_modifier_point_list.points.bid_modifier": m,
            f"{prefix}.bid_modifier_point_list.points.cost_micros": int(cost * 1_000_000),
            f"{prefix}.bid_modifier_point_list.points.biddable_conversions": n,
            f"{prefix}.bid_modifier_point_list.points.clicks": int(cost * 2),
        }
        for m, cost, n in POINTS
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(params=["json", "csv"])
def google_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "json":
        path = tmp_path / "simulations.json"
        path.write_text(json.dumps(_rest_json()))
        return path
    return _export_csv(tmp_path / "simulations.csv")


def test_google_simulation_read_cleaned_and_scaled(google_file: Path) -> None:
    points = read_landscapes(google_file, "google_ads")
    assert points["audience"].unique().tolist() == ["222"]
    assert points["cost"].tolist() == [c for _, c, _ in POINTS]  # micros -> currency
    assert set(points["days"]) == {7.0}
    [landscape] = clean_landscapes(points.assign(channel="search"), period_days=28)
    assert [p.bid_multiplier for p in landscape.points] == KEPT
    assert landscape.scale == pytest.approx(4.0)
    by_cost = {c: (m, n) for m, c, n in POINTS}
    assert [(p.cost / 4, p.conversions / 4) for p in landscape.points] == [
        (c, by_cost[c][1]) for c in (60.0, 100.0, 180.0)
    ]
    reasons = {p.bid_multiplier: p.reason for p in landscape.dropped}
    assert set(reasons) == {0.5, 1.2}
    assert reasons[1.2].startswith("dominated")
    assert reasons[0.5].startswith("below the concave hull")
    assert landscape.curve is None


def test_cpc_bid_simulation_becomes_multipliers_of_the_current_bid(tmp_path: Path) -> None:
    document = [
        {
            "ad_group_criterion_simulation": {
                "ad_group_id": 5,
                "criterion_id": 9,
                "start_date": "2024-02-01",
                "end_date": "2024-02-07",
                "cpc_bid_point_list": {
                    "points": [
                        {"cpc_bid_micros": b, "cost_micros": c, "biddable_conversions": n}
                        for b, c, n in [(500_000, 10e6, 1.0), (1_000_000, 30e6, 2.0)]
                    ]
                },
            }
        }
    ]
    path = tmp_path / "cpc.json"
    path.write_text(json.dumps(document))
    points = read_landscapes(path, "google_ads", current_cpc_bid=0.5)
    assert points["bid_multiplier"].tolist() == [1.0, 2.0]


def test_generic_csv_per_channel(tmp_path: Path) -> None:
    path = tmp_path / "meta.csv"
    path.write_text(
        "segment,channel,bid_multiplier,cost,conversions\n"
        + "".join(f"loyal-top,social,{m},{c},{n}\n" for m, c, n in POINTS)
        + "inactive-low,social,1.0,50,1\n"
    )
    landscapes = clean_landscapes(read_landscapes(path, "generic"), min_points=3)
    by_audience = {item.audience: item for item in landscapes}
    assert [p.bid_multiplier for p in by_audience["loyal-top"].points] == KEPT
    assert by_audience["loyal-top"].scale == 1.0  # no `days` column: already per period
    single = by_audience["inactive-low"]
    assert single.curve is not None  # one point: a curve through it with default exponents
    entry = single.entry("social")
    at_one = next(p for p in entry.points if p.bid_multiplier == 1.0)
    assert (at_one.cost, at_one.conversions) == pytest.approx((50.0, 1.0))


@pytest.mark.parametrize(
    ("text", "row", "field"),
    [
        ("segment,bid_multiplier,cost,conversions\na,1.0,-5,1\n", 1, "cost"),
        ("segment,bid_multiplier,cost,conversions\na,1.0,5,1\nb,abc,5,1\n", 2, "bid_multiplier"),
        ("segment,cost,conversions\na,5,1\n", None, "bid_multiplier"),
    ],
)
def test_bad_rows_name_file_row_and_field(
    tmp_path: Path, text: str, row: int | None, field: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(LandscapeImportError) as caught:
        read_landscapes(path, "generic")
    assert caught.value.where.file == str(path)
    assert (caught.value.where.row, caught.value.where.field) == (row, field)


def test_curve_fitted_to_two_points_recovers_known_exponents() -> None:
    """Points drawn from cost = 80 m^1.4, conversions = 6 m^0.5: the log-space fit is exact."""
    points = [
        LandscapePoint(bid_multiplier=m, cost=80 * m**1.4, conversions=6 * m**0.5)
        for m in (0.7, 1.6)
    ]
    curve = fit_curve(points)
    assert (curve.cost, curve.conversions) == pytest.approx((80.0, 6.0))
    assert (curve.cost_exponent, curve.conversion_exponent) == pytest.approx((1.4, 0.5))


def _on_upper_hull(xs: np.ndarray, ys: np.ndarray, i: int) -> bool:
    """Brute force: no chord between two points (origin included) passes above point i."""
    px = np.concatenate(([0.0], xs))
    py = np.concatenate(([0.0], ys))
    for a, b in combinations(range(len(px)), 2):
        if px[a] < xs[i] < px[b] or px[b] < xs[i] < px[a]:
            t = (xs[i] - px[a]) / (px[b] - px[a])
            if py[a] + t * (py[b] - py[a]) > ys[i] + 1e-6:
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 500), st.integers(0, 500)),
        min_size=1,
        max_size=8,
        unique_by=lambda p: p[0],
    )
)
def test_hull_matches_brute_force(pairs: list[tuple[int, int]]) -> None:
    pairs.sort()
    xs = np.array([float(x) for x, _ in pairs])
    ys = np.array([float(y) for _, y in pairs])
    hull = set(concave_hull(xs, ys).tolist())
    for i in range(len(xs)):
        assert (i in hull) == _on_upper_hull(xs, ys, i)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.integers(1, 400), st.integers(0, 50)),
        min_size=1,
        max_size=10,
        unique_by=lambda p: p[0],
    )
)
def test_cleaned_landscape_is_increasing_and_concave(rows: list[tuple[int, int, int]]) -> None:
    points = pd.DataFrame(
        {
            "audience": "a",
            "channel": "search",
            "bid_multiplier": [m / 10 for m, _, _ in rows],
            "cost": [float(c) for _, c, _ in rows],
            "conversions": [float(n) for _, _, n in rows],
            "clicks": np.nan,
            "impressions": np.nan,
            "days": np.nan,
        }
    )
    landscape = clean_landscape(points, min_points=1)
    kept = landscape.points
    assert len(kept) + len(landscape.dropped) == len(rows)
    slopes = [b.conversions / b.cost if a is None else
              (b.conversions - a.conversions) / (b.cost - a.cost)
              for a, b in zip([None, *kept[:-1]], kept, strict=True)]  # fmt: skip
    assert all(s2 <= s1 + 1e-9 for s1, s2 in zip(slopes, slopes[1:], strict=False))
    for a, b in zip(kept, kept[1:], strict=False):
        assert a.bid_multiplier < b.bid_multiplier and a.cost < b.cost


def test_cli_cleans_and_writes_an_importable_csv(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    source = _export_csv(tmp_path / "simulations.csv")
    out = tmp_path / "clean.csv"
    result = CliRunner().invoke(
        app, ["landscapes", "clean", str(source), "--period-days", "7", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "dominated" in result.output and "below the concave hull" in result.output
    [landscape] = clean_landscapes(read_landscapes(out, "generic"))
    assert [p.bid_multiplier for p in landscape.points] == KEPT
    assert landscape.dropped == []  # already clean: a second pass drops nothing


def test_cli_bad_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    path = tmp_path / "bad.json"
    path.write_text("{not json")
    result = CliRunner().invoke(app, ["landscapes", "clean", str(path)])
    assert result.exit_code == 1
    assert "not valid JSON" in result.output and "Traceback" not in result.output
