"""Bid landscapes generated from response curves (power law or Hill), as arrays.

A landscape maps a bid multiplier m to the expected cost and conversions at that bid. Platforms
report a handful of such points; when none are available a curve stands in for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from optimizer.schema import ResponseCurve

Array = NDArray[np.float64]


def power_curve(multipliers: Array, at_one: float | Array, exponent: float | Array) -> Array:
    """y(m) = y(1) * m**exponent: the constant-elasticity curve of bid-landscape practice."""
    return at_one * np.power(multipliers, exponent)


def hill_curve(
    multipliers: Array,
    at_one: float | Array,
    half_saturation: float | Array,
    exponent: float | Array,
) -> Array:
    """Hill (1910) saturation y(m) = top * m**k / (h**k + m**k), scaled so that y(1) = at_one."""
    h_k = half_saturation**exponent
    m_k = np.power(multipliers, exponent)
    return at_one * (1.0 + h_k) * m_k / (h_k + m_k)


def curve_points(curve: ResponseCurve) -> tuple[Array, Array, Array]:
    """(bid multipliers, cost, conversions) of the curve at its grid of multipliers."""
    m = np.asarray(curve.multipliers, dtype=np.float64)
    cost = power_curve(m, curve.cost, curve.cost_exponent)
    if curve.shape == "power":
        conversions = power_curve(m, curve.conversions, curve.conversion_exponent)
    else:
        conversions = hill_curve(m, curve.conversions, curve.half_saturation, curve.hill_exponent)
    return m, cost, conversions
