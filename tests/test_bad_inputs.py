"""The bad-input corpus: every file under ``tests/data/bad/`` gives one clear line, exit code 2.

``tests/data/bad/expected.yaml`` lists each bad scenario, the command line to run it with
(``validate`` by default) and a fragment of the error line. Each case runs the CLI in-process
from an empty working folder and checks the project rule for bad input: exit code 2, exactly one
non-empty line on stderr containing the fragment, no traceback, and nothing written (no results
folder, the corpus unchanged, the world cache untouched). Inputs too big or too odd to commit
(a 30 MB scenario, a 200 kB CSV field) are generated below, as are the inputs that must be
*accepted* (extra village columns).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollout_sim.errors import ScenarioError
from rollout_sim.scenario.load import MAX_YAML_NODES, read_yaml

from conftest import run_cli, small_scenario_dict, write_yaml

BAD = Path(__file__).resolve().parent / "data" / "bad"
MANIFEST = BAD / "expected.yaml"
#: Commands that write a results folder (and so take --out).
WRITING_COMMANDS = {"run", "compare", "calibrate", "sweep"}


@dataclass(frozen=True)
class Case:
    file: str
    args: tuple[str, ...]
    fragment: str


def _manifest() -> list[Case]:
    entries: Any = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return [
        Case(e["file"], tuple(e.get("args", ("validate", "{file}"))), e["fragment"])
        for e in entries
    ]


CASES = _manifest()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under *folder*."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def one_error_line(code: int, out: str, err: str) -> str:
    """Check the bad-input rule's shape (exit 2, one stderr line, no traceback); the line."""
    assert "Traceback" not in err, err
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].strip(), err
    assert out == ""
    return lines[0]


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A world cache of this test's own, to see whether anything was written to it."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ROLLOUT_SIM_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("case", [pytest.param(c, id=Path(c.file).stem) for c in CASES])
def test_bad_input_corpus(case: Case, tmp_path: Path, private_cache: Path) -> None:
    work = tmp_path / "work"  # the working folder: a default results/ would appear here
    work.mkdir()
    out = tmp_path / "out"
    argv = [a.replace("{file}", str(BAD / case.file)) for a in case.args]
    if argv[0] in WRITING_COMMANDS:
        argv += ["--out", str(out)]
    before = snapshot(BAD)
    code, stdout, stderr = run_cli(*argv, cwd=work)
    if argv[0] == "validate":  # validate lists every problem, one `error:` line each
        assert "Traceback" not in stderr and (code, stdout) == (2, "")
        lines = stderr.splitlines()
        assert lines and all(x.startswith("error: ") for x in lines), stderr
        line = lines[0]
    else:
        line = one_error_line(code, stdout, stderr)
    assert case.fragment in line
    assert not out.exists()
    assert list(work.iterdir()) == []
    assert snapshot(BAD) == before
    if argv[0] != "calibrate":  # calibrate checks its block once the world is built (and cached)
        assert not private_cache.exists() or not any(private_cache.iterdir())


def test_corpus_is_complete_and_consistent() -> None:
    """At least 45 cases, one per scenario file, each file in the manifest exists."""
    assert len(CASES) >= 45
    files = [c.file for c in CASES]
    assert len(files) == len(set(files)), "a scenario is listed twice"
    scenarios = {p.name for p in BAD.glob("*.yaml")} - {MANIFEST.name}
    assert scenarios == set(files)
    for case in CASES:
        assert "{file}" in case.args, case
        assert case.fragment.strip() == case.fragment and case.fragment, case


# --- generated inputs -------------------------------------------------------------------------


def small_yaml(**top_level: Any) -> str:
    return yaml.safe_dump(small_scenario_dict(**top_level), sort_keys=False)


def test_huge_scenario_file_is_refused_fast(tmp_path: Path, private_cache: Path) -> None:
    """A 30 MB scenario (a huge description) is refused by its size, before it is parsed."""
    head = small_yaml() + "description: "
    path = tmp_path / "huge.yaml"
    path.write_text(head + "x" * (30_000_000 - len(head) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == 30_000_000
    started = time.perf_counter()
    code, out, err = run_cli("run", path, "--out", tmp_path / "out", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    line = one_error_line(code, out, err)
    assert line == f"error: {path}: scenario file is 30.0 MB; expected at most 10 MB"
    assert elapsed < 1.0, elapsed
    assert not (tmp_path / "out").exists() and not (tmp_path / "results").exists()


def test_huge_list_under_an_unknown_key_is_refused_fast(tmp_path: Path) -> None:
    """Under the size limit but with more values than any scenario needs: refused by count."""
    path = tmp_path / "many.yaml"
    path.write_text(small_yaml() + "junk: [" + "0, " * (MAX_YAML_NODES + 10) + "]\n")
    started = time.perf_counter()
    code, out, err = run_cli("validate", path, cwd=tmp_path)
    elapsed = time.perf_counter() - started
    line = one_error_line(code, out, err)
    assert f"the YAML holds more than {MAX_YAML_NODES:,} values" in line
    assert elapsed < 2.0, elapsed


def test_billion_laughs_is_refused_well_under_a_second() -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="once aliases"):
        read_yaml(BAD / "billion-laughs.yaml")
    assert time.perf_counter() - started < 0.5


def test_wider_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    """16 levels of 16 aliases each (16**16 values once expanded)."""
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * 16) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 16) + "]" for i in range(1, 16)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n" + small_yaml())
    started = time.perf_counter()
    code, out, err = run_cli("validate", path)
    assert time.perf_counter() - started < 0.5
    assert "values once aliases (*name) are expanded" in one_error_line(code, out, err)


def test_deeply_nested_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(small_yaml() + "description: " + "[" * 5000 + "]" * 5000 + "\n")
    code, out, err = run_cli("validate", path)
    assert "the YAML is nested too deeply" in one_error_line(code, out, err)


def test_aliases_used_sensibly_are_fine(tmp_path: Path) -> None:
    """Anchors, aliases and merge keys stay usable for what they are for."""
    text = small_yaml(outputs={"plots": False}).replace(
        "outputs:\n  plots: false\n", "outputs: &out\n  plots: false\n"
    )
    text += "coverage:\n  radius_km: &r {coast: 6, highlands: 4, jungle: 4}\n"
    text += "backhaul:\n  microwave:\n    hop_range_km: {<<: *r, jungle: 5}\n"
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    code, _out, err = run_cli("validate", path)
    assert (code, err) == (0, ""), err


def village_scenario(tmp_path: Path, name: str) -> Path:
    data = small_scenario_dict()
    data["geography"] = {
        "file": {"path": name},
        "pops": {"largest_villages": 1},
        "depots": {"largest_villages": 1},
    }
    # one crew of each kind and small sites, so that two or three villages raise no warnings
    data["operators"][0].update(build_crews=1, maintenance_crews=1)
    data["coverage"] = {"radius_km": {"coast": 1, "highlands": 1, "jungle": 1}}
    return write_yaml(tmp_path, data)


def test_csv_field_beyond_the_csv_limit(tmp_path: Path, private_cache: Path) -> None:
    name = "x" * 200_000
    (tmp_path / "v.csv").write_text(f"id,name,lat,lon,population\na,{name},-12,-75,10\n")
    code, out, err = run_cli("validate", village_scenario(tmp_path, "v.csv"))
    line = one_error_line(code, out, err)
    assert line == (
        f"error: {tmp_path}/v.csv: line 2: not a readable CSV file (field larger than field "
        "limit (131072))"
    )
    assert not private_cache.exists() or not any(private_cache.iterdir())


def test_geojson_integer_beyond_what_python_converts(tmp_path: Path, private_cache: Path) -> None:
    """Python refuses to convert an integer of over 4,300 digits: the village file's own
    check must answer (it was an internal error), as for the same value in a CSV."""
    big = "1" + "0" * 5000
    (tmp_path / "v.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [-75, -12]}, "properties": {"id": "a", '
        f'"name": "Alpha", "population": {big}}}}}]}}'
    )
    code, out, err = run_cli("validate", village_scenario(tmp_path, "v.geojson"))
    line = one_error_line(code, out, err)
    assert line == (
        f"error: {tmp_path}/v.geojson: features[0], column population: inf: expected a "
        "finite number"
    )
    assert not private_cache.exists() or not any(private_cache.iterdir())


def test_extra_village_columns_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text(
        "id,name,lat,lon,population,elevation_m,note\n"
        "a,Alpha,-12.00,-75.00,300,3400,market town\n"
        "b,Beta,-12.20,-75.10,120,3550,\n"
    )
    code, out, err = run_cli("validate", village_scenario(tmp_path, "v.csv"))
    assert (code, err) == (0, ""), err
    assert "2 villages, 420 people" in out


def test_extra_geojson_properties_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "v.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [-75, -12, 3400]}, "properties": {"id": "a", '
        '"name": "Alpha", "population": 300, "elevation_m": 3400, "tags": ["market"]}}]}'
    )
    code, out, err = run_cli("validate", village_scenario(tmp_path, "v.geojson"))
    assert (code, err) == (0, ""), err
    assert "1 villages, 300 people" in out


def test_village_csv_with_old_mac_line_endings_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_bytes(
        b"id,name,lat,lon,population\ra,Alpha,-12,-75,300\rb,Beta,-12.2,-75.1,120\r"
    )
    code, out, err = run_cli("validate", village_scenario(tmp_path, "v.csv"))
    assert (code, err) == (0, ""), err
    assert "2 villages, 420 people" in out


def test_observed_series_comments_keep_line_numbers(tmp_path: Path) -> None:
    """Errors in an observed series name the file's own line, comments and blanks included."""
    from rollout_sim.experiments.calibrate import read_observed

    path = tmp_path / "obs.csv"
    path.write_text("# one\n# two\ndate,value\n\n2020-01-01,5\n2020-02-30,6\n")
    with pytest.raises(ScenarioError) as info:
        read_observed(str(path), "calibration.targets[0]")
    assert info.value.line() == (
        f"{path}: line 6, column date: '2020-02-30': expected an ISO date (YYYY-MM-DD)"
    )
