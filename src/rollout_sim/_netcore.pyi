# Types of the compiled outage path (src/rollout_sim/_netcore.c; rollout_sim.model.netcore).
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
