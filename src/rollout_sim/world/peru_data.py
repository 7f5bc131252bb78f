"""Peru's 94,922 populated places (centros poblados), as shipped with rollout-sim.

What: a loader for ``rollout_sim/data/peru_places.csv.gz``, one row per place of INEI's 2017
census with its coordinates, urban/rural type, natural-region zone, imputed population, the
district capital's altitude and the district's poverty rates.

Why: scenarios for Peru draw their villages from real places rather than synthetic ones. The
file is built by ``scripts/build_peru_data.py``; population and zone are imputed (the source
has neither), see ``docs/peru_data.md`` for the method, checks and the data licence (MIT,
jmcastagnetto/ubigeo-peru-aumentado, credited in ``LICENSE-peru-data.txt``).
"""

from __future__ import annotations

import csv
import functools
import gc
import gzip
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ZONES", "PeruPlaces", "load_peru_places"]

#: The natural-region zones, in the order INEI lists them.
ZONES: tuple[str, ...] = ("coast", "highlands", "jungle")

_DATA_PACKAGE = "rollout_sim.data"
_DATA_FILE = "peru_places.csv.gz"
_COLUMNS = (
    "code",
    "name",
    "district_code",
    "department",
    "province",
    "district",
    "lat",
    "lon",
    "urban",
    "zone",
    "population",
    "altitude_m",
    "poverty_pct",
    "extreme_poverty_pct",
)


@dataclass(frozen=True, eq=False)
class PeruPlaces:
    """Column arrays of populated places; element ``i`` of every array is place ``i``.

    Rows are sorted by ``code``. Text columns are numpy ``str_`` arrays so they can be masked
    and indexed together with the numeric ones. ``altitude_m``, ``poverty_pct`` and
    ``extreme_poverty_pct`` are district values repeated for each place of the district.
    """

    code: npt.NDArray[np.str_]
    """INEI 10-digit place code (text: leading zeros matter)."""
    name: npt.NDArray[np.str_]
    district_code: npt.NDArray[np.str_]
    """INEI 6-digit district code (the first 6 digits of ``code``)."""
    department: npt.NDArray[np.str_]
    province: npt.NDArray[np.str_]
    district: npt.NDArray[np.str_]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    urban: npt.NDArray[np.bool_]
    """INEI type: urban (>= 100 contiguous dwellings, or a district capital) or rural."""
    zone: npt.NDArray[np.str_]
    """Natural region, one of ``ZONES`` (imputed from the district's altitude and position)."""
    population: npt.NDArray[np.int64]
    """Imputed 2017 population, >= 1 (sums to the census total over all places)."""
    altitude_m: npt.NDArray[np.int64]
    """Altitude of the district capital, metres."""
    poverty_pct: npt.NDArray[np.float64]
    """District monetary poverty, percent."""
    extreme_poverty_pct: npt.NDArray[np.float64]
    """District extreme monetary poverty, percent."""

    def __post_init__(self) -> None:
        # Catch mismatched columns at construction, not later as silent misalignment.
        n = len(self.code)
        for f in fields(self):
            column = getattr(self, f.name)
            if column.shape != (n,):
                raise ValueError(f"column {f.name} has shape {column.shape}, expected ({n},)")

    def __len__(self) -> int:
        """Number of places."""
        return len(self.code)

    def select(self, mask: npt.NDArray[np.bool_]) -> PeruPlaces:
        """The places where ``mask`` is true (copies of the arrays)."""
        return PeruPlaces(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})


def _fold(text: str) -> str:
    """Upper-case ``text`` without accents, so "Junín", "junin" and "JUNIN" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


@functools.lru_cache(maxsize=1)
def _load_all() -> PeruPlaces:
    """Parse the packaged file once; the arrays are made read-only because they are shared."""
    raw = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    if tuple(header) != _COLUMNS:
        raise ValueError(f"{_DATA_FILE}: unexpected columns {header}")
    # Parsing creates ~1.4 million small, acyclic objects; with the cyclic garbage collector
    # running it rescans them over and over, which roughly doubles the parse time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        columns = list(zip(*reader, strict=True))
    finally:
        if gc_was_enabled:
            gc.enable()
    col = dict(zip(_COLUMNS, columns, strict=True))

    code = np.array(col["code"], dtype=np.str_)
    district_code = code.astype("<U6")  # the first 6 digits of each place code
    if col["district_code"] != tuple(district_code.tolist()):
        raise ValueError(f"{_DATA_FILE}: a district_code is not the prefix of its place code")
    # Rows are sorted by code, so each district is one run of rows. District-level columns
    # are converted once per run and repeated: about 4x faster than converting every cell.
    starts = np.flatnonzero(np.r_[True, district_code[1:] != district_code[:-1]])
    run_lengths = np.diff(np.r_[starts, len(code)])
    first_rows = starts.tolist()

    def per_district(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        column = col[name]
        return np.repeat(np.array([column[i] for i in first_rows], dtype=dtype), run_lengths)

    places = PeruPlaces(
        code=code,
        name=np.array(col["name"], dtype=np.str_),
        district_code=district_code,
        department=per_district("department", np.str_),
        province=per_district("province", np.str_),
        district=per_district("district", np.str_),
        lat=np.array(col["lat"], dtype=np.float64),
        lon=np.array(col["lon"], dtype=np.float64),
        urban=np.array(col["urban"], dtype=np.int8).astype(np.bool_),
        zone=per_district("zone", np.str_),
        population=np.array(col["population"], dtype=np.int64),
        altitude_m=per_district("altitude_m", np.int64),
        poverty_pct=per_district("poverty_pct", np.float64),
        extreme_poverty_pct=per_district("extreme_poverty_pct", np.float64),
    )
    for f in fields(places):
        getattr(places, f.name).flags.writeable = False
    return places


def load_peru_places(departments: Sequence[str] | None = None) -> PeruPlaces:
    """Load Peru's populated places, optionally only those of some departments.

    ``departments`` are department names (e.g. ``["Cusco", "Huancavelica"]``), matched without
    regard to case or accents. ``None`` returns all 94,922 places; that table is cached and its
    arrays are read-only, while a selection returns fresh, writable copies.

    Raises ValueError for an empty selection list or an unknown department name (the message
    lists the valid names).
    """
    everything = _load_all()
    if departments is None:
        return everything
    # A bare string is a Sequence[str] too; treat it as one name, not as its letters.
    names = [departments] if isinstance(departments, str) else list(departments)
    if not names:
        raise ValueError("no departments given; pass None for all of Peru")
    valid = sorted(set(everything.department.tolist()))
    by_folded = {_fold(v): v for v in valid}
    unknown = [n for n in names if _fold(n) not in by_folded]
    if unknown:
        raise ValueError(
            f"unknown department(s) {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )
    wanted = np.array(sorted({by_folded[_fold(n)] for n in names}), dtype=np.str_)
    return everything.select(np.isin(everything.department, wanted))
