# Types of the compiled outage path (src/rollout_sim/_netcore.c; rollout_sim.model.netcore).
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

class Core:
    villages_covered: int
    people_covered: int
    down_count: int
    def __init__(
        self,
        env: Any,
        on_first: Any,
        ops: int,
        pop: NDArray[np.int64],
        indptr: NDArray[np.int64],
        indices: NDArray[np.int32],
        operator: NDArray[np.int64],
        built_day: NDArray[np.float64],
        first_op: NDArray[np.int16],
        in_service: NDArray[np.bool_],
        hw_up: NDArray[np.bool_],
        on_air_day: NDArray[np.float64],
        down_since: NDArray[np.float64],
        down_total: NDArray[np.float64],
        on_air: NDArray[np.int32],
        first_day: NDArray[np.float64],
        villages_covered: int,
        people_covered: int,
        t_indptr: NDArray[np.int64],
        t_indices: NDArray[np.int32],
        planned: NDArray[np.int32],
        gain: NDArray[np.int64],
        gain_places: NDArray[np.int64],
        /,
    ) -> None: ...
    @property
    def op_in_service(self) -> list[int]: ...
    def switch_on(
        self, site: int, t: float, op: int = -1, first: bool = True, /
    ) -> tuple[int, int]: ...
    def switch_off(self, site: int, t: float, op: int = -1, /) -> tuple[int, int]: ...
    def plan(self, site: int, /) -> int: ...
    def bring_up(self, v: int, /) -> None: ...
    def take_down(self, v: int, /) -> int: ...
    def fail(self, v: int, /) -> int: ...
    def repair(self, v: int, /) -> None: ...
    def add_child(self, parent: int, child: int, /) -> None: ...
    def seed(self, i: int, data: Any, /) -> None: ...
    def export(self, i: int, /) -> bytes: ...
    def on_air(self) -> bytes: ...
    def first_day(self) -> bytes: ...
    def footprint(self, f: int, /) -> tuple[int, int]: ...

class Crews:
    repairs: int
    failures: int
    def __init__(
        self,
        core: Core,
        env: Any,
        crews: int,
        rate: NDArray[np.float64],
        travel_days: NDArray[np.float64],
        clock_t: NDArray[np.float64],
        clock_h: NDArray[np.float64],
        failure_counts: list[int],
        repair_counts: list[int],
        watched: dict[int, Any],
        bill: Callable[[int], object],
        exp1_row: Callable[[int], Sequence[float]],
        exp1_extra: Callable[[int], float],
        durations_row: Callable[[int], Sequence[float]],
        duration_extra: Callable[[int], float],
        /,
    ) -> None: ...
    def start(self, v: int, /) -> None: ...
    def fail(self, v: int, /) -> int: ...
    def on_failure(self, event: Any, /) -> None: ...
    def on_repaired(self, event: Any, /) -> None: ...
    def on_wake(self, event: Any, /) -> None: ...
    def stop(self) -> None: ...
    def export(self, i: int, /) -> bytes: ...
