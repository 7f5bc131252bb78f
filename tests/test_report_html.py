"""The HTML report: sections per kind of folder, embedded images, no network, comments."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollout_sim.errors import InputError
from rollout_sim.report.html import folder_kind, format_key_path, write_report, yaml_comments

from conftest import run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMMON = {"headline", "assumptions", "map", "files"}
EXPECTED_SECTIONS = {
    "run": COMMON | {"coverage", "finance", "availability"},
    "replications": COMMON | {"coverage"},
    "comparison": COMMON | {"coverage", "comparison"},
    "calibration": COMMON | {"calibration"},
}
KIND_ONLY = {"finance", "availability", "comparison", "calibration", "coverage"}

# A scenario written by hand, with the comments a user would write: the report must find them.
SCENARIO_TEXT = """\
# A small region for the report tests. This header comment belongs to no key.
name: report_test
description: >
  A small synthetic region; a '#' in folded text like this is not a comment, and
  <b>this</b> is text, not markup.
seed: 42
start_date: 2019-07-01
horizon_years: 2                 # two years are enough here
geography:
  synthetic: {villages: 300, width_km: 80, height_km: 60, clusters: 12}   # small and quick
  pops: {largest_villages: 3, min_spacing_km: 20}
  depots: {largest_villages: 1}
operators:
  - name: ruralco
    cash_usd: 2_000_000
    build_crews: 8   # crews we can hire
                     # (about as many as the region's contractors have)
outputs:
  plots: true
"""

POLICIES_TEXT = """\
baseline_policy: equity_only
policies:
  - name: equity_only
    instruments: []
  - name: output_based
    instruments:
      - {type: output_based, funder: ministry, usd_per_person: 25, budget_usd: 1000000}
"""


def calibration_scenario() -> dict[str, Any]:
    """The scenario of tests/test_calibrate.py::test_cli_calibrate: known to bracket."""
    return {
        "name": "cal",
        "seed": 11,
        "start_date": "2020-01-01",
        "horizon_years": 2,
        "geography": {"synthetic": {"villages": 1500, "width_km": 400, "height_km": 300}},
        "maintenance": {"failures": {"enabled": False}},
        "operators": [{"name": "op", "cash_usd": 1e9, "build_crews": 12}],
        "calibration": {
            "targets": [
                {
                    "metric": "new_villages_covered",
                    "start": "2020-03-01",
                    "end": "2021-06-30",
                    "value": 1.0,
                    "tolerance": 0.2,
                }
            ],
            "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 40], "integer": True}],
            "replications": 2,
        },
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small results folder of each kind, made by the CLI, each with its report."""
    base = tmp_path_factory.mktemp("report")
    scenario = base / "report_test.yaml"
    scenario.write_text(SCENARIO_TEXT, encoding="utf-8")
    compare = base / "compare.yaml"
    compare.write_text(SCENARIO_TEXT + POLICIES_TEXT, encoding="utf-8")
    cal = base / "cal.yaml"
    cal.write_text(yaml.safe_dump(calibration_scenario(), sort_keys=False), encoding="utf-8")
    small = ("--set", "geography.synthetic.villages=400", "--quiet")
    out = {kind: base / kind for kind in EXPECTED_SECTIONS}
    commands = {
        "run": ("run", scenario, "--out", out["run"], *small),
        "replications": ("run", scenario, "--reps", "2", "--out", out["replications"], *small),
        "comparison": ("compare", compare, "--reps", "2", "--out", out["comparison"], *small),
        "calibration": ("calibrate", cal, "--out", out["calibration"], "--quiet"),
    }
    for kind, args in commands.items():
        code, _, err = run_cli(*args)
        assert code == 0, f"{kind}: {err}"
        assert folder_kind(out[kind]) == kind
    # `run` is gaining a verbatim copy of the scenario file; until it has, make it here.
    source = out["run"] / "scenario.source.yaml"
    if not source.exists():
        shutil.copyfile(scenario, source)
    for path in out.values():
        write_report(path)
    return out


class ReportParser(HTMLParser):
    """Collects what the tests look at: sections, headings, images, links, assumption rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.h2_in: set[str] = set()
        self.imgs: list[str] = []
        self.section_imgs: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.rows: dict[str, list[tuple[str, str]]] = {}  # data-key → [(td class, text)]
        self._section: list[str] = []
        self._depth = 0
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._cell_class = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        for k, v in a.items():
            self.attrs.append((tag, k, v))
        if tag == "section":
            self.sections.append(a.get("id", ""))
            self._section.append(a.get("id", ""))
        elif tag == "h2" and self._section:
            self.h2_in.add(self._section[-1])
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
            if self._section:
                key = self._section[-1]
                self.section_imgs[key] = self.section_imgs.get(key, 0) + 1
        elif tag == "tr" and "data-key" in a:
            self._row = a["data-key"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell, self._cell_class = [], a.get("class", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._section:
            self._section.pop()
        elif tag == "td" and self._row is not None and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.rows[self._row].append((self._cell_class, text))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(folder: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    parser.close()
    return parser


KINDS = list(EXPECTED_SECTIONS)


@pytest.mark.parametrize("kind", KINDS)
def test_sections_of_each_kind(folders: dict[str, Path], kind: str) -> None:
    report = parse(folders[kind])
    ids = report.sections
    assert len(ids) == len(set(ids)), ids
    assert set(ids) == EXPECTED_SECTIONS[kind]
    for absent in KIND_ONLY - EXPECTED_SECTIONS[kind]:
        assert absent not in ids
    assert report.h2_in == set(ids)  # every section has its heading
    # The table of contents links to exactly the sections present.
    links = {v[1:] for tag, k, v in report.attrs if tag == "a" and k == "href"}
    assert links == set(ids)


@pytest.mark.parametrize(
    ("kind", "images"), [("run", 3), ("replications", 1), ("comparison", 3), ("calibration", 1)]
)
def test_images_are_embedded_pngs(folders: dict[str, Path], kind: str, images: int) -> None:
    srcs = parse(folders[kind]).imgs
    assert len(srcs) >= images
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert data.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_is_fetched_from_the_network(folders: dict[str, Path], kind: str) -> None:
    report = parse(folders[kind])
    text = (folders[kind] / "report.html").read_text(encoding="utf-8")
    for tag, attr, value in report.attrs:
        if attr in ("src", "href", "srcset", "poster", "action", "data"):
            assert "http://" not in value and "https://" not in value, (tag, attr)
            assert not value.startswith("//"), (tag, attr)
        if tag == "a" and attr == "href":
            assert value.startswith("#")  # in-page links only
    assert "link" not in report.tags and "iframe" not in report.tags
    assert not any(tag == "script" and attr == "src" for tag, attr, _ in report.attrs)
    assert "@import" not in text and "url(" not in text


def test_assumptions_take_comments_from_the_scenario_file(folders: dict[str, Path]) -> None:
    rows = parse(folders["run"]).rows
    (_, value), (note_class, note) = rows["operators[0].build_crews"][1:]
    assert value == "8"
    assert "crews we can hire" in note and "contractors" in note  # with its continuation line
    assert "origin-file" in note_class and "default, schema" not in note
    # A flow mapping's comment explains the keys written inside it...
    assert rows["geography.synthetic.width_km"][2][1] == "small and quick"
    # ...and the --set override shows as the value used, with the comment of its line.
    assert rows["geography.synthetic.villages"][1][1] == "400"
    # A default the file leaves out is explained by the schema, and marked so.
    seed_note = rows["geography.synthetic.seed"][2]
    assert "origin-schema" in seed_note[0] and "default, schema" in seed_note[1]
    assert "seed" in seed_note[1].lower()
    # Text of a folded scalar is not a comment.
    assert not any("not a comment" in cells[2][1] for cells in rows.values())
    assert "two years" in rows["horizon_years"][2][1]


def test_assumptions_without_a_scenario_file_use_the_schema(folders: dict[str, Path]) -> None:
    rows = parse(folders["replications"]).rows
    crews = rows["operators[0].build_crews"]
    assert crews[1][1] == "8"
    if not (folders["replications"] / "scenario.source.yaml").exists():
        assert "default, schema" in crews[2][1] and "crews" in crews[2][1].lower()
    # Zone-keyed maps and discriminated unions find their field's description.
    assert "default, schema" in rows["coverage.radius_km.coast"][2][1]
    assert "no description" not in rows["operators[0].build_days.coast.mean_days"][2][1]


def test_text_is_escaped(folders: dict[str, Path]) -> None:
    text = (folders["run"] / "report.html").read_text(encoding="utf-8")
    assert "<b>this</b>" not in text and "&lt;b&gt;this&lt;/b&gt;" in text


def test_calibration_report_shows_before_and_after(folders: dict[str, Path]) -> None:
    text = (folders["calibration"] / "report.html").read_text(encoding="utf-8")
    assert "operators.0.build_crews" in text and "bisection" in text
    rows = parse(folders["calibration"]).rows
    assert "operators[0].build_crews" in rows  # the calibrated scenario's assumptions


@pytest.mark.parametrize("kind", KINDS)
def test_writing_twice_gives_the_same_bytes(folders: dict[str, Path], kind: str) -> None:
    first = (folders[kind] / "report.html").read_bytes()
    path = write_report(folders[kind])
    assert path == folders[kind] / "report.html"
    assert path.read_bytes() == first
    # The report does not list itself among the folder's files (it would change each time).
    assert "<code>report.html</code>" not in first.decode("utf-8")
    assert not list(folders[kind].glob(".report.html*"))  # no temporary file left behind


def test_plots_are_optional(folders: dict[str, Path], tmp_path: Path) -> None:
    # A folder written with --no-plots still has a report, saying what is missing...
    bare = tmp_path / "bare"
    shutil.copytree(folders["run"], bare)
    shutil.rmtree(bare / "plots")
    report = parse(write_report(bare).parent)
    assert report.imgs == [] and set(report.sections) == EXPECTED_SECTIONS["run"]
    assert "No map in this folder." in (bare / "report.html").read_text(encoding="utf-8")
    # ...and the map and snapshots are shown when the run wrote them.
    mapped = tmp_path / "mapped"
    shutil.copytree(folders["run"], mapped)
    for name in ("map", "snapshots"):
        shutil.copyfile(mapped / "plots" / "coverage.png", mapped / "plots" / f"{name}.png")
    assert parse(write_report(mapped).parent).section_imgs["map"] == 2


def test_calibration_to_an_observed_series(folders: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "series"
    shutil.copytree(folders["calibration"], folder)
    summary = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    summary["targets"].append(
        {
            "metric": "villages_covered",
            "kind": "series",
            "file": "observed.csv",
            "observed": [["2020-06-30", 100.0], ["2021-06-30", 300.0]],
            "before": [110.0, 290.0],
            "after": [100.0, 303.0],
        }
    )
    (folder / "calibration.json").write_text(json.dumps(summary), encoding="utf-8")
    text = write_report(folder).read_text(encoding="utf-8")
    assert "observed series (observed.csv, 2 points)" in text
    assert "RMS error 10" in text and "RMS error 2.121" in text


def test_report_written_elsewhere(folders: dict[str, Path], tmp_path: Path) -> None:
    target = write_report(folders["run"], tmp_path / "sub" / "r.html")
    assert target == tmp_path / "sub" / "r.html"
    assert target.read_bytes().startswith(b"<!DOCTYPE html>")
    assert write_report(folders["run"], tmp_path) == tmp_path / "report.html"


def test_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a results folder") as err:
        write_report(tmp_path)
    assert str(tmp_path) in str(err.value) and "summary.json" in str(err.value)
    with pytest.raises(InputError, match="no such folder"):
        write_report(tmp_path / "missing")
    (tmp_path / "replications.csv").write_text("replication\n0\n")
    with pytest.raises(InputError, match=r"missing summary\.json, scenario\.resolved\.yaml"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


# --- the comment reader on its own -----------------------------------------------------------


def comments_of(text: str) -> dict[str, str]:
    found = yaml_comments(text)
    return {format_key_path(k): v for k, v in found.comments.items()}


def test_comments_of_keys_items_and_continuations() -> None:
    text = """\
# header: no key
top: 1            # the top
block:            # a parent
                  # continued under its comment
  # introduces child, belongs to nobody
  child: 'a # not a comment'   # real one
  other: "x" # y
  plain: don't  # apostrophes are text
list:
  - name: first   # item zero
    size: 3
    # a note before the next key: not a continuation of size (not deeper)
    deep: 4
      # deeper than deep: continues it
  - name: second
  -   spaced: 1   # odd spacing
  - 12            # a scalar item
nested:
- - a             # nested sequence
  - b
text: |
  # inside a literal block: text
  more text
after: 2          # after the block
"""
    got = comments_of(text)
    assert got == {
        "top": "the top",
        "block": "a parent continued under its comment",
        "block.child": "real one",
        "block.other": "y",
        "block.plain": "apostrophes are text",
        "list[0].name": "item zero",
        "list[0].deep": "deeper than deep: continues it",
        "list[2].spaced": "odd spacing",
        "list[3]": "a scalar item",
        "nested[0][0]": "nested sequence",
        "after": "after the block",
    }


def test_comments_of_flow_collections() -> None:
    text = """\
zones: {coast: 0.2, jungle: 0.3}   # bands
seasonal: {months: [12, 1], factor: 1.5}  # rainy
multi: {a: 1,     # first line
        b: 2}     # second line
after: 1
"""
    found = yaml_comments(text)
    assert found.lookup(("zones", "coast")) == "bands"
    assert found.lookup(("seasonal", "months")) == "rainy"
    assert found.lookup(("seasonal", "factor")) == "rainy"
    assert found.lookup(("zones", "highlands")) is None  # not written on that line
    assert found.lookup(("multi", "b")) == "first line second line"
    assert found.lookup(("after",)) is None


def chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def test_report_renders_in_a_browser(folders: dict[str, Path], tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium): no browser check")
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    report = (folders["run"] / "report.html").resolve()
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert shot.exists(), result.stderr.decode(errors="replace")[-2000:]
    pixels = mpimg.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    assert float(pixels[..., :3].std()) > 0.01
