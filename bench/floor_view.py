"""Floor model and view figures (issue 8); prints them, times nothing in the test suite.

1. The view, headless: frames per second drawing a floor of 5,000 bins (fill levels changing) with
   200 agents moving: 150 pickers, 50 forklifts, AGVs and technicians (target: 30 fps on a 2-core
   machine); and the network map of the field scenario with its vehicles and alarms.
2. The floor model's overhead on the hospital scenario: one replication of the baseline as it is,
   with a floor grid in both stores, and with forklifts and AGVs doing the put-away on those floors
   (the target: at most 2x the wall time).

    SDL_VIDEODRIVER=dummy python bench/floor_view.py [--days 90] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twin.model.floor import FloorSpec, parse_grid  # noqa: E402
from twin.model.scenario import Scenario  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.sim.engine import run_replication  # noqa: E402
from visual.render import Renderer  # noqa: E402
from visual.scene import FloorSnapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("forklift", "agv", "technician")


def rack_grid(pairs: int, depth: int) -> str:
    """A floor of ``pairs`` double racks ``depth`` bins deep, cross aisles top and bottom, a dock."""
    width = 3 * pairs + 3
    rows = ["#" * width, "#D" + "." * (width - 3) + "#", "#" + "." * (width - 2) + "#"]
    rows += ["#" + ".RR" * pairs + ".#" for _ in range(depth)]
    rows += ["#" + "." * (width - 2) + "#", "#" * width]
    return "\n".join(rows)


def view_fps(seconds: float) -> tuple[float, int, int]:
    plan, _ = parse_grid(rack_grid(25, 100))  # 25 double racks x 100 deep = 5,000 bins
    rng = np.random.default_rng(1)
    walk = np.argwhere(np.isin(plan.kinds, (1, 3)))
    agents = walk[rng.choice(len(walk), 200)].astype(float)
    fill = rng.random(len(plan.bins))
    renderer = Renderer((1280, 800))
    frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        agents += rng.normal(0, 0.2, agents.shape)  # moving (between cells)
        np.clip(agents, 0, np.array(plan.shape) - 1, out=agents)
        fill = np.clip(fill + rng.normal(0, 0.01, len(fill)), 0, 1)
        snap = FloorSnapshot("bench", float(frames), plan.kinds, plan.bins, fill,
                             [(k, float(r), float(c)) for k, (r, c) in enumerate(agents[:150])],
                             {"time": f"{frames}", "agents": "200", "bins": str(len(plan.bins))},
                             {}, list(fill[:24]),
                             [(KINDS[k % 3], f"m{k}", float(r), float(c)) for k, (r, c) in enumerate(agents[150:])])
        renderer.draw_floor(snap)
        frames += 1
    return frames / (time.perf_counter() - start), len(plan.bins), len(agents)


def map_fps(seconds: float) -> tuple[float, int]:
    """The field network map mid-run (vehicles interpolated on the roads each frame)."""
    from visual.scene import scene_of_run

    sc = load_scenario(ROOT / "scenarios" / "field" / "baseline.yaml")
    scene = scene_of_run(sc, sc.seed, 3 * 24.0)
    renderer = Renderer((1280, 800))
    frames = 0
    most = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        snap = scene.network(24.0 + (frames % 600) * 0.05)
        most = max(most, len(snap.vehicles))
        renderer.draw_network(snap)
        frames += 1
    return frames / (time.perf_counter() - start), most


def with_floors(sc: Scenario, **movers: int) -> Scenario:
    """The hospital with a floor in each store (enough bins for every item stocked there)."""
    spec = FloorSpec(grid=rack_grid(12, 14), cell_m=1.2, **movers)  # 336 bins
    whs = [wh.model_copy(update={"floor": spec}) for wh in sc.site.warehouses]
    return sc.model_copy(update={"site": sc.site.model_copy(update={"warehouses": whs})})


def hospital_overhead(days: int) -> tuple[float, float, int, float, int]:
    sc = load_scenario(ROOT / "scenarios" / "hospital" / "baseline.yaml")
    floor = with_floors(sc)
    moving = with_floors(sc, forklifts=2, agvs=2)
    hours = days * 24.0
    run_replication(sc, 7, 0, 5 * 24.0)  # warm caches and imports
    t0 = time.perf_counter()
    run_replication(sc, 7, 0, hours)
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = run_replication(floor, 7, 0, hours)
    with_floor = time.perf_counter() - t0
    tours = sum(1 for e in out.log.events if type(e).__name__ == "PickTravelled")
    t0 = time.perf_counter()
    out = run_replication(moving, 7, 0, hours)
    with_movers = time.perf_counter() - t0
    moves = sum(1 for e in out.log.events if type(e).__name__ == "FloorMoved")
    return base, with_floor, tours, with_movers, moves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    fps, bins, agents = view_fps(args.seconds)
    print(f"view (headless, 1280x800): {fps:.1f} frames/s with {agents} moving agents and {bins:,} bins "
          f"(target 30)")
    fps, vehicles = map_fps(args.seconds)
    print(f"network map (headless, 1280x800), field scenario: {fps:.1f} frames/s, up to {vehicles} vehicles "
          "on the roads")
    base, floor, tours, movers, moves = hospital_overhead(args.days)
    print(f"hospital baseline, 1 replication of {args.days} days: {base:.2f} s without a floor, "
          f"{floor:.2f} s with floors in both stores ({tours:,} pick tours): {floor / base:.2f}x (target <= 2x); "
          f"{movers:.2f} s with 2 forklifts and 2 AGVs on each ({moves:,} moves): {movers / base:.2f}x")


if __name__ == "__main__":
    main()
