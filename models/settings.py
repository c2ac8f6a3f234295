"""The valuation settings, defined once: one frozen pydantic model that the scenario file's
`model:` block, the API's CLV request and the `clvbid` options all are (docs/clv.md).

It says how orders become values: the reference date and lifecycle window, which purchase
model (chosen on a holdout by default) and its penalizer, the CLV terms (horizon, margin,
discount), incrementality and the value tiers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from models.vocabulary import Stage

Share = Annotated[float, Field(ge=0, le=1)]
ModelChoice = Literal[
    "auto",
    "bgnbd",
    "pnbd",
    "bgnbd_2class",
    "pnbd_2class",
    "bgnbd_cov",
    "bgnbd_2class_cov",
    "bgnbd_3class_cov",
    "bgnbd_4class_cov",
]
PURCHASE_MODELS: tuple[str, ...] = (
    "bgnbd",
    "pnbd",
    "bgnbd_2class",
    "bgnbd_cov",
    "bgnbd_2class_cov",
    "bgnbd_3class_cov",
)
"""The `auto` candidates (the holdout chooses the number of classes of the mixture with
covariates among 2 and 3). pnbd_2class is asked for by name only: without a closed-form
gradient it costs 50-100 times the others, and where one class barely dies its dropout
shape runs along a flat ridge that the fit does not settle (docs/clv.md, Heterogeneity);
bgnbd_4class_cov too: 5 times the three-class fit's time on the four-group market of
docs/decisions.md, for no lower holdout Brier score."""
SpendChoice = Literal[
    "auto",
    "gamma_gamma",
    "gamma_gamma_all_orders",
    "gamma_gamma_by_orders",
    "gamma_gamma_by_class",
]
SPEND_MODELS: tuple[str, ...] = (
    "gamma_gamma",
    "gamma_gamma_all_orders",
    "gamma_gamma_by_orders",
    "gamma_gamma_by_class",
)
"""The spend models (models/clv/spend.py); `auto` offers gamma_gamma_by_class only when the
chosen purchase model has latent classes (without them it is gamma_gamma_all_orders)."""
TierBasis = Literal["auto", "clv", "value_per_conversion"]


class TierSettings(BaseModel):
    """Value tiers: `top` is the best `top_share` of customers, `mid` the next `mid_share`,
    `low` the rest (DESIGN.md: 20% and 30%), ranked `by` predicted CLV (the default: DESIGN's
    tier, which the movers rely on), by the value of one more conversion, or `auto`: whichever
    ranking makes the stage x tier segments explain more of the variance of customers' value
    per conversion (the optimizer bids one value per segment, so what a segment leaves
    unexplained is bid wrongly). A stage x tier cell with
    fewer than `min_segment_size` customers joins the neighbouring tier of its stage
    (models/audiences/segments.py `merge_small_cells`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    top_share: Annotated[float, Field(gt=0, lt=1)] = 0.2
    mid_share: Annotated[float, Field(ge=0, lt=1)] = 0.3
    by: TierBasis = "clv"
    min_segment_size: Annotated[int, Field(ge=1)] = 100

    @model_validator(mode="after")
    def _shares_fit(self) -> TierSettings:
        if self.top_share + self.mid_share > 1:
            raise ValueError(
                f"top_share + mid_share must be <= 1, not {self.top_share + self.mid_share:g}"
            )
        return self


class ValuationSettings(BaseModel):
    """How orders become customer values (docs/clv.md).

    `clv_model` `auto` fits BG/NBD, Pareto/NBD, the two-class BG/NBD mixture
    (models/clv/latent_class.py; the two-class Pareto/NBD by name) and BG/NBD with the first
    order's value and channel as covariates (models/clv/covariates.py) on a calibration period
    and keeps the one with the lowest holdout Brier score of buying again (P(alive) and
    P(no purchase | alive), what values rest on; the per-customer MAE is reported beside it;
    a model that does not
    converge is dropped, with the reason reported); `spend_model` `auto` likewise keeps the
    Gamma-Gamma variant (repeat orders only, every order including the first, every order
    with the spend prior by the number of orders, or every order with a spend population per
    latent class of the chosen purchase model) with the lower per-customer error of the
    mean holdout order value (models/clv/spend.py); `holdout_weeks` None takes half the
    history, at most 52 weeks.
    `penalizer` is an L2 penalty on the purchase model's parameters, on time scaled to the
    longest customer age, so it means the same in days and weeks. `stage_incrementality`
    gives, per stage, the share of conversions the ads cause (from lift tests); stages not
    in it use the model's P(no purchase of their own within `campaign_window_days` | alive).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    as_of: date | None = Field(default=None, description="Reference date; default last order.")
    window_months: Annotated[int, Field(ge=1, le=120)] = Field(
        default=6, description="Lifecycle window in calendar months."
    )
    clv_model: ModelChoice = Field(
        default="auto",
        validation_alias=AliasChoices("clv_model", "model"),
        description=(
            "Purchase model: bgnbd, pnbd, their two-class mixtures bgnbd_2class and "
            "pnbd_2class, bgnbd_cov (BG/NBD with the first order's value and channel as "
            "covariates), bgnbd_2class_cov, bgnbd_3class_cov, bgnbd_4class_cov (BG/NBD "
            "mixtures whose class shares depend on those covariates), or auto (lowest holdout "
            "Brier score of bgnbd, pnbd, bgnbd_2class, bgnbd_cov, bgnbd_2class_cov, "
            "bgnbd_3class_cov)."
        ),
    )
    spend_model: SpendChoice = Field(
        default="auto",
        description=(
            "Spend model: gamma_gamma, gamma_gamma_all_orders, gamma_gamma_by_orders, "
            "gamma_gamma_by_class (per latent class of the purchase model), or auto (holdout)."
        ),
    )
    penalizer: Annotated[float, Field(ge=0, le=100)] = Field(
        default=0.0, description="L2 penalty on the purchase model's (scaled) parameters."
    )
    holdout_weeks: Annotated[int, Field(ge=1, le=520)] | None = Field(
        default=None, description="Validation holdout; default half the history, <= 52 weeks."
    )
    horizon_months: Annotated[int, Field(ge=1, le=120)] = Field(
        default=12, description="CLV horizon in months."
    )
    margin: Share = Field(default=0.30, description="Margin on revenue.")
    monthly_discount_rate: Annotated[float, Field(ge=0, lt=1)] = 0.01
    campaign_window_days: Annotated[float, Field(gt=0, le=3650)] = Field(
        default=28.0, description="Campaign length behind the model's incrementality."
    )
    stage_incrementality: dict[Stage, Share] = Field(
        default_factory=dict, description="Per-stage share of conversions the ads cause."
    )
    tiers: TierSettings = Field(default_factory=TierSettings)


FIT_FIELDS = frozenset(
    {"as_of", "window_months", "clv_model", "spend_model", "penalizer", "holdout_weeks"}
)
"""The settings the model fit reads (models.valuation.fit_models); the others only revalue."""
