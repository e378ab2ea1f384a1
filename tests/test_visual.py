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
from visual.render import AGENT, EMPTY, FULL, MACHINE_COLOURS, NO_ITEM, Renderer, fill_colour, pygame  # noqa: E402
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
