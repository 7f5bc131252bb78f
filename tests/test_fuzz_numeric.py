"""Every number of a scenario, set to every nasty value: validate refuses it in one line, or run
takes it. Never an internal error.

The contract under test: a value that ``rollout-sim validate`` accepts never makes ``rollout-sim
run`` fail. For every numeric leaf of the resolved quickstart scenario (every int and float,
inside per-zone tables and lists too), plus a policy of every instrument type, references and a
calibration block, each of NaN, ±inf, -1, 0, 1e-300, 1e300 and a 5,000-digit integer is set
with ``--set`` and validated; where validate passes, the same command line is run. Every
outcome must be exit 0 with nothing on stderr, or exit 2 with exactly one line naming the
``--set``; each case must take under a minute.

Runs are kept cheap (about 250 villages, one year) by ``--set`` overrides of their own, except
for the leaf being fuzzed. Everything runs in-process through ``rollout_sim.cli.main``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollout_sim.scenario.load import dump_scenario, load_scenario, set_label

from conftest import QUICKSTART, run_cli

Leaf = tuple[str | int, ...]

#: The values tried at every leaf, as ``--set`` text: YAML reads the first seven as floats or
#: ints (1.0e+300, not 1e300, which YAML 1.1 reads as text), the last as text too long to be an
#: integer (Python refuses to convert more than 4,300 digits).
VALUES: dict[str, str] = {
    "nan": ".nan",
    "inf": ".inf",
    "-inf": "-.inf",
    "-1": "-1",
    "0": "0",
    "1e-300": "1.0e-300",
    "1e300": "1.0e+300",
    "5000-digits": "1" + "0" * 4999,
}

#: Blocks the quickstart lacks, so that the funding, reference and calibration schemas are
#: fuzzed too: a policy of every instrument type (the first policy, the baseline, has none).
EXTRAS: dict[str, Any] = {
    "policies": [
        {"name": "none", "instruments": []},
        {
            "name": "grants",
            "instruments": [
                {"type": "equity", "amount_usd": 500_000, "budget_usd": 1_000_000},
                {
                    "type": "equity",
                    "schedule": [{"date": "2019-10-01", "amount_usd": 100_000}],
                },
                {
                    "type": "capex_subsidy",
                    "share": 0.5,
                    "budget_usd": 2_000_000,
                    "eligibility": {
                        "max_village_population": 5000,
                        "negative_viability": {"years": 10, "discount_rate": 0.15},
                    },
                },
                {
                    "type": "output_based",
                    "usd_per_person": 25,
                    "usd_per_village": 1000,
                    "verification_days": 90,
                    "budget_usd": 2_000_000,
                },
                {"type": "opex_fund", "share": 0.5, "years": 5, "budget_usd": 1_000_000},
            ],
        },
        {
            "name": "credit",
            "instruments": [
                {
                    "type": "credit_line",
                    "limit_usd": 5_000_000,
                    "annual_rate": 0.02,
                    "grace_months": 3,
                    "tenor_months": 120,
                    "max_debt_to_capex": 0.8,
                },
                {
                    "type": "credit_line",
                    "limit_usd": 1_000_000,
                    "annual_rate": 0.05,
                    "tenor_months": 60,
                    "drawdown": "tranches",
                    "tranches": [{"date": "2019-09-01", "amount_usd": 500_000}],
                },
                {"type": "loan_guarantee", "rate_reduction": 0.01, "first_loss_share": 0.5},
            ],
        },
    ],
    "references": [
        {"label": "a figure", "metric": "people_reached", "date": "2020-01-01", "value": 1000}
    ],
    "calibration": {
        "targets": [
            {
                "metric": "new_villages_covered",
                "start": "2019-07-01",
                "end": "2020-06-30",
                "value": 0.5,
                "tolerance": 0.1,
            }
        ],
        "parameters": [{"path": "operators.0.build_crews", "bounds": [1, 20], "integer": True}],
        "replications": 2,
        "max_evaluations": 10,
    },
}

#: Numeric keys that are null in the resolved quickstart (so the walk does not see them).
NULLABLE: tuple[Leaf, ...] = (
    ("horizon_years",),
    ("geography", "synthetic", "seed"),
    ("backhaul", "satellite", "max_sites"),
)

#: A small world and a one-year horizon, so that each run takes a fraction of a second.
SMALL: dict[Leaf, str] = {
    ("geography", "synthetic", "villages"): "250",
    ("geography", "synthetic", "width_km"): "60",
    ("geography", "synthetic", "height_km"): "50",
    ("geography", "synthetic", "clusters"): "12",
    ("end_date",): "2020-06-30",
}

#: The most one case (a validate and perhaps a run) may take, seconds.
CASE_SECONDS = 60.0


def base_scenario() -> dict[str, Any]:
    """The resolved quickstart (every default filled in) plus :data:`EXTRAS`, with the impact
    model on (the quickstart leaves it off, so its parameters would never reach the model)."""
    data: dict[str, Any] = yaml.safe_load(dump_scenario(load_scenario(QUICKSTART)))
    data.update(EXTRAS)
    data["impact"]["enabled"] = True
    return data


def numeric_leaves(node: Any, path: Leaf = ()) -> Iterator[Leaf]:
    """Key paths of every int and float (not bool) under *node*, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from numeric_leaves(value, (*path, i))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path


BASE = base_scenario()
LEAVES: list[Leaf] = [*numeric_leaves(BASE), *NULLABLE]


def dotted(path: Leaf) -> str:
    return ".".join(str(p) for p in path)


def test_the_walk_sees_every_kind_of_leaf() -> None:
    # The fuzz is only as good as its walk: per-zone tables, lists, list items and tuples,
    # distributions, instruments and the calibration block must all be in it.
    assert len(LEAVES) > 150
    for leaf in (
        ("seed",),
        ("geography", "synthetic", "zones", "highlands"),
        ("coverage", "radius_km", "jungle"),
        ("maintenance", "failures", "mtbf_days", "coast"),
        ("maintenance", "failures", "seasonal", "months", 0),
        ("maintenance", "repair_days", "jungle", "sd_days"),
        ("operators", 0, "build_days", "jungle", "mode_days"),
        ("operators", 0, "revenue", "adoption", "q"),
        ("operators", 0, "credit_lines", 0, "annual_rate"),
        ("operators", 0, "credit_lines", 0, "tenor_months"),
        ("outputs", "band", 1),
        ("impact", "central", "consumption_gain", 1, 0),
        ("policies", 1, "instruments", 2, "eligibility", "negative_viability", "years"),
        ("policies", 2, "instruments", 1, "tranches", 0, "amount_usd"),
        ("references", 0, "value"),
        ("calibration", "parameters", 0, "bounds", 1),
        ("horizon_years",),
    ):
        assert leaf in LEAVES, leaf


def _command(scenario: Path, leaf: Leaf, text: str) -> tuple[list[str], list[str], str]:
    """(validate's arguments, run's extra arguments, the fuzzed assignment)."""
    assignment = f"{dotted(leaf)}={text}"
    small = dict(SMALL)
    small.pop(leaf, None)
    if leaf == ("horizon_years",):
        small[("end_date",)] = "null"  # end_date and horizon_years are either/or
    args = [str(scenario)]
    for path, value in small.items():
        args += ["--set", f"{dotted(path)}={value}"]
    args += ["--set", assignment, "--quiet", "--no-cache"]
    run_only = ["--no-plots"]
    if leaf[0] == "policies":  # run the policy the value is in (validate checks them all)
        assert isinstance(leaf[1], int)
        run_only += ["--policy", BASE["policies"][leaf[1]]["name"]]
    return args, run_only, assignment


def _outcome(code: int, out: str, err: str, assignment: str) -> str | None:
    """None if the outcome keeps the contract, else what is wrong with it."""
    if "Traceback" in err or "internal error" in err:
        return f"exit {code}: {err.strip()[-300:]}"
    if code == 0:
        return None if err == "" else f"exit 0 but stderr {err.strip()[:300]!r}"
    lines = err.splitlines()
    if code != 2 or len(lines) != 1:
        return f"exit {code} with {len(lines)} stderr lines: {err.strip()[:300]!r}"
    if not lines[0].startswith(f"error: {set_label(assignment)}: "):
        return f"the error does not name the --set: {lines[0][:300]!r}"
    return None


@pytest.mark.parametrize("leaf", [pytest.param(leaf, id=dotted(leaf)) for leaf in LEAVES])
def test_every_value_is_refused_in_one_line_or_runs(
    leaf: Leaf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLLOUT_SIM_CACHE", str(tmp_path / "cache"))
    scenario = tmp_path / "fuzz.yaml"
    scenario.write_text(yaml.safe_dump(BASE, sort_keys=False), encoding="utf-8")
    problems: list[str] = []
    for label, text in VALUES.items():
        args, run_only, assignment = _command(scenario, leaf, text)
        started = time.perf_counter()
        code, out, err = run_cli("validate", *args)
        problem = _outcome(code, out, err, assignment)
        if problem is None and code == 0:
            # validate took it: run must too (exit 0; an error now would be one validate missed).
            out_dir = tmp_path / "out"
            code, out, err = run_cli("run", *args, *run_only, "--out", out_dir)
            if code != 0:
                problem = f"validate passed, run: {_outcome(code, out, err, assignment)}"
            elif not (out_dir / "summary.json").is_file():
                problem = "run exited 0 without writing its results"
            shutil.rmtree(out_dir, ignore_errors=True)
        seconds = time.perf_counter() - started
        if seconds > CASE_SECONDS:
            problem = f"took {seconds:.0f} s (limit {CASE_SECONDS:.0f} s)"
        if problem is not None:
            problems.append(f"{label}: {problem}")
    assert problems == []
