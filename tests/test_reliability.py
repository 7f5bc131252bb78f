"""Runtime invariants, warnings for implausible settings, and writes that fail half-way."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy

from rollout_sim import build_world, load_scenario, simulate
from rollout_sim.errors import SimulationError
from rollout_sim.model.finance import Ledger
from rollout_sim.model.invariants import check_network
from rollout_sim.model.network import Network
from rollout_sim.report import writer
from rollout_sim.world.warnings import implausible_settings

from _worlds import operator, scenario
from conftest import QUICKSTART, run_cli


def chain(tmp_path: Path) -> Network:
    sc = scenario(tmp_path, [(0, 0), (10, 0), (20, 0)], [100, 200, 300])
    net = Network(simpy.Environment(), build_world(sc), Ledger(("op",)))
    for v, parent in ((0, -1), (1, 0), (2, 1)):
        site = net.sites.add(v, 0, False, 2, parent, 0.0, 0.0)
        net.claim(v, site, 0, parent)
        net.finish_build(v)
    return net


def test_invariants_hold_on_a_healthy_network(tmp_path: Path) -> None:
    net = chain(tmp_path)
    net.fail(1)
    check_network(net, seed=7)
    net.repair(1)
    check_network(net, seed=7)


@pytest.mark.parametrize(
    ("corrupt", "fragment"),
    [
        (lambda n: n.in_service.__setitem__(2, False), "covering sites on record"),
        (lambda n: setattr(n.coverage, "people_covered", 10**9), "people covered"),
        (lambda n: setattr(n, "down_count", 5), "sites down"),
        (lambda n: n.ledger._cash.__setitem__(0, 12.0), "cash 12.00 != ledger sum"),
    ],
    ids=["site-down-but-covering", "too-many-people", "down-count", "cash-not-ledger"],
)
def test_a_broken_invariant_is_a_bug_report(tmp_path: Path, corrupt, fragment: str) -> None:  # type: ignore[no-untyped-def]
    net = chain(tmp_path)
    net.ledger.record(0.0, 0, "equity", 100.0, "x")
    corrupt(net)
    with pytest.raises(SimulationError, match=fragment) as info:
        check_network(net, seed=(3,))
    assert "seed (3,)" in str(info.value)


def test_check_mode_runs_clean(tmp_path: Path) -> None:
    sc = load_scenario(QUICKSTART, ["geography.synthetic.villages=400", "horizon_years=2"])
    a = simulate(sc, check=True)
    b = simulate(sc)
    assert (a.daily["people_covered"] == b.daily["people_covered"]).all()


def test_warnings_for_implausible_settings(tmp_path: Path) -> None:
    ops = [operator(build_crews=50, maintenance_crews=40, cash_usd=10.0)]
    sc = scenario(tmp_path, [(0, 0), (5, 0), (9, 0)], [1, 2, 3], radius_km=50.0, operators=ops)
    text = "\n".join(implausible_settings(sc, build_world(sc)))
    assert "larger than the whole region" in text
    assert "pays for at most 0 sites" in text
    assert "build_crews = 50 is more than the 3 villages" in text
    assert "maintenance_crews = 40" in text
    ok = scenario(tmp_path, [(0, 0), (5, 0), (9, 0)], [1, 2, 3])
    assert implausible_settings(ok, build_world(ok)) == []


def test_failed_write_leaves_earlier_results_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    small = ["--set", "geography.synthetic.villages=300", "--no-plots", "--quiet"]
    code, _, err = run_cli("run", str(QUICKSTART), "--out", str(out), *small)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    calls = {"n": 0}
    real = writer.write_csv

    def flaky(path: Path, header: list[str], rows: list[list[object]]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real(path, header, rows)

    monkeypatch.setattr(writer, "write_csv", flaky)
    code, _, err = run_cli(
        "run", str(QUICKSTART), "--out", str(out), "--seed", "99", *small
    )  # fmt: skip
    assert code == 2  # a write error, like other problems the user can fix (docs/errors.md)
    assert "No space left on device" in err and "unchanged" in err and str(out) in err
    assert len(err.strip().splitlines()) == 1
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the earlier results, byte for byte
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res.")]


def test_scenario_names_cannot_escape_the_results_folder(tmp_path: Path) -> None:
    code, _, err = run_cli(
        "run", str(QUICKSTART), "--set", "name=../../etc", "--out", str(tmp_path / "x")
    )  # fmt: skip
    assert code == 2 and "name" in err and not (tmp_path / "x").exists()
