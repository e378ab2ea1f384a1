"""Sensors on vehicles (issue 4 with issue 5's fleet): a reefer's temperature sensor follows its cooling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from twin.errors import ScenarioError
from twin.model import events as E
from twin.scenario import load_scenario
from twin.sim.engine import run_replication

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


def test_a_sensor_on_a_vehicle_must_measure_temperature(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_scenario(tmp_path, SENSORS.replace("kind: temperature", "kind: vibration")))
    assert "sensors[0].kind: a sensor on a vehicle measures its reefer's temperature" in str(info.value)
