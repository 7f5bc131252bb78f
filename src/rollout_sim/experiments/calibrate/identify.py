"""Identification: which parameters the targets cannot pin down, around the fit.

Each parameter is moved ±5% of its range around the fitted value (on the same replications),
giving by finite differences the scaled Jacobian: how far each fitted target point moves, in
tolerances (× √weight), across the parameter's whole range. Parameters that barely move the
targets, or pairs that move them the same way, are named in warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...arrays import FloatArray
from ...scenario.calibration import FitParameter
from .evaluate import Evaluation, Evaluator

__all__ = ["COLLINEAR_COS", "IDENTIFICATION_STEP", "INSENSITIVE", "Identification", "identify"]


#: Finite-difference step of the identification check, as a share of each parameter's range.
IDENTIFICATION_STEP = 0.05
#: A parameter whose whole range moves the targets by less than one tolerance in all (the norm
#: of its column of the scaled Jacobian) is not identified: every value within its bounds fits
#: the targets about as well.
INSENSITIVE = 1.0
#: Two parameters whose columns of the scaled Jacobian are this close to parallel move the
#: targets the same way: the targets fit a combination of them, not each.
COLLINEAR_COS = 0.98


@dataclass
class Identification:
    """How the targets move with each parameter around the fit, and what they cannot tell.

    The record keeps what was measured; what that says of each parameter (its sensitivity,
    whether it is identified) is derived from it, here and nowhere else."""

    step: float
    #: Rows of the Jacobian: the fitted targets' points.
    rows: list[str]
    #: Per parameter: d(√weight × error ÷ scale)/d(parameter ÷ its range) at each row (None:
    #: the step could not move the parameter).
    jacobian: dict[str, list[float] | None]
    #: What the check ran beyond the fit itself.
    evaluations: list[Evaluation]
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def sensitivity(self) -> dict[str, float | None]:
        """Per parameter: the norm of its column: how many tolerances in all the targets move
        across its whole range (linearised at the fit)."""
        return {
            k: None if c is None else float(np.linalg.norm(c)) for k, c in self.jacobian.items()
        }

    @cached_property
    def insensitive(self) -> list[str]:
        """Parameters the targets barely move with."""
        return [k for k, s in self.sensitivity.items() if s is not None and s < INSENSITIVE]

    @cached_property
    def moving(self) -> dict[str, FloatArray]:
        """The columns of the parameters the targets do move with."""
        return {
            k: np.array(self.jacobian[k])
            for k, s in self.sensitivity.items()
            if s is not None and s >= INSENSITIVE
        }

    @cached_property
    def collinear(self) -> list[tuple[str, str, float]]:
        """Pairs of parameters that move the targets the same way, with |cos| of their columns."""
        live = list(self.moving.items())
        out: list[tuple[str, str, float]] = []
        for a_i, (a, ca) in enumerate(live):
            for b, cb in live[a_i + 1 :]:
                cos = abs(float(ca @ cb)) / (float(np.linalg.norm(ca)) * float(np.linalg.norm(cb)))
                if cos > COLLINEAR_COS:
                    out.append((a, b, cos))
        return out


def identify(ev: Evaluator, best: Evaluation) -> Identification:
    params = ev.params
    x0 = ev.scaled_point(best.params)
    jacobian: dict[str, list[float] | None] = {}
    evals: list[Evaluation] = []
    for j, p in enumerate(params):
        h = IDENTIFICATION_STEP
        if p.integer:  # a step must move a whole number at least one
            h = max(h, 1.0 / (p.bounds[1] - p.bounds[0]))
        points: list[tuple[float, FloatArray]] = []
        for sign in (-1.0, 1.0):
            x = x0.copy()
            x[j] = float(np.clip(x0[j] + sign * h, 0.0, 1.0))
            e = ev(ev.at(x)) if x[j] != x0[j] else best
            if e is not best and all(e is not seen for seen in evals):
                evals.append(e)
            points.append((float(ev.scaled_point(e.params)[j]), ev.residuals(e)))
        (u_lo, r_lo), (u_hi, r_hi) = points
        if u_hi == u_lo:
            jacobian[p.path] = None
        else:
            jacobian[p.path] = [float(v) for v in (r_hi - r_lo) / (u_hi - u_lo)]
    ident = Identification(IDENTIFICATION_STEP, ev.residual_labels(), jacobian, evals)
    ident.warnings.extend(_notes(ident, params, best))
    return ident


def _notes(ident: Identification, params: list[FitParameter], best: Evaluation) -> list[str]:
    """What the identification check tells the user, one warning a finding."""
    notes: list[str] = []
    span = {p.path: p.bounds for p in params}
    for k in ident.insensitive:
        lo, hi = span[k]
        notes.append(
            f"{k} is not identified: across its whole range {lo:g}–{hi:g} it moves the targets "
            f"by {ident.sensitivity[k]:.2g} tolerances in all (measured at the fit, "
            f"±{_step_text()} of the range), "
            "so any value in its bounds fits about as well; fix it from other evidence or add a "
            "target it moves"
        )
    for a, b, cos in ident.collinear:
        notes.append(
            f"{a} and {b} are not separately identified: they move the targets the same way "
            f"(|cos| = {cos:.3f}), so only a combination of them is fitted; fix one or add a "
            "target that moves them differently"
        )
    live = ident.moving
    if len(live) >= 3 and not ident.collinear:
        unit = np.column_stack([c / float(np.linalg.norm(c)) for c in live.values()])
        _, sv, vt = np.linalg.svd(unit, full_matrices=False)
        if sv[-1] < math.sqrt(1 - COLLINEAR_COS):
            names = [k for k, c in zip(live, vt[-1], strict=True) if abs(c) > 0.3]
            notes.append(
                f"{', '.join(names)} are not jointly identified: a combination of them barely "
                f"moves the targets (smallest singular value {sv[-1]:.3f}); fix some of them"
            )
    for k, c in ident.jacobian.items():
        if c is None:
            notes.append(f"{k}: its range is too narrow to measure its effect")
    rows = ident.rows
    if len(rows) < len(params):
        notes.append(
            f"{len(params)} parameters but {len(rows)} fitted target value(s): at most "
            f"{len(rows)} can be identified"
        )
    better = [e for e in ident.evaluations if e.objective < best.objective and e.ok >= best.ok]
    if better:
        top = min(better, key=lambda e: e.objective)
        notes.append(
            f"a point {_step_text()} of a range from the fit fits better (objective "
            f"{top.objective:.4g} < {best.objective:.4g}): the search stopped short of the best "
            "fit (a local minimum, or too few evaluations); try another method or starting "
            "point, or raise max_evaluations"
        )
    return notes


def _step_text() -> str:
    return f"{IDENTIFICATION_STEP:.0%}"
