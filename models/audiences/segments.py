"""Value tiers and the segment CLV table (lifecycle stage x value tier) the optimizer consumes.

Each row is one optimizer segment (id like `loyal-top`, stage, tier, kind, size,
value_per_conversion) with its CLV: mean and total with a 95% delta-method interval over the
fitted parameters, mean P(alive) and mean expected purchases over the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.clv.gamma_gamma import GammaGammaModel
from models.clv.spend import expected_order_value
from models.clv.value import PurchaseModel, clv_factors, customer_value, new_customer_value
from models.settings import TierSettings, ValuationSettings
from models.vocabulary import PROSPECT_SEGMENT, PROSPECT_TIER, STAGES, TIERS

Z_95 = 1.959963984540054
REQUIRED_COLUMNS = ["frequency", "recency", "T", "monetary_value", "stage"]

SEGMENT_COLUMNS = [
    "id",
    "stage",
    "tier",
    "kind",
    "size",
    "clv_mean",
    "clv_mean_low",
    "clv_mean_high",
    "clv_total",
    "clv_total_low",
    "clv_total_high",
    "p_alive_mean",
    "expected_purchases_mean",
    "value_per_conversion",
]


def value_tiers(clv: pd.Series, tiers: TierSettings | None = None) -> pd.Series:
    """`top` for the top 20% by `clv` (or any value), `mid` for the next 30%, `low` for the
    rest (ties by order; shares from `tiers`)."""
    tiers = tiers or TierSettings()
    share = clv.rank(ascending=False, method="first") / max(len(clv), 1)
    mid_end = tiers.top_share + tiers.mid_share
    tier = np.where(share <= tiers.top_share, "top", np.where(share <= mid_end, "mid", "low"))
    return pd.Series(pd.Categorical(tier, categories=TIERS), index=clv.index, name="tier")


def merge_small_cells(stage: pd.Series, tier: pd.Series, min_size: int) -> pd.Series:
    """Each stage x tier cell smaller than `min_size` joins the neighbouring tier of its stage:
    `top` and `low` join `mid`; `mid` joins the larger of `top` and `low`; smallest cell first,
    until every cell of the stage has `min_size` customers or the stage is one cell. A cell
    with no neighbour left joins the nearest non-empty tier (low -> top when mid is empty)."""
    merged = tier.astype(str).copy()
    for name in stage.unique():
        members = stage == name
        while True:
            sizes = merged[members].value_counts()
            small = sizes[sizes < min_size]
            if small.empty or len(sizes) == 1:
                break
            cell = str(small.idxmin())
            merged[members & (merged == cell)] = _neighbour(cell, sizes)
    return pd.Series(pd.Categorical(merged, categories=TIERS), index=tier.index, name="tier")


def _neighbour(cell: str, sizes: pd.Series) -> str:
    """The tier a too-small `cell` joins among the non-empty tiers `sizes` of its stage."""
    others = [tier for tier in TIERS if tier != cell and sizes.get(tier, 0) > 0]
    if cell != "mid" and "mid" in others:
        return "mid"
    return max(others, key=lambda tier: sizes[tier])


def explained_share(values: pd.Series, keys: pd.Series) -> float:
    """Share of the variance of `values` explained by the groups `keys` (between-group sum of
    squares / total): how much of customers' value the segment means carry."""
    total = float(((values - values.mean()) ** 2).sum())
    if total <= 0:
        return 1.0
    means = values.groupby(keys).transform("mean")
    return float(((means - values.mean()) ** 2).sum() / total)


def assign_tiers(values: pd.DataFrame, tiers: TierSettings) -> tuple[pd.Series, dict[str, float]]:
    """Each customer's tier (by `tiers.by`, small cells merged) and, per ranking tried, the
    share of the variance of value per conversion its stage x tier segments explain; `auto`
    keeps the ranking with the higher share (TierSettings)."""
    bases = ("clv", "value_per_conversion") if tiers.by == "auto" else (tiers.by,)
    candidates = {
        basis: merge_small_cells(
            values["stage"], value_tiers(values[basis], tiers), tiers.min_segment_size
        )
        for basis in bases
    }
    shares = {
        basis: explained_share(values["value_per_conversion"], values["stage"] + tier.astype(str))
        for basis, tier in candidates.items()
    }
    return candidates[max(shares, key=shares.__getitem__)], shares


def top_tier_share(values: pd.DataFrame, tiers: TierSettings) -> float:
    """Share of total CLV held by the best `tiers.top_share` of customers by CLV (the Pareto
    share of DESIGN.md): the top tier as ranked by CLV, whether or not the segments keep it
    (tiers ranked by value per conversion, or a top cell merged for being small)."""
    total = values["clv"].sum()
    in_top = value_tiers(values["clv"], tiers) == "top"
    return float(values.loc[in_top, "clv"].sum() / total) if total > 0 else 0.0


def customer_values(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    customers: pd.DataFrame,
    settings: ValuationSettings | None = None,
) -> pd.DataFrame:
    """Per-customer CLV, value per conversion, stage and tier for customers who have ordered.

    `customers` is indexed by customer_id with frequency, recency, T (model time unit),
    monetary_value and stage; prospects (no orders) are left out here.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in customers.columns]
    if missing:
        raise ValueError(
            f"customers frame lacks column(s) {missing}; it needs {REQUIRED_COLUMNS} "
            "(see models.customers.customer_table)"
        )
    ordered = customers[customers["stage"].astype(str) != "prospect"]
    values = customer_value(purchases, spend, ordered, settings)
    values.insert(0, "stage", ordered["stage"].astype(str))
    values["tier"], shares = assign_tiers(values, (settings or ValuationSettings()).tiers)
    values.attrs["tier_explained_share"] = shares
    return values


def segment_table(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    customers: pd.DataFrame,
    settings: ValuationSettings | None = None,
    segment: pd.Series | None = None,
    *,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per segment: stage x tier by default, or by `segment` (each customer's segment
    id, e.g. after movers are carved out; rows whose id is not a stage x tier id have no stage
    or tier), plus `prospect-all` when prospects are present.

    `values` are the `customer_values` of these models, customers and settings when the
    caller has them already (the valuation does), so they are not computed twice.
    Intervals: delta method on the mean and total CLV of each segment, from the parameter
    covariance of both fitted models (independent fits, so the covariance is block-diagonal).
    """
    settings = settings or ValuationSettings()
    if values is None:
        values = customer_values(purchases, spend, customers, settings)
    default = values["stage"] + "-" + values["tier"].astype(str)
    keys = default if segment is None else segment.reindex(values.index).fillna(default)
    table = values.groupby(keys, sort=False).agg(
        stage=("stage", "first"),
        tier=("tier", "first"),
        size=("clv", "size"),
        clv_mean=("clv", "mean"),
        clv_total=("clv", "sum"),
        p_alive_mean=("p_alive", "mean"),
        expected_purchases_mean=("expected_purchases", "mean"),
        value_per_conversion=("value_per_conversion", "mean"),
    )
    standard_error = _delta_method_total_se(purchases, spend, customers, settings, keys)
    table["clv_total_low"] = table["clv_total"] - Z_95 * standard_error[table.index]
    table["clv_total_high"] = table["clv_total"] + Z_95 * standard_error[table.index]
    table["clv_mean_low"] = table["clv_total_low"] / table["size"]
    table["clv_mean_high"] = table["clv_total_high"] / table["size"]
    table["tier"] = table["tier"].astype(str)
    table["kind"] = "customers"
    table["id"] = table.index.astype(str)
    derived = table["id"] != table["stage"].str.cat(table["tier"], sep="-")
    table.loc[derived, ["stage", "tier"]] = None
    table = pd.concat([_prospect_row(purchases, spend, customers, settings), table])
    table["order"] = table["stage"].map({s: i for i, s in enumerate(STAGES)}).fillna(len(STAGES))
    table["tier_order"] = table["tier"].map({t: i for i, t in enumerate(TIERS)})
    table = table.sort_values(["order", "tier_order", "id"]).reset_index(drop=True)
    table.attrs.update(
        top_tier_clv_share=top_tier_share(values, settings.tiers),
        tier_explained_share=values.attrs["tier_explained_share"],
        settings=settings,
    )
    return table[SEGMENT_COLUMNS]


def _prospect_row(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    customers: pd.DataFrame,
    settings: ValuationSettings,
) -> pd.DataFrame:
    """The `prospect-all` segment valued as newly acquired customers (empty without prospects)."""
    size = int((customers["stage"].astype(str) == "prospect").sum())
    if size == 0:
        return pd.DataFrame(columns=["id", "stage", "tier", "kind", "size"])
    value = new_customer_value(purchases, spend, settings)
    row = {
        "id": PROSPECT_SEGMENT,
        "stage": "prospect",
        "tier": PROSPECT_TIER,
        "kind": "prospects",
        "size": size,
        "clv_mean": value,
        "clv_total": value * size,
        "p_alive_mean": np.nan,
        "expected_purchases_mean": np.nan,
        "value_per_conversion": value,
    }
    return pd.DataFrame([row])


def _positive_semidefinite(covariance: np.ndarray) -> bool:
    """Whether a parameter covariance is one (eigenvalues non-negative up to rounding): the
    inverse Hessian of a fit stopped on a parameter bound is not, and gives no interval."""
    eigenvalues = np.linalg.eigvalsh(covariance)
    return bool(eigenvalues.min() >= -1e-9 * max(np.abs(eigenvalues).max(), 1e-300))


def _delta_method_total_se(
    purchases: PurchaseModel,
    spend: GammaGammaModel,
    customers: pd.DataFrame,
    settings: ValuationSettings,
    keys: pd.Series,
) -> pd.Series:
    """SE of each segment's total CLV: sqrt(J Sigma J') with J by forward differences.

    CLV = P(alive) x discounted purchases if alive (purchase model) x margin x order (spend
    model): moving one model's parameters recomputes only that model's factor."""
    ordered = customers[customers["stage"].astype(str) != "prospect"]
    p_alive, discounted = clv_factors(purchases, ordered, settings)
    order_margin = settings.margin * expected_order_value(spend, ordered)

    def totals(alive: np.ndarray, purchases_if_alive: np.ndarray, margin: np.ndarray) -> pd.Series:
        """Each segment's total CLV from the three factors."""
        clv = alive * (margin * purchases_if_alive)
        return pd.Series(clv, index=ordered.index).groupby(keys).sum()

    def moved_purchases(model: PurchaseModel) -> pd.Series:
        """Totals with the purchase model's parameters moved."""
        return totals(*clv_factors(model, ordered, settings), order_margin)

    def moved_spend(model: GammaGammaModel) -> pd.Series:
        """Totals with the spend model's parameters moved."""
        return totals(p_alive, discounted, settings.margin * expected_order_value(model, ordered))

    base = totals(p_alive, discounted, order_margin)
    variance = pd.Series(0.0, index=base.index)
    rebuilds = ((purchases, moved_purchases), (spend, moved_spend))
    for model, rebuild in rebuilds:
        params = model.params_
        jacobian = np.empty((len(base), len(params)))
        for i, name in enumerate(params.index):
            step = 1e-5 * params[name]
            moved = params.copy()
            moved[name] += step
            jacobian[:, i] = (rebuild(model.with_params(moved)) - base).to_numpy() / step
        covariance = np.nan_to_num(model.covariance_.to_numpy())
        if not _positive_semidefinite(covariance):  # a fit on a parameter bound: no interval
            return pd.Series(np.nan, index=base.index)
        variance += np.einsum("ij,jk,ik->i", jacobian, covariance, jacobian)
    return np.sqrt(variance.clip(lower=0.0))
