"""Property-based fuzzing of the loaders: any input gives a result or one clear error line.

The scenario loader gets random YAML-able structures and random mutations of a rich valid
scenario, both as a mapping and through a YAML file; the village loader gets random CSV text,
random bytes and random GeoJSON-ish JSON. Each must either succeed (a valid ``Scenario``;
``Villages`` with at least one row, unique ids and finite, in-range coordinates) or raise
:class:`~rollout_sim.errors.InputError` (``ScenarioError`` is one) whose ``line()`` is a single
non-empty line. Any other exception is a bug.

``ROLLOUT_SIM_FUZZ_EXAMPLES`` scales the number of examples (default: about 15 s in all).
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_sim.errors import InputError
from rollout_sim.scenario.load import load_scenario
from rollout_sim.scenario.schema import Scenario
from rollout_sim.world.village_files import read_villages
from rollout_sim.world.villages import Villages

from conftest import small_scenario_dict

SCALE = float(os.environ.get("ROLLOUT_SIM_FUZZ_EXAMPLES", "1"))


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def assert_one_line(exc: InputError) -> None:
    line = exc.line()
    assert line.strip(), repr(line)
    assert "\n" not in line and "\r" not in line, repr(line)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the examples overwrite (hypothesis runs many examples per test call)."""
    return tmp_path_factory.mktemp("fuzz")


# --- strategies: YAML-able values -------------------------------------------------------------

KEY_WORDS = [
    "name",
    "seed",
    "operators",
    "cash_usd",
    "build_crews",
    "geography",
    "synthetic",
    "villages",
    "file",
    "path",
    "policies",
    "instruments",
    "type",
    "share",
    "calibration",
    "targets",
    "bounds",
    "start_date",
    "end_date",
    "horizon_years",
    "<<",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, 1, -1, 10**30, 2**63, -(2**63) - 1]),
    st.floats(),  # NaN and ±inf included
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
    st.text(max_size=20),
    st.sampled_from(["", "2019-07-01", "2019-02-30", "1e400", ".nan", "many", "*a", "&a", "\x00"]),
    st.dates(),
    st.datetimes(),
)
keys = st.one_of(st.sampled_from(KEY_WORDS), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=25,
)
mappings = st.dictionaries(keys, values, max_size=8)


# --- a rich valid scenario and its mutations --------------------------------------------------


def rich_scenario() -> dict[str, Any]:
    """A valid scenario touching most blocks (so mutations reach most of the schema)."""
    data = small_scenario_dict(
        description="fuzz base",
        coverage={"radius_km": {"coast": 6, "highlands": 4, "jungle": 4}},
        backhaul={"satellite": {"allowed": True, "max_sites": 10}, "life_years": 10},
        maintenance={"failures": {"enabled": True, "seasonal": {"months": [1, 2], "factor": 2}}},
        references=[
            {"label": "x", "metric": "sites_on_air", "date": "2020-01-01", "value": 10},
        ],
        policies=[
            {"name": "none"},
            {
                "name": "mixed",
                "instruments": [
                    {"type": "capex_subsidy", "share": 0.5, "budget_usd": 1e6},
                    {"type": "output_based", "usd_per_person": 5, "verification_days": 30},
                    {
                        "type": "credit_line",
                        "limit_usd": 1e6,
                        "annual_rate": 0.05,
                        "tenor_months": 60,
                        "drawdown": "tranches",
                        "tranches": [
                            {"date": "2019-09-01", "amount_usd": 1e5},
                            {"date": "2020-01-01", "amount_usd": 1e5},
                        ],
                    },
                    {"type": "equity", "schedule": [{"date": "2020-01-01", "amount_usd": 1e5}]},
                    {"type": "opex_fund", "share": 0.3, "years": 2},
                    {"type": "loan_guarantee", "rate_reduction": 0.02},
                ],
            },
        ],
        calibration={
            "targets": [
                {
                    "metric": "new_villages_covered",
                    "start": "2019-09-01",
                    "end": "2020-06-30",
                    "value": 1.5,
                },
                {"kind": "series", "metric": "villages_covered", "file": "obs.csv"},
            ],
            "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 10]}],
        },
    )
    op = data["operators"][0]
    op["build_days"] = {
        "coast": {"distribution": "lognormal", "mean_days": 60, "sd_days": 20},
        "highlands": {
            "distribution": "triangular",
            "low_days": 60,
            "mode_days": 90,
            "high_days": 120,
        },
        "jungle": {"distribution": "uniform", "low_days": 90, "high_days": 150},
    }
    op["credit_lines"] = [
        {"lender": "bank", "limit_usd": 1e6, "annual_rate": 0.08, "tenor_months": 60}
    ]
    op["siting"] = {"strategy": "largest_population"}
    return data


RICH = rich_scenario()


def all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in *node* (dict keys and list indices), the root excluded."""
    out: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        out.append((*prefix, key))
        out.extend(all_paths(child, (*prefix, key)))
    return out


RICH_PATHS = all_paths(RICH)


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


def mutate(data: dict[str, Any], kind: str, path: tuple[Any, ...], value: Any, key: Any) -> None:
    parent = parent_of(data, path)
    last = path[-1]
    if kind == "drop":
        del parent[last]
    elif kind == "set":
        parent[last] = value
    elif kind == "add":  # a new key beside the chosen one (or an item, in a list)
        if isinstance(parent, dict):
            parent[key] = value
        else:
            parent.append(value)
    elif kind == "wrap":  # the value put in a list (or a list's first item taken out)
        old = parent[last]
        parent[last] = old[0] if isinstance(old, list) and old else [old]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))


mutations = st.lists(
    st.tuples(
        st.sampled_from(["drop", "set", "add", "wrap", "duplicate"]),
        st.sampled_from(RICH_PATHS),
        values,
        keys,
    ),
    min_size=1,
    max_size=3,
)


def mutated(steps: list[tuple[str, tuple[Any, ...], Any, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(RICH)
    for kind, path, value, key in steps:
        try:
            parent_of(data, path)[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier step removed or replaced this path
        mutate(data, kind, path, value, key)
    return data


# --- the scenario loader ----------------------------------------------------------------------


def check_scenario(source: Any) -> None:
    try:
        result = load_scenario(source)
    except InputError as exc:
        assert_one_line(exc)
    else:
        assert isinstance(result, Scenario)


def write_yaml_text(path: Path, data: Any) -> bool:
    """Write *data* as YAML; False if PyYAML cannot represent it (a test-side limit)."""
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def test_rich_scenario_is_valid() -> None:
    load_scenario(RICH)


@fuzz(150)
@given(mappings)
def test_scenario_loader_random_mapping(data: dict[Any, Any]) -> None:
    check_scenario(data)


@fuzz(100)
@given(mappings)
def test_scenario_loader_random_yaml_file(scratch: Path, data: dict[Any, Any]) -> None:
    path = scratch / "random.yaml"
    if write_yaml_text(path, data):
        check_scenario(path)


@fuzz(150)
@given(mutations)
def test_scenario_loader_mutated_scenario(
    steps: list[tuple[str, tuple[Any, ...], Any, Any]],
) -> None:
    check_scenario(mutated(steps))


@fuzz(100)
@given(mutations)
def test_scenario_loader_mutated_yaml_file(
    scratch: Path, steps: list[tuple[str, tuple[Any, ...], Any, Any]]
) -> None:
    path = scratch / "mutated.yaml"
    if write_yaml_text(path, mutated(steps)):
        check_scenario(path)


@fuzz(100)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_scenario_loader_random_bytes(scratch: Path, raw: bytes) -> None:
    path = scratch / "bytes.yaml"
    path.write_bytes(raw)
    check_scenario(path)


@fuzz(100)
@given(
    st.lists(
        st.sampled_from(
            [
                "name: x\n",
                "seed: 1\n",
                "start_date: 2019-07-01\n",
                "a: &a [1, 2]\n",
                "b: *a\n",
                "c: &c {x: 1}\n",
                "d: {<<: *c, y: 2}\n",
                "e: [*e]\n",
                "operators:\n  - name: a\n    cash_usd: 1\n    build_crews: 1\n",
                "  - *a\n",
                "? [k]\n: v\n",
                "1: x\n",
                "null: x\n",
                "f: !!int x\n",
                "g: !!timestamp 2019-99-99\n",
                "h: !!binary xx\n",
                "i: !!python/name:os.system\n",
                "---\n",
                "...\n",
                "%YAML 1.1\n",
                "\t\n",
                "- 1\n",
                'j: "\\x00"\n',
                "k: 2019-02-30\n",
                "l: [[[[[[]]]]]]\n",
                "m: |\n  text\n",
                "seed: 2\n",
            ]
        ),
        max_size=8,
    )
)
def test_scenario_loader_yaml_fragments(scratch: Path, parts: list[str]) -> None:
    """Pieces of YAML syntax (anchors, aliases, tags, merges, documents) in random order."""
    path = scratch / "fragments.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    check_scenario(path)


# --- the village loader -----------------------------------------------------------------------


def check_villages(path: Path) -> None:
    try:
        villages = read_villages(path, default_zone="highlands", default_region="all")
    except InputError as exc:
        assert_one_line(exc)
        return
    assert isinstance(villages, Villages)
    assert len(villages) >= 1
    assert np.isfinite(villages.lat).all() and np.isfinite(villages.lon).all()
    assert (np.abs(villages.lat) <= 90).all() and (np.abs(villages.lon) <= 180).all()
    assert (villages.population >= 0).all()
    assert len(set(villages.ids.tolist())) == len(villages)


COLUMNS = ["id", "name", "lat", "lon", "population", "zone", "region", "service"]
cells = st.one_of(
    st.sampled_from(
        [
            *("", "a", "b", "-12.5", "-75.1", "0", "10", "1e9", "1e10", "-4", "2.5", "nan"),
            *("inf", "-inf", "1_0", "0x10", "4g", "2g", "none", "5G", "highlands", " 7 "),
            "\u0661\u0662",  # Arabic-Indic digits: float() reads them
        ]
    ),
    st.text(max_size=8),
    st.floats().map(repr),
    st.integers().map(str),
    st.sampled_from(['"quoted, comma"', '"multi\nline"', '"unclosed', "x\ry", "a\x00b"]),
)
headers = st.one_of(
    st.permutations(COLUMNS).flatmap(lambda cols: st.integers(0, 8).map(lambda k: cols[k:])),
    st.lists(st.sampled_from([*COLUMNS, "extra", "", " lat "]), max_size=9),
)


@fuzz(200)
@given(
    headers,
    st.lists(st.lists(cells, max_size=10), max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_village_loader_random_csv(
    scratch: Path, header: list[str], rows: list[list[str]], newline: str
) -> None:
    path = scratch / "villages.csv"
    lines = [",".join(header), *(",".join(r) for r in rows)]
    path.write_text(newline.join(lines) + newline, encoding="utf-8", newline="")
    check_villages(path)


@fuzz(100)
@given(st.binary(max_size=400), st.sampled_from(["csv", "geojson", "json"]))
def test_village_loader_random_bytes(scratch: Path, raw: bytes, ext: str) -> None:
    path = scratch / f"villages.{ext}"
    path.write_bytes(raw)
    check_villages(path)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 0, 1, -1]),
    st.floats(),  # json.dumps writes NaN and Infinity, which json.loads reads back
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
coordinates = st.one_of(
    st.lists(st.one_of(st.floats(), st.integers(), json_scalars), max_size=4),
    st.tuples(st.floats(-180, 180), st.floats(-90, 90)).map(list),
    json_values,
)
properties = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=4), st.integers(0, 5), json_values),
        "name": json_values,
        "population": st.one_of(st.integers(-5, 10**10), st.floats(), json_values),
        "zone": st.one_of(st.sampled_from(["coast", "highlands", "jungle", ""]), json_values),
        "region": json_values,
        "service": st.one_of(st.sampled_from(["none", "2g", "4g", "5g"]), json_values),
        "lat": json_values,
    },
)
geometries = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Point", "LineString", "point"]), "coordinates": coordinates}
    ),
    json_values,
)
features = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("Feature"), "geometry": geometries, "properties": properties},
        optional={"id": json_values},
    ),
    json_values,
)
documents = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["FeatureCollection", "Feature", "featurecollection"]),
            "features": st.one_of(st.lists(features, max_size=5), json_values),
        }
    ),
    json_values,
)


@fuzz(200)
@given(documents)
def test_village_loader_random_geojson(scratch: Path, doc: Any) -> None:
    path = scratch / "villages.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    check_villages(path)


def test_strategies_reach_valid_inputs(scratch: Path) -> None:
    """The base cases of the fuzzers are accepted (so the properties test both branches)."""
    path = scratch / "ok.csv"
    path.write_text("id,name,lat,lon,population\na,A,-12,-75,10\n", encoding="utf-8")
    check_villages(path)
    assert len(read_villages(path, default_zone="highlands", default_region="all")) == 1
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-75, -12]},
                "properties": {"id": "a", "name": "A", "population": 10},
            }
        ],
    }
    path = scratch / "ok.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert len(read_villages(path, default_zone="highlands", default_region="all")) == 1
    assert load_scenario(mutated([("set", ("seed",), 7, "k")])).seed == 7
