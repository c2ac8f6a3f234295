"""Value tiers: the minimum segment size and the choice of ranking, by direct computation."""

import numpy as np
import pandas as pd
import pytest

from models.audiences.segments import assign_tiers, explained_share, merge_small_cells
from models.settings import TierSettings


def _cells(stage: list[str], tier: list[str], min_size: int) -> dict[tuple[str, str], int]:
    merged = merge_small_cells(pd.Series(stage), pd.Series(tier), min_size)
    return (
        pd.Series(1, index=pd.MultiIndex.from_arrays([stage, merged.astype(str)]))
        .groupby(level=[0, 1])
        .sum()
        .to_dict()
    )


def test_small_top_and_low_cells_join_mid_of_their_stage() -> None:
    stage = ["loyal"] * 8 + ["new"] * 3
    tier = ["top"] + ["mid"] * 5 + ["low"] * 2 + ["top", "top", "low"]
    assert _cells(stage, tier, 3) == {("loyal", "mid"): 8, ("new", "top"): 3}


def test_small_mid_joins_the_larger_neighbour_and_a_lone_stage_stays() -> None:
    stage = ["active"] * 9 + ["inactive"]
    tier = ["top"] * 3 + ["mid"] + ["low"] * 5 + ["top"]
    expected = {("active", "top"): 3, ("active", "low"): 6, ("inactive", "top"): 1}
    assert _cells(stage, tier, 3) == expected


def test_low_joins_top_when_mid_is_empty() -> None:
    assert _cells(["new"] * 5, ["top"] * 4 + ["low"], 2) == {("new", "top"): 5}


def test_explained_share_is_the_between_group_variance_share() -> None:
    values = pd.Series([1.0, 3.0, 10.0, 14.0])
    keys = pd.Series(["a", "a", "b", "b"])
    total = ((values - 7.0) ** 2).sum()
    between = 2 * (2.0 - 7.0) ** 2 + 2 * (12.0 - 7.0) ** 2
    assert explained_share(values, keys) == pytest.approx(between / total)


def test_auto_keeps_the_ranking_whose_segments_explain_more_of_the_value() -> None:
    rng = np.random.default_rng(3)
    n = 2_000
    value = rng.gamma(2.0, 10.0, n)
    frame = pd.DataFrame(
        {
            "stage": "loyal",
            "value_per_conversion": value,
            "clv": rng.permutation(value),  # unrelated to the value: tiers by it explain ~0
        }
    )
    tier, shares = assign_tiers(frame, TierSettings(by="auto"))
    assert shares["value_per_conversion"] > shares["clv"]
    by_value, _ = assign_tiers(frame, TierSettings(by="value_per_conversion"))
    assert tier.equals(by_value)
    top = frame["value_per_conversion"].rank(ascending=False) <= 0.2 * n
    assert (tier[top] == "top").all()
    _, only_clv = assign_tiers(frame, TierSettings(by="clv"))
    assert set(only_clv) == {"clv"}
