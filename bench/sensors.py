"""Sensors benchmark: N sensors sampled every minute for D days through the full engine (numpy day
blocks; only alarm crossings become events). Prints wall time, samples per second and simulated
days per wall second. The defaults are issue 4's case: 500 sensors sampled each minute for a year on
a site of 200 assets, target under 20 s on one core.

    python bench/sensors.py [--sensors 500] [--days 365] [--assets 200]
"""

from __future__ import annotations

import argparse
import time

from twin.model.scenario import Scenario
from twin.sim.engine import Engine


def scenario(sensors: int, days: int, assets: int) -> Scenario:
    return Scenario.model_validate({
        "name": "sensor-bench", "horizon": f"{days}d", "seed": 3, "record_levels": False,
        "site": {
            "name": "bench",
            "items": [{"id": "part", "unit_cost": 1}],
            "warehouses": [{"id": "store", "initial_stock": {"part": 0}}],
            "suppliers": [{"id": "s", "lead_time": {"mean": "1d"}, "items": ["part"]}],
            "assets": [{"id": f"a{i}", "failure": {"dist": "weibull", "shape": 2.0, "scale": "2000h"},
                        "repair": {"dist": "exponential", "mean": "4h"},
                        "degradation": {"signal": "vibration", "baseline": 2.0, "at_failure": 10.0}}
                       for i in range(assets)],
            "technicians": [{"id": f"t{j}", "skills": ["general"], "shifts": [{}]}
                            for j in range(max(1, assets // 10))],
            "sensors": [{"id": f"s{k}", "kind": "vibration", "attached_to": f"a{k % assets}", "every": "1min",
                         "noise": 0.3, "drift": 0.001, "dropout": 0.01, "alarm_above": 7.1}
                        for k in range(sensors)],
        },
        "policies": {"inventory": {"use": "s_S", "params": {"s": 0, "S": 0}}},
    })


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensors", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--assets", type=int, default=200)
    args = ap.parse_args()
    sc = scenario(args.sensors, args.days, args.assets)
    start = time.perf_counter()
    engine = Engine(sc, seed=3)
    out = engine.run(sc.horizon)
    wall = time.perf_counter() - start
    samples = args.sensors * args.days * 24 * 60
    alarms = sum(1 for e in out.log.events if type(e).__name__ == "SensorAlarm")
    print(f"{args.sensors} sensors x 1/min x {args.days} d on {args.assets} assets: {samples:,} samples")
    print(f"wall {wall:.2f} s; {samples / wall / 1e6:.1f} M samples/s; {args.days / wall:,.0f} simulated days/s")
    per_event = samples / max(len(out.log), 1)
    print(f"events {len(out.log):,} (alarm crossings {alarms:,}); samples per event {per_event:,.0f}")
    if (args.sensors, args.days, args.assets) == (500, 365, 200):
        print(f"issue 4 target (a year of 500 sensors on 200 assets under 20 s): {'met' if wall < 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
