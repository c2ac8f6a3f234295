"""The one valuation pipeline: loaded orders and one `ValuationSettings` in, values out.

orders -> customer table at `as_of` (summary, stage, RFM; prospects from contacts) -> the
purchase and spend models chosen on a calibration/holdout split (or the ones asked for) ->
both fitted on every customer -> per-customer values (P(alive), expected
purchases, expected order value, CLV, value of one more conversion, tier) -> the stage x tier
segment table. `clvbid clv fit`, the API's fit task, the scenario runner and the audience
commands all call `value_orders`; nothing else chains these steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import pandas as pd

from models.audiences.segments import customer_values, segment_table, top_tier_share
from models.clv.base import ConvergenceError, InvalidSummaryError
from models.clv.gamma_gamma import GammaGammaModel
from models.clv.latent_class import LatentClassModel
from models.clv.spend import BY_CLASS, SpendReport, fit_spend_model, validate_spend
from models.clv.validation import (
    HoldoutData,
    ValidationReport,
    calibration_holdout,
    candidates_table,
    default_calibration_end,
    fit_purchase_model,
    validate,
)
from models.clv.value import PurchaseModel
from models.customers.lifecycle import stage_frame
from models.customers.orders import OrdersInput, as_loaded
from models.customers.summary import reference_day
from models.customers.table import customer_table
from models.errors import ClvbidError
from models.settings import PURCHASE_MODELS, SPEND_MODELS, ValuationSettings

TIME_UNIT = "weeks"
Progress = Callable[[str], None]
Fitted = TypeVar("Fitted")


class NotValuableError(ClvbidError, ValueError):
    """The orders cannot be valued as they stand (for example nobody bought twice)."""


@dataclass(frozen=True)
class SpendChoice:
    """Which spend model was kept and why, with each candidate's holdout figures."""

    chosen: str = "gamma_gamma"
    reason: str = "Gamma-Gamma on repeat purchases (not validated)."
    reports: dict[str, SpendReport] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelChoice:
    """Which purchase model was kept and why: each candidate's holdout report, the candidates
    dropped with the reason, and the sentence a user reads; likewise the spend model."""

    chosen: str
    reason: str
    reports: dict[str, ValidationReport]
    dropped: dict[str, str]
    spend: SpendChoice = field(default_factory=SpendChoice)

    def to_markdown(self) -> str:
        """The validation report: each choice and why, then each candidate's holdout figures."""
        selected = f"Selected: **{self.chosen}**. {self.reason}"
        spend = f"Spend model: **{self.spend.chosen}**. {self.spend.reason}"
        lines = ["# Calibration/holdout validation", "", selected]
        lines += [f"- {name} dropped: {why}" for name, why in self.dropped.items()]
        if self.reports:
            lines += ["", candidates_table(self.reports, self.chosen)]
        text = "\n".join([*lines, "", spend]) + "\n\n"
        reports = [*self.reports.values(), *self.spend.reports.values()]
        return text + "".join(report.to_markdown() + "\n" for report in reports)


@dataclass(frozen=True)
class FittedModels:
    """The fitting half of a valuation: the day, the customer table (prospects included with
    stage `prospect` and zero purchases), the model choice and both fitted models. It depends
    only on the settings in FIT_FIELDS, so values at another horizon or margin reuse it."""

    as_of: pd.Timestamp
    customers: pd.DataFrame
    choice: ModelChoice
    purchases: PurchaseModel
    spend: GammaGammaModel

    @property
    def ordered(self) -> pd.DataFrame:
        """The customer table without the prospects."""
        return self.customers[self.customers["stage"] != "prospect"]


@dataclass(frozen=True)
class Valuation:
    """Everything `value_orders` found: the fitted models, the settings the values used,
    per-customer `values` of everyone who ordered (summary columns, stage, tier and the
    customer_value columns) and the stage x tier `segments` table."""

    fitted: FittedModels
    settings: ValuationSettings
    values: pd.DataFrame
    segments: pd.DataFrame

    @property
    def as_of(self) -> pd.Timestamp:
        """The reference day."""
        return self.fitted.as_of

    @property
    def purchases(self) -> PurchaseModel:
        """The fitted purchase-count model."""
        return self.fitted.purchases

    @property
    def spend(self) -> GammaGammaModel:
        """The fitted Gamma-Gamma spend model."""
        return self.fitted.spend

    @property
    def top_tier_clv_share(self) -> float:
        """Share of total CLV held by the top 20% (`tiers.top_share`) by CLV: the Pareto share."""
        return top_tier_share(self.values, self.settings.tiers)


def value_orders(
    orders: OrdersInput,
    settings: ValuationSettings | None = None,
    *,
    progress: Progress | None = None,
) -> Valuation:
    """Value every customer of `orders` as `settings` say (module docstring)."""
    settings = settings or ValuationSettings()
    return value_customers(fit_models(orders, settings, progress=progress), settings, progress)


def fit_models(
    orders: OrdersInput, settings: ValuationSettings, *, progress: Progress | None = None
) -> FittedModels:
    """Summarise the customers at `settings.as_of`, choose the purchase model on a holdout and
    fit it and Gamma-Gamma on every customer who ordered."""
    say = progress or (lambda _step: None)
    loaded = as_loaded(orders)
    day = reference_day(loaded, settings.as_of)
    say("summarising customers")
    customers = customers_at(loaded, day, settings.window_months)
    ordered = customers[customers["stage"] != "prospect"]
    _check_valuable(ordered, day)
    say("validating the purchase models on a holdout")
    choice = choose_model(loaded, day, settings)
    say(f"fitting {choice.chosen} and {choice.spend.chosen}")
    choice, purchases = _fit_purchases(ordered, choice, settings.penalizer)
    choice, spend = _fit_spend(ordered, choice, purchases)
    return FittedModels(day, customers, choice, purchases, spend)


def value_customers(
    fitted: FittedModels, settings: ValuationSettings, progress: Progress | None = None
) -> Valuation:
    """Per-customer values and the stage x tier segments from fitted models (the CLV terms,
    incrementality and tiers of `settings`)."""
    if progress is not None:
        progress("valuing customers and segments")
    values = customer_values(fitted.purchases, fitted.spend, fitted.customers, settings)
    _check_finite(values, fitted)
    segments = segment_table(
        fitted.purchases, fitted.spend, fitted.customers, settings, values=values
    )
    values = values.join(fitted.ordered.drop(columns="stage")).__finalize__(values)
    return Valuation(fitted, settings, values, segments)


def customers_at(loaded: OrdersInput, day: pd.Timestamp, window_months: int) -> pd.DataFrame:
    """The customer table at `day` in weeks (summary, stage, RFM), with the contacts who never
    ordered appended as prospects (zero purchases, no last order)."""
    loaded = as_loaded(loaded)
    table = customer_table(loaded, as_of=day, window_months=window_months, time_unit=TIME_UNIT)
    prospect_ids = table.index[:0]
    if loaded.has_contacts:  # only contacts can be prospects: no second pass over orders without
        stages = stage_frame(loaded, day, window_months)["stage"]
        prospect_ids = stages.index[stages.astype(str) == "prospect"].difference(table.index)
    prospects = pd.DataFrame(
        {"frequency": 0.0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0, "stage": "prospect"},
        index=prospect_ids,
    )
    combined = pd.concat([table.astype({"stage": str}), prospects])
    combined.attrs.update(as_of=day, time_unit=TIME_UNIT)
    return combined


def choose_model(
    orders: OrdersInput, day: pd.Timestamp, settings: ValuationSettings
) -> ModelChoice:
    """Fit each candidate on the calibration period and keep the lowest holdout Brier score of
    buying again (models.clv.validation); a candidate that does not converge is dropped with
    the reason. With one model asked for, it is still validated (its report is kept) but
    never replaced. The spend model is chosen after it, with the chosen purchase model's
    classes (`choose_spend`)."""
    candidates = PURCHASE_MODELS if settings.clv_model == "auto" else (settings.clv_model,)
    try:
        data = calibration_holdout(
            orders,
            calibration_end=default_calibration_end(orders, day, settings.holdout_weeks),
            holdout_end=day,
            time_unit=TIME_UNIT,
        )
    except ValueError as error:
        chosen = candidates[0]
        spend_chosen = "gamma_gamma" if settings.spend_model == "auto" else settings.spend_model
        spend = SpendChoice(spend_chosen, f"No holdout validation; {spend_chosen} is used.")
        reason = f"No holdout validation ({error}); {chosen} is used."
        return ModelChoice(chosen, reason, {}, {}, spend)
    reports: dict[str, ValidationReport] = {}
    fitted: dict[str, PurchaseModel] = {}
    dropped: dict[str, str] = {}
    summary = data.calibration
    for name in candidates:
        try:
            fitted[name] = fit_purchase_model(
                name, summary, penalizer=settings.penalizer, time_unit=TIME_UNIT
            )
        except ConvergenceError as error:
            dropped[name] = f"did not converge on the calibration period ({error})"
            continue
        reports[name] = validate(fitted[name], data, name)
    if not reports:
        chosen = candidates[0]
        reason = "No candidate converged on the calibration period."
        return ModelChoice(chosen, reason, {}, dropped, choose_spend(data, settings, None))
    chosen = min(reports, key=lambda name: reports[name].brier)
    spend = choose_spend(data, settings, fitted[chosen])
    if len(candidates) == 1:
        reason = f"{chosen} was asked for (holdout Brier {reports[chosen].brier:.5f})."
    elif len(reports) == 1:
        reason = f"{chosen} is the only candidate that converged."
    else:
        figures = ", ".join(
            f"{name} {report.brier:.5f} (MAE {report.mae:.4f}, total {report.total_error:+.1%})"
            for name, report in reports.items()
        )
        reason = (
            "Lowest holdout Brier score of buying again, which tests the P(alive) and "
            f"P(no own purchase) that values rest on ({figures})."
        )
    return ModelChoice(chosen, reason, reports, dropped, spend)


def choose_spend(
    data: HoldoutData, settings: ValuationSettings, purchases: PurchaseModel | None
) -> SpendChoice:
    """Fit each spend model on the calibration customers and keep the lowest per-customer
    error of the mean holdout order value (the one asked for is validated, never replaced).
    `purchases` is the chosen purchase model fitted on the calibration period: the by-class
    spend model is a candidate only when it has latent classes."""
    candidates = _spend_candidates(settings, purchases)
    reports: dict[str, SpendReport] = {}
    failures: list[str] = []
    for name in candidates:
        try:
            model = fit_spend_model(name, data.calibration, purchases)
        except (ConvergenceError, InvalidSummaryError) as error:
            failures.append(f"{name} could not be fitted on the calibration period ({error})")
            continue
        report = validate_spend(model, data.calibration, data.holdout_purchases, data.holdout_spend)
        if report.customers:
            reports[name] = report
    if not reports:
        chosen = candidates[0]
        why = "; ".join(failures) or "nobody bought in the holdout"
        return SpendChoice(chosen, f"No spend validation ({why}); {chosen} is used.")
    chosen = min(reports, key=lambda name: reports[name].mae)
    if len(candidates) == 1:
        reason = f"{chosen} was asked for (holdout order-value MAE {reports[chosen].mae:.4f})."
    else:
        figures = ", ".join(f"{name} {report.mae:.4f}" for name, report in reports.items())
        reason = f"Lowest per-customer error of the mean holdout order value ({figures})."
    return SpendChoice(chosen, " ".join([reason, *failures]), reports)


def _spend_candidates(
    settings: ValuationSettings, purchases: PurchaseModel | None
) -> tuple[str, ...]:
    """The spend model asked for, or under `auto` every spend model but the by-class one
    when the purchase model has no latent classes (it would be gamma_gamma_all_orders)."""
    if settings.spend_model != "auto":
        return (settings.spend_model,)
    if isinstance(purchases, LatentClassModel):
        return SPEND_MODELS
    return tuple(name for name in SPEND_MODELS if name != BY_CLASS)


def _fit_purchases(
    ordered: pd.DataFrame, choice: ModelChoice, penalizer: float
) -> tuple[ModelChoice, PurchaseModel]:
    """Fit the chosen purchase model on every customer; if it does not converge and another
    candidate validated, fall back to it (and say so), else raise with the fix."""
    order = [choice.chosen, *(name for name in choice.reports if name != choice.chosen)]
    name, model, failures = _first_that_fits(
        order,
        lambda name: fit_purchase_model(name, ordered, penalizer=penalizer, time_unit=TIME_UNIT),
        field="model.clv_model",
        hint="set a small penalizer (e.g. 0.001) or choose the other purchase model",
    )
    if name == choice.chosen:
        return choice, model
    reason = f"{choice.chosen} {failures[choice.chosen]}; {name} is used instead."
    dropped = {**choice.dropped, **failures}
    return replace(choice, chosen=name, reason=reason, dropped=dropped), model


def _fit_spend(
    ordered: pd.DataFrame, choice: ModelChoice, purchases: PurchaseModel
) -> tuple[ModelChoice, GammaGammaModel]:
    """Fit the chosen spend model on every customer (the by-class one with the classes of
    `purchases`, fitted on them too); if it does not converge, fall back to the other spend
    models (and say so), else raise with the fix."""
    spend = choice.spend
    order = [spend.chosen, *(name for name in SPEND_MODELS if name != spend.chosen)]
    name, model, failures = _first_that_fits(
        order,
        lambda name: fit_spend_model(name, ordered, purchases),
        field="model.spend_model",
        hint="check the order amounts (Gamma-Gamma needs varied positive amounts)",
    )
    if name == spend.chosen:
        return choice, model
    reason = f"{spend.chosen} {failures[spend.chosen]}; {name} is used instead."
    return replace(choice, spend=replace(spend, chosen=name, reason=reason)), model


def _first_that_fits(
    names: list[str], fit: Callable[[str], Fitted], *, field: str, hint: str
) -> tuple[str, Fitted, dict[str, str]]:
    """The first of `names` whose model `fit` fits on all customers, the model and why the
    ones before it failed; NotValuableError naming `field` when none fits."""
    failures: dict[str, str] = {}
    for name in names:
        try:
            return name, fit(name), failures
        except (ConvergenceError, InvalidSummaryError) as error:
            failures[name] = f"did not converge on all customers ({error})"
    raise NotValuableError(
        "; ".join(f"{name} {why}" for name, why in failures.items()), field=field, hint=hint
    )


def _check_finite(values: pd.DataFrame, fitted: FittedModels) -> None:
    """Refuse values that are not finite numbers: models fitted to too little data can run off
    to parameters whose predictions overflow (say which customers, and the fix)."""
    numbers = values.select_dtypes("number")
    bad = ~np.isfinite(numbers.to_numpy()).all(axis=1)
    if bad.any():
        params = ", ".join(f"{k}={v:.3g}" for k, v in fitted.purchases.params_.items())
        raise NotValuableError(
            f"the purchase model fitted to {len(values):,} customers ({params}) gives no finite "
            f"value for {int(bad.sum()):,} of them, e.g. customer {values.index[bad][0]!r}",
            field="model.penalizer",
            hint="value more customers or a longer history, or set a penalizer such as 0.01",
        )


def _check_valuable(ordered: pd.DataFrame, day: pd.Timestamp) -> None:
    """Refuse, with the reason and the fix, orders that no model can learn from."""
    if ordered.empty:
        raise NotValuableError(
            f"no customer ordered by {day.date()}",
            field="model.as_of",
            hint="choose a later reference date",
        )
    repeat = ordered[(ordered["frequency"] > 0) & (ordered["monetary_value"] > 0)]
    if len(repeat) < 2:
        raise NotValuableError(
            f"only {len(repeat)} of {len(ordered):,} customers bought again (on another day, "
            f"for a positive amount) by {day.date()}: the purchase and spend models learn "
            "from repeat buyers",
            field="model.as_of",
            hint="use a longer order history or a later reference date",
        )
