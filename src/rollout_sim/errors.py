"""Error types shared by every layer.

Bad input must reach the user as *one* clear line naming the file, the key path (or row), the
offending value and what was expected. Every loader raises :class:`InputError` (or a subclass)
with those parts, and the CLI turns it into that line and exit code 2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["InputError", "ScenarioError", "SimulationError", "format_value", "one_line"]


#: Characters ``str.splitlines`` breaks lines at, shown escaped so an error stays one line.
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(text: str) -> str:
    """*text* with line breaks escaped (``\\n``): user text inside an error must not split it."""
    return text.translate(_LINE_BREAKS)


def format_value(value: Any, limit: int = 60) -> str:
    """Render a user value compactly for an error line (long values are cut)."""
    if isinstance(value, dt.date):  # as the user wrote it (2019-07-01), not datetime.date(...)
        return value.isoformat()
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python converts to text
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class InputError(Exception):
    """Bad user input: a file, a YAML key, a CLI argument, a data row.

    Parameters
    ----------
    message:
        What is wrong and what is expected, e.g. ``"must be >= 1"``.
    source:
        The file (or ``"--set"``, ``"argument --seed"``) the input came from.
    where:
        The key path (``operators[0].build_crews``), a row (``row 12``) or a line.
    value:
        The offending value, if there is one.
    """

    _MISSING = object()

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        where: str | None = None,
        value: Any = _MISSING,
    ) -> None:
        self.message = message
        self.source = source
        self.where = where
        self.value = value
        super().__init__(self.line())

    @property
    def has_value(self) -> bool:
        return self.value is not InputError._MISSING

    def line(self) -> str:
        """The single line shown to the user."""
        parts: list[str] = []
        if self.source:
            parts.append(self.source)
        if self.where:
            parts.append(self.where)
        head = ": ".join(parts)
        body = self.message
        if self.has_value:
            body = f"{format_value(self.value)}: {body}" if body else format_value(self.value)
        return one_line(f"{head}: {body}" if head else body)


class ScenarioError(InputError):
    """A scenario file, or an override of one, is invalid.

    *others* are further problems found in the same check (each a complete error of its
    own): the line says how many there are; ``validate`` lists them all.
    """

    def __init__(self, message: str, **kw: Any) -> None:
        self.others: list[ScenarioError] = []
        #: Problems beyond those in *others* (counted, not kept).
        self.unlisted = 0
        super().__init__(message, **kw)

    def line(self, with_others: bool = True) -> str:
        text = super().line()
        n = len(getattr(self, "others", ())) + getattr(self, "unlisted", 0)
        if with_others and n:
            text += f" (and {n} more problem{'s' if n > 1 else ''})"
        return text


class SimulationError(RuntimeError):
    """An internal invariant was violated during a simulation: a bug, not bad input."""
