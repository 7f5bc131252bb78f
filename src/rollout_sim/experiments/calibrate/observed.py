"""Observed series of calibration targets: a CSV of date,value rows, checked line by line."""

from __future__ import annotations

import csv
import io
import math
from datetime import date

import numpy as np

from ...arrays import FloatArray
from ...errors import ScenarioError
from ...fileio import read_user_file

__all__ = ["read_observed"]


#: An observed series is a few dates; a bigger file is a mistake (and must not be read).
MAX_OBSERVED_BYTES = 10_000_000


def read_observed(path: str, where: str) -> tuple[list[date], FloatArray]:
    """Read a CSV of date,value rows (extra columns and ``#`` comment lines ignored), dates
    strictly increasing; errors name the file, the line and column, the value and what is
    expected."""
    raw = read_user_file(
        path,
        what="observed series file",
        expected="a CSV file",
        max_bytes=MAX_OBSERVED_BYTES,
        error=ScenarioError,
        where=where,
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (bad byte at offset {exc.start})", source=path
        ) from None
    # Blank out comment lines rather than dropping them, so line numbers stay the file's own.
    kept = "".join(
        "\n" if line.lstrip().startswith("#") else line for line in text.splitlines(keepends=True)
    )
    reader = csv.reader(io.StringIO(kept, newline=""))
    dates: list[date] = []
    values: list[float] = []
    header: list[str] | None = None

    def bad_cell(message: str, column: str, value: str) -> ScenarioError:
        """An error in *column* of the row just read, naming the value found there."""
        where = f"line {reader.line_num}, column {column}"
        return ScenarioError(message, source=path, where=where, value=value)

    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [h.strip() for h in row]
                if not {"date", "value"} <= set(header):
                    raise ScenarioError(
                        "expected columns date,value (more columns are ignored)",
                        source=path,
                        where=where,
                        value=",".join(header),
                    )
                col_date, col_value = header.index("date"), header.index("value")
                continue
            cell_d = row[col_date].strip() if col_date < len(row) else ""
            cell_v = row[col_value].strip() if col_value < len(row) else ""
            try:
                d = date.fromisoformat(cell_d)
            except ValueError:
                raise bad_cell("expected an ISO date (YYYY-MM-DD)", "date", cell_d) from None
            try:
                v = float(cell_v)
            except ValueError:
                raise bad_cell("expected a number", "value", cell_v) from None
            if not math.isfinite(v):
                raise bad_cell("value must be finite", "value", cell_v)
            if dates and d <= dates[-1]:
                raise bad_cell(
                    f"dates must be in increasing order (the row before is {dates[-1]})",
                    "date",
                    cell_d,
                )
            dates.append(d)
            values.append(v)
    except csv.Error as exc:
        raise ScenarioError(
            f"not a readable CSV file ({exc})", source=path, where=f"line {reader.line_num}"
        ) from None
    if header is None:
        raise ScenarioError(
            "the file is empty; expected columns date,value", source=path, where=where
        )
    if not dates:
        raise ScenarioError("no rows; expected date,value rows", source=path, where=where)
    return dates, np.array(values, dtype=np.float64)
