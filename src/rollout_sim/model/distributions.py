"""Inverse CDFs of the build-time distributions, evaluated on pre-drawn uniforms.

Durations are drawn as ``ppf(u[v])`` with one uniform per village from the ``build_times``
stream, so a given site gets the same quantile whatever the order in which sites are built and
whatever the policy: common random numbers, and paired comparisons, for free.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaincinv, ndtri

from ..arrays import FloatArray
from ..scenario import durations

__all__ = ["mean_days", "ppf"]


def ppf(dist: durations.BuildTime, u: FloatArray) -> FloatArray:
    """Quantiles of *dist* at probabilities *u* (days, ≥ 0)."""
    u = np.clip(u, 1e-12, 1 - 1e-12)
    if isinstance(dist, durations.FixedDays):
        return np.full_like(u, dist.days)
    if isinstance(dist, durations.UniformDays):
        return dist.low_days + u * (dist.high_days - dist.low_days)
    if isinstance(dist, durations.TriangularDays):
        a, c, b = dist.low_days, dist.mode_days, dist.high_days
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)
    if isinstance(dist, durations.LogNormalDays):
        if dist.sd_days == 0:
            return np.full_like(u, dist.mean_days)
        s2 = np.log1p((dist.sd_days / dist.mean_days) ** 2)
        mu = np.log(dist.mean_days) - s2 / 2
        return np.asarray(np.exp(mu + np.sqrt(s2) * ndtri(u)), dtype=np.float64)
    if isinstance(dist, durations.GammaDays):
        shape = (dist.mean_days / dist.sd_days) ** 2
        scale = dist.sd_days**2 / dist.mean_days
        return np.asarray(gammaincinv(shape, u) * scale, dtype=np.float64)
    raise TypeError(f"unknown distribution {dist!r}")


def mean_days(dist: durations.BuildTime) -> float:
    """The distribution's mean, days."""
    if isinstance(dist, durations.FixedDays):
        return dist.days
    if isinstance(dist, durations.UniformDays):
        return (dist.low_days + dist.high_days) / 2
    if isinstance(dist, durations.TriangularDays):
        return (dist.low_days + dist.mode_days + dist.high_days) / 3
    return dist.mean_days
