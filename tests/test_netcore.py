"""The compiled outage path (``rollout_sim._netcore``) against the Python reference.

Both paths must leave the same state after every walk and give the same results to the bit:
here on hand-built networks driven at random (two operators, relay chains, stacked coverage,
the starting network), and on whole runs with failures and repairs. Skipped where the
extension was not built (no C compiler): the Python path is then the only one.
"""

from __future__ import annotations

import gc
import weakref
from array import array
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollout_sim import build_world, load_scenario, simulate
from rollout_sim.model import netcore
from rollout_sim.model.finance import Ledger
from rollout_sim.model.network import Network
from rollout_sim.results import Results
from rollout_sim.scenario.schema import Scenario
from rollout_sim.world.build import World

from _worlds import scenario
from conftest import QUICKSTART

pytest.importorskip("rollout_sim._netcore")


def _pure(monkeypatch: pytest.MonkeyPatch, pure: bool) -> None:
    if pure:
        monkeypatch.setenv(netcore.PURE_PYTHON_ENV, "1")
    else:
        monkeypatch.delenv(netcore.PURE_PYTHON_ENV, raising=False)


# --- hand-built networks, driven at random ---------------------------------------------------

# Twelve villages on a line 3 km apart, 4 km coverage (each site covers its neighbours), the
# first two already on air with 4G (the starting network), one PoP at the far end.
XY = [(3.0 * i, 0.0) for i in range(12)]
POP = [50 + 37 * i for i in range(12)]
SERVICE = ["4g", "4g"] + ["none"] * 10


@pytest.fixture(scope="module")
def line_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return scenario(tmp_path_factory.mktemp("line"), XY, POP, pops=(11,), service=SERVICE)


@pytest.fixture(scope="module")
def line(line_scenario: Scenario) -> World:
    return build_world(line_scenario)


def _network(world: World, env: simpy.Environment) -> Network:
    return Network(env, world, Ledger(("a", "b")))


def _state(net: Network) -> dict[str, Any]:
    cov = net.coverage
    d, c, s = cov.changes()
    out: dict[str, Any] = {
        "in_service": net.in_service.copy(),
        "down_since": net.down_since.copy(),
        "down_total": net.down_total.copy(),
        "on_air_day": net.sites.on_air_day.copy(),
        "villages_new": net.sites.villages_new.copy(),
        "people_new": net.sites.people_new.copy(),
        "counts": (cov.villages_covered, cov.people_covered, net.down_count),
        "planned": (cov.planned.copy(), cov.gain.copy(), cov.gain_places.copy()),
        "people_planned": net.sites.people_planned.copy(),
        "op_in_service": list(net.op_in_service),
        "on_air": cov.on_air,
        "first_covered": cov.first_covered,
        "first_op": cov.first_op.copy(),
        "changes": (d, c, s),
        "net": (np.array(net.net_trace.time), np.array(net.net_trace.value)),
        "down": (np.array(net.down_trace.time), np.array(net.down_trace.value)),
        "service": [(np.array(t.time), np.array(t.value)) for t in net.op_service_trace],
        "on_air_trace": (np.array(net.on_air_trace.time), np.array(net.on_air_trace.value)),
    }
    for k, fp in enumerate([*cov.footprints, cov.rollout]):
        out[f"fp{k}"] = (
            fp.places,
            fp.people,
            np.array(fp.time),
            np.array(fp.place_count),
            np.array(fp.people_count),
        )
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, array):  # the Python path's logs: compare as numpy arrays
        a, b = np.asarray(a), np.asarray(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return bool(a == b)


# A step: (kind, village) with kind 0 = claim and build (parent: the previous village if it
# has a site, else fibre), 1 = fail, 2 = repair; applied when it makes sense, skipped if not.
steps = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(2, 11),
        st.integers(0, 1),
        st.sampled_from([0.0, 0.5, 1.0, 2.5]),
    ),
    max_size=40,
)


def _drive(net: Network, env: simpy.Environment, plan: list[tuple[int, int, int, float]]) -> list:
    states = [_state(net)]
    for kind, v, op, dt in plan:
        if dt > 0:  # time moves on, or several steps share an instant
            env.run(until=env.now + dt)
        if kind == 0 and net.sites.operator[v] < 0:
            parent = v - 1 if net.sites.operator[v - 1] >= 0 else -1
            site = net.sites.add(v, op, False, 2 if parent >= 0 else 1, parent, env.now, 0.0)
            net.claim(v, site, op, parent)
            net.finish_build(v)
        elif kind == 1 and net.sites.operator[v] >= 0 and net.hw_up[v]:
            net.fail(v)
        elif kind == 2 and net.sites.operator[v] >= 0 and not net.hw_up[v]:
            net.repair(v)
        states.append(_state(net))
    return states


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_walks_leave_the_same_state_as_python(
    line: World, monkeypatch: pytest.MonkeyPatch, plan: list[tuple[int, int, int, float]]
) -> None:
    runs = []
    for pure in (True, False):
        _pure(monkeypatch, pure)
        env = simpy.Environment()
        net = _network(line, env)
        assert (net._core is None) == pure
        runs.append(_drive(net, env, plan))
    python, compiled = runs
    assert len(python) == len(compiled)
    for step, (a, b) in enumerate(zip(python, compiled, strict=True)):
        assert _same(a, b), f"state differs after step {step}: {plan[:step]}"


def test_a_relay_chain_by_hand(line: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-checked: villages 2-4 a chain of operator 0 (2 on fibre, 3 on 2, 4 on 3).

    A site covers its own village and the two beside it; the starting network (villages 0
    and 1) covers 0-2. Taking 3 down takes 4 with it: villages 4 and 5 (198 + 235 people) lose
    their last cover; 3 is still covered by site 2. Repairing 3 brings both back.
    """
    _pure(monkeypatch, False)
    env = simpy.Environment()
    net = _network(line, env)
    assert net._core is not None
    for v, parent in ((2, -1), (3, 2), (4, 3)):
        site = net.sites.add(v, 0, False, 2, parent, 0.0, 0.0)
        net.claim(v, site, 0, parent)
        net.finish_build(v)
    cov = net.coverage
    assert cov.villages_covered == 6 and cov.people_covered == sum(POP[:6])
    env.run(until=5.0)
    assert net.take_down(3) == POP[4] + POP[5] == 433
    assert net.down_count == 2 and not net.in_service[3] and not net.in_service[4]
    assert cov.footprints[0].places == 3 and net.op_in_service == [1, 0]  # villages 1, 2, 3
    env.run(until=7.5)
    net.repair(3)
    assert net.down_count == 0 and list(net.down_total[[3, 4]]) == [2.5, 2.5]
    assert cov.people_covered == sum(POP[:6]) and net.op_in_service == [3, 0]
    assert list(net.down_trace.value) == [0.0, 0.0, 0.0, 2.0, 0.0]


def test_a_walk_started_inside_a_walk(line: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's listener may take a site down while its own site comes on air: the inner
    walk must not disturb the outer one's sites still to visit (each Python call has its own
    stack; the core gives a nested walk its own)."""
    states = []
    for pure in (True, False):
        _pure(monkeypatch, pure)
        env = simpy.Environment()
        net = _network(line, env)
        net.on_first_air(1, lambda x, net=net: net.fail(2) if x == 8 else None)
        for v, op, parent in ((2, 0, -1), (3, 0, 2), (7, 1, 6), (8, 1, 6)):
            site = net.sites.add(v, op, False, 2, parent, 0.0, 0.0)
            net.claim(v, site, op, parent)
            net.finish_build(v)  # 7 and 8 wait for 6
        env.run(until=3.0)
        site = net.sites.add(6, 1, False, 1, -1, 3.0, 0.0)
        net.claim(6, site, 1, -1)
        # 6 on air, then 8 (the last child first), whose first day takes 2 (and 3 with it)
        # down inside the walk, while 7 still waits to be visited.
        net.finish_build(6)
        assert list(net.in_service[[2, 3, 6, 7, 8]]) == [False, False, True, True, True]
        states.append(_state(net))
    assert _same(*states)


def test_a_network_and_its_core_are_freed(line: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core holds a bound method of its network, which holds the core: the collector must
    see that cycle, or each run's state (~100 MB nationally) would stay until the process ends.
    """
    _pure(monkeypatch, False)
    net = _network(line, simpy.Environment())
    assert net._core is not None
    gone = weakref.ref(net)
    del net
    gc.collect()
    assert gone() is None


def test_bad_calls_are_errors_not_crashes(line: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _pure(monkeypatch, False)
    net = _network(line, simpy.Environment())
    core = net._core
    assert core is not None
    hw_up = net.hw_up.copy()
    with pytest.raises(IndexError, match="village 12 out of range"):
        core.take_down(12)
    with pytest.raises(IndexError, match="village 12 out of range"):
        core.fail(12)
    with pytest.raises(IndexError, match="village -1 out of range"):
        core.repair(-1)
    assert np.array_equal(net.hw_up, hw_up)  # a refused call changed nothing
    with pytest.raises(IndexError, match="operator 2 out of range"):
        core.switch_on(3, 0.0, 2, True)
    with pytest.raises(IndexError, match="no such buffer"):
        core.export(99)
    with pytest.raises(ValueError, match="wrong item size or length"):
        from rollout_sim import _netcore

        pop, short_indptr = np.zeros(3, np.int64), np.zeros(3, np.int64)  # 4 entries wanted
        make: Any = _netcore.Core  # the rest of the arguments are never reached
        make(None, None, 0, pop, short_indptr, *[None] * 11, 0, 0, *[None] * 5)


# --- the maintenance crews' cycle, driven at random ------------------------------------------

crew_plans = st.fixed_dictionaries(
    {
        "crews": st.integers(0, 3),
        "block": st.integers(1, 3),  # small: draws past a site's block are asked for too
        "mtbf": st.sampled_from([2.0, 6.0, 30.0]),
        "seed": st.integers(0, 2**16),
        # Villages 2-10 hang on fibre, or on the village before them (a relay chain).
        "chained": st.lists(st.booleans(), min_size=9, max_size=9),
        # Failures from outside (a storm, a test), at times shared with each other.
        "outside": st.lists(
            st.tuples(st.sampled_from([0.0, 1.0, 3.5, 7.0]), st.integers(2, 10)), max_size=6
        ),
        "stop_at": st.sampled_from([None, 5.0, 12.5]),
        "cash": st.sampled_from([0.0, 2500.0, 1e6]),
    }
)


def _drive_crews(scenario: Scenario, world: World, plan: dict[str, Any]) -> dict[str, Any]:
    from rollout_sim.model.finance import Treasury
    from rollout_sim.model.maintenance import MaintenanceCrews, VillageDraws

    env = simpy.Environment()
    net = _network(world, env)
    for v in range(2, 11):
        parent = v - 1 if v > 2 and plan["chained"][v - 2] else -1
        net.claim(
            v, net.sites.add(v, 0, False, 2 if parent >= 0 else 1, parent, 0.0, 0.0), 0, parent
        )
        net.finish_build(v)
    zones = ("coast", "highlands", "jungle")
    maint = type(scenario.maintenance).model_validate(
        {
            **scenario.maintenance.model_dump(mode="json"),
            "failures": {"mtbf_days": {z: plan["mtbf"] for z in zones}},
            "repair_days": {
                z: {"distribution": "lognormal", "mean_days": 1.0, "sd_days": 0.6} for z in zones
            },
            "repair_cost_usd": {z: 1000.0 for z in zones},
        }
    )
    spec = scenario.operators[0].model_copy(update={"maintenance_crews": plan["crews"]})
    treasury = Treasury(env, net.ledger, 0)
    if plan["cash"]:
        treasury.receive(plan["cash"], "equity", "shareholders")
    seed = np.random.SeedSequence(plan["seed"])
    fail_draws, repair_draws = (VillageDraws(s, len(world), plan["block"]) for s in seed.spawn(2))
    crews = MaintenanceCrews(
        net, 0, spec, maint, treasury, world.depots, date(2020, 1, 1), 40, fail_draws,
        repair_draws,
    )  # fmt: skip
    assert (crews._cycle is None) == (net.core is None)
    for v in range(2, 11):
        crews.start_site(v)
    repaired: list[tuple[int, float]] = []

    def outside():  # type: ignore[no-untyped-def]
        for i, (t, v) in enumerate(sorted(plan["outside"])):
            if t > env.now:
                yield env.timeout(t - env.now)
            crews.fail(v).callbacks.append(lambda _e, i=i: repaired.append((i, env.now)))

    def stop():  # type: ignore[no-untyped-def]
        yield env.timeout(plan["stop_at"])
        crews.stop()

    env.process(outside())
    if plan["stop_at"] is not None:
        env.process(stop())
    env.run(until=40)
    return {
        "log": vars(crews.log),
        "days": (crews.wait_days, crews.downtime_days, crews.failure_days),
        "counts": (crews.failures, crews.repairs, fail_draws.counts, repair_draws.counts),
        "outside repaired": repaired,
        "ledger": (net.ledger.time, net.ledger.amount, net.ledger.category, net.ledger.ref),
        "network": _state(net),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=crew_plans)
def test_the_crews_cycle_is_the_same_as_python(
    line_scenario: Scenario, line: World, monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]
) -> None:
    """Failures on their own clocks and from outside, at shared instants, relay chains taking
    their subtrees down, 0-3 crews, bills paid or left waiting, draws past a site's block,
    maintenance stopped: the compiled cycle leaves the same log, days, draws, books and
    network as the Python methods, step for step."""
    runs = []
    for pure in (True, False):
        _pure(monkeypatch, pure)
        runs.append(_drive_crews(line_scenario, line, plan))
    python, compiled = runs
    assert python["counts"][0] > 0 or (not plan["outside"] and plan["mtbf"] == 30.0)
    for key in python:
        assert _same(python[key], compiled[key]), key


def test_the_crews_cycle_by_hand(
    line_scenario: Scenario, line: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hand-checked on the compiled cycle: a relay chain 2 <- 3 <- 4 with one crew, no
    travel, 1-day repairs, failures only from outside (a site covers its village and the two
    beside it; the starting network covers 0-2). At day 1, 3 fails and 4 goes with it:
    villages 4 and 5 lose their last cover (433 people), two sites down; then 2 fails: village
    3 loses its last cover (161 people), one site. The crew takes 3 first (the most people)
    at 1 and is back at 2, then takes 2 (repaired at 3)."""
    from rollout_sim.model.finance import Treasury
    from rollout_sim.model.maintenance import MaintenanceCrews, VillageDraws

    _pure(monkeypatch, False)
    env = simpy.Environment()
    net = _network(line, env)
    for v, parent in ((2, -1), (3, 2), (4, 3)):
        net.claim(v, net.sites.add(v, 0, False, 2, parent, 0.0, 0.0), 0, parent)
        net.finish_build(v)
    zones = ("coast", "highlands", "jungle")
    maint = type(line_scenario.maintenance).model_validate(
        {
            **line_scenario.maintenance.model_dump(mode="json"),
            "failures": {"enabled": True, "mtbf_days": {z: 1_000_000.0 for z in zones}},
            "repair_days": {z: {"distribution": "fixed", "days": 1.0} for z in zones},
            "repair_cost_usd": {z: 250.0 for z in zones},
            "travel": False,
        }
    )
    spec = line_scenario.operators[0].model_copy(update={"maintenance_crews": 1})
    treasury = Treasury(env, net.ledger, 0)
    treasury.receive(1000.0, "equity", "shareholders")
    seed = np.random.SeedSequence(0)
    crews = MaintenanceCrews(
        net, 0, spec, maint, treasury, line.depots, date(2020, 1, 1), 10,
        VillageDraws(seed, len(line), 2), VillageDraws(seed, len(line), 2),
    )  # fmt: skip
    assert crews._cycle is not None
    done: dict[int, float] = {}

    def storm():  # type: ignore[no-untyped-def]
        yield env.timeout(1.0)
        for v in (3, 2):
            crews.fail(v).callbacks.append(lambda _e, v=v: done.__setitem__(v, env.now))

    env.process(storm())
    env.run(until=10)
    log = crews.log
    assert log.village.tolist() == [3, 2]
    assert log.people.tolist() == [POP[4] + POP[5], POP[3]] == [433, 161]
    assert log.sites_down.tolist() == [2, 1]
    assert log.taken.tolist() == [1.0, 2.0] and log.repaired.tolist() == [2.0, 3.0]
    assert done == {3: 2.0, 2: 3.0}
    assert crews.wait_days.tolist() == [0.0, 1.0] and crews.downtime_days.tolist() == [1.0, 2.0]
    assert (crews.failures, crews.repairs) == (2, 2)
    assert net.ledger.amount.tolist() == [1000.0, -250.0, -250.0]
    assert net.ledger.ref == ["", "v3", "v2"]
    assert net.down_count == 0 and net.in_service[[2, 3, 4]].all()


# --- the siting queue's heap -------------------------------------------------------------------

heap_ops = st.lists(
    st.tuples(
        st.sampled_from(["push", "pop", "replace", "compact"]),
        st.sampled_from([-2.0, -1.0, -0.5, -0.0, 0.0]),  # priorities that tie, -0.0 and 0.0 too
        st.sampled_from([0.25, 0.5]),
        st.integers(0, 7),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(start=st.lists(st.integers(0, 7), max_size=12), ops=heap_ops)
def test_the_compiled_heap_pops_as_heapq(start: list[int], ops: list[Any]) -> None:
    """Entries tied on priority and tiebreak, and superseded versions dropped by compact():
    after every operation both heaps show the same smallest entry and the same entries."""
    from rollout_sim import _netcore
    from rollout_sim.model.siting import ListHeap

    version = np.zeros(8, dtype=np.int64)
    eligible = np.ones(8, dtype=bool)
    columns = (
        np.full(len(start), -1.0),
        np.full(len(start), 0.5),
        np.array(start, dtype=np.int64),
        np.arange(len(start), dtype=np.int64),  # each entry its own version
    )
    version[:] = len(start)
    heaps = [ListHeap(*columns), _netcore.Heap(*columns)]
    for kind, negp, tb, v in ops:
        entry = (negp, tb, v, int(version[v]))
        version[v] += 1
        for h in heaps:
            if kind == "push":
                h.push(*entry)
            elif kind == "pop" and len(h):
                h.pop()
            elif kind == "replace" and len(h):
                h.replace(*entry)
            elif kind == "compact":
                eligible[v] = not eligible[v]
                h.compact(version - 1, eligible)
                eligible[v] = not eligible[v]
        python, compiled = heaps
        assert compiled.top() == python.top() and len(compiled) == len(python)
        assert sorted(compiled.entries()) == sorted(python.entries())


def test_the_compiled_heap_refuses_bad_calls() -> None:
    from rollout_sim import _netcore

    h = _netcore.Heap(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert h.top() is None and len(h) == 0
    with pytest.raises(IndexError, match="empty heap"):
        h.pop()
    with pytest.raises(IndexError, match="empty heap"):
        h.replace(0.0, 0.0, 0, 0)
    h.push(-1.0, 0.5, 9, 0)
    with pytest.raises(IndexError, match="village is out of range"):
        h.compact(np.zeros(3, np.int64), np.ones(3, bool))
    with pytest.raises(ValueError, match="wrong item size or length"):
        _netcore.Heap(np.zeros(2), np.zeros(1), np.zeros(2, np.int64), np.zeros(2, np.int64))
    assert h.top() == (-1.0, 0.5, 9, 0)


# --- whole runs ------------------------------------------------------------------------------


def _fields(r: Results) -> dict[str, Any]:
    return {
        "daily": dict(r.daily),
        "operator_daily": {k: dict(v) for k, v in r.operator_daily.items()},
        "net": (r.net_times, r.net_people, r.down_times, r.down_counts),
        "changes": r.service_changes,
        "footprints": [vars(f) for f in (*r.footprints, r.rollout)],
        "first": (r.first_covered_day, r.first_op, r.site_downtime_days),
        "sites": r.sites,
        "maintenance": r.maintenance,
        "ledger": r.ledger,
    }


def _two_operators(tmp_path: Path) -> Path:
    data = yaml.safe_load(QUICKSTART.read_text())
    second = dict(data["operators"][0], name="otherco", cash_usd=2_000_000, build_crews=5)
    data["operators"].append(second)
    data["geography"]["synthetic"]["villages"] = 2500
    data["horizon_years"] = 4
    data["maintenance"]["failures"]["mtbf_days"] = {"coast": 120, "highlands": 90, "jungle": 60}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("two", [False, True], ids=["quickstart", "two-operators"])
def test_a_run_is_the_same_to_the_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two: bool
) -> None:
    path = _two_operators(tmp_path) if two else QUICKSTART
    sc = load_scenario(path, [] if two else ["maintenance.failures.mtbf_days.highlands=60"])
    world = build_world(sc)
    runs = []
    for pure in (True, False):
        _pure(monkeypatch, pure)
        runs.append(simulate(sc, world=world))
    python, compiled = runs
    assert python.extra["events"] == compiled.extra["events"]
    failures = [m["failures"] for m in compiled.maintenance]
    assert min(failures) > 100 and len(failures) == (2 if two else 1)  # outages did happen
    a, b = _fields(python), _fields(compiled)
    for key in a:
        assert _equal(a[key], b[key]), key


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, array):  # NaN where a failure is still open: compare as arrays
        return _equal(np.asarray(a), np.asarray(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if hasattr(a, "__dataclass_fields__"):
        return _equal(vars(a), vars(b))
    if hasattr(a, "__slots__") or type(a).__module__.startswith("rollout_sim"):
        return _equal(vars(a), vars(b))
    return bool(a == b)


def test_the_manifest_says_which_outage_path_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    from rollout_sim.report.writer import versions

    _pure(monkeypatch, True)
    assert versions()["outage_path"] == "python"
    _pure(monkeypatch, False)
    assert versions()["outage_path"] == "compiled"
