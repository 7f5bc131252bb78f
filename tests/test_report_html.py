"""The HTML report: sections per kind of folder, embedded images, no network, comments."""

from __future__ import annotations

import base64
import csv
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
GIF_SIGNATURE = b"GIF89a"
COMMON = {"headline", "assumptions", "map", "files"}
EXPECTED_SECTIONS = {
    "run": COMMON | {"coverage", "cost", "availability"},
    "replications": COMMON | {"coverage", "cost"},
    "comparison": COMMON | {"coverage", "cost", "comparison", "uncertainty"},
    "calibration": COMMON | {"calibration"},
}
KIND_ONLY = {
    "cost", "availability", "comparison", "uncertainty", "calibration", "coverage", "impact",
    "figures",
}  # fmt: skip
#: The order a briefing reads: the story first, the full parameter table last.
SECTION_ORDER = [
    "headline",
    "calibration",
    "coverage",
    "cost",
    "availability",
    "comparison",
    "uncertainty",
    "impact",
    "map",
    "figures",
    "files",
    "assumptions",
]

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
    impact = base / "impact.yaml"
    impact.write_text(SCENARIO_TEXT + "impact: {enabled: true}\n", encoding="utf-8")
    out = {kind: base / kind for kind in [*EXPECTED_SECTIONS, "impact"]}
    commands = {
        "run": ("run", scenario, "--out", out["run"], *small),
        "impact": ("run", impact, "--out", out["impact"], *small),
        "replications": ("run", scenario, "--reps", "2", "--out", out["replications"], *small),
        "comparison": ("compare", compare, "--reps", "2", "--out", out["comparison"], *small),
        "calibration": ("calibrate", cal, "--out", out["calibration"], "--quiet"),
    }
    for kind, args in commands.items():
        code, _, err = run_cli(*args)
        assert code == 0, f"{kind}: {err}"
        assert folder_kind(out[kind]) == ("run" if kind == "impact" else kind)
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
        self.section_srcs: dict[str, list[str]] = {}
        #: (section, whether its <details> is open) of the assumptions table.
        self.assumptions_table: list[tuple[str, bool | None]] = []
        self._details: list[bool] = []
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
                self.section_srcs.setdefault(key, []).append(a.get("src", ""))
        elif tag == "details":
            self._details.append("open" in a)
        elif tag == "table" and "assumptions" in a.get("class", "").split():
            where = self._section[-1] if self._section else ""
            self.assumptions_table.append((where, self._details[-1] if self._details else None))
        elif tag == "tr" and "data-key" in a:
            self._row = a["data-key"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell, self._cell_class = [], a.get("class", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._section:
            self._section.pop()
        elif tag == "details" and self._details:
            self._details.pop()
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
    # The story first: headline, coverage, cost, comparison, maps, files, and the parameters
    # last of all.
    assert ids == [s for s in SECTION_ORDER if s in ids]
    assert ids[0] == "headline" and ids[-1] == "assumptions"
    for absent in KIND_ONLY - EXPECTED_SECTIONS[kind]:
        assert absent not in ids
    assert report.h2_in == set(ids)  # every section has its heading
    # The table of contents links to exactly the sections present.
    links = {v[1:] for tag, k, v in report.attrs if tag == "a" and k == "href"}
    assert links == set(ids)


def plot_names(folder: Path) -> set[str]:
    """The distinct plots of a folder: PNG, GIF and SVG files by name (an SVG is the PNG's
    print copy, so a name counts once)."""
    plots = folder / "plots"
    if not plots.is_dir():
        return set()
    return {p.stem for p in plots.iterdir() if p.suffix in (".png", ".gif", ".svg")}


@pytest.mark.parametrize(
    ("kind", "images"),
    [("run", 7), ("impact", 8), ("replications", 1), ("comparison", 7), ("calibration", 1)],
)
def test_images_are_embedded(folders: dict[str, Path], kind: str, images: int) -> None:
    srcs = parse(folders[kind]).imgs
    assert len(srcs) == images
    for src in srcs:
        mime, _, data = src.partition(";base64,")
        raw = base64.b64decode(data, validate=True)
        if mime == "data:image/gif":
            assert raw.startswith(GIF_SIGNATURE)
        else:
            assert mime == "data:image/png" and raw.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("kind", [*KINDS, "impact"])
def test_every_plot_in_the_folder_is_embedded(folders: dict[str, Path], kind: str) -> None:
    folder = folders[kind]
    text = (folder / "report.html").read_text(encoding="utf-8")
    names = plot_names(folder)
    assert names  # every kind of folder writes plots here
    # One data: URI per plot, and each is that file's bytes exactly.
    assert text.count("data:image/") == len(names) == len(parse(folder).imgs)
    for path in sorted((folder / "plots").iterdir()):
        if path.suffix in (".png", ".gif"):
            assert base64.b64encode(path.read_bytes()).decode("ascii") in text, path.name
    assert "figures" not in parse(folder).sections  # every plot has its own place


def test_a_single_run_shows_its_plots_where_the_story_needs_them(folders: dict[str, Path]) -> None:
    report = parse(folders["impact"])
    placed = {
        section: [base64.b64decode(src.partition(";base64,")[2])[:6] for src in srcs]
        for section, srcs in report.section_srcs.items()
    }
    assert {k: len(v) for k, v in placed.items()} == {
        "coverage": 2,  # coverage.png, footprint.png
        "cost": 1,  # finance.png
        "availability": 1,
        "impact": 1,
        "map": 3,  # map.png, snapshots.png, rollout.gif
    }
    assert placed["map"][2] == GIF_SIGNATURE  # the animation, after the two maps
    plots = folders["impact"] / "plots"
    text = (folders["impact"] / "report.html").read_text(encoding="utf-8")
    order = [
        text.index(base64.b64encode((plots / name).read_bytes()).decode("ascii")[:200])
        for name in ("coverage.png", "footprint.png", "finance.png", "impact.png", "map.png",
                     "snapshots.png", "rollout.gif")
    ]  # fmt: skip
    assert order == sorted(order)


def test_other_figures_catch_every_plot_no_section_places(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    import matplotlib.pyplot as plt

    folder = tmp_path / "extra"
    shutil.copytree(folders["run"], folder)
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    fig.savefig(folder / "plots" / "extra_chart.png", metadata={"Software": None})
    fig.savefig(folder / "plots" / "vector_only.svg", metadata={"Date": None})
    plt.close(fig)
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG_SIGNATURE + b"NOT-IN-THE-FOLDER" * 20)
    (folder / "plots" / "linked.png").symlink_to(secret)
    report = parse(write_report(folder).parent)
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert report.sections[-4:] == ["map", "figures", "files", "assumptions"]
    extra = base64.b64encode((folder / "plots" / "extra_chart.png").read_bytes()).decode()
    svg = base64.b64encode((folder / "plots" / "vector_only.svg").read_bytes()).decode()
    assert report.section_srcs["figures"] == [
        f"data:image/png;base64,{extra}",
        f"data:image/svg+xml;base64,{svg}",
    ]
    assert "#figures" in {v for tag, k, v in report.attrs if tag == "a" and k == "href"}
    # A link in plots/ is not a plot of the folder: never read, never listed.
    assert base64.b64encode(secret.read_bytes()).decode()[:40] not in text
    assert text.count("data:image/") == len(plot_names(folder)) - 1


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_are_folded_after_the_maps(folders: dict[str, Path], kind: str) -> None:
    report = parse(folders[kind])
    text = (folders[kind] / "report.html").read_text(encoding="utf-8")
    # One parameter table, inside a closed <details> of the last section, after the maps.
    assert report.assumptions_table == [("assumptions", False)]
    assert report.sections.index("assumptions") > report.sections.index("map")
    assert text.index('<section id="assumptions">') > text.index('<section id="map">')
    assert "<details open" not in text
    rows = len(report.rows)
    assert f"<summary>Show all {rows} parameters</summary>" in text
    # Nothing of the table comes before the last image: the pictures are read first.
    assert text.index('<table class="assumptions wide">') > text.rindex("data:image/")


def test_impact_section_when_impact_is_on(folders: dict[str, Path]) -> None:
    report = parse(folders["impact"])
    assert "impact" in report.sections
    assert "impact" not in parse(folders["run"]).sections  # off: no section at all
    summary = json.loads((folders["impact"] / "summary.json").read_text(encoding="utf-8"))
    impact = summary["impact"]
    text = (folders["impact"] / "report.html").read_text(encoding="utf-8")
    section = text[text.index('<section id="impact">') : text.index('<section id="map">')]
    assert "<h2>Poverty</h2>" in section
    for name in ("low", "central", "high"):
        value = impact[name]["people_out_of_poverty_at_horizon"]
        assert f'<td class="num">{value:,.0f}</td>' in section
    central = impact["central"]["people_out_of_poverty_at_horizon"]
    low = impact["low"]["people_out_of_poverty_at_horizon"]
    high = impact["high"]["people_out_of_poverty_at_horizon"]
    assert (
        f"Poverty: about {central:,.0f} people lifted out of poverty by the end (central "
        f"estimate; {low:,.0f} to {high:,.0f} across the low and high estimates)."
    ) in text
    assert report.section_srcs["impact"] == [
        "data:image/png;base64,"
        + base64.b64encode((folders["impact"] / "plots" / "impact.png").read_bytes()).decode()
    ]


def test_run_story_states_what_changed(folders: dict[str, Path]) -> None:
    summary = json.loads((folders["run"] / "summary.json").read_text(encoding="utf-8"))
    text = (folders["run"] / "report.html").read_text(encoding="utf-8")
    reached_places = summary["final"]["villages_covered"] - summary["initial"]["villages_covered"]
    share = summary["final"]["initially_uncovered_reached_share"] * 100
    assert (
        f"From 2019-07-01 to 2021-06-30, the rollout reached {summary['people_reached']:,} "
        f"people in {reached_places:,} places that had no coverage at the start: {share:.1f} % "
        "of the people then uncovered."
    ) in text
    story = text[text.index('<ul class="story">') : text.index("</ul>")]
    assert story.index("the rollout reached") < story.index("sites on air")


@pytest.mark.parametrize("kind", ["replications", "comparison"])
def test_fan_chart_caption_says_what_the_band_spans(folders: dict[str, Path], kind: str) -> None:
    text = (folders[kind] / "report.html").read_text(encoding="utf-8")
    assert (
        "The band: 10th–90th percentile of 2 replications; replications differ only in random "
        "event timing (build times, failures, repairs), so a narrow band means the outcome is "
        "robust to that noise, not that the inputs are certain."
    ) in text


def test_comparison_shows_what_each_policy_buys(folders: dict[str, Path]) -> None:
    from rollout_sim.outcomes import format_long

    def _money(v: float) -> str:
        return format_long(v, "money")

    folder = folders["comparison"]
    text = (folder / "report.html").read_text(encoding="utf-8")
    section = text[text.index('<section id="comparison">') : text.index('<section id="map">')]
    with (folder / "differences.csv").open(encoding="utf-8") as f:
        rows = {(r["policy"], r["metric"]): r for r in csv.DictReader(f)}
    icer = rows[("output_based", "public_cost_per_additional_person_usd")]
    cost = rows[("output_based", "public_cost_usd")]
    assert "<h3>What each policy buys</h3>" in section
    expected = _money(float(icer["difference"])) if icer["difference"] else "—"
    assert f">{expected}<" in section
    assert f">+{_money(float(cost['difference']))}<" in section
    # The incremental-cost chart comes first among the comparison's figures.
    plot = (folder / "plots" / "public_cost_per_additional_person.png").read_bytes()
    assert parse(folder).section_srcs["comparison"][0].endswith(base64.b64encode(plot).decode())


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
    assert "origin-file" in note_class and "note from the schema" not in note
    # A flow mapping's comment explains the keys written inside it...
    assert rows["geography.synthetic.width_km"][2][1] == "small and quick"
    # ...and the --set override shows as the value used, with the comment of its line.
    assert rows["geography.synthetic.villages"][1][1] == "400"
    # A default the file leaves out is explained by the schema, and marked so.
    seed_note = rows["geography.synthetic.seed"][2]
    assert "origin-schema" in seed_note[0] and "note from the schema" in seed_note[1]
    assert "seed" in seed_note[1].lower()
    # Text of a folded scalar is not a comment.
    assert not any("not a comment" in cells[2][1] for cells in rows.values())
    # The horizon the file gave in years is resolved into end_date: no null horizon_years
    # row beside the file's comment, which goes with the end date instead.
    assert "horizon_years" not in rows
    assert rows["end_date"][2][1].startswith("from horizon_years: ")
    assert "two years" in rows["end_date"][2][1] and "origin-file" in rows["end_date"][2][0]


def test_assumptions_without_a_scenario_file_use_the_schema(folders: dict[str, Path]) -> None:
    rows = parse(folders["replications"]).rows
    crews = rows["operators[0].build_crews"]
    assert crews[1][1] == "8"
    if not (folders["replications"] / "scenario.source.yaml").exists():
        assert "note from the schema" in crews[2][1] and "crews" in crews[2][1].lower()
    # Zone-keyed maps and discriminated unions find their field's description.
    assert "note from the schema" in rows["coverage.radius_km.coast"][2][1]
    assert "no description" not in rows["operators[0].build_days.coast.mean_days"][2][1]


def test_text_is_escaped(folders: dict[str, Path]) -> None:
    text = (folders["run"] / "report.html").read_text(encoding="utf-8")
    assert "<b>this</b>" not in text and "&lt;b&gt;this&lt;/b&gt;" in text


def test_calibration_report_shows_before_and_after(folders: dict[str, Path]) -> None:
    text = (folders["calibration"] / "report.html").read_text(encoding="utf-8")
    assert "operators.0.build_crews" in text and "bisection" in text
    rows = parse(folders["calibration"]).rows
    assert "operators[0].build_crews" in rows  # the calibrated scenario's assumptions
    # The calibrated file gives horizon_years: the period's end comes from the resolved one.
    assert "2020-01-01 to 2021-12-31" in text and " to ?" not in text


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
    # ...and shows the maps the run did write, the animation among them when it is there.
    assert parse(folders["run"]).section_imgs["map"] == 3
    still = tmp_path / "still"
    shutil.copytree(folders["run"], still)
    (still / "plots" / "rollout.gif").unlink()
    assert parse(write_report(still).parent).section_imgs["map"] == 2


def test_calibration_to_an_observed_series(folders: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "series"
    shutil.copytree(folders["calibration"], folder)
    summary = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    summary["targets"].append(
        {
            "metric": "villages_covered",
            "kind": "series",
            "label": "",
            "weight": 1.0,
            "tolerance": None,
            "rel_tolerance": None,
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
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"not a results folder: a file$"):
        write_report(tmp_path / "notes.txt")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    for name in ("design.csv", "outcomes.csv", "summary.json"):
        (sweep / name).write_text("x\n")
    with pytest.raises(InputError, match=r"a sweep's folder has no report"):
        write_report(sweep)  # it read its summary.json as a run's
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


# --- in a real browser ---------------------------------------------------------------------

#: Appended to a copy of a report (never to the report itself, which holds no script): after
#: the page has loaded, it writes what the test checks into the page, which --dump-dom prints.
PROBE = """<script>
window.addEventListener("load", () => {
  const section = (e) => (e.closest("section") || {id: ""}).id;
  const details = document.querySelector("#assumptions details");
  const table = details ? details.querySelector("table") : null;
  const out = {
    images: [...document.images].map((i) => [section(i), i.complete, i.naturalWidth]),
    sections: [...document.querySelectorAll("section")].map((s) => s.id),
    detailsOpen: details ? details.open : null,
    detailsHeight: details ? details.getBoundingClientRect().height : null,
    tableVisible: table ? table.checkVisibility() : null,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def probe_in_browser(browser: str, report: Path, tmp_path: Path) -> dict[str, Any]:
    """Load a copy of *report* with :data:`PROBE` in headless Chromium; return what it saw."""
    import html as html_lib
    import re

    page = tmp_path / f"probe-{report.parent.name}.html"
    page.write_text(
        report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
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
            "--window-size=1200,2000",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    dom = result.stdout.decode("utf-8", errors="replace")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, result.stderr.decode(errors="replace")[-2000:]
    probed: dict[str, Any] = json.loads(html_lib.unescape(found.group(1)))
    return probed


@pytest.fixture(scope="module")
def peru_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The main job's report, on a shorter horizon (a year) to keep it quick."""
    if chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium): no browser check")
    out = tmp_path_factory.mktemp("peru") / "peru_ipt"
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "peru_ipt.yaml"
    code, _, err = run_cli(
        "run", scenario, "--set", "end_date=2020-06-30", "--out", out, "--quiet", "--report"
    )
    assert code == 0, err
    return out


@pytest.mark.parametrize("which", ["run", "comparison", "peru"])
def test_every_plot_loads_in_a_browser(
    folders: dict[str, Path], which: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium): no browser check")
    folder = request.getfixturevalue("peru_report") if which == "peru" else folders[which]
    seen = probe_in_browser(browser, folder / "report.html", tmp_path)
    names = plot_names(folder)
    assert len(seen["images"]) == len(names) >= 4
    # Every image decoded: complete, with a real width (a broken data: URI has width 0).
    assert all(complete and width > 0 for _, complete, width in seen["images"]), seen["images"]
    assert seen["sections"] == [s for s in SECTION_ORDER if s in seen["sections"]]
    assert seen["sections"][-1] == "assumptions"
    # The parameter table is folded: closed, so it is not shown and takes one line.
    assert seen["detailsOpen"] is False and seen["tableVisible"] is False
    assert 0 < seen["detailsHeight"] < 60
    assert seen["overflow"] <= 0  # nothing wider than the window
    if which != "comparison":
        gif = [w for section, _, w in seen["images"] if section == "map"]
        assert len(gif) == 3 and gif[-1] == 800  # the animation, 800 px wide
    if which == "peru":
        assert "impact" in seen["sections"]
        assert [s for s, _, _ in seen["images"]].count("impact") == 1


def test_a_calibration_json_of_another_shape_is_one_error_line(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    """calibration.json is read through its typed model: a file of another shape names the
    key that is wrong, and no report is written."""
    folder = tmp_path / "odd"
    shutil.copytree(folders["calibration"], folder)
    summary = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    summary["parameters"][0]["after"] = "many"
    (folder / "calibration.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "report.html").unlink(missing_ok=True)
    with pytest.raises(
        InputError, match=r"not a calibration rollout-sim writes \(parameters\.0\.after"
    ):
        write_report(folder)
    assert not (folder / "report.html").exists()
