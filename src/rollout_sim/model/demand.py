"""Subscriber demand at a site: the Bass diffusion curve in closed form.

Once a site goes on air, the share of its catchment that has subscribed follows the Bass model
``F(τ) = (1 − e^{−(p+q)τ}) / (1 + (q/p)·e^{−(p+q)τ})`` with τ the years since on air, p the
coefficient of innovation and q that of imitation. Nothing ticks per subscriber or per day: the
simulator asks for subscribers at a few instants and for revenue over monthly accounting periods,
and both come from closed forms (``F`` and its integral ``G``), so an accounting event costs
O(sites) whatever the period length.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from ..arrays import FloatArray
from ..units import DAYS_PER_YEAR

__all__ = ["DAYS_PER_YEAR", "bass_fraction", "bass_integral", "revenue_usd", "subscribers"]


#: Default block size, in float64 elements, of the site × time grid (≈ 32 MB per block).
DEFAULT_CHUNK: Final = 4_000_000
#: Below this q·τ the integral uses the cancellation-free form; above it, the one that cannot
#: overflow (e^{30} is far from overflow, and at q·τ > 30 nothing cancels in τ − L/q).
_SMALL_Q_TAU: Final = 30.0
#: Number of Taylor terms of e^x − 1 − x for |x| < 1: the next term is below 1/20! ≈ 4e-19.
_PHI_TERMS: Final = 17
#: Below this q the imitation term is negligible (its relative effect is O(q·τ) with τ at most
#: 100 years) and the q = 0 closed forms are used: dividing by a q this small would lose the
#: result's precision to subnormal arithmetic, and by q = 0 it is undefined.
_PURE_INNOVATION_Q: Final = 1e-100


def _check_pq(p: float, q: float) -> None:
    if not (np.isfinite(p) and np.isfinite(q) and p > 0 and q >= 0):
        raise ValueError(
            f"Bass coefficients must be finite, p > 0 and q >= 0, got p={p!r}, q={q!r}"
        )


def _check_unit_interval(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value!r}")


def bass_fraction(tau_years: ArrayLike, p: float, q: float) -> FloatArray:
    """Bass adoption fraction F(τ) at *tau_years* years after on air; 0 where τ ≤ 0.

    Written as ``−expm1(−bτ) / (1 + a·e^{−bτ})`` with a = q/p, b = p + q, which is accurate both
    near τ = 0 (no 1 − e^{−bτ} cancellation) and for large τ (e^{−bτ} underflows harmlessly to 0,
    so F → 1). With q = 0 (pure innovation) it is 1 − e^{−pτ}, the same formula with a = 0.
    NaN in, NaN out. O(n) time and memory for n values of τ.
    """
    _check_pq(p, q)
    tau = np.asarray(tau_years, dtype=np.float64)
    # Evaluate on τ ≥ 0 only so that a large negative τ cannot overflow e^{−bτ}.
    tau_pos = np.where(tau > 0, tau, 0.0)
    decay = np.exp(-(p + q) * tau_pos)
    value = -np.expm1(-(p + q) * tau_pos) / (1.0 + (q / p) * decay)
    return np.asarray(np.where(tau <= 0, 0.0, np.where(np.isnan(tau), np.nan, value)))


def _exp_minus_one_minus(x: FloatArray) -> FloatArray:
    """φ(x) = e^x − 1 − x ≥ 0, accurate to a few ulps for every finite x that does not overflow.

    For |x| < 1 the Taylor series x²·Σ x^k/(k+2)! (Horner) avoids the cancellation of e^x − 1 − x;
    elsewhere expm1(x) − x loses at most a factor ~3 of relative precision. O(n).
    """
    small = np.abs(x) < 1.0
    xs = np.where(small, x, 0.0)
    coeffs = 1.0 / np.cumprod(np.arange(2, _PHI_TERMS + 2, dtype=np.float64))  # 1/(k+2)!
    series = np.full_like(xs, coeffs[-1])
    for c in coeffs[-2::-1]:
        series = series * xs + c
    series = xs * xs * series
    xl = np.where(small, 0.0, x)
    return np.asarray(np.where(small, series, np.expm1(xl) - xl))


def bass_integral(tau_years: ArrayLike, p: float, q: float) -> FloatArray:
    """G(τ) = ∫₀^τ F(s) ds, in years (adopter-years per potential adopter); 0 where τ ≤ 0.

    Derivation, with a = q/p and b = p + q: F = 1 − (1 + a)e^{−bs}/(1 + a e^{−bs}), and since
    d/ds ln(1 + a e^{−bs}) = −ab e^{−bs}/(1 + a e^{−bs}),

        G(τ) = τ − (1 + a)/(ab) · [ln(1 + a) − ln(1 + a e^{−bτ})]
             = τ − (1/q) · ln[(1 + a) / (1 + a e^{−bτ})]          because (1 + a)/(ab) = 1/q
             = (1/q) · ln[(p e^{qτ} + q e^{−pτ}) / (p + q)].

    Two evaluations of the same formula, chosen for accuracy:

    * q·τ ≤ 30: ``G = log1p((p·φ(qτ) + q·φ(−pτ)) / (p + q)) / q`` with φ(x) = e^x − 1 − x ≥ 0.
      Both terms are non-negative, so nothing cancels even as τ → 0, where G ≈ pτ²/2
      (the form τ − L/q would subtract two nearly equal numbers there).
    * q·τ > 30: ``G = τ − (log1p(a) − log1p(a e^{−bτ})) / q``, which never overflows (e^{−bτ}
      underflows to 0 for huge τ, leaving G = τ − ln(1 + a)/q, the asymptote).

    With q = 0 (pure innovation) the limit is G = τ − (1 − e^{−pτ})/p, used for every q below
    ``_PURE_INNOVATION_Q``. NaN in, NaN out; +inf gives +inf. O(n) time and memory for n values
    of τ.
    """
    _check_pq(p, q)
    tau = np.asarray(tau_years, dtype=np.float64)
    tau_pos = np.where(tau > 0, tau, 0.0)
    if q < _PURE_INNOVATION_Q:
        # The limit q → 0 of G: τ − (1 − e^{−pτ})/p = φ(−pτ)/p, with no cancellation at small
        # τ (where G ≈ pτ²/2) and no overflow at large τ (φ(−pτ) → pτ − 1).
        g0 = _exp_minus_one_minus(-p * tau_pos) / p
        return np.asarray(np.where(tau <= 0, 0.0, np.where(np.isnan(tau), np.nan, g0)))
    small = q * tau_pos <= _SMALL_Q_TAU
    # Clip so that the small-τ branch never sees an argument that would overflow e^{qτ}.
    tau_small = np.where(small, tau_pos, 0.0)
    phi_q = _exp_minus_one_minus(q * tau_small)
    phi_p = _exp_minus_one_minus(-p * tau_small)
    g_small = np.log1p((p * phi_q + q * phi_p) / (p + q)) / q
    a = q / p
    tau_large = np.where(small, _SMALL_Q_TAU / q, tau_pos)
    g_large = tau_large - (np.log1p(a) - np.log1p(a * np.exp(-(p + q) * tau_large))) / q
    value = np.where(small, g_small, g_large)
    return np.asarray(np.where(tau <= 0, 0.0, np.where(np.isnan(tau), np.nan, value)))


def subscribers(
    t_days: ArrayLike,
    on_air_days: ArrayLike,
    people: ArrayLike,
    *,
    ceiling_share: float,
    p: float,
    q: float,
    chunk: int = DEFAULT_CHUNK,
) -> FloatArray:
    """Total subscribers at each time in *t_days*: Σ_s ceiling_share·people_s·F((t − t0_s)/365.25).

    *on_air_days* (t0, simulation days) and *people* are per site, of equal shape; sites whose
    on-air day is NaN (never on air) are skipped. The result has the shape of *t_days*.

    The T × S grid is evaluated in blocks of at most about *chunk* elements, so memory stays
    O(chunk) whatever the numbers of times T and sites S; time is O(T·S). Each time's sum over
    sites is accumulated strictly in site order (``np.add.accumulate``), so the result is bitwise
    identical for every chunk size — a simulation must not change with a tuning knob.
    """
    _check_pq(p, q)
    _check_unit_interval("ceiling_share", ceiling_share)
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk!r}")
    t = np.asarray(t_days, dtype=np.float64)
    t0_all = np.asarray(on_air_days, dtype=np.float64)
    people_all = np.asarray(people, dtype=np.float64)
    if t0_all.shape != people_all.shape:
        raise ValueError(
            f"on_air_days and people differ in shape: {t0_all.shape} vs {people_all.shape}"
        )
    on_air = ~np.isnan(t0_all.ravel())
    t0 = t0_all.ravel()[on_air]
    weight = people_all.ravel()[on_air]
    times = t.ravel()
    total = np.zeros(times.size, dtype=np.float64)
    n_sites = t0.size
    if times.size == 0 or n_sites == 0:
        return total.reshape(t.shape)
    # Sites × times, sites down the rows: summing a block's column down its rows
    # (``np.add.accumulate`` along axis 0) adds the sites strictly in order and is vectorised
    # over the times; along a row (the other layout) the same sequential sum is strided, and
    # was the larger part of the cost.
    cols = min(n_sites, chunk)
    # Row blocks of at most a sixteenth of the times: a site not on air yet at a block's last
    # time adds exactly +0.0 to every time of it, so it is left out of that block (results are
    # bitwise the same) and, as sites come on air through the run, about half the grid is skipped.
    rows = max(1, min(times.size, chunk // cols, -(-times.size // 16)))
    for r0 in range(0, times.size, rows):
        tt = times[None, r0 : r0 + rows]
        last = tt.max()  # NaN if a time is NaN: then every site, for its NaN
        live = np.arange(n_sites) if np.isnan(last) else np.flatnonzero(t0 < last)
        acc = np.zeros(tt.shape[1], dtype=np.float64)
        for c0 in range(0, live.size, cols):
            sites = live[c0 : c0 + cols]
            tau_years = (tt - t0[sites, None]) / DAYS_PER_YEAR
            block = weight[sites, None] * bass_fraction(tau_years, p, q)
            # The running sum carried in, so sites are always added one by one, in order.
            block[0] += acc
            acc = np.add.accumulate(block, axis=0)[-1]
        total[r0 : r0 + rows] = acc
    return np.asarray(ceiling_share * total).reshape(t.shape)


def revenue_usd(
    t1_days: ArrayLike,
    t2_days: ArrayLike,
    on_air_days: ArrayLike,
    people: ArrayLike,
    *,
    ceiling_share: float,
    p: float,
    q: float,
    arpu_usd_month: float,
    share: float,
    up_fraction: ArrayLike | None = None,
) -> FloatArray:
    """Revenue of each site over [t1, t2] (days), US$, unrounded: the caller sums and rounds.

    Per site: ``ceiling_share·people·arpu_usd_month·12·share·(G(τ2) − G(τ1))`` with G =
    :func:`bass_integral` and τ = (t − t0)/365.25 years, so the subscriber curve is integrated
    exactly (no per-day ticking) and revenue is additive over adjacent periods. G is 0 for τ ≤ 0,
    so nothing is earned before on air; a NaN on-air day (never on air) earns 0. *share* is the
    operator's share of the subscribers' spend. The optional per-site *up_fraction* (0..1) scales
    each amount, because revenue is lost while a site is down.

    *t1_days*/*t2_days* are scalars or broadcast against the sites. O(S) time and memory.
    """
    _check_pq(p, q)
    _check_unit_interval("ceiling_share", ceiling_share)
    _check_unit_interval("share", share)
    if not arpu_usd_month >= 0:
        raise ValueError(f"arpu_usd_month must be >= 0, got {arpu_usd_month!r}")
    t1 = np.asarray(t1_days, dtype=np.float64)
    t2 = np.asarray(t2_days, dtype=np.float64)
    if np.any(t2 < t1):
        raise ValueError("revenue period must have t2_days >= t1_days")
    t0 = np.asarray(on_air_days, dtype=np.float64)
    weight = np.asarray(people, dtype=np.float64)
    if t0.shape != weight.shape:
        raise ValueError(f"on_air_days and people differ in shape: {t0.shape} vs {weight.shape}")
    adopter_years = bass_integral((t2 - t0) / DAYS_PER_YEAR, p, q) - bass_integral(
        (t1 - t0) / DAYS_PER_YEAR, p, q
    )
    amount = ceiling_share * weight * (arpu_usd_month * 12.0 * share) * adopter_years
    if up_fraction is not None:
        up = np.asarray(up_fraction, dtype=np.float64)
        if np.any((up < 0) | (up > 1)) or np.any(np.isnan(up)):
            raise ValueError("up_fraction must be within [0, 1]")
        amount = amount * up
    return np.asarray(np.where(np.isnan(t0), 0.0, amount), dtype=np.float64)
