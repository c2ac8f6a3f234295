"""The self-contained `report.html` of a scenario run: charts drawn by matplotlib and inlined
as base64 PNG, tables as plain HTML, no script and no network access."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from models.vocabulary import STAGES, TIERS
from scenarios.audience_report import (  # noqa: E402
    audience_figures,
    detargeting_rows,
    lookalike_rows,
    mover_rows,
    mvc_rows,
)
from scenarios.runner import ScenarioRun, VariantRun  # noqa: E402

CHARTS = (
    "lifecycle",
    "clv",
    "allocation",
    "variants",
    "frontier",
    "response_curves",
    "mvc",
)
TIER_COLOURS = {"top": "#1b7837", "mid": "#7fbf7b", "low": "#d9f0d3", "all": "#9e9ac8"}

_STYLE = """
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1150px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}
.note{color:#555;font-size:.9em}
"""


def _png(figure: Figure) -> str:
    """The figure as a base64 PNG data URI (then closed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _legend(axis: plt.Axes, **options: object) -> None:
    """A legend when the axis has labelled artists (an empty plan draws none)."""
    if axis.get_legend_handles_labels()[0]:
        axis.legend(**options)


def lifecycle_chart(run: VariantRun) -> Figure:
    """Customers per lifecycle stage, stacked by value tier (prospects as one block)."""
    table = run.formed.valuation.fitted.customers
    values = run.formed.valuation.values
    counts = values.groupby(["stage", "tier"], observed=True).size().unstack(fill_value=0)
    prospects = int((table["stage"] == "prospect").sum())
    figure, axis = plt.subplots(figsize=(7, 3.2))
    stages = [s for s in STAGES if s in counts.index or (s == "prospect" and prospects)]
    bottom = pd.Series(0.0, index=stages)
    for tier in TIERS:
        heights = counts.get(tier, pd.Series(dtype=float)).reindex(stages).fillna(0)
        axis.bar(stages, heights, bottom=bottom, label=tier, color=TIER_COLOURS[tier])
        bottom += heights
    if prospects:
        axis.bar(["prospect"], [prospects], color=TIER_COLOURS["all"], label="prospects")
    axis.set_ylabel("customers")
    axis.set_title(f"Lifecycle composition at {run.formed.valuation.as_of.date()}")
    _legend(axis, title="value tier", fontsize=8)
    return figure


def clv_chart(run: VariantRun) -> Figure:
    """Mean CLV per segment with its 95% interval, and value per conversion beside it."""
    segments = run.formed.segments
    figure, axis = plt.subplots(figsize=(8, 3.4))
    x = range(len(segments))
    low = (segments["clv_mean"] - segments["clv_mean_low"]).fillna(0).clip(lower=0)
    high = (segments["clv_mean_high"] - segments["clv_mean"]).fillna(0).clip(lower=0)
    axis.bar([i - 0.2 for i in x], segments["clv_mean"], 0.4, yerr=[low, high], label="mean CLV")
    axis.bar([i + 0.2 for i in x], segments["value_per_conversion"], 0.4, label="value/conversion")
    axis.set_xticks(list(x), segments["id"], rotation=35, ha="right", fontsize=8)
    horizon = run.scenario.model.horizon_months
    axis.set_title(f"CLV by segment ({horizon}-month horizon, 95% intervals)")
    _legend(axis, fontsize=8)
    return figure


def allocation_frame(run: VariantRun) -> pd.DataFrame:
    """Spend, conversions and value per segment x channel, summed over periods."""
    rows = [a.model_dump() for a in run.result.allocations]
    if not rows:
        return pd.DataFrame(columns=["segment", "channel", "spend", "conversions", "value"])
    frame = pd.DataFrame(rows)
    return frame.groupby(["segment", "channel"], sort=False, as_index=False)[
        ["spend", "conversions", "value"]
    ].sum()


def allocation_chart(run: VariantRun) -> Figure:
    """Base spend per segment, stacked by channel."""
    frame = allocation_frame(run)
    pivot = frame.pivot_table(index="segment", columns="channel", values="spend", aggfunc="sum")
    figure, axis = plt.subplots(figsize=(8, max(2.5, 0.35 * len(pivot) + 1)))
    left = pd.Series(0.0, index=pivot.index)
    for channel in pivot.columns:
        axis.barh(pivot.index, pivot[channel].fillna(0), left=left, label=channel)
        left += pivot[channel].fillna(0)
    axis.invert_yaxis()
    axis.set_xlabel("spend")
    axis.set_title("Allocation by segment and channel (base)")
    _legend(axis, fontsize=8)
    return figure


def variants_chart(run: ScenarioRun) -> Figure:
    """Spend, value and profit of each variant."""
    names = [n for n, v in run.variants.items() if v.result.totals is not None]
    figure, axis = plt.subplots(figsize=(8, 3.2))
    for k, measure in enumerate(("spend", "value", "profit")):
        heights = [getattr(run.variants[n].result.totals, measure) for n in names]
        axis.bar([i + (k - 1) * 0.27 for i in range(len(names))], heights, 0.27, label=measure)
    axis.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    axis.axhline(0, color="#888", linewidth=0.8)
    axis.set_title("Variants: spend, value and profit")
    _legend(axis, fontsize=8)
    return figure


def frontier_chart(run: ScenarioRun) -> Figure:
    """Value and profit against budget (LP frontier), the base plan marked, marginal ROAS."""
    table = run.frontier if run.frontier is not None else pd.DataFrame()
    solved = table.dropna(subset=["spend"]) if len(table) else table
    figure, axis = plt.subplots(figsize=(8, 3.6))
    if len(solved):
        axis.plot(solved["budget"], solved["value"], marker=".", label="value")
        axis.plot(solved["budget"], solved["profit"], marker=".", label="profit")
        twin = axis.twinx()
        twin.plot(solved["budget"], solved["marginal_roas"], color="#999", linestyle=":")
        twin.set_ylabel("marginal ROAS (dotted)")
    totals = run.base.result.totals
    budget = run.base.problem.budget.total
    if totals is not None:
        x = budget if budget is not None else totals.spend
        axis.scatter(
            [x, x], [totals.value, totals.profit], color="red", zorder=5, label="base plan"
        )
    axis.set_xlabel("total budget")
    axis.set_title("Efficient frontier")
    _legend(axis, fontsize=8, loc="upper left")
    return figure


def response_chart(run: VariantRun) -> Figure:
    """Each channel's landscapes (spend against value) with the chosen points; a point chosen
    in a period is drawn deflated by that period's cost index and seasonality, on the curve."""
    channels = run.problem.channels
    width = min(12.0, 4.0 * len(channels))
    figure, axes = plt.subplots(1, len(channels), figsize=(width, 3.6), squeeze=False)
    scale = {p.id: (p.cost_index, p.seasonality) for p in run.problem.periods}
    chosen: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for a in run.result.allocations:
        if a.spend > 0:
            cost_index, seasonality = scale.get(a.period or "", (1.0, 1.0))
            point = (a.spend / cost_index, a.value / seasonality)
            chosen.setdefault((a.segment, a.channel), []).append(point)
    for axis, channel in zip(axes[0], channels, strict=True):
        for segment in run.problem.segments:
            entry = next((c for c in segment.channels if c.channel == channel), None)
            if entry is None:
                continue
            points = entry.points
            cost = [0.0, *(p.cost for p in points)]
            value = [0.0, *(p.conversions * segment.value_per_conversion for p in points)]
            (line,) = axis.plot(cost, value, linewidth=1, label=segment.id)
            picks = chosen.get((segment.id, channel), [])
            if picks:
                xs, ys = zip(*picks, strict=True)
                axis.scatter(xs, ys, color=line.get_color(), s=40, zorder=5)
        axis.set_title(channel)
        axis.set_xlabel("spend")
        axis.set_ylabel("value")
    _legend(axes[0][0], fontsize=6)
    figure.suptitle("Response curves (dots: chosen points, base)")
    return figure


def mvc_chart(figures: dict[str, object]) -> Figure:
    """The MVC group against all customers: median orders, basket and days since last order."""
    rows = mvc_rows(figures).set_index("measure")
    measures = ["median orders", "median basket", "median days since last order"]
    figure, axes = plt.subplots(1, len(measures), figsize=(10, 3))
    for axis, measure in zip(axes, measures, strict=True):
        axis.bar(["MVC", "all"], rows.loc[measure, ["MVC", "all"]], color=["#1b7837", "#9e9ac8"])
        axis.set_title(measure, fontsize=9)
    figure.suptitle("Most valuable customers (top 1% by MVC score) against all customers")
    return figure


def _audiences(figures: dict[str, object]) -> list[str]:
    """The Audiences section: MVC profile, lookalikes, movers, detargeting (when formed)."""
    parts = ["<h2 id='audiences'>Audiences</h2>", "<h3>MVC profile</h3>", _table(mvc_rows(figures))]
    tables = [
        ("Lookalike audiences", lookalike_rows(figures)),
        ("Segments on the move", mover_rows(figures)),
        ("Detargeting", detargeting_rows(figures)),
    ]
    for title, frame in tables:
        if frame is not None:
            parts += [f"<h3>{title}</h3>", _table(frame, digits=3)]
    return parts


def _table(frame: pd.DataFrame, digits: int = 2) -> str:
    """A DataFrame as an HTML table, numbers rounded."""
    return frame.to_html(
        index=False, float_format=lambda v: f"{v:,.{digits}f}", na_rep="", border=0
    )


def render_report(run: ScenarioRun, comparison: pd.DataFrame) -> str:
    """The report as one HTML string."""
    base = run.base
    scenario = run.file.base
    figures = audience_figures(base)
    charts: list[tuple[str, str, Callable[[], Figure]]] = [
        ("lifecycle", "Lifecycle composition", lambda: lifecycle_chart(base)),
        ("clv", "CLV by segment", lambda: clv_chart(base)),
        ("allocation", "Allocation by segment and channel", lambda: allocation_chart(base)),
        ("variants", "Variants compared", lambda: variants_chart(run)),
        ("frontier", "Efficient frontier", lambda: frontier_chart(run)),
        ("response_curves", "Response curves", lambda: response_chart(base)),
        ("mvc", "Most valuable customers", lambda: mvc_chart(figures)),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(scenario.name)}: clvbid scenario</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Scenario {html.escape(scenario.name)}</h1>",
        f"<p>{html.escape(scenario.description)}</p>",
        "<h2>Variants</h2>",
        _table(_variant_totals(run)),
    ]
    for chart_id, title, draw in charts:
        if chart_id == "frontier" and run.frontier is None:
            continue
        parts += [
            f"<h2>{title}</h2>",
            f"<figure><img id='chart-{chart_id}' alt='{title}' src='{_png(draw())}'></figure>",
        ]
    parts += _audiences(figures)
    parts += ["<h2>Base allocation</h2>", _table(_allocation_rows(base))]
    if run.frontier is not None:
        parts += ["<h2>Frontier points</h2>", _table(run.frontier.drop(columns=["seconds"]))]
    parts += ["<h2>Comparison with the base</h2>", _table(comparison)]
    notes = [f"{name}: {note}" for name, v in run.variants.items() for note in v.notes]
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        parts += [f"<h2>Notes</h2><ul class='note'>{items}</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def _variant_totals(run: ScenarioRun) -> pd.DataFrame:
    rows = []
    for name, variant in run.variants.items():
        result = variant.result
        totals = result.totals
        rows.append(
            {
                "variant": name,
                "status": result.status.value,
                "spend": None if totals is None else totals.spend,
                "value": None if totals is None else totals.value,
                "profit": None if totals is None else totals.profit,
                "roas": None if totals is None else totals.roas,
                "conflicts": ", ".join(result.conflicts),
            }
        )
    return pd.DataFrame(rows)


def _allocation_rows(run: VariantRun) -> pd.DataFrame:
    columns = ["segment", "channel", "period", "bid_multiplier", "spend", "conversions", "value"]
    frame = pd.DataFrame([a.model_dump() for a in run.result.allocations])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return frame[columns + ["roas"]].dropna(axis=1, how="all")
