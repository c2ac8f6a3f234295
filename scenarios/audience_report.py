"""The audiences behind a scenario's segments, as JSON-ready figures and report tables: the
MVC profile, the lookalike audiences, the segments on the move and detargeting."""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.audiences.detargeting import detargeting_report
from scenarios.runner import VariantRun


def audience_figures(run: VariantRun) -> dict[str, Any]:
    """The variant's audience figures: `mvc` always; `lookalikes`, `movers` and
    `detargeting` when the scenario formed them (else None)."""
    formed = run.formed
    detargeted = formed.detargeted
    return {
        "mvc": run.customers.mvc.model_dump(),
        "lookalikes": None if formed.lookalikes is None else formed.lookalikes.model_dump(),
        "movers": None if formed.movers is None else formed.movers.model_dump(),
        "detargeting": None if detargeted is None else detargeting_report(detargeted).model_dump(),
    }


def mvc_rows(figures: dict[str, Any]) -> pd.DataFrame:
    """The MVC group next to all customers, in plain numbers."""
    mvc = figures["mvc"]
    measures = [
        ("customers", "mvc_customers", "customers"),
        ("median orders", "median_orders", "median_orders_all"),
        ("median basket", "median_basket", "median_basket_all"),
        ("median channels", "median_channels", "median_channels_all"),
        (
            "median days since last order",
            "median_days_since_last_order",
            "median_days_since_last_order_all",
        ),
    ]
    rows = [{"measure": name, "MVC": mvc[top], "all": mvc[every]} for name, top, every in measures]
    rows.append({"measure": "share of revenue", "MVC": mvc["revenue_share"], "all": 1.0})
    return pd.DataFrame(rows)


def lookalike_rows(figures: dict[str, Any]) -> pd.DataFrame | None:
    """One row per lookalike audience: size, expected conversion rate, expected CLV (value per
    conversion), lift over an average prospect and the classifier's holdout AUC."""
    report = figures["lookalikes"]
    if report is None:
        return None
    return pd.DataFrame(
        [
            {
                "audience": audience["id"],
                "size": audience["size"],
                "expected conversion rate": audience["expected_conversion_rate"],
                "expected CLV": audience["value_per_conversion"],
                "lift": audience["lift"],
                "holdout AUC": report["holdout_auc"],
            }
            for audience in report["audiences"]
        ]
    )


def mover_rows(figures: dict[str, Any]) -> pd.DataFrame | None:
    """Customers per move with their mean CLV then and now."""
    report = figures["movers"]
    if report is None:
        return None
    return pd.DataFrame(
        [
            {
                "move": move["move"],
                "customers": move["customers"],
                "CLV at start": move["clv_start_mean"],
                "CLV now": move["clv_end_mean"],
            }
            for move in report["moves"]
        ]
    )


def detargeting_rows(figures: dict[str, Any]) -> pd.DataFrame | None:
    """How many customers detargeting left out and the spend that saves."""
    report = figures["detargeting"]
    if report is None:
        return None
    return pd.DataFrame(
        [
            {
                "customers": report["customers"],
                "detargeted": report["detargeted"],
                "mean days left out": report["mean_days_left_out"],
                "spend saved": report["spend_saved"],
            }
        ]
    )
