"""Bass demand in closed form: F against the ODE, G against quadrature, subscribers and revenue."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import quad, solve_ivp

from rollout_sim.model.demand import (
    DAYS_PER_YEAR,
    bass_fraction,
    bass_integral,
    revenue_usd,
    subscribers,
)

PQ = [(0.03, 0.38), (0.01, 0.5)]
TAUS_YEARS = [0.25, 1.0, 2.5, 5.0, 10.0, 20.0]


def _quad(fun: object, lo: float, hi: float) -> float:
    value, _err = quad(fun, lo, hi, epsabs=1e-13, epsrel=1e-13, limit=200)
    return float(value)


@pytest.mark.parametrize(("p", "q"), PQ)
def test_fraction_limits_and_monotone(p: float, q: float) -> None:
    assert bass_fraction(0.0, p, q) == 0.0
    assert np.all(bass_fraction(np.array([-5.0, -1e-9, 0.0]), p, q) == 0.0)
    assert bass_fraction(200.0, p, q) == pytest.approx(1.0, abs=1e-12)
    assert bass_fraction(np.inf, p, q) == 1.0
    tau = np.linspace(0.0, 60.0, 6001)
    f = bass_fraction(tau, p, q)
    assert np.all(np.diff(f) >= 0)
    assert np.all(np.diff(f[:2000]) > 0)  # strictly increasing while still far from 1
    assert np.all((f >= 0) & (f <= 1))


def test_fraction_nan_propagates() -> None:
    assert np.isnan(bass_fraction(np.nan, 0.03, 0.38))
    assert np.isnan(bass_integral(np.nan, 0.03, 0.38))


@pytest.mark.parametrize(("p", "q"), PQ)
def test_fraction_solves_bass_ode(p: float, q: float) -> None:
    sol = solve_ivp(
        lambda _t, f: (p + q * f) * (1 - f),
        (0.0, max(TAUS_YEARS)),
        [0.0],
        t_eval=TAUS_YEARS,
        method="DOP853",
        rtol=1e-12,
        atol=1e-14,
    )
    assert sol.success
    np.testing.assert_allclose(
        bass_fraction(np.array(TAUS_YEARS), p, q), sol.y[0], rtol=0, atol=1e-6
    )


@pytest.mark.parametrize(("p", "q"), PQ)
@pytest.mark.parametrize("tau", [1e-4, 0.1, 1.0, 3.0, 10.0, 25.0, 50.0])
def test_integral_matches_quadrature(p: float, q: float, tau: float) -> None:
    expected = _quad(lambda s: float(bass_fraction(s, p, q)), 0.0, tau)
    assert bass_integral(tau, p, q) == pytest.approx(expected, rel=0, abs=1e-9)


@pytest.mark.parametrize(("p", "q"), PQ)
def test_integral_small_and_large_tau(p: float, q: float) -> None:
    # Near 0, G ≈ pτ²/2: the closed form must not lose it to cancellation.
    assert bass_integral(1e-8, p, q) == pytest.approx(p * 1e-16 / 2, rel=1e-6)
    assert bass_integral(np.array([-3.0, 0.0]), p, q).tolist() == [0.0, 0.0]
    # Far out, G approaches its asymptote τ − ln(1 + q/p)/q without overflow.
    for tau in (500.0, 1e6):
        assert bass_integral(tau, p, q) == pytest.approx(tau - np.log1p(q / p) / q, rel=1e-14)
    assert bass_integral(np.inf, p, q) == np.inf


def test_pq_validation() -> None:
    with pytest.raises(ValueError):
        bass_fraction(1.0, 0.0, 0.3)
    with pytest.raises(ValueError):
        bass_integral(1.0, 0.03, -0.1)


# -- subscribers -----------------------------------------------------------------------------


def test_subscribers_two_sites_by_hand() -> None:
    # p = 0.03, q = 0.38 → a = q/p = 38/3, b = p + q = 0.41.
    # F(1) = (1 − e^−0.41)/(1 + a·e^−0.41) = (1 − 0.6636502501)/(1 + 12.6667·0.6636502501)
    #      = 0.0357581643;  F(2) = (1 − e^−0.82)/(1 + a·e^−0.82) = 0.0850562814.
    # Site A: 1000 people, on air at day 0; site B: 500 people, on air one year later
    # (day 365.25); ceiling_share 0.5. A third site never goes on air (NaN) and is skipped.
    #   t = 0:       0
    #   t = 365.25:  0.5·1000·F(1)                 = 17.87908213
    #   t = 730.5:   0.5·(1000·F(2) + 500·F(1))    = 0.5·(85.0562814 + 17.8790821) = 51.46768177
    on_air_days = np.array([0.0, 365.25, np.nan])
    people = np.array([1000.0, 500.0, 99_999.0])
    t_days = np.array([0.0, 365.25, 730.5])
    got = subscribers(t_days, on_air_days, people, ceiling_share=0.5, p=0.03, q=0.38)
    assert got.shape == (3,)
    assert got[0] == 0.0
    assert got[1] == pytest.approx(17.87908213, rel=1e-9)
    assert got[2] == pytest.approx(51.46768177, rel=1e-9)


def test_subscribers_shape_empty_and_nan_sites() -> None:
    def subs(t: ArrayLike, t0: ArrayLike, people: ArrayLike) -> NDArray[np.float64]:
        return subscribers(t, t0, people, ceiling_share=0.4, p=0.03, q=0.38)

    grid = np.arange(12.0).reshape(3, 4) * 100
    assert subs(grid, [0.0, 50.0], [10.0, 20.0]).shape == (3, 4)
    assert subs(500.0, [0.0], [10.0]).shape == ()
    assert np.all(subs(grid, [np.nan, np.nan], [10.0, 20.0]) == 0)
    assert np.all(subs(grid, [], []) == 0)
    with_nan = subs(grid, [0.0, np.nan, 50.0], [10.0, 1e9, 20.0])
    np.testing.assert_array_equal(with_nan, subs(grid, [0.0, 50.0], [10.0, 20.0]))


def test_subscribers_independent_of_chunk() -> None:
    rng = np.random.default_rng(7)
    on_air_days = rng.uniform(0, 3000, 257)
    on_air_days[rng.random(257) < 0.2] = np.nan
    people = rng.integers(50, 5000, 257).astype(np.float64)
    t_days = np.linspace(0, 3650, 121)
    big = subscribers(t_days, on_air_days, people, ceiling_share=0.35, p=0.01, q=0.5, chunk=10**7)
    for chunk in (1, 3, 50, 1000):
        small = subscribers(
            t_days, on_air_days, people, ceiling_share=0.35, p=0.01, q=0.5, chunk=chunk
        )
        np.testing.assert_array_equal(small, big)
    # And it is the plain sum it claims to be.
    tau = (t_days[:, None] - on_air_days[None, :]) / DAYS_PER_YEAR
    naive = 0.35 * np.nansum(people * bass_fraction(tau, 0.01, 0.5), axis=1)
    np.testing.assert_allclose(big, naive, rtol=1e-12)


def test_subscribers_validation() -> None:
    with pytest.raises(ValueError):
        subscribers([0.0], [0.0, 1.0], [1.0], ceiling_share=0.5, p=0.03, q=0.38)
    with pytest.raises(ValueError):
        subscribers([0.0], [0.0], [1.0], ceiling_share=0.5, p=0.03, q=0.38, chunk=0)


# -- revenue ---------------------------------------------------------------------------------

REV = {"ceiling_share": 0.6, "p": 0.03, "q": 0.38, "arpu_usd_month": 4.5, "share": 0.7}
ON_AIR_DAYS = np.array([100.0, 400.0, 2000.0, np.nan])
PEOPLE = np.array([1200.0, 300.0, 800.0, 5000.0])


@pytest.mark.parametrize(("t1", "t2"), [(0.0, 30.0), (90.0, 130.0), (380.0, 1500.0), (0, 7300.0)])
def test_revenue_matches_quadrature(t1: float, t2: float) -> None:
    got = revenue_usd(t1, t2, ON_AIR_DAYS, PEOPLE, **REV)
    assert got.shape == ON_AIR_DAYS.shape
    per_year = REV["arpu_usd_month"] * 12 * REV["share"]
    for k in range(ON_AIR_DAYS.size):
        if np.isnan(ON_AIR_DAYS[k]):
            assert got[k] == 0.0
            continue

        def subs(t: float, k: int = k) -> float:
            one = subscribers(
                t,
                ON_AIR_DAYS[k : k + 1],
                PEOPLE[k : k + 1],
                ceiling_share=REV["ceiling_share"],
                p=REV["p"],
                q=REV["q"],
            )
            return float(one)

        # Break the quadrature at the on-air day, where the integrand has a kink.
        points = [x for x in (t1, ON_AIR_DAYS[k], t2) if t1 <= x <= t2]
        expected = sum(_quad(subs, a, b) for a, b in pairwise(points))
        assert got[k] == pytest.approx(per_year * expected / DAYS_PER_YEAR, rel=1e-9, abs=1e-9)


def test_revenue_zero_before_on_air() -> None:
    got = revenue_usd(0.0, 100.0, ON_AIR_DAYS, PEOPLE, **REV)
    assert np.all(got == 0.0)
    assert np.all(revenue_usd(2500.0, 2500.0, ON_AIR_DAYS, PEOPLE, **REV) == 0.0)


def test_revenue_additive_over_adjacent_intervals() -> None:
    edges = [0.0, 95.0, 250.0, 401.0, 1000.0, 3650.0, 18_000.0]
    whole = revenue_usd(edges[0], edges[-1], ON_AIR_DAYS, PEOPLE, **REV)
    parts = sum(revenue_usd(a, b, ON_AIR_DAYS, PEOPLE, **REV) for a, b in pairwise(edges))
    np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-9 * max(1.0, float(whole.max())))
    a, b, c = 400.0, 430.4375, 461.0
    ab = revenue_usd(a, b, ON_AIR_DAYS, PEOPLE, **REV)
    bc = revenue_usd(b, c, ON_AIR_DAYS, PEOPLE, **REV)
    np.testing.assert_allclose(ab + bc, revenue_usd(a, c, ON_AIR_DAYS, PEOPLE, **REV), atol=1e-9)


def test_revenue_up_fraction_scales_per_site() -> None:
    base = revenue_usd(500.0, 900.0, ON_AIR_DAYS, PEOPLE, **REV)
    up = np.array([1.0, 0.5, 0.0, 0.25])
    np.testing.assert_allclose(
        revenue_usd(500.0, 900.0, ON_AIR_DAYS, PEOPLE, **REV, up_fraction=up), base * up
    )
    with pytest.raises(ValueError):
        revenue_usd(500.0, 900.0, ON_AIR_DAYS, PEOPLE, **REV, up_fraction=[1.0, 1.0, 1.5, 1.0])


def test_revenue_validation() -> None:
    with pytest.raises(ValueError):
        revenue_usd(10.0, 5.0, ON_AIR_DAYS, PEOPLE, **REV)
    with pytest.raises(ValueError):
        revenue_usd(0.0, 5.0, ON_AIR_DAYS, PEOPLE[:2], **REV)
