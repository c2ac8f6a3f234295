"""Shared fixtures: one generated retailer (with truth) loaded once, the audiences built once;
the figures checked against the truth are listed at the end of the pytest run."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from models.audiences.detargeting import detarget
from models.audiences.lookalike import Lookalikes, lookalike_audiences
from models.audiences.movers import MoversReport, segments_on_the_move
from models.customers import LoadedOrders, customer_summary, load_orders
from models.settings import ValuationSettings
from models.simulate import SimulatedData, SimulationConfig, simulate
from models.valuation import Valuation, value_orders

END = "2025-06-30"  # the generator's observation end: holdout orders follow it
START = "2024-12-31"
FIGURES: list[str] = []


@pytest.fixture(scope="session")
def report_figure() -> Iterator[list[str]]:
    """Lines to show in the terminal summary (precision, recall, lift, ...)."""
    yield FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("audiences against the generator's truth")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def world() -> SimulatedData:
    return simulate(SimulationConfig(n_customers=20_000, n_prospects=50_000, seed=2))


@pytest.fixture(scope="session")
def loaded(world: SimulatedData) -> LoadedOrders:
    return load_orders(world.orders, contacts=world.contacts, max_timestamp="2026-01-01")


@pytest.fixture(scope="session")
def lookalikes(loaded: LoadedOrders) -> Lookalikes:
    return lookalike_audiences(loaded, as_of=END)


@pytest.fixture(scope="session")
def movers(loaded: LoadedOrders, chosen: ValuationSettings) -> tuple[MoversReport, pd.DataFrame]:
    return segments_on_the_move(loaded, start=START, end=END, valuation=chosen)


@pytest.fixture(scope="session")
def valuation(loaded: LoadedOrders) -> Valuation:
    return value_orders(loaded, ValuationSettings(as_of=END))


@pytest.fixture(scope="session")
def chosen(valuation: Valuation) -> ValuationSettings:
    """The settings naming the models that `auto` chose for `valuation`: later valuations of
    these orders fit the same models without validating every candidate again (a minute)."""
    choice = valuation.fitted.choice
    return ValuationSettings(clv_model=choice.chosen, spend_model=choice.spend.chosen)


@pytest.fixture(scope="session")
def values(valuation: Valuation) -> pd.DataFrame:
    return valuation.values


@pytest.fixture(scope="session")
def detargeted(loaded: LoadedOrders, valuation: Valuation) -> pd.DataFrame:
    return detarget(valuation.purchases, customer_summary(loaded, as_of=END))
