"""Welfare and poverty effects of coverage: the schema, exposure and the daily series by hand.

World for the hand-worked cases (central set = Nigeria: lag 1 year; consumption +6% at 1 year,
+8% at 2; extreme poverty −4 pp at 1 year, −7 pp at 2; poverty −3.7 pp at 1 year, −4.9 at 2):

    A: 1000 people, poverty 0.5, extreme 0.2, gains service at day 10
    B:  500 people, poverty 0.3, extreme 0.05, served from day 0 (existing 4G: not counted)

At the end of day d (t = d + 1) A has been in service d − 9 days; the lag (365.25 days) is
reached on day 375 (366 days), 2 years (730.5 days) on day 740 (731 days).
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rollout_sim import impact as impact_module
from rollout_sim import simulate
from rollout_sim.impact import (
    DAYS_PER_YEAR,
    exposure_years,
    impact_series,
    impact_summary,
    service_intervals,
)
from rollout_sim.scenario.impact import Impact, ImpactParameters

from _worlds import operator, scenario

USD_DAY = 1200.0 / 365.25  # default consumption per person, USD a day


def changes(*rows: tuple[float, int, int]) -> tuple[Any, Any, Any]:
    """A change log from (time, village, sign) rows given in time order."""
    t = np.array([r[0] for r in rows], dtype=np.float64)
    v = np.array([r[1] for r in rows], dtype=np.int32)
    s = np.array([r[2] for r in rows], dtype=np.int8)
    return t, v, s


def run(
    log: tuple[Any, Any, Any],
    population: list[int],
    *,
    poverty: list[float] | None = None,
    extreme: list[float] | None = None,
    urban: list[bool] | None = None,
    horizon: int = 1000,
) -> SimpleNamespace:
    """A minimal stand-in for Results with just what impact_series reads."""
    villages = SimpleNamespace(
        population=np.array(population, dtype=np.int64),
        urban=None if urban is None else np.array(urban),
        poverty=None if poverty is None else np.array(poverty, dtype=np.float64),
        extreme_poverty=None if extreme is None else np.array(extreme, dtype=np.float64),
    )
    return SimpleNamespace(
        service_changes=log, world=SimpleNamespace(villages=villages), horizon_days=horizon
    )


def two_villages(*extra: tuple[float, int, int], **kw: Any) -> SimpleNamespace:
    log = changes((0.0, 1, 1), (10.0, 0, 1), *extra)
    return run(log, [1000, 500], poverty=[0.5, 0.3], extreme=[0.2, 0.05], **kw)


def nigeria_pp(exposure_days: float, at_1: float, at_2: float) -> float:
    """The central curve by hand: 0 before 1 year, linear from 1 to 2 years, flat after."""
    years = exposure_days / 365.25
    if years < 1:
        return 0.0
    return at_1 + (at_2 - at_1) * min(years - 1.0, 1.0)


# --- schema -------------------------------------------------------------------------------------


def test_defaults_are_the_documented_sets() -> None:
    imp = Impact()
    assert imp.enabled is False
    c = imp.central
    assert c.lag_years == 1.0
    assert c.consumption_gain == [(1.0, 0.06), (2.0, 0.08)]
    assert c.extreme_poverty_reduction_pp == [(1.0, 4.0), (2.0, 7.0)]
    assert imp.high.consumption_gain == [(1.0, 0.14)]
    assert imp.high.extreme_poverty_reduction_pp == [(1.0, 10.0)]
    # Senegal's "−10%" read as relative and converted with the default extreme rate.
    assert imp.low.extreme_poverty_reduction_pp == [(1.0, round(0.10 * 12.8, 1))]
    assert imp.poverty_rate == 0.444
    assert list(imp.parameter_sets()) == ["low", "central", "high"]


def test_default_sets_are_ordered_at_every_exposure() -> None:
    imp = Impact()
    years = np.linspace(0.0, 5.0, 501)
    for curve in ("consumption_gain", "poverty_reduction_pp", "extreme_poverty_reduction_pp"):
        values = []
        for p in (imp.low, imp.central, imp.high):
            pts = p.curves()[curve]
            xs, ys = [x for x, _ in pts], [y for _, y in pts]
            values.append(np.where(years >= p.lag_years, np.interp(years, xs, ys), 0.0))
        assert np.all(values[0] <= values[1]) and np.all(values[1] <= values[2]), curve


def test_total_poverty_defaults_follow_the_lognormal_assumption() -> None:
    # σ from Peru's rural rates (44.4%, 12.8%) and INEI's lines (S/338, S/183); see the module.
    n = NormalDist()
    h, he = 0.444, 0.128
    sigma = math.log(338 / 183) / (n.inv_cdf(h) - n.inv_cdf(he))
    assert sigma == pytest.approx(0.617, abs=0.001)

    def pp(gain: float) -> float:
        return 100 * (h - n.cdf(n.inv_cdf(h) - math.log1p(gain) / sigma))

    imp = Impact()
    for p in imp.parameter_sets().values():
        gains = dict(p.consumption_gain)
        for year, value in p.poverty_reduction_pp:
            assert value == pytest.approx(pp(gains[year]), abs=0.05)


@pytest.mark.parametrize(
    "bad",
    [
        {"consumption_gain": [(2.0, 0.08), (1.0, 0.06)]},  # not sorted
        {"consumption_gain": [(1.0, 0.06), (1.0, 0.08)]},  # repeated year
        {"consumption_gain": [(0.5, 0.03), (2.0, 0.08)]},  # before the lag
        {"consumption_gain": [(1.0, 6.0)]},  # 6 meant as 6%
        {"extreme_poverty_reduction_pp": [(1.0, 120.0)]},
        {"poverty_reduction_pp": [(1.0, -1.0)]},
        {"poverty_reduction_pp": []},
        {"lag_years": -1.0},
        {"lag_years": float("nan")},
        {"colour": "red"},
    ],
)
def test_bad_parameters_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ImpactParameters(**bad)


def test_bad_rates_rejected() -> None:
    with pytest.raises(ValidationError, match="exceeds poverty_rate"):
        Impact(poverty_rate=0.1, extreme_poverty_rate=0.2)
    with pytest.raises(ValidationError):
        Impact(poverty_rate=1.5)
    with pytest.raises(ValidationError):
        Impact(consumption_usd_per_person_year=0)


def test_yaml_style_lists_parse() -> None:
    p = ImpactParameters.model_validate(
        {"lag_years": 0.5, "consumption_gain": [[0.5, 0.0], [1.5, 0.1]]}
    )
    assert p.consumption_gain == [(0.5, 0.0), (1.5, 0.1)]


# --- exposure -----------------------------------------------------------------------------------


def test_service_intervals_pair_gains_with_losses() -> None:
    log = changes((0.0, 1, 1), (10.0, 0, 1), (500.0, 0, -1), (600.0, 0, 1), (700.0, 1, -1))
    iv = service_intervals(log, 3)
    assert iv.village.tolist() == [0, 0, 1]
    assert iv.start.tolist() == [10.0, 600.0, 0.0]
    assert iv.end.tolist() == [500.0, np.inf, 700.0]
    assert iv.exposure_before.tolist() == [0.0, 490.0, 0.0]


@pytest.mark.parametrize(
    "log",
    [
        changes((0.0, 0, 1), (5.0, 0, 1)),  # gained twice
        changes((5.0, 0, -1)),  # lost while out
        changes((5.0, 0, 1), (1.0, 0, -1)),  # not in time order
        changes((5.0, 3, 1)),  # no such village
    ],
)
def test_service_intervals_reject_inconsistent_logs(log: tuple[Any, Any, Any]) -> None:
    with pytest.raises(ValueError, match="service_changes"):
        service_intervals(log, 2)


def test_exposure_pauses_during_an_outage() -> None:
    log = changes((0.0, 1, 1), (10.0, 0, 1), (500.0, 0, -1), (600.0, 0, 1))
    days = [9, 10, 499, 500, 599, 600, 700]
    served, years = exposure_years(log, 2, days)
    assert served[:, 0].tolist() == [False, True, True, False, False, True, True]
    # In service 490 days up to the loss, then again from 600: 490 + (d + 1 − 600).
    expected_days = [0, 1, 490, 490, 490, 491, 591]
    np.testing.assert_allclose(years[:, 0] * DAYS_PER_YEAR, expected_days, rtol=0, atol=1e-9)
    assert served[:, 1].all()
    np.testing.assert_allclose(years[:, 1] * DAYS_PER_YEAR, np.array(days) + 1.0, atol=1e-9)


# --- daily series, by hand ----------------------------------------------------------------------


def test_two_villages_before_lag_after_one_and_two_years() -> None:
    s = impact_series(two_villages(), Impact())
    c = s["central"]
    assert set(s) == {"low", "central", "high"}
    assert all(len(v) == 1000 for v in c.values())
    # Before the lag (day 374: 365 days < 365.25) nothing; B is existing coverage throughout.
    for key in c:
        assert c[key][:375].tolist() == [0.0] * 375
    # Day 375: 366 days in service, just over 1 year.
    e = 366.0
    assert c["people_out_of_extreme_poverty"][375] == pytest.approx(
        1000 * nigeria_pp(e, 4.0, 7.0) / 100, rel=1e-12
    )
    assert c["people_out_of_poverty"][375] == pytest.approx(
        1000 * nigeria_pp(e, 3.7, 4.9) / 100, rel=1e-12
    )
    gain = 0.06 + 0.02 * (e / 365.25 - 1)
    assert c["added_consumption_usd_per_day"][375] == pytest.approx(1000 * gain * USD_DAY)
    # Day 500: halfway-ish: 491 days.
    assert c["people_out_of_extreme_poverty"][500] == pytest.approx(
        10 * nigeria_pp(491.0, 4.0, 7.0), rel=1e-12
    )
    # From day 740 (731 days ≥ 2 years) flat: 7% and 4.9% of 1000, 8% consumption.
    assert c["people_out_of_extreme_poverty"][739] < 70.0
    np.testing.assert_allclose(c["people_out_of_extreme_poverty"][740:], 70.0, rtol=1e-12)
    np.testing.assert_allclose(c["people_out_of_poverty"][740:], 49.0, rtol=1e-12)
    np.testing.assert_allclose(
        c["added_consumption_usd_per_day"][740:], 1000 * 0.08 * USD_DAY, rtol=1e-12
    )
    # High set: Senegal in full from the lag: 10 pp and 8.2 pp of 1000, +14%.
    h = s["high"]
    assert h["people_out_of_extreme_poverty"][374] == 0.0
    assert h["people_out_of_extreme_poverty"][375] == pytest.approx(100.0)
    assert h["people_out_of_poverty"][375] == pytest.approx(82.0)
    assert h["added_consumption_usd_per_day"][999] == pytest.approx(1000 * 0.14 * USD_DAY)


def test_caps_at_the_poor_population() -> None:
    # Village B counted (include_initial_coverage): 500 people, 5% extremely poor = 25 people,
    # fewer than the 7 pp (35) of the central set after 2 years.
    imp = Impact(include_initial_coverage=True)
    c = impact_series(two_villages(), imp)["central"]
    # Day 374: B has 375 days (> 1 year: 4 + 3·(375/365.25 − 1) pp = 20.2 people), A none yet.
    assert c["people_out_of_extreme_poverty"][374] == pytest.approx(5 * nigeria_pp(375, 4, 7))
    # Day 999: A 70 + B capped at 25.
    assert c["people_out_of_extreme_poverty"][999] == pytest.approx(70.0 + 25.0)
    assert c["people_out_of_poverty"][999] == pytest.approx(49.0 + 500 * 0.049)
    # The cap binds part-way along B's rising segment: 4 + 3·(E/365.25 − 1) = 5 pp (25 people)
    # at E = 487 days, the end of day 486; A follows the uncapped curve from day 375.
    ext = c["people_out_of_extreme_poverty"]
    a_part = np.array([10 * nigeria_pp(d - 9.0, 4, 7) for d in range(1000)])
    b_part = np.minimum([5 * nigeria_pp(d + 1.0, 4, 7) for d in range(1000)], 25.0)
    assert b_part[485] < 25.0 and b_part[486] == pytest.approx(25.0)
    np.testing.assert_allclose(ext, a_part + b_part, rtol=1e-12, atol=1e-9)


def test_extreme_rate_above_total_is_capped_at_total() -> None:
    # Published district data can carry extreme > total; the extremely poor are among the poor.
    log = changes((10.0, 0, 1))
    r = run(log, [1000], poverty=[0.03], extreme=[0.5])
    c = impact_series(r, Impact())["central"]
    assert c["people_out_of_extreme_poverty"][999] == pytest.approx(30.0)
    assert c["people_out_of_poverty"][999] == pytest.approx(30.0)


def test_scenario_rates_when_villages_carry_none() -> None:
    log = changes((10.0, 0, 1))
    imp = Impact(poverty_rate=0.04, extreme_poverty_rate=0.02)
    c = impact_series(run(log, [1000]), imp)["central"]
    assert c["people_out_of_poverty"][999] == pytest.approx(40.0)  # 4.9 pp capped at 4%
    assert c["people_out_of_extreme_poverty"][999] == pytest.approx(20.0)  # 7 pp capped at 2%
    c = impact_series(run(log, [1000]), Impact())["central"]
    assert c["people_out_of_poverty"][999] == pytest.approx(49.0)
    assert c["people_out_of_extreme_poverty"][999] == pytest.approx(70.0)


def test_urban_places_count_only_when_asked() -> None:
    log = changes((10.0, 0, 1), (10.0, 1, 1))
    r = run(log, [1000, 1000], urban=[False, True])
    assert impact_series(r, Impact())["central"]["people_out_of_poverty"][999] == pytest.approx(
        49.0
    )
    both = impact_series(r, Impact(include_urban=True))["central"]["people_out_of_poverty"]
    assert both[999] == pytest.approx(98.0)


def test_outage_removes_the_effect_and_pauses_exposure() -> None:
    # A loses service at 500 and regains it at 600: out at the end of days 500..599.
    s = impact_series(two_villages((500.0, 0, -1), (600.0, 0, 1)), Impact())
    for name, cols in s.items():
        for key, values in cols.items():
            assert values[500:600].tolist() == [0.0] * 100, (name, key)
            assert values[499] > 0 and values[600] > 0, (name, key)
    c = s["central"]["people_out_of_extreme_poverty"]
    # Exposure paused: at day 700, 490 + 101 = 591 days (not 691 since first coverage).
    assert c[700] == pytest.approx(10 * nigeria_pp(591.0, 4, 7), rel=1e-12)
    # 2 years (730.5 days) reached on day 840 (731 days) instead of 740.
    assert c[839] < 70.0
    assert c[840] == pytest.approx(70.0)


def test_outage_before_the_lag_delays_the_effect() -> None:
    # Out from 200 to 300: 190 days before, then d + 1 − 300; the lag is passed on day 475.
    c = impact_series(two_villages((200.0, 0, -1), (300.0, 0, 1)), Impact())["central"]
    x = c["people_out_of_extreme_poverty"]
    assert x[474] == 0.0
    assert x[475] == pytest.approx(10 * nigeria_pp(366.0, 4, 7))


def test_lost_for_good_stays_zero() -> None:
    c = impact_series(two_villages((800.0, 0, -1)), Impact())["central"]
    assert c["people_out_of_poverty"][799] == pytest.approx(49.0)
    assert c["people_out_of_poverty"][800:].tolist() == [0.0] * 200


def test_zero_coverage_gives_zero_impact() -> None:
    for log in (changes(), changes((0.0, 0, 1), (0.0, 1, 1))):  # nothing, or only existing 4G
        s = impact_series(run(log, [1000, 500]), Impact())
        for cols in s.values():
            for values in cols.values():
                assert len(values) == 1000 and not values.any()
        summary = impact_summary(s)
        assert all(v == 0.0 for row in summary.values() for v in row.values())


def test_chosen_days_match_the_daily_series() -> None:
    r = two_villages((500.0, 0, -1), (600.0, 0, 1))
    full = impact_series(r, Impact())
    days = [999, 0, 375, 550, 740, 1200]  # any order; past the horizon holds the last state
    some = impact_series(r, Impact(), days=days)
    for name in full:
        for key in full[name]:
            np.testing.assert_array_equal(some[name][key][:-1], full[name][key][days[:-1]])
            assert some[name][key][-1] == pytest.approx(full[name][key][-1])
    with pytest.raises(ValueError, match="whole day"):
        impact_series(r, Impact(), days=[1.5])
    with pytest.raises(ValueError, match=">= 0"):
        impact_series(r, Impact(), days=[-1])


def test_summary_values_at_horizon_and_person_years() -> None:
    s = impact_series(two_villages(), Impact())
    summary = impact_summary(s)
    c, row = s["central"], summary["central"]
    assert row["people_out_of_poverty_at_horizon"] == pytest.approx(49.0)
    assert row["people_out_of_extreme_poverty_person_years"] == pytest.approx(
        c["people_out_of_extreme_poverty"].sum() / 365.25
    )
    # Flat 70 people from day 740 to 999: 260 days of 70 plus the ramp before.
    ramp = sum(10 * nigeria_pp(d - 9.0, 4, 7) for d in range(375, 740))
    assert row["people_out_of_extreme_poverty_person_years"] == pytest.approx(
        (ramp + 260 * 70.0) / 365.25
    )
    assert row["added_consumption_usd_total"] == pytest.approx(
        c["added_consumption_usd_per_day"].sum()
    )
    assert set(row) == {
        "people_out_of_poverty_at_horizon",
        "people_out_of_poverty_person_years",
        "people_out_of_extreme_poverty_at_horizon",
        "people_out_of_extreme_poverty_person_years",
        "added_consumption_usd_per_day_at_horizon",
        "added_consumption_usd_total",
    }


# --- random change logs -------------------------------------------------------------------------


@st.composite
def worlds(draw: st.DrawFn) -> tuple[SimpleNamespace, Impact]:
    n = draw(st.integers(1, 6))
    rows: list[tuple[float, int, int]] = []
    for v in range(n):
        # Half-day change times; lags below are never a multiple of half a day, so no exposure
        # lands exactly on a lag (where rounding could pick either side of the step).
        halves = draw(st.lists(st.integers(0, 600), unique=True, max_size=6))
        for i, h in enumerate(sorted(halves)):
            rows.append((h / 2, v, 1 if i % 2 == 0 else -1))
    rows.sort(key=lambda r: r[0])
    pov = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    ext = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    pop = draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n))
    urban = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    r = run(changes(*rows), pop, poverty=pov, extreme=ext, urban=urban, horizon=400)
    lag = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75]))

    def curve(hi: float) -> list[tuple[float, float]]:
        xs = sorted(draw(st.sets(st.integers(0, 150), min_size=1, max_size=4)))
        return [(lag + x / 100, draw(st.floats(0, hi))) for x in xs]

    def params() -> ImpactParameters:
        return ImpactParameters(
            lag_years=lag,
            consumption_gain=curve(1.0),
            poverty_reduction_pp=curve(100.0),
            extreme_poverty_reduction_pp=curve(100.0),
        )

    imp = Impact(
        low=params(),
        central=params(),
        high=params(),
        include_urban=draw(st.booleans()),
        include_initial_coverage=draw(st.booleans()),
    )
    return r, imp


def brute_force(r: SimpleNamespace, imp: Impact) -> dict[str, dict[str, np.ndarray]]:
    """Every village on every day, from the dense exposure grid and np.interp."""
    vil = r.world.villages
    n = len(vil.population)
    served, years = exposure_years(r.service_changes, n, np.arange(r.horizon_days))
    counted = np.ones(n, dtype=bool)
    if not imp.include_urban:
        counted &= ~vil.urban
    if not imp.include_initial_coverage:
        t, v, s = r.service_changes
        counted[v[(t <= 0) & (s == 1)]] = False
    pov = vil.poverty
    ext = np.minimum(vil.extreme_poverty, pov)
    pop = vil.population * (served & counted)
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, p in imp.parameter_sets().items():

        def value(points: list[tuple[float, float]], p: ImpactParameters = p) -> np.ndarray:
            xs, ys = [x for x, _ in points], [y for _, y in points]
            return np.where(years >= p.lag_years, np.interp(years, xs, ys), 0.0)

        out[name] = {
            "people_out_of_poverty": (
                pop * np.minimum(value(p.poverty_reduction_pp) / 100, pov)
            ).sum(1),
            "people_out_of_extreme_poverty": (
                pop * np.minimum(value(p.extreme_poverty_reduction_pp) / 100, ext)
            ).sum(1),
            "added_consumption_usd_per_day": (
                pop * value(p.consumption_gain) * imp.consumption_usd_per_person_year / 365.25
            ).sum(1),
        }
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_random_logs_match_brute_force_and_respect_caps(
    case: tuple[SimpleNamespace, Impact],
) -> None:
    r, imp = case
    got = impact_series(r, imp)
    want = brute_force(r, imp)
    vil = r.world.villages
    served, _ = exposure_years(r.service_changes, len(vil.population), np.arange(400))
    poor = (served * vil.population * vil.poverty).sum(1)
    extreme_poor = (served * vil.population * np.minimum(vil.extreme_poverty, vil.poverty)).sum(1)
    for name in want:
        for key in want[name]:
            assert np.all(got[name][key] >= 0)
            np.testing.assert_allclose(got[name][key], want[name][key], rtol=1e-9, atol=1e-6)
        # Nobody is lifted who was not poor (extremely poor) and in service that day.
        assert np.all(got[name]["people_out_of_poverty"] <= poor + 1e-6)
        assert np.all(got[name]["people_out_of_extreme_poverty"] <= extreme_poor + 1e-6)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_expanding_only_the_segments_reached_changes_no_bit(
    case: tuple[SimpleNamespace, Impact],
) -> None:
    # An infinite margin expands every segment of every spell (the plain method): the pruned
    # sums must be the same numbers, not just close.
    r, imp = case
    pruned = impact_series(r, imp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(impact_module, "_REACH_MARGIN_DAYS", np.inf)
        full = impact_series(r, imp)
    for name in full:
        for key in full[name]:
            assert np.array_equal(pruned[name][key], full[name][key])


# --- with the simulator -------------------------------------------------------------------------


def test_real_run_on_a_hand_made_world(tmp_path: Path) -> None:
    # test_engine_handmade's world: two crews put A and C on air at day 10, covering A, B, C
    # and D (380 people) for good (failures off); E is never reached.
    xy = [(0, 0), (3, 0), (10, 0), (13.5, 0), (100, 0)]
    pop = [100, 50, 200, 30, 1000]
    sc = scenario(tmp_path, xy, pop, operators=[operator(build_crews=2)], days=800)
    r = simulate(sc)
    assert r.first_covered_day[:4].tolist() == [10.0] * 4
    s = impact_series(r, Impact())
    c = s["central"]
    assert len(c["people_out_of_poverty"]) == 800
    assert c["people_out_of_poverty"][374] == 0.0
    # Day 799: 790 days ≥ 2 years: 4.9% and 7% (under the 12.8% scenario rate) of 380 people.
    assert c["people_out_of_poverty"][799] == pytest.approx(380 * 0.049)
    assert c["people_out_of_extreme_poverty"][799] == pytest.approx(380 * 0.07)
    assert c["added_consumption_usd_per_day"][799] == pytest.approx(380 * 0.08 * USD_DAY)
