"""Lookalike audiences: prospects scored by how much they resemble the best customers.

A scikit-learn classifier learns, from customer attributes (age band, region, household type,
income band), to tell the seed (customers whose value over their first horizon after
acquisition is in the top tier) from the rest; it scores prospects, and the top 1%, 5% and 10%
become nested audiences of one seed. The classifier's score is mapped to euros by isotonic
regression of the customers' realised first-horizon value on their score, so an audience's
expected CLV is the mean calibrated value of the prospects it holds (Zadrozny & Elkan 2002,
"Transforming classifier scores into accurate multiclass probability estimates").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from models.clv.value import DAYS_PER_MONTH
from models.customers.orders import LoadedOrders, OrdersInput, Source, as_loaded
from models.customers.summary import reference_day
from models.reports import LookalikeAudience, LookalikeReport, NegativePersona
from models.settings import ValuationSettings

ATTRIBUTES = ("age_band", "region", "household_type", "income_band")


class LookalikeError(ValueError):
    """The data cannot support a lookalike model (no attributes, too few customers, ...)."""


@dataclass(frozen=True)
class LookalikeSettings:
    """What the seed is, how large the audiences are and what a conversion is worth.

    The seed is the top `seed_share` of mature customers (first order at least one horizon
    before `as_of`) by realised first-horizon value. `conversion_rate` is the share of reached
    average prospects who convert (from campaign history); an audience converts at that rate
    times its lift. Profiles (`persona_attributes`) whose customers bring less than
    `acquisition_cost` euros on average (at least `min_persona_customers` of them) are negative
    personas: their prospects are left out of every audience.
    """

    attributes: tuple[str, ...] = ATTRIBUTES
    seed_name: str = "top"
    seed_share: float = 0.2
    audience_shares: tuple[float, ...] = (0.01, 0.05, 0.10)
    conversion_rate: float = 0.01
    acquisition_cost: float = 0.0
    persona_attributes: tuple[str, ...] = ATTRIBUTES
    min_persona_customers: int = 30
    holdout_share: float = 0.3
    random_state: int = 0
    value: ValuationSettings = field(default_factory=ValuationSettings)

    def __post_init__(self) -> None:
        if not 0 < self.seed_share < 1:
            raise ValueError(f"seed_share must be within (0, 1), not {self.seed_share}")
        shares = self.audience_shares
        if not shares or any(not 0 < s <= 1 for s in shares) or list(shares) != sorted(shares):
            raise ValueError(f"audience_shares must increase within (0, 1], not {shares}")
        if not 0 <= self.conversion_rate <= 1:
            raise ValueError(f"conversion_rate must be within [0, 1], not {self.conversion_rate}")
        if self.acquisition_cost < 0:
            raise ValueError(f"acquisition_cost must be >= 0, not {self.acquisition_cost}")
        if not 0 < self.holdout_share < 1:
            raise ValueError(f"holdout_share must be within (0, 1), not {self.holdout_share}")
        missing = set(self.persona_attributes) - set(self.attributes)
        if missing:
            raise ValueError(f"persona_attributes {sorted(missing)} are not model attributes")


@dataclass(frozen=True)
class Lookalikes:
    """The report plus per-prospect scores: `prospects` is indexed by unified customer_id with
    the attributes, `score`, `expected_clv`, `negative_persona` and `audience_share` (the
    smallest audience holding the prospect, NaN when in none)."""

    report: LookalikeReport
    prospects: pd.DataFrame
    model: Pipeline
    calibration: IsotonicRegression

    def members(self, audience_id: str) -> pd.Index:
        """Customer ids of the prospects in one audience."""
        audience = next(a for a in self.report.audiences if a.id == audience_id)
        return self.prospects.index[self.prospects["audience_share"] <= audience.share]


def first_horizon_value(
    loaded: LoadedOrders, as_of: pd.Timestamp, settings: ValuationSettings
) -> pd.Series:
    """Realised discounted margin of each mature customer over the horizon after their first order.

    Mature: the first order is at least one horizon before `as_of`, so the horizon is fully
    observed. Each order counts margin x amount / (1 + monthly rate)^(months since the first
    order): the definition of the CLV of a newly acquired customer, measured instead of modelled.
    """
    frame = loaded.connection.execute(
        """WITH firsts AS (SELECT customer_id, epoch(min(timestamp)) AS first_s FROM orders
                           WHERE timestamp < $end GROUP BY customer_id)
        SELECT o.customer_id,
               $margin * sum(o.amount * pow(1 + $rate, -(epoch(o.timestamp) - f.first_s)
                                                       / $seconds_per_month)) AS value
        FROM orders o JOIN firsts f USING (customer_id)
        WHERE f.first_s + $horizon <= epoch($end) AND epoch(o.timestamp) < f.first_s + $horizon
        GROUP BY o.customer_id ORDER BY o.customer_id""",
        {
            "end": (as_of + pd.Timedelta(days=1)).to_pydatetime(),
            "margin": settings.margin,
            "rate": settings.monthly_discount_rate,
            "seconds_per_month": DAYS_PER_MONTH * 86400.0,
            "horizon": settings.horizon_months * DAYS_PER_MONTH * 86400.0,
        },
    ).df()
    return frame.set_index("customer_id")["value"].astype(float)


def contact_attributes(loaded: LoadedOrders, attributes: tuple[str, ...]) -> pd.DataFrame:
    """One row of attributes per unified customer (their first contact record with any)."""
    contacts = loaded.contacts()
    missing = [a for a in attributes if a not in contacts.columns]
    if missing:
        raise LookalikeError(
            f"the contacts have no attribute column(s) {missing}; columns are "
            f"{list(contacts.columns)}"
        )
    frame = contacts[["customer_id", *attributes]].dropna(subset=list(attributes), how="all")
    frame = frame.drop_duplicates("customer_id").set_index("customer_id")
    return frame.astype(str).replace("nan", "unknown")


def _seed_labels(values: pd.Series, share: float) -> pd.Series:
    """True for the top `share` of customers by value (ties broken by order)."""
    rank = values.rank(ascending=False, method="first")
    return rank <= np.ceil(share * len(values))


def _classifier(random_state: int) -> Pipeline:
    """One-hot attributes into an L2-regularised logistic regression."""
    return make_pipeline(
        OneHotEncoder(handle_unknown="ignore"),
        LogisticRegression(max_iter=1000, random_state=random_state),
    )


def _lift_at(labels: np.ndarray, scores: np.ndarray, share: float) -> float:
    """Seed share among the top `share` by score over the seed share overall."""
    top = np.argsort(-scores, kind="stable")[: max(1, int(np.ceil(share * len(scores))))]
    base = labels.mean()
    return float(labels[top].mean() / base) if base > 0 else float("nan")


def _negative_personas(
    customers: pd.DataFrame, prospects: pd.DataFrame, settings: LookalikeSettings
) -> tuple[list[NegativePersona], pd.Series]:
    """Profiles whose customers' mean first-horizon value is below the acquisition cost, and a
    per-prospect flag for belonging to one."""
    keys = list(settings.persona_attributes)

    def profile(frame: pd.DataFrame) -> pd.Series:
        key = frame[keys[0]].astype(str)
        for column in keys[1:]:
            key = key + "\x00" + frame[column].astype(str)
        return key

    grouped = customers.groupby(profile(customers))["value"].agg(["size", "mean"])
    negative = grouped[
        (grouped["size"] >= settings.min_persona_customers)
        & (grouped["mean"] < settings.acquisition_cost)
    ]
    prospect_profiles = profile(prospects)
    flagged = prospect_profiles.isin(negative.index)
    counts = prospect_profiles.value_counts()
    personas = [
        NegativePersona(
            profile=dict(zip(keys, str(key).split("\x00"), strict=True)),
            customers=int(row["size"]),
            mean_value=float(row["mean"]),
            prospects_excluded=int(counts.get(key, 0)),
        )
        for key, row in negative.iterrows()
    ]
    return personas, flagged


def lookalike_audiences(
    orders: OrdersInput,
    *,
    contacts: Source | None = None,
    as_of: object | None = None,
    settings: LookalikeSettings | None = None,
) -> Lookalikes:
    """Train the seed classifier on customers, score the prospects, build the nested audiences.

    `orders` (with `contacts` carrying the attribute columns, or already loaded with them):
    prospects are the contacts with no order by `as_of` (default: the day of the last order).
    """
    settings = settings or LookalikeSettings()
    loaded = as_loaded(orders, contacts)
    if not loaded.has_contacts:
        raise LookalikeError("lookalikes need contacts with customer attributes")
    day = reference_day(loaded, as_of)
    attributes = contact_attributes(loaded, settings.attributes)
    values = first_horizon_value(loaded, day, settings.value)
    customers = attributes.join(values.rename("value"), how="inner")
    ordered = loaded.connection.execute(
        "SELECT DISTINCT customer_id FROM orders WHERE day <= ?", [day.date()]
    ).df()["customer_id"]
    prospects = attributes[~attributes.index.isin(ordered)].copy()
    if len(customers) < 100 or customers["value"].nunique() < 2:
        raise LookalikeError(
            f"only {len(customers)} customers with attributes and a full "
            f"{settings.value.horizon_months}-month history by {day.date()}; need at least 100"
        )
    if prospects.empty:
        raise LookalikeError(f"no prospects (contacts without orders by {day.date()})")

    labels = _seed_labels(customers["value"], settings.seed_share)
    features = customers[list(settings.attributes)]
    train_x, test_x, train_y, test_y = train_test_split(
        features,
        labels,
        test_size=settings.holdout_share,
        random_state=settings.random_state,
        stratify=labels,
    )
    model = _classifier(settings.random_state).fit(train_x, train_y)
    test_scores = model.predict_proba(test_x)[:, 1]
    scores = model.predict_proba(features)[:, 1]
    calibration = IsotonicRegression(out_of_bounds="clip").fit(scores, customers["value"])

    prospects["score"] = model.predict_proba(prospects[list(settings.attributes)])[:, 1]
    prospects["expected_clv"] = calibration.predict(prospects["score"].to_numpy())
    personas, prospects["negative_persona"] = _negative_personas(customers, prospects, settings)
    audiences = _audiences(prospects, settings)
    report = LookalikeReport(
        seed=settings.seed_name,
        as_of=day.date().isoformat(),
        seed_customers=int(labels.sum()),
        training_customers=len(train_x),
        holdout_customers=len(test_x),
        holdout_auc=float(roc_auc_score(test_y, test_scores)),
        holdout_lift_top_10pct=_lift_at(test_y.to_numpy(), test_scores, 0.10),
        prospects=len(prospects),
        audiences=audiences,
        negative_personas=personas,
    )
    return Lookalikes(report, prospects, model, calibration)


def audience_id(seed: str, share: float) -> str:
    """The segment id of an audience: `lookalike-<seed>-<percent>pct`."""
    return f"lookalike-{seed}-{share * 100:g}pct"


def _audiences(prospects: pd.DataFrame, settings: LookalikeSettings) -> list[LookalikeAudience]:
    """Nested audiences: the top share of all prospects by score, negative personas left out;
    fills prospects' `audience_share` in place."""
    eligible = prospects[~prospects["negative_persona"]].sort_values(
        "score", ascending=False, kind="stable"
    )
    mean_score = float(prospects["score"].mean())
    prospects["audience_share"] = np.nan
    audiences = []
    for share in sorted(settings.audience_shares, reverse=True):
        size = min(int(np.ceil(share * len(prospects))), len(eligible))
        members = eligible.iloc[:size]
        prospects.loc[members.index, "audience_share"] = share
        lift = float(members["score"].mean() / mean_score) if size and mean_score > 0 else 0.0
        audiences.append(
            LookalikeAudience(
                id=audience_id(settings.seed_name, share),
                seed=settings.seed_name,
                share=share,
                size=size,
                mean_score=float(members["score"].mean()) if size else 0.0,
                lift=lift,
                expected_conversion_rate=min(1.0, settings.conversion_rate * lift),
                value_per_conversion=float(members["expected_clv"].mean()) if size else 0.0,
            )
        )
    return audiences[::-1]
