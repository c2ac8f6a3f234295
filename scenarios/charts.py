"""The charts of a scenario report and of the dashboard, drawn by matplotlib as SVG.

Every chart labels its axes with their units (the scenario's currency for money), uses
constrained layout so titles, ticks and legends never overlap, and colours each channel the
same way in every report (`channel_colour`), so a planner comparing two reports reads the
colours once.
"""

from __future__ import annotations

import base64
import io
import zlib
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from scenarios.formatting import currency_symbol  # noqa: E402

# Text stays text in the SVG (selectable, read by screen readers, a tenth of the size of
# outlined glyphs); the browser draws it with the same DejaVu Sans matplotlib measured with.
plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "clvbid",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

TIER_COLOURS = {"top": "#1b7837", "mid": "#7fbf7b", "low": "#d9f0d3", "all": "#9e9ac8"}
# Fixed colours for the channels planners name most; any other channel gets one of the
# fallback colours chosen by a checksum of its name, so it is also the same in every report.
CHANNEL_COLOURS = {
    "search": "#1f77b4",
    "google": "#1f77b4",
    "social": "#d62728",
    "meta": "#3b5998",
    "facebook": "#3b5998",
    "instagram": "#c13584",
    "display": "#ff7f0e",
    "video": "#9467bd",
    "youtube": "#e62117",
    "shopping": "#2ca02c",
    "email": "#8c564b",
    "tiktok": "#17becf",
}
FALLBACK_COLOURS = ("#7f7f7f", "#bcbd22", "#e377c2", "#393b79", "#637939", "#8c6d31")
MEASURE_COLOURS = {"spend": "#b2182b", "value": "#2166ac", "profit": "#1b7837"}


def channel_colour(channel: str) -> str:
    """The channel's colour, the same in every report and page."""
    known = CHANNEL_COLOURS.get(channel.lower())
    if known is not None:
        return known
    return FALLBACK_COLOURS[zlib.crc32(channel.lower().encode()) % len(FALLBACK_COLOURS)]


def svg(figure: Figure) -> str:
    """The figure as a base64 SVG data URI (then closed): vector, so it prints sharp."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def money_axis(axis: plt.Axes, which: str, currency: str) -> None:
    """Thousands separators and the currency symbol on the money axis' ticks."""
    symbol = currency_symbol(currency)
    formatter = FuncFormatter(lambda v, _pos: f"{symbol}{v:,.0f}" if abs(v) >= 10 else f"{v:g}")
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def count_axis(axis: plt.Axes, which: str = "y") -> None:
    """Thousands separators on a count axis."""
    formatter = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def _figure(width: float, height: float, columns: int = 1) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure (no overlapping titles, ticks or legends)."""
    figure, axes = plt.subplots(
        1, columns, figsize=(width, height), squeeze=False, layout="constrained"
    )
    return figure, axes[0]


def _legend_outside(axis: plt.Axes, title: str | None = None) -> None:
    """A legend right of the plot (never over the data), when there is anything to name."""
    if axis.get_legend_handles_labels()[0]:
        axis.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def stacked_bars(
    counts: pd.DataFrame,
    colours: Mapping[str, str],
    *,
    title: str,
    ylabel: str,
    legend: str,
    currency: str | None = None,
) -> Figure:
    """Columns of `counts` stacked per row (x = index): stage counts by tier, spend per period
    by channel, lifecycle counts by month."""
    figure, (axis,) = _figure(7.5, 3.4)
    bottom = np.zeros(len(counts))
    labels = [str(i) for i in counts.index]
    for column in counts.columns:
        heights = counts[column].fillna(0).to_numpy(dtype=float)
        axis.bar(labels, heights, bottom=bottom, label=str(column), color=colours.get(column))
        bottom += heights
    axis.set_title(title)
    axis.set_ylabel(ylabel)
    if currency is None:
        count_axis(axis)
    else:
        money_axis(axis, "y", currency)
    if len(labels) > 6:
        axis.tick_params(axis="x", labelrotation=45)
    _legend_outside(axis, legend)
    return figure


def segment_values_chart(
    segments: pd.DataFrame, currency: str, horizon_months: int, small: int
) -> Figure:
    """Mean CLV per segment with its 95% interval and value per conversion beside it;
    segments under `small` customers are hatched, and the axis is scaled to the others so a
    one-customer segment cannot flatten the rest."""
    figure, (axis,) = _figure(8.5, 3.6)
    x = np.arange(len(segments))
    mean = segments["clv_mean"].fillna(0).to_numpy(dtype=float)
    low = (segments["clv_mean"] - segments["clv_mean_low"]).fillna(0).clip(lower=0)
    high = (segments["clv_mean_high"] - segments["clv_mean"]).fillna(0).clip(lower=0)
    per_conversion = segments["value_per_conversion"].fillna(0).to_numpy(dtype=float)
    tiny = segments["size"].fillna(0).to_numpy() < small
    hatch = ["//" if t else "" for t in tiny]
    axis.bar(
        x - 0.2,
        mean,
        0.4,
        yerr=[low, high],
        label="mean CLV (95% interval)",
        color="#2166ac",
        hatch=hatch,
        edgecolor="white",
        capsize=2,
    )
    axis.bar(
        x + 0.2,
        per_conversion,
        0.4,
        label="value of one more conversion",
        color="#92c5de",
        hatch=hatch,
        edgecolor="white",
    )
    trusted = ~tiny
    if trusted.any() and tiny.any():
        top = np.nanmax(np.r_[mean[trusted] + high.to_numpy()[trusted], per_conversion[trusted]])
        axis.set_ylim(0, top * 1.15)
        for i in np.flatnonzero(tiny):
            axis.text(i, top * 1.05, f"n<{small}", ha="center", fontsize=7, color="#b2182b")
    axis.set_xticks(x, segments["id"], rotation=35, ha="right")
    axis.set_ylabel(f"{currency_symbol(currency)} per customer ({horizon_months} months)")
    axis.set_title(f"CLV by segment, {horizon_months}-month horizon")
    money_axis(axis, "y", currency)
    _legend_outside(axis)
    return figure


def channel_bars(
    pivot: pd.DataFrame, currency: str, *, title: str, xlabel: str = "spend"
) -> Figure:
    """Horizontal bars per row of `pivot` (segments), stacked by channel (its columns)."""
    figure, (axis,) = _figure(8.5, max(2.6, 0.32 * len(pivot) + 1.2))
    left = np.zeros(len(pivot))
    for channel in pivot.columns:
        widths = pivot[channel].fillna(0).to_numpy(dtype=float)
        axis.barh(pivot.index, widths, left=left, label=channel, color=channel_colour(channel))
        left += widths
    axis.invert_yaxis()
    axis.set_xlabel(f"{xlabel} ({currency_symbol(currency)})")
    money_axis(axis, "x", currency)
    axis.set_title(title)
    _legend_outside(axis, "channel")
    return figure


def grouped_bars(
    table: pd.DataFrame, currency: str, *, title: str, measures: Sequence[str]
) -> Figure:
    """Per row of `table` (variants), one bar per measure (spend, value, profit)."""
    figure, (axis,) = _figure(8.5, 3.4)
    x = np.arange(len(table))
    width = 0.8 / len(measures)
    for k, measure in enumerate(measures):
        offset = (k - (len(measures) - 1) / 2) * width
        axis.bar(
            x + offset,
            table[measure].fillna(0),
            width,
            label=measure,
            color=MEASURE_COLOURS.get(measure),
        )
    axis.set_xticks(x, table.index, rotation=20, ha="right")
    axis.axhline(0, color="#888", linewidth=0.8)
    axis.set_ylabel(currency_symbol(currency))
    money_axis(axis, "y", currency)
    axis.set_title(title)
    _legend_outside(axis)
    return figure


def frontier_chart(
    table: pd.DataFrame, currency: str, base: tuple[float, float, float] | None
) -> Figure:
    """Top: value, profit and spend against the budget offered (the base plan marked), so a
    budget that stops being spent shows as spend levelling off below the diagonal. Bottom:
    the marginal ROAS of the last unit spent, on its own axis and only where it is defined."""
    solved = table.dropna(subset=["spend"])
    figure, axes = plt.subplots(
        2, 1, figsize=(8.5, 5.0), sharex=True, height_ratios=[3, 1.4], layout="constrained"
    )
    top, bottom = axes
    for measure in ("value", "profit", "spend"):
        top.plot(
            solved["budget"],
            solved[measure],
            marker=".",
            label=measure,
            color=MEASURE_COLOURS[measure],
        )
    top.plot(
        solved["budget"],
        solved["budget"],
        color="#bbb",
        linestyle="--",
        linewidth=0.8,
        label="budget offered",
    )
    if base is not None:
        budget, value, profit = base
        top.scatter(
            [budget, budget], [value, profit], color="black", zorder=5, s=25, label="base plan"
        )
    symbol = currency_symbol(currency)
    top.set_ylabel(symbol)
    money_axis(top, "y", currency)
    top.set_title("Efficient frontier: what each budget buys")
    _legend_outside(top)
    marginal = solved.dropna(subset=["marginal_roas"])
    bottom.plot(marginal["budget"], marginal["marginal_roas"], marker=".", color="#555")
    bottom.axhline(1.0, color="#b2182b", linewidth=0.8, linestyle=":")
    bottom.set_ylabel("marginal ROAS")
    bottom.set_xlabel(f"total budget ({symbol})")
    money_axis(bottom, "x", currency)
    return figure


def response_chart(
    curves: Mapping[str, Mapping[str, tuple[list[float], list[float]]]],
    chosen: Mapping[tuple[str, str], tuple[float, float]],
    currency: str,
) -> Figure:
    """Per channel, each segment's response curve (spend against value, from no spend through
    each landscape point) with the chosen point circled; a segment has one colour throughout."""
    channels = list(curves)
    columns = max(1, len(channels))
    figure, axes = _figure(min(13.0, 3.6 * columns + 1.6), 3.8, columns)
    symbol = currency_symbol(currency)
    segments = list(dict.fromkeys(s for by_segment in curves.values() for s in by_segment))
    palette = plt.get_cmap("tab20")
    colours = {s: palette(i % 20) for i, s in enumerate(segments)}
    for axis, channel in zip(axes, channels, strict=True):
        for segment, (cost, value) in curves[channel].items():
            colour = colours[segment]
            axis.plot(cost, value, linewidth=1.2, marker=".", markersize=3, color=colour)
            pick = chosen.get((segment, channel))
            if pick is not None:
                axis.scatter(
                    *pick, s=60, facecolors="none", edgecolors=colour, linewidths=1.6, zorder=5
                )
        axis.set_title(channel, color=channel_colour(channel))
        axis.set_xlabel(f"spend ({symbol})")
        axis.set_ylabel(f"value ({symbol})")
        money_axis(axis, "x", currency)
        money_axis(axis, "y", currency)
        axis.tick_params(axis="x", labelrotation=30)
    handles = [plt.Line2D([], [], color=colours[s], marker=".", label=s) for s in segments]
    handles.append(
        plt.Line2D(
            [],
            [],
            color="#444",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            markersize=8,
            label="chosen point",
        )
    )
    axes[-1].legend(
        handles=handles,
        title="segment",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
    )
    figure.suptitle("Response curves: value bought per spend (circles: the chosen points)")
    return figure


def comparison_bars(rows: pd.DataFrame, units: Mapping[str, str], *, title: str) -> Figure:
    """Two bars per measure (rows of `rows`, e.g. the MVC group against all customers), each
    on its own axis labelled with the measure's unit."""
    columns = list(rows.index)
    figure, axes = _figure(9.0, 2.8, len(columns))
    for axis, measure in zip(axes, columns, strict=True):
        values = rows.loc[measure]
        axis.bar(list(values.index), values.to_numpy(dtype=float), color=["#1b7837", "#9e9ac8"])
        axis.set_title(measure)
        axis.set_ylabel(units[measure])
    figure.suptitle(title)
    return figure


def matrix_chart(matrix: pd.DataFrame, *, title: str) -> Figure:
    """A heat map of counts (rows: from, columns: to) with each count written in its cell."""
    figure, (axis,) = _figure(6.5, 3.6)
    data = matrix.to_numpy(dtype=float)
    axis.imshow(data, cmap="Blues", aspect="auto")
    axis.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    axis.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    peak = data.max() if data.size else 0
    for (i, j), value in np.ndenumerate(data):
        colour = "white" if peak and value > peak / 2 else "#222"
        axis.text(j, i, f"{value:,.0f}", ha="center", va="center", fontsize=8, color=colour)
    axis.set_xlabel(f"stage at end ({matrix.columns.name or 'to'})")
    axis.set_ylabel("stage at start")
    axis.set_title(title)
    axis.spines[:].set_visible(False)
    return figure
