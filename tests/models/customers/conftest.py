"""Shared fixtures: CDNOW loaded once per session (it is read-only)."""

from __future__ import annotations

import pytest

from models.customers import LoadedOrders, load_orders
from models.datasets import load_cdnow


@pytest.fixture(scope="session")
def cdnow() -> LoadedOrders:
    return load_orders(load_cdnow())
