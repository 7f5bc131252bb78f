"""The relay frontier as sites are funded one by one (``BackhaulPlanner.add_relay``): after
every relay each village's option is still its best (what weighing every village again gives),
and the villages returned are exactly those whose option or capex changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rollout_sim import load_scenario
from rollout_sim.model.backhaul import BH_MICROWAVE, BackhaulPlanner
from rollout_sim.world.build import build_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("satellite", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_each_relay_leaves_every_village_its_best_option(seed: int, satellite: bool) -> None:
    sc = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    spec = sc.backhaul.model_copy(
        update={"satellite": sc.backhaul.satellite.model_copy(update={"allowed": satellite})}
    )
    world = build_world(sc)
    n = len(world)
    rng = np.random.default_rng(seed)
    planner = BackhaulPlanner(world, spec)
    candidates = rng.random(n) < 0.8
    first_hops = shortened = 0
    for site in rng.choice(n, size=80, replace=False).tolist():
        candidates[site] = False  # a funded site is no longer a candidate
        kind, capex, mw = planner.kind.copy(), planner.capex.copy(), planner.mw_dist.copy()
        got = planner.add_relay(site, candidates)
        # Weighing every village again changes nothing: each keeps its best option.
        again = BackhaulPlanner(world, spec)
        for name in ("mw_dist", "parent", "hops", "satellite_open"):
            setattr(again, name, np.copy(getattr(planner, name)))
        again.refresh(np.arange(n))
        np.testing.assert_array_equal(planner.kind, again.kind)
        np.testing.assert_array_equal(planner.capex, again.capex)
        changed = np.flatnonzero((planner.kind != kind) | (planner.capex != capex))
        assert sorted(got.tolist()) == changed.tolist()
        hopped = planner.mw_dist < mw
        first_hops += int((hopped & np.isinf(mw)).sum())
        shortened += int((hopped & np.isfinite(mw)).sum())
        # A hop only ever gets shorter, and only for candidates, to this site.
        assert not hopped[~candidates].any()
        assert (planner.parent[hopped] == site).all()
    # Both cases were exercised: villages given their first hop, and hops made shorter.
    assert first_hops > 0 and shortened > 0
    assert (planner.kind == BH_MICROWAVE).any()
