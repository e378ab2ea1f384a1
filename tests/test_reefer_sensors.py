"""Sensors on vehicles (issue 4 with issue 5's fleet): a reefer's temperature sensor follows its cooling,
humidity its doors and cooling, fuel the km driven and refuelling, weight the cargo on board; the cold
chain's one excursion rule spoils reefer cargo as it scraps cold-store stock."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from twin.errors import ScenarioError
from twin.model import events as E
from twin.scenario import load_scenario
from twin.sim.engine import run_replication
from twin.sim.sensors import Exposure

BASE = ROOT / "scenarios" / "cold-chain" / "reefer-failure.yaml"

SENSORS = """
  sensors:
    - {id: t-reefer-3, kind: temperature, attached_to: reefer-3, every: 5min, nominal: 4.0, noise: 0.2,
       warm_to: 20.0, warm_rate: 1.0, alarm_above: 8.0}
"""


def _scenario(tmp: Path, extra: str = SENSORS) -> Path:
    text = BASE.read_text().replace("extends: baseline.yaml", f"extends: {BASE.parent / 'baseline.yaml'}")
    path = tmp / "reefer-sensors.yaml"
    path.write_text(text.rstrip("\n") + "\n" + extra.lstrip("\n").replace("\n  sensors:", "  sensors:"))
    return path


def test_a_reefer_temperature_sensor_alarms_after_its_cooling_fails(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path))
    assert [s.attached_to for s in scenario.site.sensors] == ["reefer-3"]
    out = run_replication(scenario.model_copy(update={"horizon": 30 * 24.0}), scenario.seed, 0)
    failed = [e.t for e in out.log.events if type(e) is E.ReeferFailed and e.vehicle == "reefer-3"]
    alarms = [e for e in out.log.events if type(e) is E.SensorAlarm and e.sensor == "t-reefer-3"]
    assert failed, "the ageing reefer fails within a month"
    highs = [a for a in alarms if a.state == "high"]
    assert highs and all(a.target == "reefer-3" for a in alarms)
    # Every high alarm follows a cooling failure (nominal 4 with noise 0.2 never reaches 8 on its own).
    assert all(any(f <= a.t for f in failed) for a in highs)
    # ... and clears once the unit is fixed at the depot.
    assert any(a.state == "clear" for a in alarms)


def test_a_vibration_sensor_on_a_vehicle_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_scenario(tmp_path, SENSORS.replace("kind: temperature", "kind: vibration")))
    assert "reefer-sensors.yaml:" in str(info.value)
    assert "sensors[0].kind: a sensor on a vehicle measures temperature or humidity (a reefer's), fuel or " \
        "weight, not vibration" in str(info.value)


def test_a_fuel_sensor_needs_the_vehicles_tank(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="sensors\\[0\\].attached_to: a fuel sensor needs the vehicle's tank: "
                       "give vehicle 'reefer' a range_km"):
        load_scenario(_scenario(tmp_path, SENSORS.replace("kind: temperature", "kind: fuel")))


def test_exposure_is_one_rule_stated_once() -> None:
    """Spoiled once out of range ``spoil_after`` without a break; a break starts the clock again."""
    rule = Exposure(2.0)
    assert not rule.spoiled(100.0)
    rule.begin(10.0)
    rule.begin(11.0)  # still the same excursion
    assert rule.spoils_at == 12.0 and not rule.spoiled(11.9) and rule.spoiled(12.0)
    rule.end()
    rule.begin(13.0)
    assert not rule.spoiled(14.5) and rule.spoiled(15.0)


SENSORS_SCENARIO = ROOT / "scenarios" / "cold-chain" / "reefer-sensors.yaml"


@pytest.fixture(scope="module")
def physical_run():  # type: ignore[no-untyped-def]
    scenario = load_scenario(SENSORS_SCENARIO)
    return run_replication(scenario.model_copy(update={"horizon": 30 * 24.0}), scenario.seed, 0)


def _alarms(out, sensor: str) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [e for e in out.log.events if type(e) is E.SensorAlarm and e.sensor == sensor]


def _trips(out, vehicle: str) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    start = {e.trip: e.t for e in out.log.events if type(e) is E.VehicleDispatched and e.vehicle == vehicle}
    return [(start[e.trip], e.t) for e in out.log.events if type(e) is E.VehicleReturned and e.vehicle == vehicle]


def test_fuel_falls_with_driving_and_low_fuel_is_followed_by_refuelling(physical_run) -> None:  # type: ignore[no-untyped-def]
    out = physical_run
    lows = [a for a in _alarms(out, "fuel-reefer-3") if a.state == "low"]
    refuels = [e.t for e in out.log.events if type(e) is E.Refuelled and e.vehicle == "reefer-3"]
    assert lows and refuels
    trips = _trips(out, "reefer-3")
    for a in lows:
        assert any(s <= a.t <= r for s, r in trips), "the tank only falls while the vehicle drives"
        assert 51.0 < a.value < 54.0  # read near the limit it crossed (noise 0.3, drift 0.01 a day)
        later = [s for s, _ in trips if s > a.t]
        if later:  # a low tank is refuelled at the start of the next trip
            assert any(later[0] <= t <= later[0] + 1.0 for t in refuels)
    # Below 30% of the 180-litre tank it refuels before the next trip, so not before every trip.
    assert len(refuels) < 0.75 * len(trips)


def test_weight_follows_the_cargo_on_board(physical_run) -> None:  # type: ignore[no-untyped-def]
    out = physical_run
    alarms = _alarms(out, "w-reefer-3")
    highs = [a for a in alarms if a.state == "high"]
    assert highs and any(a.state == "clear" for a in alarms)
    trips = _trips(out, "reefer-3")
    loads = {e.trip: 0.0 for e in out.log.events if type(e) is E.VehicleDispatched}
    weights = {e.consignment: e.weight for e in out.log.events if type(e) is E.ConsignmentReady}
    for e in out.log.events:
        if type(e) is E.VehicleDispatched:
            loads[e.trip] = sum(weights[c] for c in e.consignments)
    biggest = max(v for e in out.log.events if type(e) is E.VehicleDispatched and e.vehicle == "reefer-3"
                  for v in [loads[e.trip]])
    for a in highs:  # loaded only between leaving the depot and coming back
        assert any(s <= a.t <= r for s, r in trips)
        assert a.value <= biggest + 10.0


def test_humidity_rises_only_with_doors_open_or_cooling_down(physical_run) -> None:  # type: ignore[no-untyped-def]
    out = physical_run
    highs = [a for a in _alarms(out, "rh-reefer-3") if a.state == "high"]
    assert highs
    trips = _trips(out, "reefer-3")
    for a in highs:
        assert any(s <= a.t <= r + 1.0 for s, r in trips)  # doors open at the dock and at stops only


def test_reefer_cargo_spoils_by_the_sensors_excursion_rule(physical_run) -> None:  # type: ignore[no-untyped-def]
    out = physical_run
    alarms = _alarms(out, "t-reefer-3")
    spoiled = [e for e in out.log.events if type(e) is E.Delivered and e.vehicle == "reefer-3" and e.spoiled]
    assert spoiled, "the ageing reefer spoils some cold cargo within a month"
    for d in spoiled:  # an excursion that lasted spoil_after (1 h) without a clear began before it
        assert any(a.state == "high" and a.t + 1.0 <= d.t + 1e-9 and not any(
            b.state == "clear" and a.t < b.t < a.t + 1.0 for b in alarms) for a in alarms)


def test_a_weight_sensor_on_a_vehicle_alarms_above_its_capacity_by_default() -> None:
    from twin.sim.engine import Engine

    scenario = load_scenario(SENSORS_SCENARIO)
    site = scenario.site
    plain = [s.model_copy(update={"alarm_above": None}) if s.kind == "weight" else s for s in site.sensors]
    engine = Engine(scenario.model_copy(update={"site": site.model_copy(update={"sensors": plain})}), 1)
    rows = {s.id: k for k, s in enumerate(engine.sensors.specs)}
    assert engine.sensors.high[rows["w-reefer-3"]] == 1200.0  # the reefer's capacity_weight: overload
    assert engine.sensors.high[rows["rh-reefer-3"]] == 92.0  # a stated limit stays
