"""CDNOW holdout (issue 13): calibration to 1997-09-30 on the full master, holdout to
1998-06-30; every purchase and spend candidate's holdout figures and clvbid's default choice
against the targets (per-customer MAE < 0.79, total within +/-10% of the actual)."""

from __future__ import annotations

import time

import pandas as pd

from benchmarks.results import markdown_table, write_section
from models.customers import load_orders
from models.datasets import load_cdnow
from models.settings import ValuationSettings
from models.valuation import choose_model

HOLDOUT_END = pd.Timestamp("1998-06-30")
SETTINGS = ValuationSettings(holdout_weeks=39)  # back to 1997-09-30


def main() -> None:
    """Run the split, print and record the figures under the CDNOW holdout heading."""
    started = time.perf_counter()
    choice = choose_model(load_orders(load_cdnow()), HOLDOUT_END, SETTINGS)
    rows = []
    for name, report in choice.reports.items():
        actual, predicted = report.totals["actual"], report.totals["predicted"]
        rows.append(
            [
                name + (" (chosen)" if name == choice.chosen else ""),
                f"{report.mae:.4f}",
                f"{report.naive_mae:.4f}",
                f"{predicted:,.0f}",
                f"{actual:,.0f}",
                f"{predicted / actual - 1:+.1%}",
                f"{report.brier:.5f}",
            ]
        )
    spend_rows = [
        [
            name + (" (chosen)" if name == choice.spend.chosen else ""),
            ", ".join(f"{k}={v:.4g}" for k, v in report.params.items()),
            f"{report.customers:,}",
            f"{report.actual_mean:.2f}",
            f"{report.predicted_mean:.2f}",
            f"{report.mae:.3f}",
        ]
        for name, report in choice.spend.reports.items()
    ]
    purchases = markdown_table(
        ["model", "MAE", "naive MAE", "predicted", "actual", "total error", "Brier"], rows
    )
    spend = markdown_table(
        ["spend model", "parameters", "holdout buyers", "actual mean order", "predicted",
         "MAE"],
        spend_rows,
    )  # fmt: skip
    chosen = choice.reports[choice.chosen]
    error = chosen.totals["predicted"] / chosen.totals["actual"] - 1
    body = f"""{time.perf_counter() - started:.0f} s. CDNOW master (23,570 customers), calibration
to 1997-09-30, holdout to 1998-06-30 (`choose_model` with `holdout_weeks=39`). Targets of
issue 13 for the default choice: per-customer MAE < 0.79 and total within +/-10%.
Default choice: {choice.chosen}, MAE {chosen.mae:.4f}, total {error:+.1%}: targets
{"met" if chosen.mae < 0.79 and abs(error) <= 0.10 else "NOT met"}.

{purchases}

{spend}
"""
    print(body)
    write_section("CDNOW holdout", body)


if __name__ == "__main__":
    main()
