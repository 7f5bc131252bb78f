"""The CLI runs scenarios end to end and writes complete, reproducible results folders."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from rollout_sim.results import TIMESERIES_COLUMNS
from rollout_sim.scenario.load import load_scenario, scenario_hash

from conftest import QUICKSTART, ROOT, run_cli, write_yaml

# The documented core columns, in this order. Later model features (maintenance, revenue,
# credit) append columns after them; those must match rollout_sim.results.TIMESERIES_COLUMNS.
TIMESERIES_HEADER = (
    "date,sites_built,sites_on_air,villages_covered,new_villages_covered,people_covered,"
    "rural_people_covered_share,capex_cumulative_usd,cash_usd"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESULT_FILES = {
    "timeseries.csv",
    "sites.csv",
    "ledger.csv",
    "summary.json",
    "scenario.resolved.yaml",
    "manifest.json",
}


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


SMALL = ("--set", "geography.synthetic.villages=300", "--no-plots", "--quiet")


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart run once (with plots) for the whole module."""
    out = tmp_path_factory.mktemp("qs") / "quickstart"
    code, stdout, stderr = run_cli("run", QUICKSTART, "--out", out, "--quiet")
    assert (code, stdout, stderr) == (0, "", "")
    return out


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def small_run(tmp: Path, name: str, *extra: str) -> Path:
    out = tmp / name
    code, stdout, stderr = run_cli("run", QUICKSTART, "--out", out, *SMALL, *extra)
    assert (code, stdout, stderr) == (0, "", "")
    return out


def test_quickstart_folder_is_complete(quickstart_run: Path) -> None:
    files = files_in(quickstart_run)
    # the documented files; later features may add more (events, more plots)
    assert files >= RESULT_FILES | {"plots/coverage.png"}
    png = (quickstart_run / "plots" / "coverage.png").read_bytes()
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    assert len(png) > 1000
    manifest = json.loads((quickstart_run / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == files - {"manifest.json"}  # the manifest lists the rest
    assert manifest["seed"] == 42
    assert manifest["scenario"] == "quickstart"
    assert manifest["scenario_hash"] == scenario_hash(load_scenario(QUICKSTART))
    # no temporary folders left beside the results
    assert [p.name for p in quickstart_run.parent.iterdir()] == ["quickstart"]


def test_quickstart_timeseries(quickstart_run: Path) -> None:
    text = (quickstart_run / "timeseries.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    header = lines[0].split(",")
    assert header[:9] == TIMESERIES_HEADER.split(",")
    assert header == list(TIMESERIES_COLUMNS)
    assert len(lines) == 1 + 1826
    rows = read_rows(quickstart_run / "timeseries.csv")
    start = date(2019, 7, 1)
    assert [r["date"] for r in rows] == [
        (start + timedelta(days=i)).isoformat() for i in range(1826)
    ]
    assert rows[-1]["date"] == "2024-06-29"
    people = [int(r["people_covered"]) for r in rows]
    assert people[0] == 0
    assert people[-1] > 0
    assert all(a <= b for a, b in itertools.pairwise(people))


def test_quickstart_summary_matches_timeseries(quickstart_run: Path) -> None:
    summary = json.loads((quickstart_run / "summary.json").read_text(encoding="utf-8"))
    last = read_rows(quickstart_run / "timeseries.csv")[-1]
    final = summary["final"]
    assert final["people_covered"] == int(last["people_covered"])
    assert final["villages_covered"] == int(last["villages_covered"])
    assert final["sites_on_air"] == int(last["sites_on_air"])
    assert final["sites_built"] == int(last["sites_built"])
    assert summary["horizon_days"] == 1826
    assert summary["villages"] == 5000
    assert (summary["start_date"], summary["end_date"]) == ("2019-07-01", "2024-06-29")
    sites = read_rows(quickstart_run / "sites.csv")
    on_air = [s for s in sites if s["on_air_date"]]
    assert len(on_air) == final["sites_on_air"]


def test_resolved_scenario_reruns_identically(quickstart_run: Path, tmp_path: Path) -> None:
    resolved = quickstart_run / "scenario.resolved.yaml"
    again = load_scenario(resolved)
    assert again.model_dump() == load_scenario(QUICKSTART).model_dump()
    out = tmp_path / "rerun"
    code, stdout, stderr = run_cli("run", resolved, "--out", out, "--quiet", "--no-plots")
    assert (code, stdout, stderr) == (0, "", "")
    for name in ("timeseries.csv", "sites.csv", "ledger.csv", "scenario.resolved.yaml"):
        assert (out / name).read_bytes() == (quickstart_run / name).read_bytes(), name
    assert not (out / "plots").exists()


def test_seeds(tmp_path: Path) -> None:
    a = small_run(tmp_path, "a")
    b = small_run(tmp_path, "b")
    c = small_run(tmp_path, "c", "--seed", "7")
    for name in ("timeseries.csv", "sites.csv", "ledger.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "timeseries.csv").read_bytes() != (c / "timeseries.csv").read_bytes()
    assert json.loads((c / "manifest.json").read_text(encoding="utf-8"))["seed"] == 7
    assert yaml.safe_load((c / "scenario.resolved.yaml").read_text(encoding="utf-8"))["seed"] == 7
    # the same seed given on the command line is the same run
    d = small_run(tmp_path, "d", "--seed", "42")
    assert (a / "timeseries.csv").read_bytes() == (d / "timeseries.csv").read_bytes()


def test_set_overrides_reach_the_run(tmp_path: Path) -> None:
    out = small_run(tmp_path, "o", "--set", "operators.ruralco.build_crews=1")
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["operators"][0]["build_crews"] == 1
    assert resolved["geography"]["synthetic"]["villages"] == 300
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["villages"] == 300


def test_python_m_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rollout_sim", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: rollout-sim")
    for command in ("run", "validate", "schema"):
        assert command in proc.stdout
    assert proc.stderr == ""


def _program(
    *argv: str, hook: bool = False, thread: bool = False
) -> subprocess.CompletedProcess[str]:
    """``rollout_sim.cli.program`` in a fresh interpreter, its output through pipes."""
    code = "import atexit, sys, threading, time\n"
    if hook:
        code += "atexit.register(lambda: print('hook ran', flush=True))\n"
    if thread:  # a thread the program did not start, still running when the command ends
        code += (
            "import rollout_sim.cli.app as app\n"
            "done, inner = threading.Event(), app.main\n"
            "def main(argv=None):\n"
            "    try:\n"
            "        return inner(argv)\n"
            "    finally:\n"
            "        done.set()\n"
            "app.main = main\n"
            "work = lambda: (done.wait(), time.sleep(0.5), print('thread ended'))\n"
            "threading.Thread(target=work).start()\n"
        )
    code += f"sys.argv = ['rollout-sim', *{list(argv)!r}]\n"
    code += "from rollout_sim.cli import program\nprogram()\n"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
        check=False,
    )  # fmt: skip


def test_the_program_ends_at_once_losing_nothing() -> None:
    """The program skips the interpreter's teardown (see ``program``) but not what the usual
    exit does for a user: every line of output (a 100 kB schema through a pipe), the exit
    code, the ``atexit`` hooks, and a thread still running (waited for, as usual)."""
    proc = _program("schema", hook=True)
    assert proc.returncode == 0, proc.stderr
    schema_text, hook_line = proc.stdout.rsplit("\n", 2)[0], proc.stdout.rsplit("\n", 2)[1]
    assert json.loads(schema_text)["title"] == "Scenario" and hook_line == "hook ran"
    assert len(proc.stdout) > 50_000
    bad = _program("validate", "no-such-file.yaml", hook=True)
    assert bad.returncode == 2 and bad.stdout == "hook ran\n"
    assert bad.stderr == "error: no-such-file.yaml: scenario file not found\n"
    waited = _program("validate", str(QUICKSTART), thread=True)
    assert waited.returncode == 0 and waited.stdout.splitlines()[-1] == "thread ended"


def test_default_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))
    data["geography"]["synthetic"]["villages"] = 300
    data["outputs"]["plots"] = False
    scenario = write_yaml(tmp_path / "scenarios", data, "qs.yaml")
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run_cli("run", "scenarios/qs.yaml")
    assert (code, stderr) == (0, "")
    out = tmp_path / "results" / "quickstart"
    files = files_in(out)
    assert files >= RESULT_FILES
    assert not any(f.startswith("plots/") for f in files)  # outputs.plots: false
    assert "results in results/quickstart/" in stdout
    assert "villages" in stdout
    assert scenario.exists()
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["quickstart"]


def test_rerun_replaces_folder(tmp_path: Path) -> None:
    out = tmp_path / "res"
    code, _, err = run_cli(
        "run", QUICKSTART, "--out", out, "--quiet", "--set", "geography.synthetic.villages=300"
    )
    assert code == 0, err
    assert (out / "plots" / "coverage.png").is_file()
    small_run(tmp_path, "res")  # the folder rollout-sim wrote is replaced as a whole
    files = files_in(out)
    assert files >= RESULT_FILES
    assert not (out / "plots").exists()  # --no-plots, and the old plots folder is gone
    header = (out / "timeseries.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(TIMESERIES_HEADER)
    first = (out / "timeseries.csv").read_bytes()
    small_run(tmp_path, "res", "--seed", "7")
    assert (out / "timeseries.csv").read_bytes() != first
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_replications_do_not_replace_the_single_run(tmp_path: Path) -> None:
    """Following the README in order, `run` then `run --reps` keeps both folders."""
    data = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))
    data["geography"]["synthetic"]["villages"] = 300
    data["horizon_years"] = 1
    write_yaml(tmp_path, data, "qs.yaml")
    assert run_cli("run", "qs.yaml", "--quiet", "--no-plots", cwd=tmp_path)[0] == 0
    single = files_in(tmp_path / "results" / "quickstart")
    assert {"sites.csv", "ledger.csv", "timeseries.csv"} <= single
    code, _, err = run_cli(
        "run", "qs.yaml", "--reps", "2", "--quiet", "--no-plots", "--executor", "serial",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert files_in(tmp_path / "results" / "quickstart") == single
    assert "replications.csv" in files_in(tmp_path / "results" / "quickstart-reps")


def test_the_console_names_the_policy_and_its_public_cost(tmp_path: Path) -> None:
    """What a briefing needs from the run's table: which policy ran and what it cost the
    funders, as ``summary.json`` has it (and every default: the next test)."""
    code, stdout, _ = run_cli(
        "run", ROOT / "scenarios/funding_policies.yaml", "--policy", "output_based",
        "--no-plots", "--out", tmp_path / "oba",
    )  # fmt: skip
    assert code == 0
    summary = json.loads((tmp_path / "oba/summary.json").read_text())
    assert summary["policy"] == "output_based" and summary["public_cost_usd"] > 0
    assert "funding_policies (output_based) — 2019-07-01 to 2024-06-29" in stdout
    cost = f"US$ {summary['public_cost_usd']:,.0f}"
    assert any("public cost " in line and cost in line for line in stdout.splitlines())


@pytest.fixture(scope="module")
def crunch_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``credit_crunch.yaml`` run once (it defaults, leaving claimed sites never started):
    its folder and what the console printed."""
    out = tmp_path_factory.mktemp("crunch") / "cc"
    code, stdout, _ = run_cli(
        "run", ROOT / "scenarios/credit_crunch.yaml", "--no-plots", "--out", out
    )
    assert code == 0
    return out, stdout


def test_the_console_names_every_default(crunch_run: tuple[Path, str]) -> None:
    out, stdout = crunch_run
    defaults = json.loads((out / "summary.json").read_text())["defaults"]
    assert defaults  # the scenario is made to default
    for d in defaults:
        when = (date(2019, 7, 1) + timedelta(days=int(d["day"]))).isoformat()
        line = next(x for x in stdout.splitlines() if f"{d['operator']} defaulted" in x)
        assert f"{when}: {d['detail']}" in line


def test_sites_say_which_capex_was_spent(crunch_run: tuple[Path, str]) -> None:
    """Claimed sites never started (here: stopped by the default) list their planned capex;
    their status tells them apart, and the capex of the others is the ledger's to the cent."""
    out, _ = crunch_run
    rows = read_rows(out / "sites.csv")
    status = {r["status"] for r in rows}
    assert "not_started" in status and status <= {"on_air", "built", "building", "not_started"}
    for r in rows:
        started = r["status"] != "not_started"
        assert (r["build_start_day"] != "") == started
        assert (r["on_air_date"] != "") == (r["status"] == "on_air")
    spent = sum(round(float(r["capex_usd"]) * 100) for r in rows if r["status"] != "not_started")
    capex = json.loads((out / "summary.json").read_text())["final"]["capex_cumulative_usd"]
    assert spent == round(capex * 100)


def test_no_row_is_dated_after_the_end_date(crunch_run: tuple[Path, str]) -> None:
    """The closing accruals are booked at the horizon's end instant (day 1826.0 of 1,826
    days): dated its last day, 2024-06-29, as the daily series count them, never the day
    after ``end_date``."""
    out, _ = crunch_run
    end = json.loads((out / "summary.json").read_text())["end_date"]
    assert end == "2024-06-29"
    closing = [r for r in read_rows(out / "ledger.csv") if float(r["day"]) >= 1826.0]
    assert closing and {r["date"] for r in closing} == {end}
    dated = {
        "ledger.csv": ["date"],
        "funding.csv": ["date"],
        "events.csv": ["date"],
        "sites.csv": ["build_start_date", "on_air_date"],
        "maintenance.csv": ["failed_date", "repaired_date"],
    }
    for name, columns in dated.items():
        for r in read_rows(out / name):
            assert all(r[c] <= end for c in columns if r[c]), (name, r)


def test_the_replications_table_says_when_a_mean_is_over_fewer_replications(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A milestone two of three replications reached: its mean is theirs, and the table says
    so rather than passing it off as the mean of all three."""
    from rollout_sim.cli.console import print_replications
    from rollout_sim.summaries import ReplicationsSummary

    spread = {"mean": 700.0, "lo": 650.0, "hi": 750.0}
    summary = ReplicationsSummary.model_validate(
        {
            "scenario": "s", "policy": None, "replications": 3, "seed": 1,
            "interval": "central 90% of replications",
            "metrics": {
                "days_to_reach_50pct": {**spread, "n": 2},
                "people_covered": {**spread, "n": 3},
            },
        }
    )  # fmt: skip
    print_replications(summary, Path("out"))
    lines = capsys.readouterr().out.splitlines()
    milestone = next(x for x in lines if "days to reach 50%" in x)
    assert "(in the 2 of 3 replications that have it)" in milestone
    covered = next(x for x in lines if "people covered" in x)
    assert "replications that have it" not in covered


def test_the_horizon_books_accruals_but_no_instalment(quickstart_run: Path) -> None:
    """Debt service falls due on the first of each month: the horizon's last, partial period
    books revenue and running costs but no instalment (it charged a whole month's)."""
    ledger = read_rows(quickstart_run / "ledger.csv")
    service = [r for r in ledger if r["category"] in ("interest", "principal")]
    assert service  # the quickstart operator borrows
    assert all(date.fromisoformat(r["date"]).day == 1 for r in service)
    assert all(float(r["day"]) < 1826.0 for r in service)
    closing = {r["category"] for r in ledger if float(r["day"]) == 1826.0}
    assert "revenue" in closing and "opex" in closing


def test_no_capex_is_paid_at_the_horizon_for_a_site_never_started(tmp_path: Path) -> None:
    """Revenue booked at the horizon used to pay capex waiting for money, for a site whose
    build never started within the horizon (funding_policies, equity only: US$80,000)."""
    code, _, err = run_cli(
        "run", ROOT / "scenarios/funding_policies.yaml", "--policy", "equity_only",
        "--no-plots", "--quiet", "--out", tmp_path / "eq",
    )  # fmt: skip
    assert code == 0, err
    ledger = read_rows(tmp_path / "eq/ledger.csv")
    assert not [r for r in ledger if r["category"] == "capex" and float(r["day"]) >= 1826.0]
    rows = read_rows(tmp_path / "eq/sites.csv")
    assert any(r["status"] == "not_started" for r in rows)
    spent = sum(round(float(r["capex_usd"]) * 100) for r in rows if r["status"] != "not_started")
    capex = json.loads((tmp_path / "eq/summary.json").read_text())["final"]["capex_cumulative_usd"]
    assert spent == round(capex * 100)
