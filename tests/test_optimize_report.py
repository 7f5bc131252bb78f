"""The report of an optimisation folder: its headline (sampler, objectives, constraint, trials,
the chosen trial), the Pareto trials exactly as pareto.csv holds them, the Pareto plot, every
trial folded; and a damaged or missing file is one error line and no report."""

from __future__ import annotations

import base64
import csv
import json
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from rollout_sim.outcomes import format_long, show_long

from conftest import run_cli, small_scenario_dict, write_yaml

VARS = ("policies.obi.instruments.0.usd_per_person", "policies.obi.instruments.0.budget_usd")
OBJ = ("objective_1:people_reached@2019-12-31", "objective_2:public_cost_usd")
CON = "constraint_1:public_cost_usd"


def optimize_block(**kw: Any) -> dict[str, Any]:
    """Output-based aid's price and budget, for the most people reached by the end of 2019
    at the least public cost, within US$400,000 (as in test_optimize.py)."""
    block: dict[str, Any] = {
        "policy": "obi",
        "variables": [
            {"path": VARS[0], "low": 0, "high": 80},
            {"path": VARS[1], "low": 50_000, "high": 600_000},
        ],
        "objectives": [
            {"metric": "people_reached", "direction": "maximize", "date": "2019-12-31"},
            {"metric": "public_cost_usd", "direction": "minimize"},
        ],
        "constraints": [{"metric": "public_cost_usd", "max": 400_000}],
        "trials": 8,
        "replications": 2,
        "parallel_trials": 4,
    }
    block.update(kw)
    return block


def scenario_dict(**kw: Any) -> dict[str, Any]:
    """A one-year region of 150 villages with plots on (a search of 8 trials: a few seconds)."""
    policies = [
        {"name": "none", "instruments": []},
        {
            "name": "obi",
            "instruments": [
                {"type": "output_based", "funder": "gov", "usd_per_person": 20,
                 "budget_usd": 500_000}
            ],
        },
    ]  # fmt: skip
    data = small_scenario_dict(
        horizon_years=1, policies=policies, optimize=optimize_block(), outputs={"plots": True}
    )
    data["geography"]["synthetic"]["villages"] = 150
    data["operators"][0]["cash_usd"] = 200_000
    data.update(kw)
    return data


class Section:
    """What the tests read of one <section>: its tables (head and body rows, each cell's text;
    whether the table is inside a closed <details>), images and figure captions."""

    def __init__(self) -> None:
        self.tables: list[tuple[list[str], list[list[str]], bool]] = []
        self.imgs: list[str] = []
        self.captions: list[str] = []
        #: The order of tables, figures and <details> in the section.
        self.order: list[str] = []


class Report(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, Section] = {}
        self.toc: list[str] = []
        self._sec: Section | None = None
        self._details: list[bool] = []
        self._part: str | None = None  # "head" or "body"
        self._row: list[str] | None = None
        self._text: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self._sec = self.sections.setdefault(a["id"], Section())
        elif tag == "a" and a.get("href", "").startswith("#"):
            self.toc.append(a["href"][1:])
        if self._sec is None:
            return
        if tag == "details":
            self._details.append("open" in a)
            self._sec.order.append("details")
        elif tag == "table":
            folded = bool(self._details) and not self._details[-1]
            self._sec.tables.append(([], [], folded))
            self._sec.order.append("table")
        elif tag in ("thead", "tbody"):
            self._part = "head" if tag == "thead" else "body"
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th", "figcaption"):
            self._text = []
        elif tag == "br" and self._text is not None:
            self._text.append(" ")
        elif tag == "img":
            self._sec.imgs.append(a["src"])
            self._sec.order.append("img")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._sec = None
        elif self._sec is None:
            return
        elif tag == "details":
            self._details.pop()
        elif tag in ("td", "th") and self._row is not None and self._text is not None:
            self._row.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "figcaption" and self._text is not None:
            self._sec.captions.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "tr" and self._row is not None:
            head, body, _ = self._sec.tables[-1]
            (head if self._part == "head" else body).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def expected_cells(row: dict[str, str], best: str) -> list[str]:
    """A trial's cells as the report writes them (the project's own formatters)."""
    return [
        row["trial"] + (" best.yaml" if row["trial"] == best else ""),
        *(format_long(float(row[v]), "number") for v in VARS),
        show_long("people_reached", float(row[OBJ[0]])),
        show_long("public_cost_usd", float(row[OBJ[1]])),
        show_long("public_cost_usd", float(row[CON])),
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NSGA-II search of 8 trials (a few seconds), its report written by --report."""
    tmp = tmp_path_factory.mktemp("optimize_report")
    path = write_yaml(tmp, scenario_dict())
    out = tmp / "opt"
    code, stdout, err = run_cli("optimize", path, "--out", out, "--executor", "serial", "--report")
    assert code == 0, err
    assert f"report: {out / 'report.html'}" in stdout
    return out


@pytest.fixture(scope="module")
def report(folder: Path) -> Report:
    return Report((folder / "report.html").read_text(encoding="utf-8"))


def test_the_report_has_the_optimisation_section_and_no_run_sections(report: Report) -> None:
    assert list(report.sections) == ["headline", "optimize", "files", "assumptions"]
    assert report.toc == list(report.sections)


def test_the_headline_says_how_the_search_ran_and_what_it_chose(
    folder: Path, report: Report
) -> None:
    trials = rows_of(folder / "trials.csv")
    front = rows_of(folder / "pareto.csv")
    best = next(t for t in trials if t["best"] == "yes")
    feasible = sum(t["feasible"] == "yes" for t in trials)
    _, body, folded = report.sections["headline"].tables[0]
    assert not folded
    assert dict((r[0], r[1]) for r in body) == {
        "Search": "NSGA-II (2 objectives), seeded from the scenario seed",
        "Policy searched": "obi",
        "Objectives": "maximise people newly reached by the rollout on 2019-12-31; "
        "minimise public cost",
        "Constraints": "public cost (mean) ≤ US$ 400,000",
        "Trials run": f"8, each on the same 2 replications; {feasible} met every constraint, "
        f"{len(front)} on the Pareto front",
        "Chosen trial (best.yaml)": f"trial {best['trial']}",
        VARS[0]: format_long(float(best[VARS[0]]), "number"),
        VARS[1]: format_long(float(best[VARS[1]]), "number"),
        "People newly reached by the rollout on 2019-12-31 (mean)": show_long(
            "people_reached", float(best[OBJ[0]])
        ),
        "Public cost (mean)": show_long("public_cost_usd", float(best[OBJ[1]])),
    }
    # The chosen trial's values in optimization.json are those of its row in trials.csv.
    summary = json.loads((folder / "optimization.json").read_text(encoding="utf-8"))
    assert summary["best_trial"] == int(best["trial"])
    assert summary["constraints"] == [{"metric": "public_cost_usd", "min": None, "max": 400000.0}]


def test_the_facts_do_not_describe_the_policy_with_its_values_before_the_search(
    folder: Path,
) -> None:
    """The scenario's description of the searched policy gives its settings before the
    search (US$25 a person where the chosen trial pays another amount)."""
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "obi: its settings searched; the chosen trial&#39;s values are below" in text


def test_the_pareto_table_is_pareto_csv(folder: Path, report: Report) -> None:
    front = rows_of(folder / "pareto.csv")
    best = next(t["trial"] for t in rows_of(folder / "trials.csv") if t["best"] == "yes")
    section = report.sections["optimize"]
    head, body, folded = section.tables[0]
    assert not folded
    assert head == [
        [
            "Trial",
            *VARS,
            "People newly reached by the rollout on 2019-12-31",
            "Public cost",
            "Public cost (constraint)",
        ]
    ]
    assert body == [expected_cells(r, best) for r in front]
    assert sum(best in row[0] for row in body) == 1  # the chosen trial is on the front


def test_the_pareto_plot_is_embedded_with_a_caption_that_reads_it(
    folder: Path, report: Report
) -> None:
    section = report.sections["optimize"]
    assert len(section.imgs) == 1
    prefix = "data:image/png;base64,"
    assert section.imgs[0].startswith(prefix)
    png = base64.b64decode(section.imgs[0][len(prefix) :])
    assert png == (folder / "plots" / "pareto.png").read_bytes()
    (caption,) = section.captions
    assert "Each point is a trial" in caption
    assert (
        "across, people newly reached by the rollout on 2019-12-31 (higher is better); "
        "up, public cost (lower is better)"
    ) in caption
    assert "hollow red: it broke one" in caption and "best.yaml" in caption


def test_every_trial_is_folded_at_the_end_of_the_section(folder: Path, report: Report) -> None:
    trials = rows_of(folder / "trials.csv")
    best = next(t["trial"] for t in trials if t["best"] == "yes")
    section = report.sections["optimize"]
    assert section.order == ["table", "img", "details", "table"]
    head, body, folded = section.tables[1]
    assert folded  # inside a closed <details>
    assert head[0][-2:] == ["Feasible", "Pareto"]
    assert body == [
        [*expected_cells(t, best), t["feasible"], "yes" if t["pareto"] == "yes" else ""]
        for t in trials
    ]


def test_the_report_command_writes_the_same_report(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "opt"
    shutil.copytree(folder, copy)
    (copy / "report.html").unlink()
    code, _, err = run_cli("report", copy)
    assert code == 0, err
    assert (copy / "report.html").read_bytes() == (folder / "report.html").read_bytes()


def test_a_folder_named_relative_to_the_working_dir_never_lists_its_report(
    folder: Path, tmp_path: Path
) -> None:
    shutil.copytree(folder, tmp_path / "opt")
    for _ in range(2):  # the second time, report.html is in the folder: still not listed
        code, _, err = run_cli("report", "opt", cwd=tmp_path)
        assert code == 0, err
        files = Report((tmp_path / "opt" / "report.html").read_text(encoding="utf-8"))
        listed = [row[0] for row in files.sections["files"].tables[0][1]]
        assert "report.html" not in listed and "trials.csv" in listed
    assert (tmp_path / "opt" / "report.html").read_bytes() == (folder / "report.html").read_bytes()


def test_one_objective_and_no_feasible_trial(tmp_path: Path) -> None:
    block = optimize_block(
        objectives=[{"metric": "people_reached", "direction": "maximize"}],
        constraints=[{"metric": "people_reached", "min": 1e9}],
        trials=3,
        replications=1,
    )
    path = write_yaml(tmp_path, scenario_dict(optimize=block))
    out = tmp_path / "opt"
    code, _, err = run_cli("optimize", path, "--out", out, "--executor", "serial", "--report")
    assert code == 0, err
    assert not (out / "best.yaml").exists()
    report = Report((out / "report.html").read_text(encoding="utf-8"))
    headline = dict((r[0], r[1]) for r in report.sections["headline"].tables[0][1])
    assert headline["Search"] == "TPE (one objective), seeded from the scenario seed"
    assert headline["Constraints"] == "people newly reached by the rollout (mean) ≥ 1,000,000,000"
    assert headline["Chosen trial"] == "none: no trial met every constraint (no best.yaml)"
    section = report.sections["optimize"]
    assert section.tables[0][1] == [["nothing to show"]]  # an empty front
    assert len(section.tables[1][1]) == 3
    assert len(section.imgs) == 1
    assert "across, the trial number; up, people newly reached" in section.captions[0]


def _drop(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).unlink()


def _json(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        data = json.loads((d / "optimization.json").read_text(encoding="utf-8"))
        change(data)
        (d / "optimization.json").write_text(json.dumps(data), encoding="utf-8")

    return damage


def _csv(name: str, old: str, new: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        text = (d / name).read_text(encoding="utf-8")
        (d / name).write_text(text.replace(old, new, 1), encoding="utf-8")

    return damage


def _cell(name: str, column: str, value: str) -> Callable[[Path], None]:
    """Set *column* of the first trial in *name* to *value*."""

    def damage(d: Path) -> None:
        with (d / name).open(newline="", encoding="utf-8") as fh:
            lines = list(csv.reader(fh))
        lines[1][lines[0].index(column)] = value
        with (d / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(lines)

    return damage


def _last_line_cut(d: Path) -> None:
    lines = (d / "trials.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (d / "trials.csv").write_text("".join(lines[:-1]), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_drop("pareto.csv"), "{d}: incomplete optimize results folder: missing pareto.csv"),
        (
            _drop("optimization.json"),
            "{d}: incomplete optimize results folder: missing optimization.json",
        ),
        (
            _json(lambda j: j.pop("sampler")),
            "{d}/optimization.json: not an optimisation summary rollout-sim writes "
            "(sampler: Field required)",
        ),
        (
            _json(lambda j: j.update(best_trial="four")),
            "{d}/optimization.json: not an optimisation summary rollout-sim writes "
            "(best_trial: Input should be a valid integer, unable to parse string as an "
            "integer)",
        ),
        (
            _last_line_cut,
            "{d}/optimization.json: trials: does not match trials.csv and pareto.csv",
        ),
        (
            _cell("trials.csv", "feasible", "maybe"),
            "{d}/trials.csv: not a table of trials rollout-sim writes (line 2, feasible: "
            "'maybe': expected 'yes' or 'no')",
        ),
        (
            _csv("pareto.csv", "objective_2:public_cost_usd", "objective_2:public_cost"),
            "{d}/pareto.csv: its columns are not those of trials.csv",
        ),
        (
            _cell("trials.csv", "trial", "zero"),
            "{d}/trials.csv: not a table of trials rollout-sim writes (line 2, trial: 'zero' "
            "is not a trial number)",
        ),
    ],
)
def test_a_damaged_folder_is_one_error_line_and_no_report(
    folder: Path, tmp_path: Path, damage: Callable[[Path], None], expected: str
) -> None:
    d = tmp_path / "opt"
    shutil.copytree(folder, d)
    (d / "report.html").unlink()
    damage(d)
    code, _, err = run_cli("report", d)
    assert code == 2
    assert err.splitlines() == ["error: " + expected.format(d=d)]
    assert not (d / "report.html").exists()


def test_the_pareto_axes_read_in_people_and_us_dollars() -> None:
    """Public cost in the millions read '4' beside a '1e6' offset, with no US$."""
    import matplotlib.pyplot as plt
    import numpy as np

    from rollout_sim.plots.uncertainty import pareto_figure

    points = np.array([[120_000.0, 4_000_000.0], [150_000.0, 5_500_000.0]])
    fig = pareto_figure(["people", "cost"], points, [True, True], [0, 1], 1, ["people", "usd"])
    ax = fig.axes[0]
    fig.canvas.draw()
    xs = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    ys = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any(x.endswith("k") for x in xs) and all(y.startswith("$") for y in ys), (xs, ys)
    assert ax.yaxis.get_offset_text().get_text() == ""
    plt.close(fig)
