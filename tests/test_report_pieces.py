"""The pieces the report is built from: the long form of numbers and labels (outcomes.py), the
typed reading of a folder's summary, and the plots each kind of folder draws."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rollout_sim.errors import InputError
from rollout_sim.outcomes import (
    ICER,
    format_difference,
    format_long,
    label_of,
    long_unit_of,
    show_long,
    title_of,
    unit_of,
)
from rollout_sim.report.folder import as_float, folder_kind, read_summary
from rollout_sim.report.view import Cell, number_heads, spread_cell, table
from rollout_sim.summaries import Spread


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234.4, "count", "1,234"),
        (2_610_000, "big", "2.61 M"),
        (24_814, "big", "24,814"),
        (5_920_000, "money", "US$ 5.92 M"),
        (-1234.0, "money", "−US$ 1,234"),
        (12.5, "money", "US$ 12.50"),
        (0, "money", "US$ 0"),
        (0.1234, "share", "12.3 %"),
        (0.99876, "availability", "99.88 %"),
        (120.4, "days", "120 days"),
        (None, "days", "not reached"),
        (1.256, "rate", "1.26"),
        (3.0, "number", "3"),
        (1 / 3, "number", "0.3333"),
        (12345.678, "number", "12,345.7"),
        (0.012, "points", "1.20 pp"),
        (12.54, "day_count", "12.5"),
        (math.nan, "count", "—"),
        (True, "count", "—"),
        ("12", "count", "—"),
    ],
)
def test_format_long(value: object, unit: str, text: str) -> None:
    assert format_long(value, unit) == text  # type: ignore[arg-type]


def test_differences_carry_their_sign_and_unit() -> None:
    assert format_difference(1500, "count") == "+1,500"
    assert format_difference(-2_000_000, "money") == "−US$ 2.00 M"
    assert format_difference(0, "count") == "0"
    assert format_difference(-0.0033, "availability") == "−0.33 pp"  # shares in points
    assert format_difference(10.7, "days") == "+10.7"  # days as a plain number
    assert format_difference(None, "count") == "—"


def test_metric_labels_and_units_in_one_place() -> None:
    assert title_of("public_cost_usd") == "Public cost"
    assert title_of(ICER) == "Public cost per additional person reached (incremental)"
    # Names that depend on the scenario: a year's coverage and the impact estimates.
    assert label_of("people_covered_2021") == "people covered at the end of 2021"
    assert unit_of("people_covered_2021") == "people"
    assert label_of("people_out_of_poverty_central") == "people out of poverty (central estimate)"
    per_million = "people_out_of_poverty_per_million_public_usd_low"
    assert unit_of(per_million) == "rate" and long_unit_of(per_million) == "rate"
    # A run's poverty figures, by the names summary.json gives them.
    assert title_of("added_consumption_usd_total") == "Added consumption over the horizon"
    assert show_long("added_consumption_usd_total", 2.5e6) == "US$ 2.50 M"
    # Where the unit alone says too little.
    assert show_long("availability", 0.99) == "99.00 %"
    assert show_long("people_days_lost", 1.5e6) == "1.50 M"
    assert show_long("defaults", 0.5) == "0.5"
    assert show_long("days_to_reach_50pct", None) == "not reached"


def test_spread_cell_and_table() -> None:
    cell = spread_cell(Spread(mean=0.5, lo=0.25, hi=0.75, n=3), "share")
    assert cell == Cell("50.0 %", num=True, sub="25.0 % – 75.0 %")
    assert spread_cell(None, "count") == Cell("—", num=True)
    assert spread_cell(Spread(mean=None, lo=None, hi=1.0, n=0), "count") == Cell("—", num=True)
    t = table(["a", Cell("b", num=True)], [("x", Cell("1", num=True))], caption="c")
    assert t.head == (Cell("a"), Cell("b", num=True)) and t.rows == ((Cell("x"), Cell("1", True)),)


def test_number_heads_are_aligned_like_numbers() -> None:
    assert number_heads("a", "b") == [Cell("a", num=True), Cell("b", num=True)]
    assert number_heads() == []


def test_as_float() -> None:
    assert as_float("1.5") == 1.5 and as_float(2) == 2.0
    assert as_float("") is None and as_float("nan") is None and as_float(False) is None


def test_a_summary_is_read_through_its_typed_model(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    summary = {
        "scenario": "s",
        "policy": None,
        "replications": 2,
        "seed": 1,
        "interval": "central 90% of replications",
        "metrics": {"people_covered": {"mean": 10.0, "lo": 9.0, "hi": 11.0, "n": 2}},
    }
    path.write_text(json.dumps(summary), encoding="utf-8")
    got = read_summary(path, "replications")
    assert got.metrics["people_covered"].mean == 10.0
    # A summary of another kind, or one missing a field, is one clear error naming the file.
    with pytest.raises(InputError, match=r"not the summary of a run .*scenario") as err:
        path.write_text(json.dumps({"seed": 1}), encoding="utf-8")
        read_summary(path, "run")
    assert str(path) in str(err.value)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_summary(path, "comparison")


def test_folder_kind(tmp_path: Path) -> None:
    assert folder_kind(tmp_path) is None
    (tmp_path / "summary.json").write_text("{}")
    assert folder_kind(tmp_path) == "run"
    (tmp_path / "replications.csv").write_text("")
    assert folder_kind(tmp_path) == "replications"
    (tmp_path / "comparison.csv").write_text("")
    assert folder_kind(tmp_path) == "comparison"
