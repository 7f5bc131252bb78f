"""End-to-end CLI error tests: one clear line on stderr, exit code 2, nothing written.

Every case builds its input in ``tmp_path`` and runs ``rollout-sim run ... --out tmp/out`` from
``tmp_path`` (so a default ``results/`` folder would show up too), then checks the exit code, the
single stderr line, the expected fragments, and that the folder is exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli, small_scenario_dict, write_yaml

Setup = Callable[[Path], list[str]]

MAX_SEED = 2**63 - 1

# --- case builders: each returns a setup(tmp_path) -> argv (without --out) ---------------------


def raw_yaml(text: str, *extra: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        path = tmp / "s.yaml"
        path.write_text(text, encoding="utf-8")
        return ["run", str(path), *extra]

    return setup


def small(mutate: Callable[[dict[str, Any]], Any] | None = None, *extra: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        data = small_scenario_dict()
        if mutate is not None:
            mutate(data)
        return ["run", str(write_yaml(tmp, data)), *extra]

    return setup


def argv(*args: str) -> Setup:
    """Fixed arguments; ``{tmp}`` is replaced by the test's folder."""

    def setup(tmp: Path) -> list[str]:
        return [a.replace("{tmp}", str(tmp)) for a in args]

    return setup


def with_dir(name: str, inner: Setup) -> Setup:
    def setup(tmp: Path) -> list[str]:
        (tmp / name).mkdir()
        return inner(tmp)

    return setup


HEADER = "id,name,lat,lon,population,zone,region,service"
ROWS = (
    "a,Alpha,-12.00,-75.00,300,highlands,north,2g",
    "b,Beta,-12.02,-75.01,120,highlands,north,none",
    "c,Gamma,-12.30,-75.20,80,coast,south,",
)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def village_file(
    content: str | bytes | None,
    name: str = "v.csv",
    mutate: Callable[[dict[str, Any]], Any] | None = None,
    *extra: str,
) -> Setup:
    """A scenario reading villages from *name* (not created when *content* is None)."""

    def setup(tmp: Path) -> list[str]:
        if isinstance(content, bytes):
            (tmp / name).write_bytes(content)
        elif content is not None:
            (tmp / name).write_text(content, encoding="utf-8")
        data = small_scenario_dict()
        data["geography"] = {
            "file": {"path": name},
            "pops": {"largest_villages": 1},
            "depots": {"largest_villages": 1},
        }
        if mutate is not None:
            mutate(data)
        return ["run", str(write_yaml(tmp, data)), *extra]

    return setup


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def point(lon: float = -75.0, lat: float = -12.0) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def geojson(*features: Any, kind: str = "FeatureCollection") -> str:
    return json.dumps({"type": kind, "features": list(features)})


GOOD_FEATURE = feature(point(), id="a", name="Alpha", population=100)


def op(data: dict[str, Any]) -> dict[str, Any]:
    operator: dict[str, Any] = data["operators"][0]
    return operator


def setitem(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutator setting a dotted path (list indices as digits) in the scenario dict."""

    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[parts[-1]] = value

    return mutate


def delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[parts[-1]]

    return mutate


def both(*mutators: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        for m in mutators:
            m(data)

    return mutate


def rename(path: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        node[new] = node.pop(parts[-1])

    return mutate


# --- helpers ----------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under *folder*."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def assert_one_error(code: int, out: str, err: str, start: str, fragments: tuple[str, ...]) -> str:
    assert "Traceback" not in err
    assert code == 2, err
    assert out == ""
    assert err.endswith("\n")
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.strip() == line and line
    assert line.startswith(start), line
    for fragment in fragments:
        assert fragment in line, line
    return line


# --- the cases --------------------------------------------------------------------------------

E = "error: "
RUN_USAGE = "rollout-sim run: error: "

CASES = [
    # scenario file
    pytest.param(
        argv("run", "{tmp}/nope.yaml"),
        E + "{tmp}/nope.yaml: scenario file not found",
        (),
        id="missing-file",
    ),
    pytest.param(
        with_dir("adir", argv("run", "{tmp}/adir")),
        E + "{tmp}/adir: is a directory; expected a YAML scenario file",
        (),
        id="directory",
    ),
    pytest.param(
        raw_yaml("name: t\nstart_date: 2019-07-01\nseed: 1: 2\n"),
        E + "{tmp}/s.yaml:3:8: YAML syntax error: mapping values are not allowed here",
        (),
        id="yaml-syntax",
    ),
    pytest.param(
        raw_yaml("name: t\noperators: [a, b\nseed: 3\n"),
        E + "{tmp}/s.yaml:3:",
        ("YAML syntax error: expected ',' or ']'",),
        id="yaml-unclosed-list",
    ),
    pytest.param(
        raw_yaml(""),
        E + "{tmp}/s.yaml: the file is empty; expected a scenario mapping",
        (),
        id="empty-yaml",
    ),
    pytest.param(
        raw_yaml("- name: t\n- seed: 3\n"),
        E + "{tmp}/s.yaml: expected a mapping of keys at the top level, found list",
        (),
        id="top-level-list",
    ),
    # schema
    pytest.param(
        small(rename("geography.synthetic.villages", "vilages")),
        E + "{tmp}/s.yaml:",
        ("geography.synthetic.vilages: unknown key 'vilages'; did you mean 'villages'?",),
        id="unknown-key-nested",
    ),
    pytest.param(
        small(rename("horizon_years", "horizn_years")),
        E + "{tmp}/s.yaml:",
        ("horizn_years: unknown key 'horizn_years'; did you mean 'horizon_years'?",),
        id="unknown-key-top",
    ),
    pytest.param(
        small(rename("operators.0.build_crews", "build_crew")),
        E + "{tmp}/s.yaml:",
        (
            "operators[0].build_crew: unknown key 'build_crew'; did you mean 'build_crews'? "
            "(and 1 more problem)",
        ),
        id="misspelt-before-missing",
    ),
    pytest.param(
        small(setitem("operators.0.build_crews", "many")),
        E + "{tmp}/s.yaml:",
        ("operators[0].build_crews: 'many': input should be a valid integer",),
        id="wrong-type",
    ),
    pytest.param(
        small(setitem("operators.0.build_crews", -3)),
        E + "{tmp}/s.yaml:",
        ("operators[0].build_crews: -3: input should be greater than or equal to 1",),
        id="negative-crews",
    ),
    pytest.param(
        small(setitem("operators.0.build_crews", 0)),
        E + "{tmp}/s.yaml:",
        ("operators[0].build_crews: 0: input should be greater than or equal to 1",),
        id="zero-crews",
    ),
    pytest.param(
        small(delete("operators.0.cash_usd")),
        E + "{tmp}/s.yaml:",
        ("operators[0].cash_usd: required key is missing",),
        id="missing-key",
    ),
    pytest.param(
        small(both(delete("horizon_years"), setitem("end_date", "2019-01-01"))),
        E + "{tmp}/s.yaml:",
        ("end_date 2019-01-01 is before start_date 2019-07-01",),
        id="end-before-start",
    ),
    pytest.param(
        small(setitem("end_date", "2020-01-01")),
        E + "{tmp}/s.yaml:",
        ("give end_date or horizon_years, not both",),
        id="end-and-horizon",
    ),
    pytest.param(
        small(lambda d: d["operators"].append(dict(op(d)))),
        E + "{tmp}/s.yaml:",
        ("operator names must be unique; repeated: ruralco",),
        id="duplicate-operators",
    ),
    pytest.param(
        small(setitem("name", "../evil")),
        E + "{tmp}/s.yaml:",
        ("name: '../evil': must start with a letter or digit",),
        id="bad-name",
    ),
    pytest.param(
        small(
            setitem(
                "operators.0.build_days",
                {"coast": {"distribution": "weibull", "mean_days": 3}},
            )
        ),
        E + "{tmp}/s.yaml:",
        (
            "operators[0].build_days.coast.distribution: 'weibull': 'distribution' must be "
            "one of 'fixed', 'uniform', 'triangular', 'lognormal', 'gamma'",
        ),
        id="bad-distribution",
    ),
    pytest.param(
        small(
            setitem(
                "operators.0.build_days",
                {"coast": {"distribution": "lognormal", "mean_days": 0, "sd_days": 1}},
            )
        ),
        E + "{tmp}/s.yaml:",
        (
            "operators[0].build_days.coast.mean_days: 0: "
            "input should be greater than or equal to 0.001",
        ),
        id="bad-lognormal-field",
    ),
    # command line
    pytest.param(
        small(None, "--set", "foo"), E + "--set: 'foo': expected key.path=value", (), id="set-no-eq"
    ),
    pytest.param(
        small(None, "--set", "operators.bob.cash_usd=1"),
        E + "--set operators.bob.cash_usd=1: operators: no item named 'bob'; "
        "expected one of: ruralco",
        (),
        id="set-unknown-item",
    ),
    pytest.param(
        small(None, "--set", "operators.ruralc.cash_usd=1"),
        E + "--set operators.ruralc.cash_usd=1: operators: no item named 'ruralc'; "
        "did you mean 'ruralco'?",
        (),
        id="set-item-did-you-mean",
    ),
    pytest.param(
        small(None, "--set", "operators.2.cash_usd=1"),
        E + "--set operators.2.cash_usd=1: operators: index 2 out of range (the list has 1 items)",
        (),
        id="set-index-out-of-range",
    ),
    pytest.param(
        small(None, "--set", "operators.0.build_crews=0"),
        E + "--set operators.0.build_crews=0: operators[0].build_crews: 0: "
        "input should be greater than or equal to 1",
        (),
        id="set-bad-value",
    ),
    pytest.param(
        small(None, "--seed", "-1"),
        RUN_USAGE + f"argument --seed: '-1': expected a whole number from 0 to {MAX_SEED}",
        ("(see --help)",),
        id="seed-negative",
    ),
    pytest.param(
        small(None, "--seed", "abc"),
        RUN_USAGE + f"argument --seed: 'abc': expected a whole number from 0 to {MAX_SEED}",
        (),
        id="seed-not-a-number",
    ),
    pytest.param(
        small(None, "--seed", str(2**63)),
        RUN_USAGE + f"argument --seed: '{2**63}': expected a whole number",
        (),
        id="seed-too-big",
    ),
    pytest.param(
        argv("frob", "{tmp}/s.yaml"),
        "rollout-sim: error: argument COMMAND: invalid choice: 'frob'",
        ("'run'", "'validate'", "'schema'"),
        id="unknown-command",
    ),
    pytest.param(
        argv("run"),
        RUN_USAGE + "the following arguments are required: scenario",
        (),
        id="no-scenario-argument",
    ),
    pytest.param(
        small(None, "--frobnicate"),
        "rollout-sim: error: unrecognized arguments: --frobnicate",
        (),
        id="unknown-option",
    ),
    # geography
    pytest.param(
        small(setitem("geography.regions", ["nowhere"])),
        E + "{tmp}/s.yaml: geography.regions: unknown region 'nowhere'; the villages have "
        "regions region-1, region-2, region-3, region-4",
        (),
        id="regions-unknown",
    ),
    pytest.param(
        small(setitem("geography.regions", [])),
        E + "{tmp}/s.yaml: geography: no villages left; expected at least one",
        (),
        id="regions-leave-none",
    ),
    pytest.param(
        small(setitem("geography.pops", {"villages": ["nowhere"]})),
        E + "{tmp}/s.yaml: geography.pops.villages: unknown village id 'nowhere'",
        (),
        id="pop-unknown-village",
    ),
    # village CSV
    pytest.param(
        village_file(None), E + "{tmp}/v.csv: village file not found", (), id="csv-missing"
    ),
    pytest.param(
        village_file(csv_text("a,Alpha,-12", header="id,name,lat")),
        E + "{tmp}/v.csv: missing columns lon, population; expected columns id, name, lat, lon, "
        "population (+ optional zone, region, service)",
        (),
        id="csv-missing-columns",
    ),
    pytest.param(
        village_file(csv_text("a,Alpha,-12,-75", header="id,name,lat,lon")),
        E + "{tmp}/v.csv: missing column population;",
        (),
        id="csv-missing-one-column",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,nan,-75.01,120,,,")),
        E + "{tmp}/v.csv: line 3, column lat: 'nan': expected a finite number",
        (),
        id="csv-nan-latitude",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,,-75.01,120,,,")),
        E + "{tmp}/v.csv: line 3, column lat: '': expected a number",
        (),
        id="csv-empty-latitude",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75.01,many,,,")),
        E + "{tmp}/v.csv: line 3, column population: 'many': expected a number",
        (),
        id="csv-population-not-a-number",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75.01,-4,,,")),
        E + "{tmp}/v.csv: line 3, column population: '-4': population must be a whole number "
        "from 0 to 1e9",
        (),
        id="csv-negative-population",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75.01,2.5,,,")),
        E + "{tmp}/v.csv: line 3, column population: '2.5': population must be a whole number",
        (),
        id="csv-fractional-population",
    ),
    pytest.param(
        village_file(csv_text(*ROWS, "a,Again,-12.1,-75.1,10,,,")),
        E + "{tmp}/v.csv: line 5, column id: 'a': duplicate village id (first at line 2)",
        (),
        id="csv-duplicate-id",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], ",Nameless,-12.1,-75.1,10,,,")),
        E + "{tmp}/v.csv: line 3, column id: empty village id",
        (),
        id="csv-empty-id",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-120,-75,10,,,")),
        E + "{tmp}/v.csv: line 3, column lat: '-120': latitude must be within -90..90",
        (),
        id="csv-latitude-range",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,185,10,,,")),
        E + "{tmp}/v.csv: line 3, column lon: '185': longitude must be within -180..180",
        (),
        id="csv-longitude-range",
    ),
    pytest.param(
        village_file(""),
        E + "{tmp}/v.csv: the file is empty; expected a CSV header",
        (),
        id="csv-empty-file",
    ),
    pytest.param(
        village_file(HEADER + "\n"),
        E + "{tmp}/v.csv: no villages in the file; expected at least one row",
        (),
        id="csv-header-only",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75,10,highlands,north,none,extra")),
        E + "{tmp}/v.csv: line 3: has 9 fields, header has 8",
        (),
        id="csv-too-many-fields",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75,10")),
        E + "{tmp}/v.csv: line 3: has 5 fields, header has 8",
        (),
        id="csv-too-few-fields",
    ),
    pytest.param(
        village_file(csv_text(*ROWS), name="v.txt"),
        E + "{tmp}/v.txt: unknown village file type; expected .csv, .geojson or .json",
        (),
        id="csv-unknown-extension",
    ),
    pytest.param(
        village_file(csv_text(*ROWS).encode() + "d,Dé,-12.1,-75.1,10,,,\n".encode("latin-1")),
        E + "{tmp}/v.csv: not UTF-8 text (bad byte at offset ",
        (),
        id="csv-not-utf8",
    ),
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12,-75,10,highlands,north,5g")),
        E + "{tmp}/v.csv: line 3, column service: '5g': service must be one of none, 2g, 4g",
        (),
        id="csv-unknown-service",
    ),
    # GeoJSON
    pytest.param(
        village_file(geojson(GOOD_FEATURE, kind="Feature"), "v.geojson"),
        E + "{tmp}/v.geojson: expected a GeoJSON FeatureCollection",
        (),
        id="geojson-not-collection",
    ),
    pytest.param(
        village_file("[1, 2]", "v.json"),
        E + "{tmp}/v.json: expected a GeoJSON FeatureCollection",
        (),
        id="geojson-array",
    ),
    pytest.param(
        village_file('{"type": "FeatureCollection", "features": [}', "v.geojson"),
        E + "{tmp}/v.geojson:1:",
        ("invalid JSON: Expecting value",),
        id="geojson-invalid-json",
    ),
    pytest.param(
        village_file(
            geojson(
                GOOD_FEATURE,
                feature({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, id="b"),
            ),
            "v.geojson",
        ),
        E + "{tmp}/v.geojson: features[1]: expected a Feature with Point geometry",
        (),
        id="geojson-not-point",
    ),
    pytest.param(
        village_file(geojson(feature(point(), id="a", name="Alpha")), "v.geojson"),
        E + "{tmp}/v.geojson: features[0].properties: missing property 'population'",
        (),
        id="geojson-missing-property",
    ),
    pytest.param(
        village_file(geojson({"type": "Feature", "geometry": point()}), "v.geojson"),
        E + "{tmp}/v.geojson: features[0].properties: missing property 'id'",
        (),
        id="geojson-no-properties",
    ),
    pytest.param(
        village_file(
            geojson(feature({"type": "Point", "coordinates": [-75]}, id="a")), "v.geojson"
        ),
        E + "{tmp}/v.geojson: features[0].geometry: expected [lon, lat] coordinates",
        (),
        id="geojson-short-coordinates",
    ),
    pytest.param(
        village_file(geojson(feature(point(), id="a", name="A", population=True)), "v.geojson"),
        E + "{tmp}/v.geojson: features[0], column population: True: expected a number",
        (),
        id="geojson-boolean-population",
    ),
    # consistency between the scenario and the villages
    pytest.param(
        village_file(csv_text(ROWS[0], "b,Beta,-12.02,-75.01,120,desert,north,none")),
        E + "{tmp}/s.yaml: coverage.radius_km: no value for zone 'desert'; the villages have "
        "zones desert, highlands",
        (),
        id="zone-missing-radius",
    ),
    pytest.param(
        village_file(
            csv_text(*ROWS),
            "v.csv",
            setitem("backhaul.microwave.hop_range_km", {"highlands": 30, "jungle": 20}),
        ),
        E + "{tmp}/s.yaml: backhaul.microwave.hop_range_km: no value for zone 'coast'",
        (),
        id="zone-missing-hop-range",
    ),
    pytest.param(
        village_file(
            csv_text(*ROWS),
            "v.csv",
            setitem("operators.0.capex_usd", {"greenfield": {"highlands": 1}}),
        ),
        E + "{tmp}/s.yaml: operators[0].capex_usd.greenfield: no value for zone 'coast'",
        (),
        id="zone-missing-capex",
    ),
    pytest.param(
        village_file(csv_text(*ROWS), "v.csv", setitem("operators.0.regions", ["north", "west"])),
        E + "{tmp}/s.yaml: operators[0].regions: unknown region 'west'; the villages have "
        "north, south",
        (),
        id="operator-unknown-region",
    ),
    pytest.param(
        village_file(csv_text(*ROWS), "v.csv", setitem("operators.0.zones", ["jungle"])),
        E + "{tmp}/s.yaml: operators[0].zones: unknown zone 'jungle'; the villages have "
        "coast, highlands",
        (),
        id="operator-unknown-zone",
    ),
    pytest.param(
        village_file(csv_text(*ROWS), "v.csv", setitem("operators.0.depots", ["a", "zz"])),
        E + "{tmp}/s.yaml: operators[0].depots: unknown village id 'zz'",
        (),
        id="operator-unknown-depot",
    ),
    pytest.param(
        village_file(
            csv_text(*ROWS),
            "v.csv",
            setitem("operators.0.siting", {"strategy": "list", "villages": ["b", "q"]}),
        ),
        E + "{tmp}/s.yaml: operators[0].siting.villages: unknown village id 'q'",
        (),
        id="operator-unknown-siting-village",
    ),
]


@pytest.mark.parametrize(("setup", "start", "fragments"), CASES)
def test_bad_input(tmp_path: Path, setup: Setup, start: str, fragments: tuple[str, ...]) -> None:
    args = setup(tmp_path)
    out_dir = tmp_path / "out"
    before = snapshot(tmp_path)
    code, out, err = run_cli(*args, "--out", out_dir, cwd=tmp_path)
    assert_one_error(code, out, err, start.replace("{tmp}", str(tmp_path)), fragments)
    assert not out_dir.exists()
    assert not (tmp_path / "results").exists()
    assert snapshot(tmp_path) == before


def test_village_files_are_valid_when_not_broken(tmp_path: Path) -> None:
    """The base village CSV and GeoJSON of the cases above are themselves fine."""
    args = village_file(csv_text(*ROWS))(tmp_path)
    code, out, err = run_cli("validate", *args[1:])
    assert code == 0 and all(line.startswith("warning:") for line in err.splitlines())
    assert "3 villages, 500 people" in out
    args = village_file(geojson(GOOD_FEATURE), "v.geojson")(tmp_path)
    code, out, err = run_cli("validate", *args[1:])
    assert code == 0 and all(line.startswith("warning:") for line in err.splitlines())
    assert "1 villages, 100 people" in out


def test_existing_results_untouched_by_bad_input(tmp_path: Path) -> None:
    out_dir = tmp_path / "results" / "small"
    (out_dir / "plots").mkdir(parents=True)
    (out_dir / "marker.txt").write_bytes(b"earlier results \x00\xff\n")
    (out_dir / "timeseries.csv").write_text("date\n2019-07-01\n", encoding="utf-8")
    (out_dir / "plots" / "coverage.png").write_bytes(b"\x89PNG fake")
    args = small(setitem("operators.0.build_crews", 0))(tmp_path)
    before = snapshot(tmp_path)
    # once with the default folder (results/<name> under the working directory), once --out
    for extra in ([], ["--out", str(out_dir)]):
        code, out, err = run_cli(*args, *extra, cwd=tmp_path)
        assert_one_error(code, out, err, "error: ", ("operators[0].build_crews: 0",))
        assert snapshot(tmp_path) == before
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["small"]


def test_validate_reports_bad_input_too(tmp_path: Path) -> None:
    args = village_file(csv_text(*ROWS, "a,Again,-12.1,-75.1,10,,,"))(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run_cli("validate", *args[1:], cwd=tmp_path)
    assert_one_error(
        code,
        out,
        err,
        f"error: {tmp_path}/v.csv: line 5, column id: 'a': duplicate village id (first at line 2)",
        (),
    )
    assert snapshot(tmp_path) == before


def test_debug_adds_traceback_but_keeps_exit_code(tmp_path: Path) -> None:
    args = small(setitem("operators.0.build_crews", 0))(tmp_path)
    code, _out, err = run_cli(*args, "--debug", "--out", tmp_path / "out")
    assert code == 2
    assert "Traceback" in err
    assert err.splitlines()[-1].startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_validate_quickstart_ok(quickstart_path: Path) -> None:
    code, out, err = run_cli("validate", quickstart_path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"ok: {quickstart_path}: scenario 'quickstart', ")
    assert "5,000 villages" in lines[0]
    assert "operators: ruralco, 2019-07-01 to 2024-06-29" in lines[0]
    assert lines[1] == (
        "villages by zone: coast 1,164, highlands 2,281, jungle 1,555; latitude -12.8987 to "
        "-11.1010, longitude -76.1497 to -73.8503"
    )


def test_validate_quiet_prints_nothing(quickstart_path: Path) -> None:
    assert run_cli("validate", quickstart_path, "--quiet") == (0, "", "")
    # Before the command too, as --help lists them: the command's default no longer
    # overwrites it.
    assert run_cli("-q", "validate", quickstart_path) == (0, "", "")
    bad = Path(__file__).resolve().parent / "data" / "bad" / "negative-crews.yaml"
    code, _, err = run_cli("--debug", "validate", bad)
    assert code == 2 and "Traceback" in err


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "multi.yaml"
    bad.write_text(
        "name: multi\nstart_date: 2019-07-01\nhorizon_years: 1\n"
        "operators:\n  - name: op\n    cash_usd: -5\n    build_crew: 3\n"
        "geography:\n  synthetic: {villages: -1}\n"
    )
    code, out, err = run_cli("validate", bad)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: {bad}:7: operators[0].build_crew: unknown key 'build_crew'; did you mean "
        "'build_crews'?",
        f"error: {bad}:9: geography.synthetic.villages: -1: input should be greater than or "
        "equal to 1",
        f"error: {bad}:6: operators[0].cash_usd: -5: input should be greater than or equal to 0",
        f"error: {bad}:5: operators[0].build_crews: required key is missing",
    ]
    code, out, err = run_cli("run", bad, "--out", tmp_path / "x")
    assert code == 2 and len(err.splitlines()) == 1
    assert err.strip().endswith("(and 3 more problems)")
