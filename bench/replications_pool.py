"""Benchmark: replications of the hospital baseline on the local process pool.

Prints the time of one replication, of N replications on 1 worker and on all cores, the ideal
(single-replication time x N / cores), the pool's ratio to that ideal (target <= 1.2), and the
speed-up from 1 to 2 workers. Run: python bench/replications_pool.py [--replications 20]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from twin.executors import InProcess, LocalPool
from twin.experiment import simulate
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/hospital/baseline.yaml"))
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--skip-serial", action="store_true", help="do not time N replications on 1 worker")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    cores = os.cpu_count() or 1
    n = args.replications

    t0 = time.perf_counter()
    simulate(scenario, replications=1, executor=InProcess(), keep_events=False)
    single = time.perf_counter() - t0

    serial = float("nan")
    if not args.skip_serial:
        t0 = time.perf_counter()
        simulate(scenario, replications=n, executor=InProcess(), keep_events=False)
        serial = time.perf_counter() - t0

    pool = LocalPool(cores)
    t0 = time.perf_counter()
    result = simulate(scenario, replications=n, executor=pool, keep_events=False)
    pooled = time.perf_counter() - t0
    pool.close()

    ideal = single * n / cores
    rows = [
        ("scenario", f"{scenario.name} ({len(scenario.site.items)} items, horizon {scenario.horizon / 24:g} d)"),
        ("cores", f"{cores}"),
        ("one replication (s)", f"{single:.2f}"),
        (f"{n} replications, 1 worker (s)", f"{serial:.2f}"),
        (f"{n} replications, pool of {cores} (s)", f"{pooled:.2f}"),
        ("ideal: single x N / cores (s)", f"{ideal:.2f}"),
        ("pool / ideal (target <= 1.2)", f"{pooled / ideal:.2f}"),
        (f"speed-up 1 -> {cores} workers", f"{serial / pooled:.2f}x" if serial == serial else "-"),
        ("fill rate (mean)", f"{result.summary.loc['fill_rate', 'mean']:.4f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
