# Types of the compiled relay reach (src/rollout_sim/_reach.c; rollout_sim.world.reach).
import numpy as np
from numpy.typing import NDArray

class Grid:
    def __init__(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        hop_km: NDArray[np.float64],
        order: NDArray[np.int32],
        at: NDArray[np.int32],
        start: NDArray[np.int64],
        cx: NDArray[np.int64],
        cy: NDArray[np.int64],
        nx: int,
        ny: int,
        span: int,
        near_out: NDArray[np.int32],
        d_out: NDArray[np.float64],
        /,
    ) -> None: ...
    def better(
        self, site: int, mw_dist: NDArray[np.float64], candidates: NDArray[np.bool_], /
    ) -> int: ...
