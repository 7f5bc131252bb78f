"""The array types used across the package, named once.

numpy's ``NDArray[...]`` spelt out at every signature hides which arrays are village-indexed
counts and which are amounts; these aliases are the one place the dtypes are chosen.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["FloatArray", "IntArray"]

#: Amounts, days, shares: float64 throughout (the model never mixes precisions).
FloatArray = NDArray[np.float64]
#: Indices and counts: int64, so village indices index any array without casting.
IntArray = NDArray[np.int64]
