"""Every scenario in the library loads and validates (so a model change cannot silently break one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.scenario import load_scenario

LIBRARY = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIOS = sorted(p for p in LIBRARY.rglob("*.yaml") if p.parent.name != "sites")


def test_the_library_has_the_documented_scenarios() -> None:
    names = {p.relative_to(LIBRARY).as_posix() for p in SCENARIOS}
    assert {"hospital/baseline.yaml", "hospital/emergency.yaml", "industrial-park/spares-forecast.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_library_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.horizon > scenario.warmup
