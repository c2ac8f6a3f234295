"""The decision harness (docs/decisions.md): plans scored by TRUE profit on a generated retailer.

A retailer is drawn with models.simulate; clvbid values its customers from the orders alone
(`Retailer.valuation`: the pipeline's own fit_models and value_customers); every policy gets
the same stage x tier segments, the same reach landscapes and the same budget; each plan is
scored by the true value of the conversions it buys minus its spend. Policies that bid values
are solved with `optimizer.solve`; budget-split rules take, per segment, the largest landscape
point their share of the budget pays for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.audiences.evaluation import customer_truth
from models.clv.value import discounted_purchases
from models.customers import LoadedOrders, customer_summary, load_orders
from models.settings import FIT_FIELDS, ValuationSettings
from models.simulate import SimulatedData, SimulationConfig, simulate
from models.simulate.config import MARKET_GROUPS
from models.valuation import FittedModels, Valuation, fit_models, value_customers
from optimizer import AllocationProblem, SolverSettings, solve
from optimizer.schema import Segment, SegmentChannel
from scenarios.assemble import DEFAULT_CONVERSION_RATE, reach_curve
from scenarios.pipeline import not_yet_due
from scenarios.schema import DetargetingOptions, Reach

CHANNEL = "ads"
# Revenue per ad euro at bid multiplier 1.0 (half of a segment reached, 2% of them convert):
# 4 is a common e-commerce target, the average of Google Ads is often quoted as 2. Higher
# bids buy more conversions at a lower ROAS (power curve). ROAS_SENSITIVITY reprices the
# same markets: 14 is the harness before 2026-11-30 (0.10 per reached customer).
BASE_ROAS = 4.0
ROAS_SENSITIVITY = (2.0, 8.0, 14.0)
ACQUISITION_WEEKS = 72.0  # first orders up to ~6 weeks before observation_end: `new` segments
BEST_SEGMENT_MIN_SHARE = 0.01  # of customers, for "all to the best segment"
BUDGET_SHARES = (0.10, 0.30, 0.60)  # of the maximum spend
SOLVER = SolverSettings(mip_gap=1e-7, explain=False)
# Tiers ranked by whichever of CLV and value per conversion explains more of the value (the
# library's default ranks by CLV, DESIGN.md's tier, which the movers rely on).
HARNESS_VALUATION: dict[str, Any] = {"tiers": {"by": "auto"}}
RULES = ("order_value", "revenue_share", "equal_split", "best_segment")
SWAPS = ("spend", "purchases_if_revived", "p_alive", "incrementality")
CLVBID_COLUMNS = [
    "stage",
    "tier",
    "value_per_conversion",
    "clv",
    "p_alive",
    "expected_order_value",
    "clv_if_alive",
    "clv_if_revived",
    "no_own_purchase_if_alive",
    "incrementality",
]


def clvbid_values(
    valuation: Valuation, detargeting: DetargetingOptions | None = None
) -> pd.DataFrame:
    """clvbid's values of the customers who ordered (CLVBID_COLUMNS, indexed by customer_id),
    without the customers the scenario runner's rule detargets (scenarios.pipeline.not_yet_due)
    when `detargeting` is given."""
    values = valuation.values[CLVBID_COLUMNS]
    if detargeting is None:
        return values
    out = not_yet_due(valuation, detargeting)["detargeted"]
    return values[~out.reindex(values.index, fill_value=False).astype(bool)]


def market_config(seed: int, n_customers: int, rhythm_shape: int = 1) -> SimulationConfig:
    """The harness's retailer: the four-group market (MARKET_GROUPS), no prospects."""
    return SimulationConfig(
        n_customers=n_customers,
        n_prospects=0,
        seed=seed,
        acquisition_weeks=ACQUISITION_WEEKS,
        groups=MARKET_GROUPS,
        rhythm_shape=rhythm_shape,
    )


@dataclass
class Retailer:
    """A generated retailer and what every valuation of it shares: its orders loaded, each
    customer's order facts and truth, and the valuations made so far. Fits are cached as the
    scenario runner caches them (a fit reads only the FIT_FIELDS settings), so valuations
    that differ in tiers or CLV terms fit once; each valuation goes through the pipeline's
    own steps (models.valuation.fit_models, value_customers: value_orders in two halves)."""

    config: SimulationConfig
    data: SimulatedData
    loaded: LoadedOrders
    facts: pd.DataFrame
    fits: dict[str, FittedModels] = field(default_factory=dict)
    valuations: dict[str, Valuation] = field(default_factory=dict)

    def settings(self, overrides: Mapping[str, Any] | None = None) -> ValuationSettings:
        """The harness's valuation settings (the generator's as_of, margin, discount and
        window; HARNESS_VALUATION) with `overrides`."""
        config = self.config
        return ValuationSettings(
            as_of=config.observation_end,
            margin=config.clv_margin,
            monthly_discount_rate=config.clv_monthly_discount,
            campaign_window_days=config.campaign_window_days,
            **{**HARNESS_VALUATION, **(overrides or {})},
        )

    def valuation(self, settings: ValuationSettings) -> Valuation:
        """clvbid's valuation of the orders under `settings`, fitted once per fit settings."""
        key = settings.model_dump_json()
        if key not in self.valuations:
            fit_key = settings.model_dump_json(include=set(FIT_FIELDS))
            if fit_key not in self.fits:
                self.fits[fit_key] = fit_models(self.loaded, settings)
            self.valuations[key] = value_customers(self.fits[fit_key], settings)
        return self.valuations[key]


def generate(config: SimulationConfig) -> Retailer:
    """Draw the retailer of `config` and join, per customer who ordered, the order facts a
    rule of thumb uses (total spend, orders up to observation_end) and the truth."""
    data = simulate(config)
    loaded = load_orders(data.orders)
    summary = customer_summary(loaded, as_of=config.observation_end)
    truth = customer_truth(loaded, data, summary.index)
    facts = pd.DataFrame(
        {
            "total_spend": summary["total_spend"],
            "orders": summary["orders"],
            "true_alive": truth["alive_at_observation_end"].astype(float),
            "true_lambda": truth["lambda_per_week"],
            "true_dropout_p": truth["dropout_p"],
            "true_order_value": truth["mean_order_value"],
            "true_no_own_order": truth["p_no_own_order_in_window"],
            "true_clv_if_revived": truth["clv_if_revived"],
            "true_responsiveness": truth["ad_responsiveness"],
            "true_value_per_conversion": truth["value_per_conversion"],
            "true_value": truth["ad_responsiveness"] * truth["value_per_conversion"],
        },
        index=summary.index,
    )
    return Retailer(config=config, data=data, loaded=loaded, facts=facts)


@dataclass(frozen=True)
class Market:
    """One retailer as the policies see it: per customer (index customer_id) clvbid's values
    (CLVBID_COLUMNS), `segment`, the order facts a rule of thumb uses (`total_spend`,
    `orders`), and the truth (`true_*` columns; `true_value` = responsiveness x value of one
    more conversion, the value an average landscape conversion of this customer brings)."""

    customers: pd.DataFrame
    margin: float

    @property
    def mean_order_value(self) -> float:
        """Revenue per order observed up to as_of, over every customer."""
        return float(self.customers["total_spend"].sum() / self.customers["orders"].sum())

    def reach(self, base_roas: float = BASE_ROAS) -> Reach:
        """The harness's reach landscape priced so that at bid multiplier 1.0 one conversion
        costs the mean order value / `base_roas`: the price of ads follows the retailer's
        basket, as a planner's ROAS target does."""
        cost = DEFAULT_CONVERSION_RATE * self.mean_order_value / base_roas
        return Reach(cost_per_reached_customer=cost, conversion_rate=DEFAULT_CONVERSION_RATE)

    def segments(self) -> pd.DataFrame:
        """Per stage x tier segment: size, clvbid's and the true mean value per conversion,
        the order-value rule's value, past revenue and revenue per customer."""
        frame = self.customers.assign(
            order_value=self.margin * self.customers["total_spend"] / self.customers["orders"]
        )
        table = frame.groupby("segment").agg(
            stage=("stage", "first"),
            tier=("tier", "first"),
            size=("true_value", "size"),
            clvbid=("value_per_conversion", "mean"),
            truth=("true_value", "mean"),
            order_value=("order_value", "mean"),
            revenue=("total_spend", "sum"),
        )
        table["revenue_per_customer"] = table["revenue"] / table["size"]
        return table


def build_market(
    source: SimulationConfig | Retailer,
    detargeting: DetargetingOptions | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Market:
    """Value the retailer (generated from `source` when it is a config) with clvbid at
    `observation_end` and join the truth.

    `overrides` are valuation settings other than the harness's (to measure what each part of
    the valuation contributes, e.g. `{"spend_model": "gamma_gamma"}`)."""
    retailer = source if isinstance(source, Retailer) else generate(source)
    values = clvbid_values(retailer.valuation(retailer.settings(overrides)), detargeting)
    frame = values.assign(
        segment=values["stage"].astype(str) + "-" + values["tier"].astype(str),
        stage=values["stage"].astype(str),
        tier=values["tier"].astype(str),
    ).join(retailer.facts)
    return Market(customers=frame, margin=retailer.config.clv_margin)


def hybrid_values(market: Market, swaps: Iterable[str]) -> pd.Series:
    """clvbid's value per conversion with the parts named in `swaps` (SWAPS) taken from the
    truth, per customer; no swap gives clvbid's formula, every swap gives the truth for
    Poisson buying.

    clvbid's formula (models/clv/value.py): P(alive) x P(no own order in the window | alive)
    x margin x order + (1 - P(alive)) x (margin x order + CLV-if-revived), CLV-if-revived =
    margin x order x discounted purchases of the revived customer.
    """
    swaps = set(swaps)
    unknown = swaps - set(SWAPS)
    if unknown:
        raise ValueError(f"unknown swaps {sorted(unknown)}; choose from {SWAPS}")
    c, margin = market.customers, market.margin
    order = c["true_order_value"] if "spend" in swaps else c["expected_order_value"]
    if "purchases_if_revived" in swaps:
        purchases = c["true_clv_if_revived"] / (margin * c["true_order_value"])
    else:
        purchases = c["clv_if_revived"] / (margin * c["expected_order_value"])
    p_alive = c["true_alive"] if "p_alive" in swaps else c["p_alive"]
    no_own = c["true_no_own_order"] if "incrementality" in swaps else c["no_own_purchase_if_alive"]
    order_margin = margin * order
    return p_alive * no_own * order_margin + (1 - p_alive) * order_margin * (1 + purchases)


def landscapes(segments: pd.DataFrame, reach: Reach) -> dict[str, SegmentChannel]:
    """Each segment's landscape on the one channel: the reach curve scaled by its size."""
    return {
        str(segment): SegmentChannel(channel=CHANNEL, curve=reach_curve(reach, int(size), None))
        for segment, size in segments["size"].items()
    }


def max_spend(channels: dict[str, SegmentChannel]) -> float:
    """Spend when every segment buys its most expensive landscape point."""
    return float(sum(channel.points[-1].cost for channel in channels.values()))


def value_plan(
    segments: pd.DataFrame,
    channels: dict[str, SegmentChannel],
    values: pd.Series,
    budget: float,
) -> pd.DataFrame:
    """The profit-maximising plan (optimizer.solve) when each segment's conversion is worth
    `values[segment]` (negative values count as 0); per segment spend and conversions."""
    problem = AllocationProblem(
        objective="profit",
        budget={"total": budget},
        segments=[
            Segment(
                id=segment,
                stage=str(segments.loc[segment, "stage"]),
                tier=str(segments.loc[segment, "tier"]),
                size=int(segments.loc[segment, "size"]),
                value_per_conversion=max(float(values[segment]), 0.0),
                channels=[channel],
            )
            for segment, channel in channels.items()
        ],
    )
    result = solve(problem, SOLVER)
    if result.status not in ("optimal", "feasible"):
        raise RuntimeError(f"the optimizer returned {result.status}: {result.message}")
    rows = {a.segment: (a.spend, a.conversions) for a in result.allocations}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["spend", "conversions"])


def split_plan(channels: dict[str, SegmentChannel], budgets: pd.Series) -> pd.DataFrame:
    """Per segment the most expensive landscape point its budget pays for (none if none)."""
    rows = {}
    for segment, channel in channels.items():
        affordable = [p for p in channel.points if p.cost <= budgets.get(segment, 0.0) + 1e-9]
        best = affordable[-1] if affordable else None
        rows[segment] = (0.0, 0.0) if best is None else (best.cost, best.conversions)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["spend", "conversions"])


def rule_plan(
    rule: str, segments: pd.DataFrame, channels: dict[str, SegmentChannel], budget: float
) -> pd.DataFrame:
    """The plan of a rule of thumb (RULES; definitions in docs/decisions.md)."""
    if rule == "order_value":
        return value_plan(segments, channels, segments["order_value"], budget)
    if rule == "revenue_share":
        return split_plan(channels, budget * segments["revenue"] / segments["revenue"].sum())
    if rule == "equal_split":
        return split_plan(channels, pd.Series(budget / len(segments), index=segments.index))
    if rule == "best_segment":
        large = segments["size"] >= BEST_SEGMENT_MIN_SHARE * segments["size"].sum()
        best = segments.loc[large, "revenue_per_customer"].idxmax()
        return split_plan(channels, pd.Series({best: budget}))
    raise ValueError(f"unknown rule {rule!r}; choose from {RULES}")


def true_profit(plan: pd.DataFrame, segments: pd.DataFrame) -> float:
    """True value of the plan's conversions (segment true mean per conversion) minus spend."""
    truth = segments["truth"].reindex(plan.index)
    return float((plan["conversions"] * truth - plan["spend"]).sum())


def segment_values(market: Market, per_customer: pd.Series) -> pd.Series:
    """Mean of a per-customer value over each segment."""
    return per_customer.groupby(market.customers["segment"]).mean()


@dataclass(frozen=True)
class Scores:
    """True profit of every policy at one budget, and the budget."""

    budget: float
    profit: dict[str, float]

    @property
    def best_rule(self) -> str:
        """The rule of thumb with the highest true profit."""
        return max(RULES, key=lambda rule: self.profit[rule])

    def regret(self, policy: str = "clvbid") -> float:
        """Share of the oracle's true profit that `policy` loses."""
        return 1.0 - self.profit[policy] / self.profit["oracle"]

    def margin_over_rules(self, policy: str = "clvbid") -> float:
        """How much more true profit `policy` makes than the best rule, relative to it."""
        best = self.profit[self.best_rule]
        return (self.profit[policy] - best) / abs(best)


def score_policies(
    market: Market,
    budget_share: float,
    swaps: dict[str, Iterable[str]] | None = None,
    base_roas: float = BASE_ROAS,
) -> Scores:
    """True profit of clvbid, the oracle, every rule and every named swap set at one budget,
    on landscapes priced at `base_roas` (Market.reach)."""
    segments = market.segments()
    channels = landscapes(segments, market.reach(base_roas))
    budget = budget_share * max_spend(channels)
    values = {"clvbid": segments["clvbid"], "oracle": segments["truth"]}
    for name, parts in (swaps or {}).items():
        values[name] = segment_values(market, hybrid_values(market, parts))
    profit = {
        name: true_profit(value_plan(segments, channels, value, budget), segments)
        for name, value in values.items()
    }
    for rule in RULES:
        profit[rule] = true_profit(rule_plan(rule, segments, channels, budget), segments)
    return Scores(budget=budget, profit=profit)


def revival_definition_ratio(market: Market, settings: ValuationSettings) -> float:
    """Mean over customers of clvbid's discounted purchases after a revival computed on their
    TRUE lambda and p (a live BG/NBD customer makes (1 - e^(-lambda p t)) / p purchases in t,
    discounted per calendar month over the horizon of `settings`) over the generator's
    (models/simulate/conversion.py): 1 when both define CLV-if-revived alike, so what is left
    of clvbid's revival error comes from its estimates of lambda and p."""
    c = market.customers
    rate = (c["true_lambda"] * c["true_dropout_p"]).to_numpy()
    dropout = c["true_dropout_p"].to_numpy()
    ours = discounted_purchases(
        lambda t: -np.expm1(-rate * t) / dropout,
        horizon_months=settings.horizon_months,
        monthly_discount_rate=settings.monthly_discount_rate,
        time_unit="weeks",
    )
    truth = (c["true_clv_if_revived"] / (market.margin * c["true_order_value"])).to_numpy()
    return float(np.mean(ours / truth))
