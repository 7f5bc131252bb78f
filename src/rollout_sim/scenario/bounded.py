"""A scalar of the scenario by its ``--set`` key path, with the bounds its field allows.

The ``uncertainties:`` and ``optimize:`` blocks name values to vary by key path. Each is
resolved here against the scenario with every default filled in (so a default such as
``maintenance.failures.mtbf_days.jungle`` can be named), and the field's own limits are read
from the scenario's JSON Schema (``minimum``, ``exclusiveMaximum``, ...): a distribution is
truncated to them, and a range that leaves them is an error before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .describe import schema_at
from .paths import PathKey, format_path
from .validate import did_you_mean

__all__ = ["ScalarField", "resolve_scalar"]


@dataclass(frozen=True)
class ScalarField:
    """A number in the scenario: where it is, its value and the range its field allows."""

    text: str  # the path as the user wrote it
    path: PathKey  # resolved: list items by index
    value: float
    low: float  # -inf: no lower limit
    high: float  # +inf: no upper limit
    low_open: bool  # the field excludes *low* itself (gt rather than ge)
    high_open: bool
    whole: bool  # the field takes whole numbers only

    @property
    def where(self) -> str:
        return format_path(self.path)

    def allows(self, x: float) -> bool:
        """*x* is within the field's limits."""
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def limits(self) -> str:
        """The field's limits as a reader writes them: '>= 1 and <= 100000'."""
        parts = []
        if math.isfinite(self.low):
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if math.isfinite(self.high):
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return " and ".join(parts) or "any number"

    def whole_range(self) -> tuple[int, int] | None:
        """The lowest and highest whole number the field allows, if finite (None: none)."""
        lo = math.floor(self.low) + 1 if self.low_open and self.low.is_integer() else None
        lo = lo if lo is not None else math.ceil(self.low) if math.isfinite(self.low) else None
        hi = math.ceil(self.high) - 1 if self.high_open and self.high.is_integer() else None
        hi = hi if hi is not None else math.floor(self.high) if math.isfinite(self.high) else None
        if lo is not None and hi is not None and lo > hi:
            return None
        return (lo if lo is not None else -(10**15), hi if hi is not None else 10**15)


def _walk(data: Any, text: str) -> tuple[PathKey | None, str]:
    """(resolved path, '') or (None, what is wrong) for a ``--set`` style key path."""
    node = data
    out: list[str | int] = []
    for part in text.replace("[", ".").replace("]", "").split("."):
        if part == "":
            return None, "empty key in the path"
        if isinstance(node, list):
            if part.isdigit():
                if int(part) >= len(node):
                    return None, f"{format_path(out)} has {len(node)} items, no item {part}"
                out.append(int(part))
                node = node[int(part)]
                continue
            names = [x.get("name") for x in node if isinstance(x, dict)]
            if part not in names:
                hint = did_you_mean(part, [n for n in names if isinstance(n, str)])
                return None, f"no item named {part!r} in {format_path(out)}{hint}"
            index = names.index(part)
            out.append(index)
            node = node[index]
        elif isinstance(node, dict):
            if part not in node:
                keys = [k for k in node if isinstance(k, str)]
                where = f" in {format_path(out)}" if out else ""
                return None, f"no key {part!r}{where}{did_you_mean(part, keys)}"
            out.append(part)
            node = node[part]
        else:
            return None, f"{format_path(out)} is a single value, not a mapping or a list"
    return tuple(out), ""


def resolve_scalar(data: Any, text: str) -> tuple[ScalarField | None, str]:
    """The number at key path *text* of resolved scenario data (``model_dump(mode="json")``)
    with its field's limits; or (None, what is wrong): no such key, or not a number."""
    path, problem = _walk(data, text)
    if path is None:
        return None, problem
    node: Any = data
    for part in path:
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        shown = (
            "a mapping"
            if isinstance(node, dict)
            else "a list"
            if isinstance(node, list)
            else ("empty" if node is None else repr(node))
        )
        return None, f"expected a path to a number; {format_path(path)} is {shown}"
    low, high, low_open, high_open, whole = -math.inf, math.inf, False, False, False
    for schema in schema_at(path, data):
        kind = schema.get("type")
        if kind not in ("number", "integer"):
            continue
        whole = whole or kind == "integer"
        for key, is_open in (("minimum", False), ("exclusiveMinimum", True)):
            if key in schema and float(schema[key]) >= low:
                low, low_open = float(schema[key]), is_open
        for key, is_open in (("maximum", False), ("exclusiveMaximum", True)):
            if key in schema and float(schema[key]) <= high:
                high, high_open = float(schema[key]), is_open
    field = ScalarField(text, path, float(node), low, high, low_open, high_open, whole)
    return field, ""
