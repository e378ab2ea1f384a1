"""Maintenance, sensors and repair requests (issue 4): models, reducer, policies, engine, KPIs."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from policies.maintenance import Predictive, greedy_assignment, ortools_assignment, remaining_useful_life
from tests.conftest import ROOT
from twin.errors import ScenarioError
from twin.experiment import run_job
from twin.kpi import events_frame
from twin.model import events as E
from twin.model.maintenance import DispatchObservation, TechnicianView, WorkOrderView
from twin.model.state import State, apply
from twin.scenario import load_scenario
from twin.sim.engine import run_replication
from twin.sim.laws import draw_life, shift_windows
from twin.sim.requests import rating_for
from twin.sim.sensors import alarm_changes

PARK = ROOT / "scenarios" / "industrial-park"


@pytest.fixture(scope="module")
def park_run() -> tuple:
    scenario = load_scenario(PARK / "predictive.yaml").model_copy(update={"horizon": 60 * 24.0})
    return scenario, run_replication(scenario, 11, 0)


def test_the_park_scenarios_load() -> None:
    for name in ("reactive", "preventive", "condition", "predictive"):
        assert load_scenario(PARK / f"{name}.yaml").site.assets


def test_a_park_run_records_the_maintenance_story(park_run: tuple) -> None:
    scenario, out = park_run
    kinds = Counter(type(e).__name__ for e in out.log.events)
    for name in ("MachineFailed", "WorkOrderCreated", "TechnicianAssigned", "RepairStarted", "RepairCompleted",
                 "SensorAlarm", "SensorReading", "RepairRequested", "RequestRated"):
        assert kinds[name] > 0, name
    # Spare parts are ordinary orders on the parts store (so the inventory policy replenishes them).
    assert any(type(e) is E.OrderPlaced and e.customer.startswith("wo-") for e in out.log.events)
    # The flat view covers every maintenance event.
    frame = events_frame(out.log)
    assert set(kinds) <= set(frame["type"])
    # Every completed work order was created, assigned and started before it completed.
    seen: dict[int, list[str]] = {}
    for e in out.log.events:
        if hasattr(e, "wo") and type(e) is not E.RequestRated:
            seen.setdefault(e.wo, []).append(type(e).__name__)
    for steps in seen.values():
        if "RepairCompleted" in steps or "MaintenanceDone" in steps:
            assert steps.index("WorkOrderCreated") < steps.index("TechnicianAssigned") < steps.index("RepairStarted")


def test_replaying_the_log_rebuilds_the_maintenance_state(park_run: tuple) -> None:
    _, out = park_run
    state = State.empty(out.state.skus.keys())
    for e in out.log.events:
        apply(state, e)
    live, replayed = out.state.maintenance, state.maintenance
    assert {a: (s.status, s.failures) for a, s in live.assets.items()} == \
        {a: (s.status, s.failures) for a, s in replayed.assets.items()}
    assert set(live.work_orders) == set(replayed.work_orders)


def test_same_seed_same_log(park_run: tuple) -> None:
    scenario, out = park_run
    assert run_replication(scenario, 11, 0).log.content_hash() == out.log.content_hash()


def test_kpis_are_merged_when_assets_exist() -> None:
    from twin.experiment import Job

    scenario = load_scenario(PARK / "reactive.yaml").model_copy(update={"horizon": 40 * 24.0, "warmup": 24.0})
    kpis = run_job(Job(scenario, 11, 0, keep_events=False)).kpis
    for name in ("availability", "mtbf", "mttr", "downtime_hours", "maintenance_cost", "technician_utilization",
                 "backlog", "response_time", "cold_chain_excursions", "spoiled_units"):
        assert name in kpis
    assert 0.5 < kpis["availability"] <= 1.0
    assert 0.0 <= kpis["technician_utilization"] <= 1.0


def test_a_cold_room_excursion_spoils_cold_stock(park_run: tuple) -> None:
    _, out = park_run
    alarms = [e for e in out.log.events if type(e) is E.SensorAlarm and e.sensor == "temp-cold-room"]
    scrapped = [e for e in out.log.events if type(e) is E.StatusChanged and e.reason == "cold_chain"]
    if scrapped:
        assert alarms and alarms[0].t <= scrapped[0].t - 2.0 + 1e-9


# -- laws, alarms, policies -------------------------------------------------------------------------------


def test_weibull_life_is_conditional_on_age() -> None:
    from twin.model.assets import FailureLaw

    law = FailureLaw(dist="weibull", shape=2.0, scale="100h")
    gen = np.random.default_rng(1)
    fresh = np.array([draw_life(law, 0.0, gen) for _ in range(20000)])
    assert fresh.mean() == pytest.approx(100 * 0.8862, rel=0.02)  # scale * Gamma(1 + 1/k)
    old = np.array([draw_life(law, 150.0, gen) for _ in range(2000)])
    assert (old > 150.0).all() and (old - 150).mean() < fresh.mean()  # wear-out: less life left


def test_shift_windows_merge_and_detect_round_the_clock() -> None:
    from twin.model.assets import Shift

    assert shift_windows([Shift()]) is None
    days = shift_windows([Shift(start="7h", length="9h", days=[0, 1])])
    assert days == [(7.0, 16.0), (31.0, 40.0)]


def test_alarm_changes_with_dropouts_and_hysteresis() -> None:
    v = np.array([[1.0, 8.0, np.nan, 6.9, 7.2, 5.0, 9.0]])
    rows, cols, states, last = alarm_changes(v, np.array([7.0]), np.array([-np.inf]), np.array([0], np.int8),
                                             np.array([1.0]))
    # high at 8.0; NaN and 6.9 (inside the band) keep it; 5.0 clears; 9.0 raises again.
    assert cols.tolist() == [1, 5, 6] and states.tolist() == [1, 0, 1] and last.tolist() == [1]


def _alarm_changes_by_hand(values: np.ndarray, high: np.ndarray, low: np.ndarray, prior: np.ndarray,
                           band: np.ndarray) -> tuple[list[tuple[int, int, int]], list[int]]:
    """The alarm rule sample by sample: out of range sets the state, well inside clears it, the band
    and dropped samples keep it."""
    changes: list[tuple[int, int, int]] = []
    last: list[int] = []
    for r in range(values.shape[0]):
        st = int(prior[r])
        for c, x in enumerate(values[r]):
            new = st
            if x > high[r]:
                new = 1
            elif x < low[r]:
                new = -1
            elif low[r] + band[r] <= x <= high[r] - band[r]:
                new = 0
            if new != st:
                changes.append((r, c, new))
                st = new
        last.append(st)
    return changes, last


def test_alarm_changes_matches_the_rule_sample_by_sample_on_mostly_quiet_rows() -> None:
    """Rows that stay clear skip the array work (the sensors benchmark's common case); the answer
    is the same as the rule applied sample by sample, quiet rows, rows starting in alarm and all."""
    gen = np.random.default_rng(7)
    for _ in range(20):
        n, m = 30, 50
        values = gen.normal(0.0, 1.0, (n, m))
        values[:, :] += np.where(gen.random(n) < 0.2, 2.5, 0.0)[:, None]  # a few rows near the limit
        values[gen.random((n, m)) < 0.1] = np.nan
        high = np.full(n, 3.0)
        low = np.where(gen.random(n) < 0.5, -3.0, -np.inf)
        prior = np.where(gen.random(n) < 0.1, 1, 0).astype(np.int8)
        band = gen.uniform(0.0, 0.5, n)
        rows, cols, states, last = alarm_changes(values, high, low, prior, band)
        expected, expected_last = _alarm_changes_by_hand(values, high, low, prior, band)
        got = sorted(zip(rows.tolist(), cols.tolist(), states.tolist(), strict=True))
        assert got == sorted(expected)
        assert last.tolist() == expected_last


def test_greedy_and_ortools_dispatch_agree_on_priority_and_skill() -> None:
    wos = (WorkOrderView(1, "a", "corrective", 2, "mech", 0.0, (0.0, 0.0)),
           WorkOrderView(2, "b", "corrective", 1, "mech", 1.0, (10.0, 0.0)),
           WorkOrderView(3, "c", "corrective", 1, "elec", 2.0, (0.0, 0.0)))
    techs = (TechnicianView("near", frozenset({"mech"}), (9.0, 0.0), 30.0),
             TechnicianView("far", frozenset({"mech", "elec"}), (0.0, 0.0), 30.0))
    obs = DispatchObservation(5.0, wos, techs)
    greedy = {a.work_order: a.technician for a in greedy_assignment(obs)}
    assert greedy == {2: "near", 3: "far"}  # urgent first; the nearest mechanic takes wo 2
    best = {a.work_order: a.technician for a in ortools_assignment(obs)}
    assert best == {2: "near", 3: "far"}


def test_remaining_useful_life_from_a_rising_trend() -> None:
    t = np.arange(10.0)
    assert remaining_useful_life(t, 2.0 + 0.5 * t, 9.0) == pytest.approx((9.0 - 6.5) / 0.5)
    assert remaining_useful_life(t, np.full(10, 3.0), 9.0) == float("inf")
    pol = Predictive(Predictive.Params(failure_level=9.0, lead="3h"))
    assert pol.wants_readings == ("vibration",)


def test_request_rating_falls_with_the_missed_target() -> None:
    assert [rating_for(r, 4.0) for r in (1, 5, 7, 10, 20)] == [5, 4, 3, 2, 1]


# -- bad input -------------------------------------------------------------------------------------------


def _write(tmp: Path, body: str) -> Path:
    site = tmp / "site.yaml"
    site.write_text(textwrap.dedent(body))
    scen = tmp / "scenario.yaml"
    scen.write_text("name: x\nsite: site.yaml\nhorizon: 10d\n")
    return scen


BAD_SITE = """\
name: bad
items: [{id: part, unit_cost: 1}]
warehouses: [{id: store}]
suppliers: [{id: s, lead_time: {mean: 1d}, items: [part]}]
assets:
  - {id: pump, failure: {dist: weibull, shape: 0, scale: 100h}, repair: {mean: 1h}}
  - {id: lift, failure: {mean: 100h}, repair: {mean: 1h}, skill: welding, repair_parts: {gasket: 1}}
technicians:
  - {id: ann, skills: [general], shifts: []}
sensors:
  - {id: v1, kind: vibration, attached_to: pmp}
"""


def test_bad_maintenance_input_names_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, BAD_SITE))
    text = str(info.value)
    assert "site.yaml:6: assets[0].failure.shape" in text and "greater than 0" in text
    assert "site.yaml:9: technicians[0]" in text and "at least one shift" in text


def test_cross_references_of_maintenance_data(tmp_path: Path) -> None:
    fixed = BAD_SITE.replace("shape: 0", "shape: 2").replace("shifts: []", "shifts: [{}]")
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, fixed))
    text = str(info.value)
    assert "site.yaml:11: sensors[0].attached_to: unknown asset or warehouse 'pmp'" in text
    assert "welding" not in text  # a skill nobody has is a warning, not an error (see below)
    assert "assets[1].repair_parts.gasket: unknown item 'gasket'" in text


# -- the scenario library of the issue: same site, same random numbers --------------------------------------


LIBRARY = ROOT / "scenarios" / "industrial-park"


def test_reactive_preventive_predictive_compare_directly() -> None:
    from twin.comparison import compare

    names = ("reactive", "preventive", "predictive")
    loaded = [load_scenario(LIBRARY / f"{n}.yaml") for n in names]
    assert all(sc.site == loaded[0].site and sc.seed == loaded[0].seed and sc.horizon == loaded[0].horizon
               for sc in loaded)
    assert [sc.policies.maintenance.use for sc in loaded] == ["reactive", "preventive", "predictive"]
    short = [sc.model_copy(update={"horizon": 30 * 24.0, "warmup": 24.0}) for sc in loaded]
    result = compare(short, replications=2, workers=1)
    assert result.warnings == []  # paired: same site, same horizon
    assert result.names == ["park-reactive", "park-preventive", "park-predictive"]
    assert {"availability", "downtime_hours", "maintenance_cost"} <= set(result.kpis.columns)
    assert result.kpis["availability"].notna().all()


def test_the_twin_compare_command_runs_the_three(cli, tmp_path: Path) -> None:
    files = [LIBRARY / f"{n}.yaml" for n in ("reactive", "preventive", "predictive")]
    res = cli("compare", *files, "-n", "2", "--workers", "1", "--home", tmp_path / "home")
    assert res.exit_code == 0, res.output
    assert "park-predictive" in res.output


# -- a work order needing a skill nobody has: a warning the KPI report shows ---------------------------------


def _park_without(tmp: Path, skill: str) -> Path:
    site = (ROOT / "scenarios" / "sites" / "industrial-park.yaml").read_text()
    site = site.replace("skills: [electrician, fire, general]", "skills: [fire, general]")
    site = site.replace("skills: [hvac, mechanic, electrician]", "skills: [hvac, mechanic]")
    assert skill == "electrician" and "electrician]" not in site.split("technicians:")[1]
    (tmp / "site.yaml").write_text(site)
    scen = (LIBRARY / "reactive.yaml").read_text().replace("../sites/industrial-park.yaml", "site.yaml")
    (tmp / "scenario.yaml").write_text(scen)
    return tmp / "scenario.yaml"


def test_a_skill_nobody_has_is_a_warning_shown_in_the_report(tmp_path: Path, cli) -> None:
    from tests.conftest import line_of
    from twin.comparison import compare
    from twin.report import render_comparison_html
    from twin.scenario import scenario_warnings

    path = _park_without(tmp_path, "electrician")
    scenario = load_scenario(path)  # no error
    warnings = scenario_warnings(scenario)
    site = tmp_path / "site.yaml"
    lift = line_of(site, r"id: lift-a")
    assert any(w.endswith(f"site.yaml:{lift}: assets[4].skill: warning: no technician has skill 'electrician': "
                          "its work orders will wait in the backlog (counted in the backlog KPI); "
                          "add the skill to a technician's skills") for w in warnings), warnings
    # twin validate: the warning in yellow, exit code 0.
    res = cli("validate", path)
    assert res.exit_code == 0 and "assets[4].skill: warning: no technician has skill 'electrician'" in res.output
    # The run goes on; the lifts' work orders wait in the backlog and are counted.
    short = scenario.model_copy(update={"horizon": 120 * 24.0, "warmup": 24.0})
    out = run_replication(short, 11, 0)
    lift_wos = {e.wo for e in out.log.events if type(e) is E.WorkOrderCreated and e.skill == "electrician"}
    assert lift_wos
    assert not any(type(e) is E.TechnicianAssigned and e.wo in lift_wos for e in out.log.events)
    assert lift_wos <= set(out.state.maintenance.work_orders)  # still open at the end
    # The comparison carries the warning (once) and the HTML report shows it; backlog is higher.
    base = load_scenario(LIBRARY / "reactive.yaml").model_copy(update={"horizon": 120 * 24.0, "warmup": 24.0})
    result = compare([base, short], replications=2, workers=1)
    # Once per lift (a, b, c), not once per scenario that names the site.
    assert sum("warning: no technician has skill 'electrician'" in w for w in result.warnings) == 3
    assert result.to_json()["warnings"] == result.warnings
    html = render_comparison_html(result)
    assert "no technician has skill &#x27;electrician&#x27;" in html or "no technician has skill 'electrician'" in html
    backlog = [result.kpis.loc[n]["backlog"].mean() for n in result.names]
    assert backlog[1] > backlog[0]
