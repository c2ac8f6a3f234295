"""The self-contained `report.html` of a scenario run, rendered from Jinja2 templates
(scenarios/templates): the summary first, then why, the warnings, the charts (inline SVG
images) and the tables (pandas Styler, every number formatted); no script, no network
access, and a print style sheet that lays it out on A4."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import jinja2
import pandas as pd
from matplotlib.figure import Figure

from models.vocabulary import STAGES, TIERS
from scenarios import charts
from scenarios.audience_report import (
    audience_figures,
    detargeting_rows,
    lookalike_rows,
    mover_rows,
    mvc_rows,
)
from scenarios.formatting import (
    MISSING,
    count,
    decimal,
    money,
    multiplier,
    percent,
    ratio,
    text,
)
from scenarios.runner import ScenarioRun, VariantRun
from scenarios.story import (
    SMALL_SEGMENT,
    base_summary,
    binding_sentences,
    conflict_sentence,
    grouped_notes,
    segment_stories,
    valuation_sentence,
    variant_sentence,
    warnings,
)

CHARTS = (
    "lifecycle",
    "clv",
    "allocation",
    "variants",
    "frontier",
    "response_curves",
    "periods",
    "mvc",
)
Formatter = Callable[[object], str]


@cache
def environment() -> jinja2.Environment:
    """The templates of the report (and the style sheet it inlines), autoescaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("scenarios", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def styled_table(frame: pd.DataFrame, formats: Mapping[str, Formatter], name: str) -> str:
    """A DataFrame as an HTML table through pandas Styler: each column by its formatter (text
    for the rest), numbers right-aligned (class `num`), no index, no `None`/`nan` cells;
    `name` makes the table's element ids unique in the page."""
    numeric = [c for c in frame.columns if c in formats]
    styler = (
        frame.style.format({c: formats.get(c, text) for c in frame.columns})
        .hide(axis="index")
        .set_td_classes(
            pd.DataFrame(
                [["num" if c in numeric else "" for c in frame.columns]] * len(frame),
                index=frame.index,
                columns=frame.columns,
            )
        )
        .set_table_attributes('class="data"')
    )
    styler.set_uuid(name)
    return styler.to_html(cell_ids=False).replace('<style type="text/css">\n</style>\n', "")


def allocation_frame(run: VariantRun) -> pd.DataFrame:
    """Spend, conversions and value per segment x channel, summed over periods."""
    rows = [a.model_dump() for a in run.result.allocations]
    if not rows:
        return pd.DataFrame(columns=["segment", "channel", "spend", "conversions", "value"])
    frame = pd.DataFrame(rows)
    return frame.groupby(["segment", "channel"], sort=False, as_index=False)[
        ["spend", "conversions", "value"]
    ].sum()


@dataclass(frozen=True)
class Chart:
    """A chart of the report: its id, heading, SVG data URI and a sentence for screen readers."""

    id: str
    title: str
    src: str
    alt: str


def _lifecycle(run: VariantRun) -> Figure:
    """Customers per lifecycle stage, stacked by value tier (prospects as one block)."""
    values = run.formed.valuation.values
    counts = values.groupby(["stage", "tier"], observed=True).size().unstack(fill_value=0)
    prospects = int((run.formed.valuation.fitted.customers["stage"] == "prospect").sum())
    counts = counts.reindex(columns=list(TIERS), fill_value=0)
    if prospects:
        counts.loc["prospect"] = 0
        counts["prospects (no tier)"] = 0
        counts.loc["prospect", "prospects (no tier)"] = prospects
    counts = counts.reindex([s for s in STAGES if s in counts.index])
    colours = {**charts.TIER_COLOURS, "prospects (no tier)": charts.TIER_COLOURS["all"]}
    return charts.stacked_bars(
        counts,
        colours,
        title=f"Customers by lifecycle stage at {run.formed.valuation.as_of.date()}",
        ylabel="customers",
        legend="value tier",
    )


def _allocation_chart(run: VariantRun, currency: str) -> Figure:
    """Base spend per segment, stacked by channel."""
    frame = allocation_frame(run)
    pivot = frame.pivot_table(index="segment", columns="channel", values="spend", aggfunc="sum")
    pivot = pivot.reindex([s.id for s in run.problem.segments if s.id in pivot.index])
    return charts.channel_bars(pivot, currency, title="Base plan: spend by segment and channel")


def _variants_chart(run: ScenarioRun, currency: str) -> Figure:
    """Spend, value and profit of every variant with a plan."""
    rows = {
        name: v.result.totals.model_dump()
        for name, v in run.variants.items()
        if v.result.totals is not None
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return charts.grouped_bars(
        table, currency, title="Variants: spend, value and profit", measures=MEASURES
    )


MEASURES = ("spend", "value", "profit")


def _frontier_chart(run: ScenarioRun, currency: str) -> Figure:
    """Value, profit and spend against budget, with the base plan marked."""
    totals = run.base.result.totals
    base = None
    if totals is not None:
        budget = run.base.problem.budget.total
        base = (budget if budget is not None else totals.spend, totals.value, totals.profit)
    assert run.frontier is not None
    return charts.frontier_chart(run.frontier, currency, base)


def _response_chart(run: VariantRun, currency: str) -> Figure:
    """Each channel's response curves, the chosen points (deflated by their period's cost
    index and seasonality, so they sit on the curve) circled."""
    scale = {p.id: (p.cost_index, p.seasonality) for p in run.problem.periods}
    chosen: dict[tuple[str, str], tuple[float, float]] = {}
    for a in run.result.allocations:
        if a.spend > 0 and (a.segment, a.channel) not in chosen:
            cost_index, seasonality = scale.get(a.period or "", (1.0, 1.0))
            chosen[(a.segment, a.channel)] = (a.spend / cost_index, a.value / seasonality)
    curves: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for channel in run.problem.channels:
        for segment in run.problem.segments:
            entry = next((c for c in segment.channels if c.channel == channel), None)
            if entry is None or segment.id in run.problem.constraints.exclude:
                continue
            cost = [0.0, *(p.cost for p in entry.points)]
            value = [0.0, *(p.conversions * segment.value_per_conversion for p in entry.points)]
            curves.setdefault(channel, {})[segment.id] = (cost, value)
    return charts.response_chart(curves, chosen, currency)


def _periods_chart(run: VariantRun, currency: str) -> Figure:
    """Spend per period, stacked by channel, in the periods' order."""
    frame = pd.DataFrame([a.model_dump() for a in run.result.allocations])
    pivot = frame.pivot_table(index="period", columns="channel", values="spend", aggfunc="sum")
    pivot = pivot.reindex([p.id for p in run.problem.periods]).fillna(0)
    colours = {c: charts.channel_colour(c) for c in pivot.columns}
    return charts.stacked_bars(
        pivot,
        colours,
        title="Base plan: spend by period",
        ylabel=f"spend ({currency})",
        legend="channel",
        currency=currency,
    )


def _mvc_chart(figures: dict[str, object]) -> Figure:
    """The MVC group against all customers: median orders, basket and days since last order."""
    rows = mvc_rows(figures).set_index("measure")
    units = {
        "median orders": "orders",
        "median basket": "order value",
        "median days since last order": "days",
    }
    return charts.comparison_bars(
        rows.loc[list(units), ["MVC", "all"]],
        units,
        title="Most valuable customers (top 1% by MVC score) against all customers",
    )


def _charts(run: ScenarioRun, currency: str, figures: dict[str, object]) -> list[Chart]:
    """Every chart that applies to this run, drawn."""
    base = run.base
    horizon = base.scenario.model.horizon_months
    segments = base.formed.segments
    wanted: list[tuple[str, str, str, Callable[[], Figure]]] = [
        (
            "lifecycle",
            "Lifecycle composition",
            "Customers per lifecycle stage, stacked by value tier.",
            lambda: _lifecycle(base),
        ),
        (
            "clv",
            "CLV by segment",
            "Mean customer lifetime value and value of one more conversion per segment.",
            lambda: charts.segment_values_chart(segments, currency, horizon, SMALL_SEGMENT),
        ),
        (
            "allocation",
            "Allocation by segment and channel",
            "Base plan spend per segment, stacked by channel.",
            lambda: _allocation_chart(base, currency),
        ),
        (
            "variants",
            "Variants compared",
            "Spend, value and profit of each variant.",
            lambda: _variants_chart(run, currency),
        ),
    ]
    if run.frontier is not None:
        wanted.append(
            (
                "frontier",
                "Efficient frontier",
                "Value, profit and spend against the total budget; marginal ROAS below.",
                lambda: _frontier_chart(run, currency),
            )
        )
    wanted.append(
        (
            "response_curves",
            "Response curves",
            "Value against spend per segment and channel, chosen points circled.",
            lambda: _response_chart(base, currency),
        )
    )
    if len(base.problem.periods) > 1 and base.result.allocations:
        wanted.append(
            (
                "periods",
                "Spend by period",
                "Base plan spend in each period, stacked by channel.",
                lambda: _periods_chart(base, currency),
            )
        )
    wanted.append(
        (
            "mvc",
            "Most valuable customers",
            "Median orders, basket and recency of the MVC group against all customers.",
            lambda: _mvc_chart(figures),
        )
    )
    return [Chart(i, title, charts.svg(draw()), alt) for i, title, alt, draw in wanted]


def _money(currency: str, digits: int = 0) -> Formatter:
    """A money formatter in the scenario's currency."""
    return lambda v: money(v, currency, digits)


def _variant_table(run: ScenarioRun, currency: str) -> str:
    """One row per variant: description, status, spend, value, profit, ROAS, what changed."""
    rows = []
    for name, variant in run.variants.items():
        totals = variant.result.totals
        description = next(
            (v.description for v in run.file.base.variants if v.name == name),
            "the scenario as written",
        )
        rows.append(
            {
                "Variant": name,
                "Description": description or MISSING,
                "Status": variant.result.status.value,
                "Spend": None if totals is None else totals.spend,
                "Value": None if totals is None else totals.value,
                "Profit": None if totals is None else totals.profit,
                "ROAS": None if totals is None else totals.roas,
                "What changed": "–" if name == "base" else variant_sentence(run, name, currency),
            }
        )
    cash = _money(currency)
    return styled_table(
        pd.DataFrame(rows),
        {"Spend": cash, "Value": cash, "Profit": cash, "ROAS": ratio},
        "variants",
    )


def _segment_table(run: VariantRun, currency: str) -> str:
    """Per segment: size, CLV, value per conversion, spend, value, ROAS, tag and reason."""
    table = run.formed.segments.set_index("id")
    frame = allocation_frame(run).groupby("segment")[["spend", "value"]].sum()
    bids: dict[str, float] = {}
    for a in run.result.allocations:
        if a.bid_multiplier is not None and a.spend > 0:
            bids[a.segment] = max(bids.get(a.segment, 0.0), a.bid_multiplier)
    rows = []
    for story in segment_stories(run):
        size = table["size"].get(story.segment) if story.segment in table.index else None
        clv = table["clv_mean"].get(story.segment) if story.segment in table.index else None
        segment = next(s for s in run.problem.segments if s.id == story.segment)
        spend = frame["spend"].get(story.segment, 0.0)
        value = frame["value"].get(story.segment, 0.0)
        rows.append(
            {
                "Segment": story.segment,
                "Customers": size if size is not None else segment.size,
                "Mean CLV": clv,
                "Value per conversion": segment.value_per_conversion,
                "Bid": bids.get(story.segment),
                "Spend": spend,
                "Value": value,
                "ROAS": value / spend if spend > 0 else None,
                "Why": story.tag,
                "In detail": story.reason or MISSING,
            }
        )
    cash = _money(currency)
    return styled_table(
        pd.DataFrame(rows),
        {
            "Customers": count,
            "Mean CLV": _money(currency, 2),
            "Value per conversion": _money(currency, 2),
            "Bid": multiplier,
            "Spend": cash,
            "Value": cash,
            "ROAS": ratio,
        },
        "segments",
    )


def _allocation_table(run: VariantRun, currency: str) -> str:
    """The plan's active rows: segment, channel (period), bid, spend, conversions, value, ROAS."""
    rows = [
        {
            "Segment": a.segment,
            "Channel": a.channel,
            **({"Period": a.period} if run.problem.periods else {}),
            "Bid multiplier": a.bid_multiplier,
            "Spend": a.spend,
            "Conversions": a.conversions,
            "Value": a.value,
            "ROAS": a.roas,
            "Next step ROAS": a.next_marginal_roas,
        }
        for a in run.result.allocations
        if a.spend > 0
    ]
    cash = _money(currency)
    return styled_table(
        pd.DataFrame(rows),
        {
            "Bid multiplier": multiplier,
            "Spend": cash,
            "Conversions": lambda v: decimal(v, 1),
            "Value": cash,
            "ROAS": ratio,
            "Next step ROAS": ratio,
        },
        "plan",
    )


def _frontier_table(run: ScenarioRun, currency: str) -> str:
    """The frontier's budgets with what each buys."""
    assert run.frontier is not None
    frame = run.frontier.rename(
        columns={
            "budget": "Budget",
            "status": "Status",
            "spend": "Spend",
            "value": "Value",
            "profit": "Profit",
            "roas": "ROAS",
            "marginal_value_of_budget": "Marginal value of budget",
            "marginal_roas": "Marginal ROAS",
        }
    ).drop(columns=["seconds"])
    cash = _money(currency)
    return styled_table(
        frame,
        {
            "Budget": cash,
            "Spend": cash,
            "Value": cash,
            "Profit": cash,
            "ROAS": ratio,
            "Marginal value of budget": ratio,
            "Marginal ROAS": ratio,
        },
        "frontier",
    )


def _audience_tables(figures: dict[str, object], currency: str) -> list[tuple[str, str]]:
    """The Audiences section's tables: MVC profile, lookalikes, movers, detargeting."""
    mvc = mvc_rows(figures)
    units = {
        "customers": count,
        "median orders": lambda v: decimal(v, 1),
        "median basket": _money(currency, 2),
        "median channels": lambda v: decimal(v, 1),
        "median days since last order": lambda v: decimal(v, 0),
        "share of revenue": percent,
    }
    mvc_cells = mvc.assign(
        MVC=[units[m](v) for m, v in zip(mvc["measure"], mvc["MVC"], strict=True)],
        all=[units[m](v) for m, v in zip(mvc["measure"], mvc["all"], strict=True)],
    ).rename(columns={"measure": "Measure", "all": "All customers"})
    tables = [("MVC profile", styled_table(mvc_cells, {}, "mvc"))]
    cash = _money(currency, 2)
    optional = [
        (
            "Lookalike audiences",
            lookalike_rows(figures),
            {
                "size": count,
                "expected conversion rate": lambda v: percent(v, 2),
                "expected CLV": cash,
                "lift": ratio,
                "holdout AUC": lambda v: decimal(v, 3),
            },
        ),
        (
            "Segments on the move",
            mover_rows(figures),
            {"customers": count, "CLV at start": cash, "CLV now": cash},
        ),
        (
            "Detargeting",
            detargeting_rows(figures),
            {
                "customers": count,
                "detargeted": count,
                "mean days left out": lambda v: decimal(v, 0),
                "spend saved": _money(currency),
            },
        ),
    ]
    for i, (title, frame, formats) in enumerate(optional):
        if frame is not None:
            tables.append((title, styled_table(frame, formats, f"audience{i}")))
    return tables


def _key_figures(run: VariantRun, currency: str) -> list[tuple[str, str]]:
    """The headline numbers of the base plan."""
    totals = run.result.totals
    budget = run.problem.budget.total
    figures = [("Budget", money(budget, currency))]
    if totals is not None:
        figures += [
            ("Spend", money(totals.spend, currency)),
            ("Value", money(totals.value, currency)),
            ("Profit", money(totals.profit, currency)),
            ("ROAS", ratio(totals.roas)),
            ("Conversions", count(totals.conversions)),
        ]
    return figures


def render_report(run: ScenarioRun, export_warnings: list[str] | None = None) -> str:
    """The report as one HTML string."""
    scenario = run.file.base
    currency = scenario.currency
    base = run.base
    figures = audience_figures(base)
    infeasible = [
        (name, conflict_sentence(v.result, v.problem, currency))
        for name, v in run.variants.items()
        if v.result.totals is None
    ]
    context = {
        "scenario": scenario,
        "currency": currency,
        "key_figures": _key_figures(base, currency),
        "summary": base_summary(run, currency),
        "variant_sentences": [
            (name, variant_sentence(run, name, currency)) for name in run.variants if name != "base"
        ],
        "binding": binding_sentences(base, currency),
        "valuation": valuation_sentence(run),
        "infeasible": infeasible,
        "warnings": warnings(run, currency, export_warnings),
        "variants_table": _variant_table(run, currency),
        "segments_table": _segment_table(base, currency),
        "charts": _charts(run, currency, figures),
        "audiences": _audience_tables(figures, currency),
        "allocation_table": _allocation_table(base, currency) if base.result.allocations else "",
        "frontier_table": None if run.frontier is None else _frontier_table(run, currency),
        "notes": grouped_notes(run),
        "as_of": base.formed.valuation.as_of.date().isoformat(),
        "style": environment().get_template("report.css").render(),
    }
    return environment().get_template("report.html.j2").render(**context)
