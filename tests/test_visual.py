"""The floor view (issue 8), headless: what is drawn matches the state, frames and replay from the
command line, the controls. Runs with SDL_VIDEODRIVER=dummy (no window)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from tests.conftest import ROOT  # noqa: E402
from twin.kpi import events_frame  # noqa: E402
from twin.model.floor import parse_grid  # noqa: E402
from twin.scenario import load_scenario  # noqa: E402
from twin.sim.engine import run_replication  # noqa: E402
from visual.app import ViewApp  # noqa: E402
from visual.frames import surface_rgb  # noqa: E402
from visual.live import LiveScene  # noqa: E402
from visual.render import (  # noqa: E402
    AGENT,
    ALARM,
    EMPTY,
    FULL,
    MACHINE_COLOURS,
    MOVER_COLOURS,
    NO_ITEM,
    VEHICLE,
    Renderer,
    fill_colour,
    pygame,
)
from visual.scene import FloorSnapshot, Scene, scene_of_run  # noqa: E402

STORE = ROOT / "scenarios" / "floor" / "store.yaml"
GRID = "#########\n#D......#\n#.RR.RR.#\n#.RR.RR.#\n#.......#\n#########"


def _pixel(surface: object, xy: tuple[int, int]) -> tuple[int, int, int]:
    rgb = surface_rgb(surface)
    return tuple(int(v) for v in rgb[xy[1], xy[0]])  # type: ignore[return-value]


def test_a_full_bin_an_empty_bin_and_a_bin_without_item_are_drawn_in_their_colours() -> None:
    plan, _ = parse_grid(GRID)
    fill = np.full(len(plan.bins), np.nan)
    fill[0], fill[1] = 1.0, 0.0
    snap = FloorSnapshot("w", 0.0, plan.kinds, plan.bins, fill, [])
    r = Renderer((800, 500))
    surf = r.draw_floor(snap)
    full, empty, none = (_pixel(surf, r.cell_centre(*plan.bins[k])) for k in (0, 1, 2))
    assert full == FULL and empty == EMPTY and none == NO_ITEM
    assert full != empty


def test_a_picker_is_drawn_where_it_is() -> None:
    plan, _ = parse_grid(GRID)
    snap = FloorSnapshot("w", 0.0, plan.kinds, plan.bins, np.zeros(len(plan.bins)), [(0, 4.0, 4.0)])
    r = Renderer((800, 500))
    surf = r.draw_floor(snap)
    centre = r.cell_centre(4.0, 4.0)
    assert _pixel(surf, centre) == AGENT
    assert r.hit(centre) == ("picker", 0)


@pytest.fixture(scope="module")
def store_scene() -> Scene:
    sc = load_scenario(STORE)
    return scene_of_run(sc, sc.seed, 24.0)


def test_the_floor_drawn_from_a_run_matches_its_stock(store_scene: Scene) -> None:
    wh = next(iter(store_scene.floors))
    t = 12.0
    snap = store_scene.floor(wh, t)
    r = Renderer((1100, 700))
    surf = r.draw_floor(snap)
    colours = fill_colour(snap.fill)
    checked = 0
    for b, cell in enumerate(snap.bins):
        if store_scene.bin_items[wh][b]:
            assert _pixel(surf, r.cell_centre(*cell)) == tuple(int(v) for v in colours[b])
            checked += 1
    assert checked >= 40 and not np.allclose(snap.fill[~np.isnan(snap.fill)], 1.0)  # stock moved
    # Pickers on a tour at some time are off the dock, on walkable cells.
    tour = store_scene.rows[store_scene.rows["type"] == "PickTravelled"].iloc[3]
    mid = float(tour["t"]) + float(tour["info"].split()[0].split("=")[1]) / 2  # half way round
    moved = [(r_, c_) for _, r_, c_ in store_scene.floor(wh, mid).agents if (round(r_), round(c_)) != (1, 1)]
    assert moved


def test_a_down_machine_is_drawn_in_the_down_colour() -> None:
    sc = load_scenario(ROOT / "scenarios" / "industrial-park" / "reactive.yaml")
    out = run_replication(sc, sc.seed, 0, 30 * 24.0)
    fail = next(e for e in out.log.events if type(e).__name__ == "MachineFailed")
    scene = Scene(sc, events_frame(out.log), sc.seed, 0, 30 * 24.0)
    r = Renderer((1100, 700))
    for t, expect in ((fail.t - 1.0, "running"), (fail.t + 1e-6, "down")):
        snap = scene.network(t)
        assert snap.machines[fail.asset] == expect
        surf = r.draw_network(snap)
        rect = next(rect for rect, kind, ident in r.hits if kind == "machine" and ident == fail.asset)
        assert _pixel(surf, rect.center) == MACHINE_COLOURS[expect]


def test_controls_pause_step_speed_seek_switch_and_inspect(store_scene: Scene) -> None:
    app = ViewApp(store_scene, Renderer((1100, 700)), step=0.5)
    key = lambda k: pygame.event.Event(pygame.KEYDOWN, key=k)  # noqa: E731
    app.handle(key(pygame.K_SPACE))
    assert app.paused
    app.advance(10.0)
    assert app.t == 0.0
    app.handle(key(pygame.K_PERIOD))
    assert app.t == 0.5
    app.handle(key(pygame.K_RIGHTBRACKET))
    assert app.t == 1.5
    before = app.speed_index
    app.handle(key(pygame.K_PLUS))
    assert app.speed_index == before + 1
    app.handle(key(pygame.K_END))
    assert app.t == store_scene.horizon
    app.draw()
    wh = app.warehouse
    assert wh is not None
    cell = store_scene.floors[wh].plan.bins[0]
    app.click(app.renderer.cell_centre(*cell))
    assert app.selected.startswith(f"bin {cell[0]},{cell[1]}: ")
    app.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1))
    assert app.renderer.zoom is not None
    app.handle(key(pygame.K_TAB))
    assert app.level == "network"
    app.draw()
    app.handle(key(pygame.K_ESCAPE))
    assert not app.running


def test_view_writes_frames_and_replays_a_recorded_run(tmp_path: Path, cli: Callable[..., Result]) -> None:
    frames = tmp_path / "frames"
    res = cli("view", STORE, "--horizon", "12h", "--every", "3h", "--frames", frames)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in frames.glob("*.png")) == [f"frame-{k:05d}.png" for k in range(5)]
    assert (frames / "frames.gif").exists()
    home = tmp_path / "home"
    res = cli("run", STORE, "-n", "1", "--horizon", "12h", "--workers", "1", "--home", home)
    assert res.exit_code == 0, res.output
    run_id = next(line.split()[1] for line in res.output.splitlines() if line.startswith("run "))
    replay = tmp_path / "replay"
    res = cli("view", "--replay", run_id, "--home", home, "--every", "6h", "--frames", replay, "--level", "network")
    assert res.exit_code == 0, res.output
    assert len(list(replay.glob("*.png"))) >= 3


def test_view_bad_input_is_one_line_and_exit_1(tmp_path: Path, cli: Callable[..., Result]) -> None:
    res = cli("view", tmp_path / "nope.yaml", "--frames", tmp_path / "f")
    assert res.exit_code == 1 and "file not found" in res.output and "Traceback" not in res.output
    res = cli("view", STORE, "--every", "1", "--frames", tmp_path / "f")
    assert res.exit_code == 1 and "--every" in res.output
    res = cli("view", "--replay", "nosuchrun", "--home", tmp_path / "h", "--frames", tmp_path / "f")
    assert res.exit_code == 1


def test_only_the_renderer_modules_import_pygame() -> None:
    code = ("import json, sys; import visual, visual.scene, twin.cli; "
            "print(json.dumps('pygame' in sys.modules))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(got.stdout.strip().splitlines()[-1]) is False


# -- the network map: vehicles on the roads, alarms ----------------------------------------------


@pytest.fixture(scope="module")
def field_scene() -> Scene:
    sc = load_scenario(ROOT / "scenarios" / "field" / "baseline.yaml")
    return scene_of_run(sc, sc.seed, 2 * 24.0)


def test_a_vehicle_is_drawn_on_the_road_between_its_two_stops_at_mid_trip(field_scene: Scene) -> None:
    scene = field_scene
    legs = [(v, times[j], times[j + 1], nodes[j], nodes[j + 1])
            for v, trips in scene.trips.items() for times, nodes in trips.stops
            for j in range(len(times) - 1) if nodes[j] != nodes[j + 1]]
    assert legs, "the fleet made trips in two days"
    # A leg along one road (no junction between): mid-time is mid-road.
    direct = [leg for leg in legs if len(scene.map.leg(leg[3], leg[4])[0]) == 2]
    vehicle, t0, t1, a, b = direct[0]
    mid = (t0 + t1) / 2
    snap = scene.network(mid)
    assert [v for v in snap.vehicles if v[0] == vehicle] == [
        (vehicle, *np.mean([scene.map.positions[a], scene.map.positions[b]], axis=0))]
    r = Renderer((1100, 700))
    surf = r.draw_network(snap)
    pa, pb = r.map_point(*scene.map.positions[a]), r.map_point(*scene.map.positions[b])
    centre = ((pa[0] + pb[0]) // 2, (pa[1] + pb[1]) // 2)
    assert _pixel(surf, centre) == VEHICLE
    assert r.hit(centre) == ("vehicle", vehicle)
    # A quarter of the way along, it has moved: a quarter of the way between the two nodes.
    quarter = scene.network(t0 + (t1 - t0) / 4)
    got = next(v for v in quarter.vehicles if v[0] == vehicle)
    pa_km, pb_km = np.array(scene.map.positions[a]), np.array(scene.map.positions[b])
    np.testing.assert_allclose(got[1:], 0.75 * pa_km + 0.25 * pb_km)
    # A leg through a junction follows the roads: at mid-trip it is on the path, not on the straight line.
    bent = [leg for leg in legs if len(scene.map.leg(leg[3], leg[4])[0]) > 2]
    for vehicle, t0, t1, a, b in bent[:3]:
        pts, share = scene.map.leg(a, b)
        x, y = next(v for v in scene.network((t0 + t1) / 2).vehicles if v[0] == vehicle)[1:]
        k = int(np.searchsorted(share, 0.5, side="right")) - 1
        (x0, y0), (x1, y1) = pts[k], pts[k + 1]
        assert abs((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) < 1e-6  # on the road segment
    # Between trips nobody is on the road.
    first = min(leg[1] for leg in legs)
    assert scene.network(first - 1e-6).vehicles == [] if first > 0 else True


def test_a_down_machine_is_an_alarm_on_the_map_until_it_is_repaired() -> None:
    sc = load_scenario(ROOT / "scenarios" / "industrial-park" / "reactive.yaml")
    out = run_replication(sc, sc.seed, 0, 30 * 24.0)
    fail = next(e for e in out.log.events if type(e).__name__ == "MachineFailed")
    fixed = next(e for e in out.log.events if type(e).__name__ == "RepairCompleted" and e.asset == fail.asset)
    scene = Scene(sc, events_frame(out.log), sc.seed, 0, 30 * 24.0)
    r = Renderer((1100, 700))
    before, during, after = (scene.network(t) for t in (fail.t - 1e-6, fail.t + 1e-6, fixed.t + 1e-6))
    down = (fail.asset, *scene.map.assets[fail.asset], f"{fail.asset} down")
    assert down in during.alarms and down not in before.alarms and down not in after.alarms
    surf = r.draw_network(during)
    x, y = r.map_point(*scene.map.assets[fail.asset])
    assert _pixel(surf, (x, y - 28)) == ALARM  # the flag above it
    assert _pixel(surf, (x, y)) == MACHINE_COLOURS["down"]
    if not any(a[0] == fail.asset for a in after.alarms):  # (its vibration alarm may still be raised)
        assert _pixel(r.draw_network(after), (x, y - 28)) != ALARM


def test_a_sensor_alarm_at_a_site_is_marked_at_the_site() -> None:
    sc = load_scenario(ROOT / "scenarios" / "industrial-park" / "reactive.yaml")
    sensor = next(s for s in sc.site.sensors if s.attached_to in {w.id for w in sc.site.warehouses})
    scene = LiveScene(sc)
    base = {"type": "state", "site": sc.site.name, "version": 1, "clock": 5.0, "skus": [], "assets": {}}
    scene.apply({**base, "alarms": {}})
    r = Renderer((1100, 700))
    quiet = r.draw_network(scene.network())
    site_px = r.map_point(*scene.map.positions[sensor.attached_to])
    flag = (site_px[0], site_px[1] - 28)
    assert _pixel(quiet, flag) != ALARM
    scene.apply({**base, "version": 2, "alarms": {sensor.id: "high"}})
    snap = scene.network()
    assert [(a[0], a[3]) for a in snap.alarms] == [(sensor.attached_to, f"{sensor.id}: high")]
    loud = r.draw_network(snap)
    assert _pixel(loud, flag) == ALARM
    assert r.hit(flag) == ("alarm", f"{sensor.attached_to}: {sensor.id}: high")
    # A failed machine in the live state is down on the map too.
    asset = sc.site.assets[0].id
    scene.apply({**base, "version": 3, "alarms": {}, "assets": {asset: "failed"}})
    assert scene.network().machines[asset] == "down" and [a[0] for a in scene.network().alarms] == [asset]


def test_forklifts_agvs_technicians_and_machines_are_drawn_on_the_floor() -> None:
    sc = load_scenario(ROOT / "scenarios" / "floor" / "vehicles.yaml")
    scene = scene_of_run(sc, 3, 7 * 24.0)
    rows = scene.rows
    moves = rows[rows["type"] == "FloorMoved"]
    r = Renderer((1100, 700))
    seen = set()
    for _, mv in moves.iterrows():
        fields = dict(p.split("=", 1) for p in str(mv["info"]).split(" "))
        kind, route = fields["kind"], fields["stops"]
        if kind in seen or float(fields["travel"]) <= 0:
            continue
        target = tuple(int(v) for v in route.split(";")[1].split(","))
        # Half way out (a put-away or a technician's walk): between the dock and the target.
        half = float(mv["t"]) + float(fields["travel"]) / (2 if kind == "technician" else 4)
        snap = scene.floor("store", half)
        got = [m for m in snap.movers if m[0] == kind and m[1] == mv["item"]]
        assert len(got) == 1
        _, name, row, col = got[0]
        assert (round(row), round(col)) not in (scene.floors["store"].plan.depot, target)
        surf = r.draw_floor(snap)
        x, y = r.cell_centre(row, col)
        assert _pixel(surf, (x, y)) == MOVER_COLOURS[kind]
        assert r.hit((x, y)) == (kind, name)
        seen.add(kind)
    assert seen == {"forklift", "agv", "technician"}
    # Machines stand on their cells in their state's colour: down while failed.
    fail = rows[rows["type"] == "MachineFailed"].iloc[0]
    asset, t = str(fail["location"]), float(fail["t"])
    snap = scene.floor("store", t + 1e-6)
    surf = r.draw_floor(snap)
    cell = snap.machine_cells[asset]
    assert snap.machines[asset] == "down"
    assert _pixel(surf, r.cell_centre(*cell)) == MACHINE_COLOURS["down"]
    assert "forklift km" in snap.panel and "agv km" in snap.panel


# -- production machines and diverted vehicles (issue 8 point 2) ------------------------------------


def test_a_production_machine_reported_down_is_drawn_down_until_it_is_back_up() -> None:
    """A plant whose MES reports only machine states (MachineDown / MachineUp, an interrupted
    operation), not the maintenance events: the view follows them."""
    sc = load_scenario(ROOT / "scenarios" / "plant" / "baseline.yaml")
    out = run_replication(sc, sc.seed, 0, 20 * 24.0)
    maintenance = {"MachineFailed", "RepairStarted", "RepairCompleted", "AssetStopped", "AssetStarted",
                   "MaintenanceDone"}
    out.log.events = [e for e in out.log.events if type(e).__name__ not in maintenance]
    down = next(e for e in out.log.events if type(e).__name__ == "MachineDown" and e.reason == "failed")
    up = next(e for e in out.log.events if type(e).__name__ == "MachineUp" and e.machine == down.machine
              and e.t >= down.t)
    scene = Scene(sc, events_frame(out.log), sc.seed, 0, 20 * 24.0)
    r = Renderer((1100, 700))
    for t, expect in ((down.t - 1e-6, "running"), (down.t + 1e-6, "down"), (up.t + 1e-6, "running")):
        snap = scene.network(t)
        assert snap.machines[down.machine] == expect
        surf = r.draw_network(snap)
        rect = next(rect for rect, kind, ident in r.hits if kind == "machine" and ident == down.machine)
        assert _pixel(surf, rect.center) == MACHINE_COLOURS[expect]
    # An operation stopped part-way because its machine went for service: under maintenance.
    import pandas as pd

    serviced = pd.DataFrame({"t": [1.0], "type": ["OperationInterrupted"], "location": ["press1"],
                             "info": ["maintenance"]})
    assert Scene._machine_events(serviced) == [(1.0, "press1", "maintenance")]


def test_a_diverted_vehicle_is_drawn_on_its_new_path() -> None:
    from twin.training import OperatorSession, load_drill, load_script

    sc = load_drill(ROOT / "scenarios" / "drills" / "road-closure.yaml")
    session = OperatorSession(sc, script=load_script(ROOT / "tests" / "fixtures" / "drills" / "reroute.yaml", sc),
                              pace=0)
    out = session.run()
    diverted = next(e for e in out.log.events if type(e).__name__ == "VehicleDiverted")
    first = next(e for e in out.log.events if type(e).__name__ == "Delivered" and e.vehicle == diverted.vehicle)
    loaded = next(e for e in out.log.events if type(e).__name__ == "Rerouted" and e.reason == "emergency")
    assert diverted.t < first.t < loaded.t  # done at its stop, then to the urgent consignment's warehouse
    scene = Scene(sc, events_frame(out.log), sc.seed, 0, sc.horizon)
    mid = (first.t + loaded.t) / 2
    at = next(v for v in scene.network(mid).vehicles if v[0] == diverted.vehicle)
    # On the road from its stop to the warehouse it was diverted to (not on to its old next stop).
    expect = scene.map.along(first.node, diverted.warehouse, 0.5)
    np.testing.assert_allclose(at[1:], expect)
    old_next = scene.map.along(first.node, "op-e3", 0.5)
    assert np.hypot(expect[0] - old_next[0], expect[1] - old_next[1]) > 1.0
    r = Renderer((1100, 700))
    surf = r.draw_network(scene.network(mid))
    x, y = r.map_point(*expect)
    assert _pixel(surf, (x, y)) == VEHICLE and r.hit((x, y)) == ("vehicle", diverted.vehicle)
