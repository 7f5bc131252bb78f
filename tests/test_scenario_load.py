"""Unit tests of the scenario loader: defaults, overrides, error lines, dump and hash."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollout_sim.errors import ScenarioError
from rollout_sim.scenario.load import (
    apply_override,
    dump_scenario,
    format_path,
    load_scenario,
    read_yaml,
    scenario_hash,
)
from rollout_sim.scenario.schema import LogNormalDays, Scenario, TriangularDays

from conftest import run_cli, small_scenario_dict, write_yaml

# A scenario whose line numbers the tests rely on: keep the numbering comments right.
LINED = """\
name: lined
start_date: 2019-07-01
horizon_years: 2
geography:
  synthetic:
    villages: 300
operators:
  - name: ruralco
    cash_usd: 1000000
    build_crews: 4
    build_days:
      coast: {distribution: lognormal, mean_days: 60, sd_days: 20}
      highlands: {distribution: lognormal, mean_days: 90, sd_days: 30}
      jungle: {distribution: triangular, low_days: 60, mode_days: 110, high_days: 200}
"""
# line 10: build_crews, line 12: coast, line 14: jungle


def lined(tmp_path: Path, old: str = "", new: str = "", name: str = "s.yaml") -> Path:
    """Write LINED with one textual replacement (which must apply)."""
    text = LINED
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(source: Any, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    return info.value


# --- defaults ---------------------------------------------------------------------------------


def test_quickstart_defaults_filled(quickstart_path: Path) -> None:
    s = load_scenario(quickstart_path)
    assert s.start_date == date(2019, 7, 1)
    # 5 years = round(5 * 365.25) = 1826 days, the last one inclusive
    assert s.end_date == date(2024, 6, 29)
    assert s.horizon_days == 1826
    assert s.horizon_years is None  # folded into end_date
    # keys the quickstart leaves out take their documented defaults
    assert s.backhaul.fibre.capex_fixed_usd == 5000.0
    assert s.backhaul.fibre.opex_per_year_usd == 1000.0
    assert s.backhaul.satellite.max_sites is None
    assert s.transport.detour_factor == 1.3
    assert s.transport.speed_kmh == {"road": 30.0, "track": 15.0, "river": 10.0}
    assert s.geography.synthetic is not None
    assert s.geography.synthetic.origin_lat == -12.0
    assert s.geography.file is None
    assert s.operators[0].depots is None
    assert s.operators[0].build_crews == 8
    jungle = s.operators[0].build_days["jungle"]
    assert isinstance(jungle, TriangularDays)
    assert (jungle.low_days, jungle.mode_days, jungle.high_days) == (60, 110, 200)


def test_defaults_for_a_minimal_scenario() -> None:
    data = {
        "name": "tiny",
        "start_date": "2020-01-01",
        "operators": [{"name": "a", "cash_usd": 1, "build_crews": 1}],
    }
    s = load_scenario(data)
    assert s.seed == 0
    assert s.end_date == date(2024, 12, 30)  # 5 years by default
    assert s.horizon_days == 1826
    assert s.geography.synthetic is not None
    assert s.geography.synthetic.villages == 5000
    assert s.geography.pops.largest_villages == 8
    assert s.geography.depots.min_spacing_km == 60.0
    assert s.coverage.radius_km == {"coast": 6.0, "highlands": 4.0, "jungle": 4.0}
    coast = s.operators[0].build_days["coast"]
    assert isinstance(coast, LogNormalDays)
    assert (coast.mean_days, coast.sd_days) == (60.0, 20.0)
    assert s.operators[0].siting.strategy == "people_per_dollar"
    assert s.outputs.plots is True


def test_horizon_years_fraction_and_end_date() -> None:
    s = load_scenario(small_scenario_dict(horizon_years=0.5))
    assert s.end_date == date(2019, 12, 30)  # round(182.625) = 183 days
    assert s.horizon_days == 183
    data = small_scenario_dict(end_date="2019-07-10")
    del data["horizon_years"]
    s = load_scenario(data)
    assert s.horizon_days == 10


def test_small_scenario_dict_is_valid_and_fresh() -> None:
    s = load_scenario(small_scenario_dict())
    assert s.geography.synthetic is not None
    assert s.geography.synthetic.villages == 300
    assert s.horizon_days == 731  # 2 × 365.25 = 730.5 days: half-days round up
    assert [op.name for op in s.operators] == ["ruralco"]
    a = small_scenario_dict()
    a["operators"][0]["build_crews"] = 99
    assert small_scenario_dict()["operators"][0]["build_crews"] == 4


# --- overrides --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "getter", "expected"),
    [
        pytest.param(
            "operators.0.build_crews=5", lambda s: s.operators[0].build_crews, 5, id="index"
        ),
        pytest.param(
            "operators[0].build_crews=6", lambda s: s.operators[0].build_crews, 6, id="brackets"
        ),
        pytest.param(
            "operators.ruralco.cash_usd=1e6", lambda s: s.operators[0].cash_usd, 1e6, id="by-name"
        ),
        pytest.param(
            "backhaul.satellite.allowed=false",
            lambda s: s.backhaul.satellite.allowed,
            False,
            id="bool",
        ),
        pytest.param(
            "geography.regions=[region-1, region-3]",
            lambda s: s.geography.regions,
            ["region-1", "region-3"],
            id="list",
        ),
        pytest.param("start_date=2020-02-29", lambda s: s.start_date, date(2020, 2, 29), id="date"),
        pytest.param("seed=7", lambda s: s.seed, 7, id="int"),
        pytest.param(
            "operators.0.siting={strategy: list, villages: [v1, v2]}",
            lambda s: (s.operators[0].siting.strategy, s.operators[0].siting.villages),
            ("list", ["v1", "v2"]),
            id="mapping",
        ),
        pytest.param("description=", lambda s: s.description, "", id="empty-string"),
    ],
)
def test_override_applies(
    quickstart_path: Path, assignment: str, getter: Any, expected: Any
) -> None:
    s = load_scenario(quickstart_path, [assignment])
    assert getter(s) == expected


def test_overrides_apply_in_order(quickstart_path: Path) -> None:
    s = load_scenario(
        quickstart_path, ["operators.0.build_crews=5", "operators.ruralco.build_crews=9"]
    )
    assert s.operators[0].build_crews == 9


def test_apply_override_parses_yaml_values_and_returns_path() -> None:
    data = small_scenario_dict()
    assert apply_override(data, "operators.ruralco.cash_usd=2.5e+6") == (
        "operators",
        0,
        "cash_usd",
    )
    assert data["operators"][0]["cash_usd"] == 2.5e6
    assert apply_override(data, "operators[0].zones=[coast, jungle]") == ("operators", 0, "zones")
    assert data["operators"][0]["zones"] == ["coast", "jungle"]
    apply_override(data, "start_date=2021-03-04")
    assert data["start_date"] == date(2021, 3, 4)
    apply_override(data, "outputs.plots=true")
    assert data["outputs"]["plots"] is True
    apply_override(data, "name=  spaced  ")
    assert data["name"] == "spaced"


def test_apply_override_creates_missing_mappings() -> None:
    data: dict[str, Any] = {"geography": None}
    assert apply_override(data, "backhaul.satellite.allowed=false") == (
        "backhaul",
        "satellite",
        "allowed",
    )
    assert data["backhaul"] == {"satellite": {"allowed": False}}
    apply_override(data, "geography.synthetic.villages=300")
    assert data["geography"] == {"synthetic": {"villages": 300}}


def test_created_mapping_validates(quickstart_path: Path) -> None:
    # transport is absent from the quickstart: the override creates it and it is validated
    s = load_scenario(quickstart_path, ["transport.detour_factor=2"])
    assert s.transport.detour_factor == 2.0
    assert s.transport.speed_kmh["road"] == 30.0


@pytest.mark.parametrize(
    ("assignment", "line"),
    [
        pytest.param(
            "operators.3.cash_usd=1",
            "--set operators.3.cash_usd=1: operators: index 3 out of range (the list has 1 items)",
            id="index-out-of-range",
        ),
        pytest.param(
            "operators.ruralc.cash_usd=1",
            "--set operators.ruralc.cash_usd=1: operators: no item named 'ruralc'; "
            "did you mean 'ruralco'?",
            id="did-you-mean-item",
        ),
        pytest.param(
            "operators.zzz.cash_usd=1",
            "--set operators.zzz.cash_usd=1: operators: no item named 'zzz'; "
            "expected one of: ruralco",
            id="unknown-item",
        ),
        pytest.param(
            "no_equals_sign", "--set: 'no_equals_sign': expected key.path=value", id="no-equals"
        ),
        pytest.param("=5", "--set: '=5': expected key.path=value", id="empty-key"),
        pytest.param(
            "operators..cash_usd=1",
            "--set operators..cash_usd=1: empty key in path",
            id="empty-path-part",
        ),
        pytest.param(
            "name.first=x",
            "--set name.first=x: name: cannot set a key inside a str",
            id="into-scalar",
        ),
    ],
)
def test_override_errors(quickstart_path: Path, assignment: str, line: str) -> None:
    err = load_error(quickstart_path, (assignment,))
    assert err.line() == line


def test_override_value_error_names_the_set(quickstart_path: Path) -> None:
    err = load_error(quickstart_path, ("operators.0.build_crews=0",))
    assert err.source == "--set operators.0.build_crews=0"
    assert err.where == "operators[0].build_crews"
    assert err.value == 0
    assert err.line() == (
        "--set operators.0.build_crews=0: operators[0].build_crews: 0: "
        "input should be greater than or equal to 1"
    )


# --- error lines: file:line, key path, value, expectation ---------------------------------------


def test_lined_fixture_is_valid(tmp_path: Path) -> None:
    s = load_scenario(lined(tmp_path))
    assert s.operators[0].build_crews == 4


def test_error_line_has_file_line_path_value_and_expectation(tmp_path: Path) -> None:
    path = lined(tmp_path, "build_crews: 4", "build_crews: 0")
    err = load_error(path)
    assert err.source == f"{path}:10"
    assert err.where == "operators[0].build_crews"
    assert err.value == 0
    assert err.line() == (
        f"{path}:10: operators[0].build_crews: 0: input should be greater than or equal to 1"
    )


def test_wrong_type_error(tmp_path: Path) -> None:
    path = lined(tmp_path, "build_crews: 4", "build_crews: many")
    line = load_error(path).line()
    assert line.startswith(f"{path}:10: operators[0].build_crews: 'many': ")
    assert "valid integer" in line


def test_error_line_number_of_a_nested_key(tmp_path: Path) -> None:
    path = lined(tmp_path, "villages: 300", "villages: 0")
    assert load_error(path).line() == (
        f"{path}:6: geography.synthetic.villages: 0: input should be greater than or equal to 1"
    )


def test_error_names_file_even_without_line(tmp_path: Path) -> None:
    # a missing key has no line of its own: the nearest enclosing key's line is used
    path = lined(tmp_path, "    cash_usd: 1000000\n", "")
    assert load_error(path).line() == f"{path}:8: operators[0].cash_usd: required key is missing"


def test_unknown_top_level_key_did_you_mean(tmp_path: Path) -> None:
    path = lined(tmp_path, "horizon_years: 2", "horizn_years: 2")
    err = load_error(path)
    assert err.line() == (
        f"{path}:3: horizn_years: unknown key 'horizn_years'; did you mean 'horizon_years'?"
    )
    assert not err.has_value


def test_unknown_nested_key_did_you_mean(tmp_path: Path) -> None:
    path = lined(tmp_path, "villages: 300", "vilages: 300")
    assert load_error(path).line() == (
        f"{path}:6: geography.synthetic.vilages: unknown key 'vilages'; did you mean 'villages'?"
    )


def test_unknown_key_in_operator_did_you_mean(tmp_path: Path) -> None:
    path = lined(tmp_path, "build_crews: 4", "build_crew: 4")
    line = load_error(path).line()
    # the misspelling is reported, not the "missing build_crews" it causes
    assert line == (
        f"{path}:10: operators[0].build_crew: unknown key 'build_crew'; "
        "did you mean 'build_crews'? (and 1 more problem)"
    )


def test_misspelt_key_reported_before_the_missing_one(tmp_path: Path) -> None:
    path = lined(tmp_path, "start_date:", "start_dat:")
    line = load_error(path).line()
    assert line == (
        f"{path}:2: start_dat: unknown key 'start_dat'; did you mean 'start_date'? "
        "(and 1 more problem)"
    )
    assert "missing" not in line


def test_unknown_key_far_from_any_gets_no_wrong_hint(tmp_path: Path) -> None:
    path = lined(tmp_path, "name: lined", "name: lined\nzzzzzz: 1")
    err = load_error(path)
    assert err.line().startswith(f"{path}:2: zzzzzz: unknown key 'zzzzzz'")
    assert "did you mean" not in err.line()
    assert not err.has_value


def test_union_bad_distribution_name(tmp_path: Path) -> None:
    path = lined(tmp_path, "coast: {distribution: lognormal", "coast: {distribution: weibull")
    err = load_error(path)
    line = err.line()
    assert err.where == "operators[0].build_days.coast.distribution"
    assert err.value == "weibull"
    assert line.startswith(
        f"{path}:12: operators[0].build_days.coast.distribution: 'weibull': 'distribution' "
        "must be one of "
    )
    assert "'triangular'" in line
    assert "'gamma'" in line


def test_union_missing_distribution(tmp_path: Path) -> None:
    path = lined(tmp_path, "coast: {distribution: lognormal, ", "coast: {")
    line = load_error(path).line()
    assert line.startswith(
        f"{path}:12: operators[0].build_days.coast: missing key 'distribution'; expected one of "
    )
    assert "'lognormal'" in line
    assert "'triangular'" in line


def test_union_bad_field_names_path_without_tag(tmp_path: Path) -> None:
    path = lined(tmp_path, "mean_days: 60", "mean_days: -5")
    err = load_error(path)
    assert err.where == "operators[0].build_days.coast.mean_days"
    assert err.line() == (
        f"{path}:12: operators[0].build_days.coast.mean_days: -5: "
        "input should be greater than or equal to 0.001"
    )
    assert "lognormal" not in err.line()


def test_union_unknown_field_did_you_mean(tmp_path: Path) -> None:
    path = lined(tmp_path, "mean_days: 60", "mean_day: 60")
    line = load_error(path).line()
    assert line.startswith(
        f"{path}:12: operators[0].build_days.coast.mean_day: unknown key 'mean_day'; "
        "did you mean 'mean_days'?"
    )
    assert "lognormal" not in line


def test_union_model_validator_error(tmp_path: Path) -> None:
    path = lined(tmp_path, "low_days: 60, mode_days: 110", "low_days: 120, mode_days: 110")
    err = load_error(path)
    assert err.line() == (
        f"{path}:14: operators[0].build_days.jungle: "
        "need low_days <= mode_days <= high_days and low_days < high_days"
    )
    assert "triangular" not in err.line()


def test_union_error_from_set_names_the_set(tmp_path: Path) -> None:
    path = lined(tmp_path)
    err = load_error(path, ("operators.0.build_days.coast.distribution=weibull",))
    assert err.source == "--set operators.0.build_days.coast.distribution=weibull"
    assert err.where == "operators[0].build_days.coast.distribution"


def test_error_in_mapping_created_by_set_names_the_set() -> None:
    # build_days is absent: the override creates {coast: {mean_days: -5}} without a tag
    err = load_error(small_scenario_dict(), ("operators.0.build_days.coast.mean_days=-5",))
    assert err.source == "--set operators.0.build_days.coast.mean_days=-5"
    assert err.where == "operators[0].build_days.coast"
    assert "'distribution'" in err.message


def test_top_level_validator_error(tmp_path: Path) -> None:
    path = lined(tmp_path, "horizon_years: 2", "end_date: 2019-01-01")
    line = load_error(path).line()
    assert line.endswith("end_date 2019-01-01 is before start_date 2019-07-01")
    assert line.startswith(f"{path}:")


def test_bad_name_is_rejected(tmp_path: Path) -> None:
    path = lined(tmp_path, "name: lined", "name: ../evil")
    assert load_error(path).line() == (
        f"{path}:1: name: '../evil': must start with a letter or digit and use only letters, "
        "digits, '_', '.', '-'"
    )


def test_duplicate_operator_names(quickstart_path: Path) -> None:
    data = yaml.safe_load(quickstart_path.read_text(encoding="utf-8"))
    data["operators"].append(dict(data["operators"][0]))
    line = load_error(data).line()
    assert "operator names must be unique; repeated: ruralco" in line


def test_long_values_are_cut(tmp_path: Path) -> None:
    path = lined(tmp_path, "build_crews: 4", "build_crews: " + "x" * 200)
    line = load_error(path).line()
    assert "'xxxxx" in line
    assert "x" * 100 not in line
    assert "...: input should be a valid integer" in line


def test_format_path() -> None:
    assert format_path(("operators", 0, "build_crews")) == "operators[0].build_crews"
    assert format_path(("geography", "synthetic", "villages")) == "geography.synthetic.villages"
    assert format_path((0, "a")) == "[0].a"
    assert format_path(()) == "(top level)"


# --- read_yaml --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "name: t\nstart_date: 2019-07-01\nseed: 1: 2\n",
            ":3:8: YAML syntax error: mapping values are not allowed here",
            id="mapping-values",
        ),
        pytest.param(
            "name: t\noperators:\n  - name: a\n   cash_usd: 3\n",
            ":4:4: YAML syntax error: expected <block end>",
            id="indent",
        ),
        pytest.param("", ": the file is empty; expected a scenario mapping", id="empty"),
        pytest.param("# just a comment\n", ": the file is empty", id="comment-only"),
        pytest.param(
            "- a\n- b\n",
            ": expected a mapping of keys at the top level, found list",
            id="list",
        ),
        pytest.param("42\n", ": expected a mapping of keys at the top level, found int", id="int"),
    ],
)
def test_read_yaml_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    assert info.value.line().startswith(f"{path}{expected}")


def test_read_yaml_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: scenario file not found$"):
        read_yaml(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match=r"is a directory; expected a YAML scenario file$"):
        read_yaml(tmp_path)
    # Never opened: opening a FIFO waits for a writer, /dev/zero never ends.
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match=r"is a named pipe \(FIFO\); expected a YAML"):
        read_yaml(fifo)
    with pytest.raises(ScenarioError, match=r"/dev/zero: is a device; expected a YAML"):
        read_yaml(Path("/dev/zero"))
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"not UTF-8 text \(bad byte at offset 9\)$"):
        read_yaml(bad)


def test_read_yaml_line_map(tmp_path: Path) -> None:
    data, lines = read_yaml(lined(tmp_path))
    assert data["operators"][0]["build_crews"] == 4
    assert lines[("operators", 0, "build_crews")] == 10
    assert lines[("geography", "synthetic", "villages")] == 6
    assert lines[("operators", 0, "build_days", "jungle")] == 14
    assert lines[("name",)] == 1


# --- dump, hash, schema -----------------------------------------------------------------------


def test_dump_round_trips(tmp_path: Path, quickstart_path: Path) -> None:
    first = load_scenario(quickstart_path)
    text = dump_scenario(first)
    assert "horizon_years: null" in text
    assert "end_date: '2024-06-29'" in text
    path = tmp_path / "resolved.yaml"
    path.write_text(text, encoding="utf-8")
    second = load_scenario(path)
    assert second.model_dump() == first.model_dump()
    assert dump_scenario(second) == text


def test_dump_round_trips_file_geography(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("id,name,lat,lon,population\na,A,-12,-75,10\n")
    data = small_scenario_dict()
    data["geography"] = {"file": {"path": "v.csv"}, "pops": {"largest_villages": 1}}
    first = load_scenario(write_yaml(tmp_path, data))
    assert first.geography.file is not None
    assert first.geography.file.path == str(tmp_path.resolve() / "v.csv")
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "r.yaml").write_text(dump_scenario(first), encoding="utf-8")
    assert load_scenario(other / "r.yaml").model_dump() == first.model_dump()


def test_scenario_hash_stable_and_sensitive(quickstart_path: Path) -> None:
    a = scenario_hash(load_scenario(quickstart_path))
    b = scenario_hash(load_scenario(quickstart_path))
    assert a == b
    assert len(a) == 16
    assert int(a, 16) >= 0
    assert scenario_hash(load_scenario(quickstart_path, ["operators.0.build_crews=9"])) != a
    assert scenario_hash(load_scenario(quickstart_path, ["seed=43"])) != a
    # writing a default explicitly does not change the scenario, so not the hash either
    assert scenario_hash(load_scenario(quickstart_path, ["transport.detour_factor=1.3"])) == a
    resolved = yaml.safe_load(dump_scenario(load_scenario(quickstart_path)))
    assert scenario_hash(load_scenario(resolved)) == a


def test_schema_command_prints_json_schema(tmp_path: Path) -> None:
    code, out, err = run_cli("schema")
    assert (code, err) == (0, "")
    schema = json.loads(out)
    # The first key says who wrote it: what lets `schema --out` replace its own file later.
    assert schema.pop("$comment").startswith("JSON Schema of rollout-sim scenario files")
    assert schema == Scenario.model_json_schema()
    assert "operators" in schema["properties"]
    assert "name" in schema["required"]
    assert schema["properties"]["seed"]["description"].startswith("Master seed")
    operator = schema["$defs"]["Operator"]
    assert operator["properties"]["build_crews"]["description"] == (
        "Crews building sites at the same time."
    )
    assert operator["properties"]["build_crews"]["minimum"] == 1
    target = tmp_path / "schema.json"
    code, out, err = run_cli("schema", "--out", target)
    assert (code, out, err) == (0, "", "")
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written.pop("$comment").startswith("JSON Schema of rollout-sim")
    assert written == schema


def test_textwrap_fixture_sanity() -> None:
    # LINED must stay valid YAML with the documented line numbers
    lines = LINED.splitlines()
    assert lines[9].strip() == "build_crews: 4"
    assert lines[11].strip().startswith("coast:")
    assert lines[13].strip().startswith("jungle:")


def test_every_part_of_the_scenario_is_a_strict_model() -> None:
    """StrictModel (scenario/types.py): unknown keys and non-finite numbers are refused, and
    defaults are validated like given values."""
    import pydantic

    from rollout_sim.scenario.types import StrictModel

    class Part(StrictModel):
        x: float = 1.0
        bad_default: int = "one"  # type: ignore[assignment]

    with pytest.raises(pydantic.ValidationError, match="bad_default"):
        Part()
    with pytest.raises(pydantic.ValidationError, match="extra"):
        Part.model_validate({"bad_default": 1, "y": 2})
    with pytest.raises(pydantic.ValidationError, match="finite"):
        Part(x=float("nan"), bad_default=1)
    assert Part(x=2.0, bad_default=1).x == 2.0
    assert all(issubclass(cls, StrictModel) for cls in (Scenario, LogNormalDays, TriangularDays))
