"""Benchmark: a year of a 2,000-item warehouse with about 10,000 order lines a day, on one core.

Not a timed test: it prints figures. Targets (from the issue): the simulated year in under 30 s of
wall time, and the twin's domain events per second at least a third of bare SimPy's events per
second on a plain ``yield env.timeout(1)`` loop, measured in the same run on the same machine.

    python bench/warehouse_year.py                 # 2,000 items, 365 days
    python bench/warehouse_year.py --repeat 3      # and two more runs, each in a fresh process
    python bench/warehouse_year.py --days 30 --items 200

The scenario is built in code (a dict validated by ``Scenario.model_validate``): Poisson demand
streams with a mix of fast and slow movers (fast movers order in multi-unit lines), two suppliers
(a nearby distributor with gamma lead times and a manufacturer with lognormal lead times and late
deliveries), (s,S) reviewed daily with a target service level, FEFO allocation and a share of
items with a shelf life.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import simpy  # noqa: E402

from twin.kpi import KpiWindow, compute_kpis, events_frame  # noqa: E402
from twin.model.events import OrderPlaced  # noqa: E402
from twin.model.scenario import Scenario  # noqa: E402
from twin.sim import run_replication  # noqa: E402
from twin.sim.layout import compile_layout  # noqa: E402

FAST_SHARE = 0.10  # share of items that are fast movers
FAST_LINES = 0.70  # share of order lines they carry
SHELF_SHARE = 0.15  # share of items with a shelf life


def build_scenario(n_items: int, lines_per_day: float, days: int, seed: int = 1) -> Scenario:
    """A single warehouse with ``n_items`` items and about ``lines_per_day`` order lines a day."""
    # A private generator for the *scenario's parameters* only; the run draws from its named streams.
    gen = np.random.Generator(np.random.PCG64(20240601))
    n_fast = max(1, round(n_items * FAST_SHARE))
    n_slow = n_items - n_fast
    # Line rates: log-normally spread within each class, scaled to the class's share of lines.
    fast_w = gen.lognormal(0.0, 0.5, n_fast)
    slow_w = gen.lognormal(0.0, 0.8, n_slow)
    fast_share = FAST_LINES if n_slow else 1.0
    fast_rate = fast_w / fast_w.sum() * lines_per_day * fast_share
    slow_rate = slow_w / slow_w.sum() * lines_per_day * (1.0 - fast_share) if n_slow else np.zeros(0)
    rates = np.concatenate([fast_rate, slow_rate])
    line_size = np.concatenate([gen.integers(2, 7, n_fast), np.ones(n_slow, dtype=np.int64)])
    unit_cost = np.round(np.concatenate([gen.uniform(0.5, 20.0, n_fast), gen.lognormal(2.0, 1.0, n_slow)]), 2)
    perishable = gen.random(n_items) < SHELF_SHARE
    shelf_days = gen.integers(20, 121, n_items)

    items: list[dict[str, Any]] = []
    demand: list[dict[str, Any]] = []
    for k in range(n_items):
        ident = f"{'F' if k < n_fast else 'S'}{k:05d}"
        item: dict[str, Any] = {
            "id": ident,
            "unit_cost": float(unit_cost[k]),
            "holding_rate": 0.25,
            "supplier": "distrib" if k % 3 else "maker",
        }
        if perishable[k]:
            item["shelf_life"] = f"{int(shelf_days[k])}d"
        items.append(item)
        ls = int(line_size[k])
        # Poisson units with mean rate * line size: about ``rate`` lines a day of ``ls`` units each.
        demand.append({"item": ident, "location": "dc", "dist": "poisson",
                       "mean": float(rates[k]) * ls, "line_size": ls})

    pickers = max(2, math.ceil(lines_per_day / 60 / 24 / 0.7))  # about 70% busy at 1 min a line
    site = {
        "name": f"dc-{n_items}",
        "items": items,
        "warehouses": [{
            "id": "dc",
            "docks": 4,
            "pickers": pickers,
            "counters": 0,
            "receive_time": "20min",
            "putaway_time": "10min",
            "pick_time_per_order": "30s",
            "pick_time_per_line": "30s",
        }],
        "suppliers": [
            {"id": "distrib", "lead_time": {"dist": "gamma", "mean": "3d", "cv": 0.3}, "order_cost": 30},
            {"id": "maker", "lead_time": {"dist": "lognormal", "mean": "10d", "cv": 0.4}, "on_time": 0.9,
             "order_cost": 80, "transit_time": "2d"},
        ],
        "demand": demand,
    }
    return Scenario.model_validate({
        "name": f"warehouse-{n_items}-items-{days}d",
        "site": site,
        "horizon": f"{days}d",
        "warmup": f"{min(30, max(days // 4, 1))}d" if days > 1 else "0d",
        "seed": seed,
        "policies": {"inventory": {"use": "s_S", "params": {"service_level": 0.95}},
                     "allocation": {"use": "fefo"}},
    })


def bare_simpy(n: int) -> float:
    """Events per second of SimPy on a plain ``yield env.timeout(1)`` loop of ``n`` events."""
    env = simpy.Environment()

    def loop() -> Any:
        timeout = env.timeout
        for _ in range(n):
            yield timeout(1)

    env.process(loop())
    t0 = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t0)


def _fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365, help="simulated days (default 365)")
    ap.add_argument("--items", type=int, default=2000, help="items in the warehouse (default 2000)")
    ap.add_argument("--lines-per-day", type=float, default=None,
                    help="mean order lines a day (default 5 per item: 10,000 for 2,000 items)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bare-events", type=int, default=500_000,
                    help="events in each bare SimPy loop (best of 3 is reported)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs, each in a fresh process (the figures of a run vary by several percent "
                         "from one to the next on a shared machine): the median and range are printed")
    ap.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)  # one repeat: JSON figures
    args = ap.parse_args(argv)
    if args.days < 1 or args.items < 1 or args.repeat < 1:
        ap.error("--days, --items and --repeat must be at least 1")
    lines_per_day = args.lines_per_day if args.lines_per_day is not None else 5.0 * args.items

    scenario = build_scenario(args.items, lines_per_day, args.days, args.seed)
    horizon = scenario.horizon

    # Bare SimPy first, in this same process (best of three short loops).
    bare = max(bare_simpy(args.bare_events) for _ in range(3))

    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = run_replication(scenario, args.seed, 0, horizon)
    sim_s = time.perf_counter() - t0
    sim_cpu = time.process_time() - c0

    log = out.log
    n_events = len(log)
    if args.run_only:
        print(json.dumps({"wall": sim_s, "twin": n_events / sim_s, "bare": bare}))
        return 0
    lines = sum(len(ev.lines) for ev in log.events if type(ev) is OrderPlaced)

    t1 = time.perf_counter()
    df = events_frame(log)
    window = KpiWindow(min(scenario.warmup, horizon * 0.5), horizon, scenario.costing)
    kpis = compute_kpis(df, compile_layout(scenario).params, window)
    kpi_s = time.perf_counter() - t1

    twin_eps = n_events / sim_s
    rows = [
        ("items / pickers", f"{args.items:,} / {scenario.site.warehouses[0].pickers}", ""),
        ("simulated days", f"{args.days:,}", ""),
        ("order lines (total / per day)", f"{lines:,} / {_fmt(lines / args.days)}", ""),
        ("simulation wall time", f"{sim_s:.2f} s", "target < 30 s for 365 d" if args.days == 365 else ""),
        ("simulation CPU time", f"{sim_cpu:.2f} s", "this process only"),
        ("twin domain events (len(log))", f"{n_events:,}", ""),
        ("twin events / s", _fmt(twin_eps), ""),
        ("SimPy events processed", f"{out.simpy_events:,}", ""),
        ("SimPy events / s (twin run)", _fmt(out.simpy_events / sim_s), ""),
        ("simulated days / wall s", _fmt(args.days / sim_s, 1), ""),
        ("order lines / s", _fmt(lines / sim_s), ""),
        ("bare SimPy timeout loop, events / s", _fmt(bare), "best of 3"),
        ("twin events/s / bare SimPy events/s", f"{twin_eps / bare:.2f}", "target >= 0.33"),
        ("KPI time (events_frame + compute_kpis)", f"{kpi_s:.2f} s", "not in the simulation time"),
        ("fill rate / expired units", f"{kpis['fill_rate']:.4f} / {_fmt(kpis['expired_units'])}", "sanity"),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"\nLEMS Twin warehouse benchmark: {scenario.name}, seed {args.seed}, "
          f"Python {sys.version.split()[0]}, SimPy {simpy.__version__}")
    print(f"{'figure':<{w0}}  {'value':>{w1}}  note")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 26}")
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}")
    runs = [{"wall": sim_s, "twin": twin_eps, "bare": bare}]
    if args.repeat > 1:
        del out, log, df  # let this run's memory go before the next runs start
        gc.collect()
        runs += _more_runs(argv if argv is not None else sys.argv[1:], args.repeat - 1)
        print(f"\n{'run':>3}  {'wall s':>7}  {'twin events/s':>13}  {'bare SimPy events/s':>19}  {'ratio':>5}")
        for k, r in enumerate(runs, 1):
            print(f"{k:>3}  {r['wall']:>7.2f}  {r['twin']:>13,.0f}  {r['bare']:>19,.0f}  {r['twin'] / r['bare']:>5.2f}")
    walls = [r["wall"] for r in runs]
    ratios = [r["twin"] / r["bare"] for r in runs]
    wall, ratio = statistics.median(walls), statistics.median(ratios)
    if len(runs) > 1:
        print(f"median of {len(runs)} runs: {wall:.2f} s (range {min(walls):.2f}-{max(walls):.2f}), "
              f"ratio {ratio:.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
    if args.days == 365:
        print(f"\nyear under 30 s: {'yes' if wall < 30.0 else 'NO'}; "
              f"twin events/s >= 1/3 bare SimPy: {'yes' if ratio >= 1 / 3 else 'NO'}"
              + (" (medians)" if len(runs) > 1 else ""))
    return 0


def _more_runs(argv: list[str], n: int) -> list[dict[str, float]]:
    """``n`` more runs, each in a fresh process (a run in this one would reuse the memory the first
    run freed and read faster than a user's run does)."""
    out = []
    for k in range(n):
        print(f"run {k + 2} of {n + 1} ...", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, *argv, "--run-only"], capture_output=True, text=True,
                              check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


if __name__ == "__main__":
    sys.exit(main())
