"""Predictions stay finite and exact for any purchase count: checked against 50-digit mpmath
evaluations of the textbook formulas (FHL 2005 eq. 10 and 12, FH 2005 eq. 22 and 23)."""

import itertools

import mpmath
import numpy as np
import pandas as pd
import pytest

from models.clv import BetaGeoModel, ParetoNBDModel
from tests.models.clv import simulate
from tests.models.clv.test_predictions import SAMPLE

mpmath.mp.dps = 50
FREQUENCIES = [0, 1, 2, 10, 100, 500, 1000, 5000]
AGES = [0.05, 10.0, 500.0]  # T: tiny, CDNOW-like, ten years in weeks
SHARES = [1.0, 0.5]  # recency = T (bought on the as-of day), recency = T / 2
HORIZONS = [1.0, 52.0, 520.0]
BG_PARAMS = [
    {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},  # CDNOW, weeks (FHL 2005)
    {"r": 2.0, "alpha": 0.5, "a": 3.0, "b": 0.4},
]
PNBD_PARAMS = [
    {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},  # CDNOW, weeks (FH 2005)
    {"r": 1.5, "alpha": 40.0, "s": 2.5, "beta": 3.0},
]


def _grid() -> list[tuple[int, float, float, float]]:
    """(x, t_x, T, t) over the grid; recency is 0 when frequency is."""
    rows = set()
    for x, big_t, share, t in itertools.product(FREQUENCIES, AGES, SHARES, HORIZONS):
        rows.add((x, share * big_t if x > 0 else 0.0, big_t, t))
    return sorted(rows)


def _relative_errors(got: np.ndarray, expected: list) -> np.ndarray:
    """|got - expected| / |expected| with the reference in mpmath precision."""
    return np.array(
        [float(abs((mpmath.mpf(float(g)) - e) / e)) for g, e in zip(got, expected, strict=True)]
    )


def _model(kind: type, params: dict[str, float]) -> BetaGeoModel | ParetoNBDModel:
    """A fitted model of `kind` set to exactly `params`."""
    return kind().fit(SAMPLE["frequency"], SAMPLE["recency"], SAMPLE["T"]).with_params(params)


def _bg_reference(params: dict[str, float], x: int, t_x: float, big_t: float, t: float) -> dict:
    """P(alive), E[Y(t) | alive] and P(no purchase | alive) of BG/NBD, as FHL (2005) write them."""
    r, alpha, a, b = (mpmath.mpf(params[k]) for k in ("r", "alpha", "a", "b"))
    t_x, big_t, t = mpmath.mpf(t_x), mpmath.mpf(big_t), mpmath.mpf(t)
    keep = (alpha + big_t) / (alpha + big_t + t)
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0
    return {
        "alive": 1 / (1 + odds),
        "if_alive": (a + b + x - 1) / (a - 1) * (1 - keep ** (r + x) * hyp),
        "no_purchase": keep ** (r + x),
    }


def _pnbd_reference(params: dict[str, float], x: int, t_x: float, big_t: float, t: float) -> dict:
    """The same for Pareto/NBD: FH (2005) eq. 18-23 with their 2F1, and P(no purchase | alive)
    as one minus the integral of the first purchase time's density (mpmath.quad)."""
    r, alpha, s, beta = (mpmath.mpf(params[k]) for k in ("r", "alpha", "s", "beta"))
    t_x, big_t, t = mpmath.mpf(t_x), mpmath.mpf(big_t), mpmath.mpf(t)

    def a0(y: mpmath.mpf) -> mpmath.mpf:
        if alpha >= beta:
            hyp = mpmath.hyp2f1(r + s + x, s + 1, r + s + x + 1, (alpha - beta) / (alpha + y))
            return hyp / (alpha + y) ** (r + s + x)
        hyp = mpmath.hyp2f1(r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + y))
        return hyp / (beta + y) ** (r + s + x)

    alive = (alpha + big_t) ** -(r + x) * (beta + big_t) ** -s
    died = s / (r + s + x) * (a0(t_x) - a0(big_t))
    k, big_a, big_b = r + x, alpha + big_t, beta + big_t
    peak = big_a / k
    cuts = [mpmath.mpf(0)] + [peak * c for c in (1, 10, 100, 1000) if peak * c < t] + [t]
    first_purchase = mpmath.quad(
        lambda u: k / big_a * (big_a / (big_a + u)) ** (k + 1) * (big_b / (big_b + u)) ** s, cuts
    )
    return {
        "alive": alive / (alive + died),
        "if_alive": k * big_b / (big_a * (s - 1)) * (1 - (big_b / (big_b + t)) ** (s - 1)),
        "no_purchase": 1 - first_purchase,
    }


def _check_against(model, reference, params: dict[str, float]) -> None:
    """Every prediction finite and within 1e-8 of the reference; values too small for a double
    (below 1e-300) only need to be below 1e-290."""
    x, t_x, big_t, t = (np.array(column) for column in zip(*_grid(), strict=True))
    expected = [reference(params, *row) for row in _grid()]
    got = {
        "alive": model.probability_alive(x, t_x, big_t),
        "if_alive": model.expected_purchases_if_alive(t, x, t_x, big_t),
        "no_purchase": model.probability_no_purchase_if_alive(t, x, t_x, big_t),
    }
    conditional = model.conditional_expected_purchases(t, x, t_x, big_t)
    assert np.isfinite(conditional).all()
    for name, values in got.items():
        assert np.isfinite(values).all(), name
        reference_values = [row[name] for row in expected]
        representable = np.array([abs(v) > 1e-300 for v in reference_values])
        errors = _relative_errors(
            values[representable], list(np.array(reference_values)[representable])
        )
        worst = int(np.argmax(errors))
        assert errors[worst] <= 1e-8, (name, np.array(_grid())[representable][worst], errors[worst])
        assert np.all(values[~representable] < 1e-290), name


@pytest.mark.parametrize("params", BG_PARAMS)
def test_bgnbd_predictions_match_mpmath_for_any_frequency(params: dict[str, float]) -> None:
    _check_against(_model(BetaGeoModel, params), _bg_reference, params)


@pytest.mark.parametrize("params", PNBD_PARAMS)
def test_pareto_nbd_predictions_match_mpmath_for_any_frequency(params: dict[str, float]) -> None:
    _check_against(_model(ParetoNBDModel, params), _pnbd_reference, params)


def test_issue_example_near_daily_buyer_is_not_nan() -> None:
    """x = 500, recency = T = 10 weeks, t = 52: NaN before (the power overflowed); lifetimes
    after its issue #25 gives 898.877."""
    params = BG_PARAMS[0]
    got = _model(BetaGeoModel, params).conditional_expected_purchases(52.0, [500], [10.0], [10.0])
    reference = _bg_reference(params, 500, 10.0, 10.0, 52.0)
    assert got[0] == pytest.approx(float(reference["alive"] * reference["if_alive"]), rel=1e-10)
    assert got[0] == pytest.approx(898.877, abs=5e-4)


def test_probability_alive_goes_below_the_former_cap() -> None:
    """The log-odds were capped at 700, so P(alive) never fell below 9.9e-305."""
    model = _model(BetaGeoModel, BG_PARAMS[0])
    alive = model.probability_alive([5000], [1.0], [500.0])[0]
    assert alive == 0.0 or alive < 1e-305
    x = np.arange(1, 200)
    decreasing = model.probability_alive(x, np.full(len(x), 1.0), np.full(len(x), 100.0))
    assert np.all(np.diff(decreasing) <= 0)


def test_expected_purchases_if_alive_grows_with_frequency() -> None:
    """More past purchases, more expected future ones: smooth up to 5,000 (no overflow jump)."""
    for kind, params in ((BetaGeoModel, BG_PARAMS[0]), (ParetoNBDModel, PNBD_PARAMS[0])):
        x = np.arange(0, 5001, 50)
        values = _model(kind, params).expected_purchases_if_alive(
            52.0, x, np.where(x > 0, 30.0, 0.0), np.full(len(x), 30.0)
        )
        assert np.isfinite(values).all() and np.all(np.diff(values) > 0)
        assert pd.Series(values).is_monotonic_increasing


# Every customer drops out alike: a Beta concentrated on p = 0.014 (BG/NBD fitted to Erlang-3
# buying, benchmarks/bench_decisions.py rhythm seed 2), where Euler's 2F1 overflows; and one
# in the hundreds, where it does not everywhere.
CONCENTRATED = [
    {"r": 0.6212, "alpha": 13.62, "a": 6.24e8, "b": 4.412e10},
    {"r": 0.6212, "alpha": 13.62, "a": 300.0, "b": 21000.0},
]


def _if_alive_reference(params: dict[str, float], x: int, big_t: float, t: float) -> mpmath.mpf:
    """E[Y(t) | alive] of BG/NBD as the integral over the dropout posterior Beta(a, b+x) of
    (1 - (1 + p t/(alpha+T))^-(r+x)) / p (FHL 2005 eq. 10 before the 2F1), by mpmath.quad in
    pieces around the Beta's mean."""
    r, alpha, a, b = (mpmath.mpf(params[k]) for k in ("r", "alpha", "a", "b"))
    b, shape, rate = b + x, r + x, mpmath.mpf(t) / (alpha + big_t)
    mean, log_norm = a / (a + b), mpmath.log(mpmath.beta(a, b))
    sd = mpmath.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def integrand(p: mpmath.mpf) -> mpmath.mpf:
        density = mpmath.exp((a - 1) * mpmath.log(p) + (b - 1) * mpmath.log1p(-p) - log_norm)
        return density * -mpmath.expm1(-shape * mpmath.log1p(p * rate)) / p

    cuts = [max(mean + c * sd, mpmath.mpf(0)) for c in range(-30, 31, 6)]
    return mpmath.quad(integrand, sorted(set(cuts)))


@pytest.mark.parametrize("params", CONCENTRATED)
def test_bgnbd_with_a_concentrated_dropout_stays_exact(params: dict[str, float]) -> None:
    """NaN before for the first parameters (Euler's 2F1 overflowed): now within 1e-8 of the
    integral over the dropout posterior, for any frequency, age and horizon."""
    model = _model(BetaGeoModel, params)
    rows = list(itertools.product([0, 10, 1000, 5000], AGES, [1.0, 520.0]))
    x, big_t, t = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    got = model.expected_purchases_if_alive(t, x, np.where(x > 0, big_t / 2, 0.0), big_t)
    expected = [_if_alive_reference(params, int(row[0]), row[1], row[2]) for row in rows]
    assert np.isfinite(got).all()
    assert _relative_errors(got, expected).max() <= 1e-8


def test_bgnbd_fitted_to_one_common_dropout_predicts_its_limit() -> None:
    """Customers who all drop out with p = 1.4% after a purchase: the fit runs a and b to
    the 1e8s (NaN predictions before); each customer's expected purchases if alive are then
    those of the common-p limit, (1 - (1 + p t/(alpha+T))^-(r+x)) / p."""
    rng = np.random.default_rng(3)
    big_t = simulate.observation_weeks(rng, 20_000, max_days=730)
    data = simulate.bgnbd(rng, {"r": 0.6, "alpha": 13.0, "a": 1e9, "b": 7e10}, big_t)
    model = BetaGeoModel().fit(data["frequency"], data["recency"], data["T"])
    r, alpha, a, b = model.params_[["r", "alpha", "a", "b"]]
    assert a > 1e6 and a / (a + b) == pytest.approx(0.014, rel=0.1)
    x, horizon = data["frequency"].to_numpy(), 52.0
    got = model.expected_purchases_if_alive(horizon, x, data["recency"], data["T"])
    p = a / (a + b + x)
    limit = -np.expm1(-(r + x) * np.log1p(p * horizon / (alpha + data["T"].to_numpy()))) / p
    np.testing.assert_allclose(got, limit, rtol=1e-6)
