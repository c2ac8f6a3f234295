"""Check audiences against the generator's truth: lookalike concentration and value, and the
precision and recall of movers and detargeting (who really churned, grew, bought next).

Unified customer ids are mapped to the generator's people through the identifiers they carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.metrics import roc_auc_score

from models.audiences.lookalike import Lookalikes
from models.customers.orders import LoadedOrders
from models.simulate import SimulatedData


class PrecisionRecall(BaseModel):
    """A flag checked against a true outcome within a population."""

    name: str
    population: int
    flagged: int
    positives: int
    precision: float
    recall: float
    base_rate: float


class AudienceTruth(BaseModel):
    """A lookalike audience against the truth of the prospects it holds."""

    id: str
    size: int
    high_value_share: float
    concentration: float
    expected_clv: float
    true_mean_clv: float
    relative_error: float


class LookalikeTruth(BaseModel):
    """Truth AUC of the prospect scores and each audience's concentration and value."""

    high_value: str
    prospects: int
    high_value_share: float
    truth_auc: float
    audiences: list[AudienceTruth]


def precision_recall(name: str, flagged: np.ndarray, positive: np.ndarray) -> PrecisionRecall:
    """Precision, recall and base rate of boolean `flagged` against `positive`."""
    flagged, positive = np.asarray(flagged, bool), np.asarray(positive, bool)
    hits = int((flagged & positive).sum())
    return PrecisionRecall(
        name=name,
        population=len(flagged),
        flagged=int(flagged.sum()),
        positives=int(positive.sum()),
        precision=hits / flagged.sum() if flagged.any() else float("nan"),
        recall=hits / positive.sum() if positive.any() else float("nan"),
        base_rate=float(positive.mean()) if len(positive) else float("nan"),
    )


def person_ids(loaded: LoadedOrders, data: SimulatedData) -> pd.Series:
    """The true person_id of each unified customer id (customers and contacts)."""
    matched = loaded.identity_map().merge(data.identities, on=["identifier_type", "identifier"])
    return matched.drop_duplicates("customer_id").set_index("customer_id")["person_id"]


def customer_truth(loaded: LoadedOrders, data: SimulatedData, index: pd.Index) -> pd.DataFrame:
    """The generator's truth of each customer in `index` (unified ids), in that order."""
    people = person_ids(loaded, data).reindex(index)
    truth = data.customers.set_index("person_id").reindex(people.to_numpy())
    truth.index = index
    return truth


def holdout_margin(
    loaded: LoadedOrders, data: SimulatedData, after: pd.Timestamp, days: float, margin: float
) -> pd.Series:
    """Each customer's margin on the orders in (after, after + days], by unified customer id."""
    orders = data.holdout_orders
    people = data.true_person_ids(orders)
    stamps = orders["timestamp"]
    window = (stamps > after) & (stamps <= after + pd.Timedelta(days=days))
    per_person = (margin * orders.loc[window, "amount"]).groupby(people[window]).sum()
    unified = person_ids(loaded, data)
    return pd.Series(
        per_person.reindex(unified.to_numpy()).fillna(0.0).to_numpy(), index=unified.index
    )


def lookalike_truth(
    lookalikes: Lookalikes, loaded: LoadedOrders, data: SimulatedData, high_value: str = "premium"
) -> LookalikeTruth:
    """Share of truly high-value prospects (would join `high_value`) in each audience against a
    random audience, and its expected CLV against the true mean expected_clv_if_acquired."""
    prospects = lookalikes.prospects
    people = person_ids(loaded, data).reindex(prospects.index)
    truth = data.prospects.set_index("person_id").reindex(people.to_numpy())
    good = (truth["would_join_group"] == high_value).to_numpy()
    true_clv = truth["expected_clv_if_acquired"].to_numpy(dtype=float)
    base = float(good.mean())
    rows = []
    for audience in lookalikes.report.audiences:
        inside = (prospects["audience_share"] <= audience.share).to_numpy()
        true_mean = float(true_clv[inside].mean())
        rows.append(
            AudienceTruth(
                id=audience.id,
                size=audience.size,
                high_value_share=float(good[inside].mean()),
                concentration=float(good[inside].mean() / base),
                expected_clv=audience.value_per_conversion,
                true_mean_clv=true_mean,
                relative_error=audience.value_per_conversion / true_mean - 1,
            )
        )
    return LookalikeTruth(
        high_value=high_value,
        prospects=len(prospects),
        high_value_share=base,
        truth_auc=float(roc_auc_score(good, prospects["score"])),
        audiences=rows,
    )


def mover_truth(
    movers: pd.DataFrame,
    loaded: LoadedOrders,
    data: SimulatedData,
    *,
    end: object,
    margin: float = 0.30,
    top_share: float = 0.2,
    cost_to_reach: float = 2.0,
    horizon_months: int = 12,
) -> list[PrecisionRecall]:
    """Each move against what happened.

    reengage (among start top/mid): really churned = dead by `end`. push (among not top at
    end): really grew = holdout margin after `end` in the top `top_share` of all customers.
    stop (all): really not worth it = holdout margin below the cost of reaching them, prorated
    from the CLV horizon to the holdout length.
    """
    day = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    truth = customer_truth(loaded, data, movers.index)
    holdout_days = float((pd.Timestamp(data.config.holdout_end) - day).days + 1)
    realised = holdout_margin(loaded, data, day, holdout_days, margin).reindex(movers.index)
    realised = realised.fillna(0.0)
    dead = (truth["death_time"] < day).to_numpy()
    grew = (realised >= realised.quantile(1 - top_share)).to_numpy() & (realised > 0).to_numpy()
    prorated = cost_to_reach * holdout_days / (horizon_months * 365.25 / 12)
    move = movers["move"].to_numpy()
    valuable = movers["tier_start"].isin(["top", "mid"]).to_numpy()
    not_top = (movers["tier_end"] != "top").to_numpy()
    return [
        precision_recall("reengage", move[valuable] == "reengage", dead[valuable]),
        precision_recall("push", move[not_top] == "push", grew[not_top]),
        precision_recall("stop", move == "stop", (realised < prorated).to_numpy()),
    ]


def detargeting_truth(
    detargeted: pd.DataFrame, loaded: LoadedOrders, data: SimulatedData
) -> list[PrecisionRecall]:
    """Detargeted customers against who really bought next: positive = no order in the
    campaign after `as_of`; among all customers, and among those truly alive at `as_of`."""
    settings = detargeted.attrs["settings"]
    day = pd.Timestamp(detargeted.attrs["as_of"]).normalize() + pd.Timedelta(days=1)
    bought = holdout_margin(
        loaded, data, day - pd.Timedelta(seconds=1), settings.campaign_days, 1.0
    )
    quiet = (bought.reindex(detargeted.index).fillna(0.0) == 0).to_numpy()
    truth = customer_truth(loaded, data, detargeted.index)
    alive = ~(truth["death_time"] < day).to_numpy()
    flagged = detargeted["detargeted"].to_numpy()
    return [
        precision_recall("detargeted (all)", flagged, quiet),
        precision_recall("detargeted (truly alive)", flagged[alive], quiet[alive]),
    ]
