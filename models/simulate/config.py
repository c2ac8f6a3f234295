"""The truth a simulation is drawn from: latent customer groups, their parameters, the knobs.

Purchase parameters are per WEEK (BG/NBD, Fader, Hardie & Lee 2005); spend parameters follow
the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV"); amounts are in euros.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
REGIONS = ("capital", "north", "south", "east", "west")
HOUSEHOLD_TYPES = ("single", "couple", "family", "senior")
INCOME_BANDS = ("low", "lower_middle", "upper_middle", "high")
ATTRIBUTE_LEVELS: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "region": REGIONS,
    "household_type": HOUSEHOLD_TYPES,
    "income_band": INCOME_BANDS,
}
CHANNELS = ("web", "store", "app", "call_centre")
DEVICES = ("desktop", "mobile", "tablet", "in_store", "phone")
SIGNUP_SOURCES = ("newsletter", "game", "store_signup", "social_ad")
IDENTIFIER_TYPES = ("customer_id", "email", "loyalty_card", "device_id", "contact_id")


class SimulationConfigError(ValueError):
    """A simulation parameter is out of range; the message names the field."""


def _check_distribution(owner: str, name: str, probabilities: tuple[float, ...], size: int) -> None:
    """Raise unless `probabilities` has `size` non-negative entries summing to 1."""
    if len(probabilities) != size:
        raise SimulationConfigError(
            f"{owner}.{name}: expected {size} probabilities, got {len(probabilities)}"
        )
    if min(probabilities) < 0 or not math.isclose(sum(probabilities), 1.0, abs_tol=1e-9):
        raise SimulationConfigError(
            f"{owner}.{name}: probabilities must be >= 0 and sum to 1, got {probabilities}"
        )


@dataclass(frozen=True)
class GroupTruth:
    """One latent customer group: BG/NBD and Gamma-Gamma parameters per week, and tendencies.

    BG/NBD: lambda ~ Gamma(shape r, rate alpha) purchases per week; dropout p ~ Beta(a, b).
    Gamma-Gamma: nu ~ Gamma(shape q, rate gamma); each order value ~ Gamma(shape p, rate nu).
    Attribute and channel tendencies are probabilities over the levels in this module.
    """

    name: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    age_band: tuple[float, ...]
    region: tuple[float, ...]
    household_type: tuple[float, ...]
    income_band: tuple[float, ...]
    channel_mix: tuple[float, ...]

    def __post_init__(self) -> None:
        owner = f"group {self.name!r}"
        for name in ("r", "alpha", "a", "b", "p", "q", "gamma"):
            if not getattr(self, name) > 0:
                raise SimulationConfigError(f"{owner}.{name} must be > 0")
        if not self.q > 1:
            raise SimulationConfigError(f"{owner}.q must be > 1 for a finite mean order value")
        if not 0 <= self.share <= 1:
            raise SimulationConfigError(f"{owner}.share must be in [0, 1]")
        for name, levels in ATTRIBUTE_LEVELS.items():
            _check_distribution(owner, name, getattr(self, name), len(levels))
        _check_distribution(owner, "channel_mix", self.channel_mix, len(CHANNELS))

    @property
    def mean_lambda_per_week(self) -> float:
        """Population mean purchase rate r / alpha."""
        return self.r / self.alpha

    @property
    def mean_dropout_p(self) -> float:
        """Population mean dropout probability a / (a + b)."""
        return self.a / (self.a + self.b)

    @property
    def mean_order_value(self) -> float:
        """Population mean order value E[z] = p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1)


PREMIUM = GroupTruth(
    name="premium",
    share=0.15,
    r=2.0,
    alpha=10.0,
    a=0.7,
    b=5.0,
    p=6.0,
    q=8.0,
    gamma=160.0,
    age_band=(0.03, 0.12, 0.25, 0.30, 0.20, 0.10),
    region=(0.40, 0.12, 0.25, 0.08, 0.15),
    household_type=(0.12, 0.43, 0.35, 0.10),
    income_band=(0.03, 0.09, 0.28, 0.60),
    channel_mix=(0.35, 0.30, 0.30, 0.05),
)
REGULAR = GroupTruth(
    name="regular",
    share=0.50,
    r=1.0,
    alpha=12.0,
    a=0.8,
    b=3.0,
    p=4.0,
    q=6.0,
    gamma=70.0,
    age_band=(0.10, 0.22, 0.22, 0.20, 0.15, 0.11),
    region=(0.20, 0.20, 0.22, 0.18, 0.20),
    household_type=(0.25, 0.25, 0.35, 0.15),
    income_band=(0.20, 0.35, 0.30, 0.15),
    channel_mix=(0.35, 0.45, 0.15, 0.05),
)
OCCASIONAL = GroupTruth(
    name="occasional",
    share=0.35,
    r=0.5,
    alpha=15.0,
    a=1.2,
    b=2.5,
    p=3.0,
    q=5.0,
    gamma=45.0,
    age_band=(0.22, 0.28, 0.18, 0.13, 0.10, 0.09),
    region=(0.14, 0.22, 0.18, 0.26, 0.20),
    household_type=(0.40, 0.20, 0.20, 0.20),
    income_band=(0.35, 0.35, 0.20, 0.10),
    channel_mix=(0.40, 0.50, 0.05, 0.05),
)
DEFAULT_GROUPS = (PREMIUM, REGULAR, OCCASIONAL)

# A market for the decision harness (docs/decisions.md): four groups whose first order and
# acquisition channel say something about later behaviour. Bargain hunters come through the
# app with small baskets and rarely return; premium customers come through the store with
# large ones. The first order is drawn like every other (Gamma(p, nu)), so its amount carries
# the person's nu; the first order's channel is the preferred one with probability
# `channel_loyalty`, so it carries the group.
BARGAIN = GroupTruth(
    name="bargain",
    share=0.25,
    r=0.4,
    alpha=16.0,
    a=1.5,
    b=2.0,
    p=2.5,
    q=7.0,
    gamma=60.0,
    age_band=(0.30, 0.30, 0.15, 0.12, 0.08, 0.05),
    region=(0.15, 0.20, 0.20, 0.25, 0.20),
    household_type=(0.45, 0.20, 0.20, 0.15),
    income_band=(0.40, 0.35, 0.18, 0.07),
    channel_mix=(0.20, 0.05, 0.70, 0.05),
)
MARKET_GROUPS = (
    dataclasses.replace(PREMIUM, share=0.12, channel_mix=(0.15, 0.70, 0.10, 0.05)),
    dataclasses.replace(REGULAR, share=0.38, channel_mix=(0.50, 0.35, 0.10, 0.05)),
    dataclasses.replace(OCCASIONAL, share=0.25, channel_mix=(0.45, 0.30, 0.10, 0.15)),
    BARGAIN,
)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a simulation depends on; the same config always gives the same data.

    Customers are acquired (first order) uniformly over the first `acquisition_weeks` weeks
    after `start`; orders up to `observation_end` form the calibration data, orders up to
    `holdout_end` the holdout. Share knobs are probabilities per person or per order.
    `rhythm_shape` k > 1 replaces the Poisson purchases (BG/NBD) by a buying rhythm: gaps
    between purchases ~ Erlang(k, rate k lambda), same mean 1/lambda, so a recent buyer's next
    purchase is not yet due. `campaign_window_days` is the window of the true value of one
    more conversion at `observation_end` (models.simulate.conversion).
    """

    n_customers: int = 10_000
    n_prospects: int = 5_000
    seed: int = 0
    start: date = date(2024, 1, 1)
    observation_end: date = date(2025, 6, 30)
    holdout_end: date = date(2025, 12, 31)
    acquisition_weeks: float = 39.0
    groups: tuple[GroupTruth, ...] = DEFAULT_GROUPS
    prospect_group_shares: tuple[float, ...] | None = None
    customer_contact_share: float = 0.6
    channel_loyalty: float = 0.7
    web_login_share: float = 0.6
    store_receipt_email_share: float = 0.3
    second_email_share: float = 0.10
    second_account_share: float = 0.05
    replacement_card_share: float = 0.05
    second_device_share: float = 0.20
    alternate_use_share: float = 0.5
    prospect_account_share: float = 0.15
    mean_item_price_euros: float = 25.0
    clv_margin: float = 0.30
    clv_horizon_weeks: float = 52.0
    clv_monthly_discount: float = 0.01
    web_device_mix: tuple[float, float, float] = (0.45, 0.45, 0.10)
    app_tablet_share: float = 0.15
    rhythm_shape: int = 1
    campaign_window_days: float = 28.0

    def __post_init__(self) -> None:
        if self.n_customers < 1 or self.n_prospects < 0:
            raise SimulationConfigError("n_customers must be >= 1 and n_prospects >= 0")
        if not self.start < self.observation_end < self.holdout_end:
            raise SimulationConfigError("dates must satisfy start < observation_end < holdout_end")
        if not 0 <= self.acquisition_weeks < self.observation_weeks:
            raise SimulationConfigError(
                f"acquisition_weeks must be in [0, {self.observation_weeks:.1f}) "
                "so that every customer's first order falls in the observation period"
            )
        names = [group.name for group in self.groups]
        if not names or len(set(names)) != len(names):
            raise SimulationConfigError(f"groups: need at least one, with distinct names: {names}")
        _check_distribution("config", "groups[*].share", self.group_shares, len(self.groups))
        _check_distribution(
            "config", "prospect_group_shares", self.prospect_shares, len(self.groups)
        )
        _check_distribution("config", "web_device_mix", self.web_device_mix, 3)
        for name in (
            "customer_contact_share",
            "channel_loyalty",
            "web_login_share",
            "store_receipt_email_share",
            "second_email_share",
            "second_account_share",
            "replacement_card_share",
            "second_device_share",
            "alternate_use_share",
            "prospect_account_share",
            "clv_margin",
            "app_tablet_share",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise SimulationConfigError(f"{name} must be in [0, 1]")
        if self.mean_item_price_euros <= 0 or self.clv_horizon_weeks <= 0:
            raise SimulationConfigError("mean_item_price_euros and clv_horizon_weeks must be > 0")
        if self.rhythm_shape < 1 or int(self.rhythm_shape) != self.rhythm_shape:
            raise SimulationConfigError(
                f"rhythm_shape must be an integer >= 1 (1: Poisson), not {self.rhythm_shape}"
            )
        if self.campaign_window_days <= 0:
            raise SimulationConfigError("campaign_window_days must be > 0")

    @property
    def group_shares(self) -> tuple[float, ...]:
        """Share of customers in each group."""
        return tuple(group.share for group in self.groups)

    @property
    def prospect_shares(self) -> tuple[float, ...]:
        """Share of prospects who would join each group (the customers' mix unless given)."""
        return self.prospect_group_shares or self.group_shares

    @property
    def observation_days(self) -> int:
        """Days from `start` to the end of `observation_end`, inclusive."""
        return (self.observation_end - self.start).days + 1

    @property
    def horizon_days(self) -> int:
        """Days from `start` to the end of `holdout_end`, inclusive."""
        return (self.holdout_end - self.start).days + 1

    @property
    def observation_weeks(self) -> float:
        """Length of the observation period in weeks."""
        return self.observation_days / 7

    @property
    def horizon_weeks(self) -> float:
        """Length of observation plus holdout in weeks."""
        return self.horizon_days / 7
