"""The result of a calibration: the fitted scenario, the evaluations, the identification."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...scenario.calibration import Calibration
from ...scenario.schema import Scenario
from .evaluate import Evaluation
from .identify import Identification
from .targets import Observed, TargetPlan

__all__ = ["CalibrationResult"]


@dataclass
class CalibrationResult:
    """The scenario before and after, the evaluations and what the fit can and cannot tell."""

    scenario: Scenario
    calibrated: Scenario
    spec: Calibration
    method: str
    initial: Evaluation
    best: Evaluation
    #: The search's evaluations, in order (the identification check's are in *identification*).
    evaluations: list[Evaluation]
    observed: dict[int, Observed]
    converged: bool
    message: str
    identification: Identification | None = None
    #: Everything the user should know about the fit (bounds hit, parameters not identified).
    warnings: list[str] = field(default_factory=list)
    #: The resolved targets: one per calibration target, in order.
    plans: list[TargetPlan] = field(default_factory=list, repr=False)
    #: Worker processes asked for (the manifest's ``jobs``).
    jobs: int = 1
