"""A condition sensor follows its asset's own age: for a machine whose failure law is on usage
(``basis: usage``) the degradation signal rises only while the machine processes, not with the
calendar, and holds while it stands idle."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_machine_usage import run_with_snapshots, usage_plant

LIFE = {"dist": "empirical", "samples": ["10h"]}  # 10 h to failure: no failure within m1's 9 run hours
WEAR = {"signal": "vibration", "baseline": 2.0, "at_failure": 10.0, "shape": 1.0}  # linear in age / life


def plant(basis: str) -> dict[str, Any]:
    """m1 sets up 0-1 h and runs 1-10 h; m2 has no work. A vibration sensor on each alarms above 6
    (half of the life used: 2 + 8 x 0.5)."""
    data = usage_plant(failure={**LIFE, "basis": basis})
    site = data["site"]
    for asset in site["assets"]:
        asset["degradation"] = WEAR
    site["sensors"] = [{"id": f"vib-{m}", "kind": "vibration", "attached_to": m, "every": "1min",
                        "alarm_above": 6.0} for m in ("m1", "m2")]
    return data


def highs(events: list[Any], sensor: str) -> list[float]:
    return [e.t for e in events if type(e).__name__ == "SensorAlarm" and e.sensor == sensor and e.state == "high"]


def test_a_usage_based_machine_signal_follows_its_run_hours() -> None:
    events, _, _ = run_with_snapshots(plant("usage"), ())
    # m1 reaches half its life after 5 run hours: 1 h set-up + 5 h = 6 h (not 5 h of calendar time).
    assert highs(events, "vib-m1") == [pytest.approx(6.0, abs=1 / 60 + 1e-9)]
    # The idle m2 does not wear: its signal stays at the baseline for the whole two days.
    assert highs(events, "vib-m2") == []
    # After the run ends at 10 h m1's signal holds (2 + 8 x 0.9 = 9.2): no clear, no second alarm.
    assert not [e for e in events if type(e).__name__ == "SensorAlarm" and e.sensor == "vib-m1"
                and e.state == "clear"]


def test_an_operating_hours_machine_signal_follows_the_calendar() -> None:
    events, _, _ = run_with_snapshots(plant("operating"), ())
    # The same law on operating hours: half of the life at 5 h for both, busy or idle (both fail at
    # 10 h and wear again after their repair).
    assert highs(events, "vib-m1")[0] == pytest.approx(5.0, abs=1 / 60 + 1e-9)
    assert highs(events, "vib-m2")[0] == pytest.approx(5.0, abs=1 / 60 + 1e-9)
