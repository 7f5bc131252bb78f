"""Aggregates over replications: bands, intervals and paired differences (NaN-aware).

Pure numpy/scipy functions, so they can be checked against hand-made replication sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import FloatArray


def _t_quantile(q: float, df: int) -> float:
    """Student's t quantile. scipy.stats is imported here, not at the top: it takes a
    quarter of a second, which every CLI start (a single run too) would otherwise pay."""
    from scipy import stats

    return float(stats.t.ppf(q, df))


__all__ = ["Band", "Interval", "band", "interval", "paired_difference", "paired_ratio"]


@dataclass(frozen=True)
class Band:
    """Per-column mean, median and a central quantile band over replications (rows)."""

    mean: FloatArray
    median: FloatArray
    lo: FloatArray
    hi: FloatArray


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float
    n: int


def band(matrix: FloatArray, quantiles: tuple[float, float] = (0.1, 0.9)) -> Band:
    """Mean, median and the (lo, hi) quantiles of each column of a (replications, T) matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] == 0:
        raise ValueError("band() needs a (replications, T) matrix with at least one row")
    lo, hi = np.quantile(m, quantiles, axis=0)
    return Band(m.mean(axis=0), np.median(m, axis=0), lo, hi)


def interval(values: FloatArray, level: float = 0.9) -> Interval:
    """Mean and central percentile interval of one metric over replications (NaNs dropped).

    This describes the spread of outcomes (what a single future could look like), not the
    uncertainty of the mean.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [a, 1.0 - a])
    return Interval(float(v.mean()), float(lo), float(hi), len(v))


def paired_difference(base: FloatArray, other: FloatArray, level: float = 0.95) -> Interval:
    """Mean of ``other − base`` over replications and its t confidence interval.

    Replications are paired (same seeds, common random numbers), so the interval is that of
    the mean of the per-replication differences; pairs with a NaN on either side are dropped.
    Identical inputs give exactly (0, 0, 0).
    """
    a = np.asarray(base, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired_difference() needs arrays of one shape")
    ok = ~(np.isnan(a) | np.isnan(b))
    d = b[ok] - a[ok]
    n = len(d)
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    mean = float(d.mean())
    if n == 1:
        return Interval(mean, np.nan, np.nan, 1)
    sd = float(d.std(ddof=1))
    half = _t_quantile(0.5 + level / 2.0, n - 1) * sd / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def paired_band(base: FloatArray, other: FloatArray, level: float = 0.95) -> Band:
    """Per-column mean paired difference with its t confidence interval (as lo/hi)."""
    d = np.asarray(other, dtype=np.float64) - np.asarray(base, dtype=np.float64)
    n = d.shape[0]
    mean = d.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return Band(mean, np.median(d, axis=0), nan, nan)
    half = _t_quantile(0.5 + level / 2.0, n - 1) * d.std(axis=0, ddof=1) / np.sqrt(n)
    return Band(mean, np.median(d, axis=0), mean - half, mean + half)


def paired_ratio(
    num_base: FloatArray,
    num_other: FloatArray,
    den_base: FloatArray,
    den_other: FloatArray,
    level: float = 0.95,
) -> Interval:
    """Ratio of mean paired differences, Δnum / Δden, with Fieller's confidence interval.

    This is an incremental cost-effectiveness ratio when *num* is a cost and *den* an effect
    (public US$ per additional person reached). Replications are paired, so the interval uses
    the variances *and covariance* of the per-replication differences: with a = mean Δnum,
    b = mean Δden, their variances v_a, v_b and covariance c (of the means) and t the
    Student-t quantile, the bounds are the roots in R of (a − R·b)² = t²·(v_a − 2R·c + R²·v_b).
    When the effect is not clearly non-zero (b² ≤ t²·v_b) the set is unbounded: lo and hi are
    NaN. Pairs with a NaN anywhere are dropped; fewer than two pairs give no interval.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in (num_base, num_other, den_base, den_other)]
    ok = ~np.any([np.isnan(x) for x in arrays], axis=0)
    dn = arrays[1][ok] - arrays[0][ok]
    dd = arrays[3][ok] - arrays[2][ok]
    n = len(dn)
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    a, b = float(dn.mean()), float(dd.mean())
    ratio = a / b if b != 0 else np.nan
    if n < 2:
        return Interval(ratio, np.nan, np.nan, n)
    cov = np.cov(dn, dd, ddof=1) / n
    va, vb, c = float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1])
    t2 = _t_quantile(0.5 + level / 2.0, n - 1) ** 2
    qa = b * b - t2 * vb
    qb = -2.0 * (a * b - t2 * c)
    qc = a * a - t2 * va
    disc = qb * qb - 4.0 * qa * qc
    if qa <= 0 or disc < 0:
        return Interval(ratio, np.nan, np.nan, n)
    root = float(np.sqrt(disc))
    lo, hi = sorted(((-qb - root) / (2 * qa), (-qb + root) / (2 * qa)))
    return Interval(ratio, lo, hi, n)
