"""Seeded generator of realistic retail data with known truth (BG/NBD + Gamma-Gamma, identities).

data = simulate(SimulationConfig(n_customers=10_000, seed=1))
write_simulated(data, "out/sim", fmt="parquet")
"""

from models.simulate.config import (
    DEFAULT_GROUPS,
    GroupTruth,
    SimulationConfig,
    SimulationConfigError,
)
from models.simulate.generator import SimulatedData, simulate
from models.simulate.io import read_simulated, write_simulated
from models.simulate.purchases import expected_repeat_purchases

__all__ = [
    "DEFAULT_GROUPS",
    "GroupTruth",
    "SimulatedData",
    "SimulationConfig",
    "SimulationConfigError",
    "expected_repeat_purchases",
    "read_simulated",
    "simulate",
    "write_simulated",
]
