"""`twin view`: the Pygame floor view of a scenario (a fresh run), of a recorded run (--replay) or of
a live twin (--live URL SCENARIO), in a window or headless as PNG frames (--frames DIR --every 1h).
A face: no logic here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from twin.cli_common import fail as _fail
from twin.cli_common import out

__all__ = ["register", "view"]




def view(
    scenario: Annotated[Path | None, typer.Argument(help="scenario YAML file (or use --replay RUN_ID)")] = None,
    replay: Annotated[str | None, typer.Option("--replay", help="a recorded run (id or prefix) to play")] = None,
    live: Annotated[str | None, typer.Option("--live", help="a live twin's URL (http://host:8000); SCENARIO is "
                                                            "the scenario file it runs")] = None,
    key: Annotated[str | None, typer.Option("--key", envvar="TWIN_API_KEY",
                                            help="API key (viewer) for --live")] = None,
    frames: Annotated[Path | None, typer.Option("--frames", help="headless: PNG frames and a GIF here")] = None,
    every: Annotated[str, typer.Option(help="simulated time between frames, with a unit")] = "1h",
    horizon: Annotated[str | None, typer.Option(help="simulated time to show, e.g. 7d")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="default: the scenario's (or the recorded run's)")] = None,
    level: Annotated[str, typer.Option(help="floor or network")] = "floor",
    warehouse: Annotated[str | None, typer.Option(help="the floor to show (default: the first with a floor)")] = None,
    max_frames: Annotated[int, typer.Option(min=1, help="at most this many frames")] = 2000,
    home: Annotated[Path | None, typer.Option(help="run registry folder (default $TWIN_HOME or ./.twin)")] = None,
) -> None:
    """Watch a scenario on its network map and floor: bins by fill level, pickers moving, KPIs.

    Headless (SDL_VIDEODRIVER=dummy) with --frames DIR: PNG frames every --every, and frames.gif;
    with --live, one frame of the live state (the first the twin streams)."""
    from twin.errors import TwinError
    from twin.model.durations import parse_duration

    if level not in ("floor", "network"):
        _fail(f"--level: expected floor or network, got {level!r}")
    if live is not None:
        if replay is not None or scenario is None:
            _fail("--live URL needs the SCENARIO file the live twin runs (for its map and floors), not --replay")
        _live(live, key, scenario, seed, level, warehouse, frames)  # type: ignore[arg-type]
        return
    if (scenario is None) == (replay is None):
        _fail("give a SCENARIO file or --replay RUN_ID (one of them)")
    try:
        step = parse_duration(every)
        hours = parse_duration(horizon) if horizon is not None else None
    except ValueError as exc:
        _fail(f"--every/--horizon: {exc}")
        return
    if step <= 0:
        _fail(f"--every: must be positive, got {every!r}")
    try:
        scene = _replay_scene(replay, home, hours) if replay is not None else _fresh_scene(scenario, seed, hours)
    except TwinError as exc:
        _fail(str(exc))
        return
    if warehouse is not None and warehouse not in scene.floors:
        _fail(f"--warehouse: {warehouse!r} has no floor; floors: {', '.join(scene.floors) or 'none'}")
    if frames is not None:
        from visual.frames import write_frames

        paths = write_frames(scene, frames, step, level, warehouse, max_frames=max_frames)
        gif = frames / "frames.gif"
        out.print(f"wrote {len(paths)} frames to {frames}" + (f" and {gif}" if gif.exists() else ""),
                  highlight=False)
        return
    from visual.app import run_window

    try:
        run_window(scene)
    except Exception as exc:  # no display: say so on one line
        _fail(f"cannot open a window ({exc}); use --frames DIR with SDL_VIDEODRIVER=dummy")


def _fresh_scene(path: Path | None, seed: int | None, hours: float | None) -> Any:
    from twin.scenario import load_scenario
    from visual.scene import scene_of_run

    assert path is not None
    sc = load_scenario(path)
    return scene_of_run(sc, seed if seed is not None else sc.seed, hours or sc.horizon)


def _replay_scene(run_id: str, home: Path | None, hours: float | None) -> Any:
    import pandas as pd

    from twin.errors import TwinError
    from twin.scenario import load_scenario
    from twin.store import RunRegistry, default_home
    from visual.scene import Scene

    record = RunRegistry(home or default_home()).get(run_id)
    files = record.trace_files()
    if not files or not record.files or record.files[0] is None:
        raise TwinError(f"run {record.id}: no recorded trace or scenario file to replay")
    sc = load_scenario(record.files[0])
    rows = pd.read_parquet(files[0])
    rep = int(files[0].stem.split("-")[1]) if files[0].stem.startswith("rep-") else 0
    horizon = hours or max(float(rows["t"].max()) if len(rows) else 0.0, sc.horizon)
    return Scene(sc, rows, record.seed if record.seed is not None else sc.seed, rep, horizon)


def _live(url: str, key: str | None, path: Path, seed: int | None, level: str, warehouse: str | None,
          frames: Path | None) -> None:
    from twin.errors import TwinError
    from twin.scenario import load_scenario
    from visual.live import LiveError, LiveFeed, LiveScene

    try:
        scene = LiveScene(load_scenario(path), seed)
    except TwinError as exc:
        _fail(str(exc))
        return
    if warehouse is not None and warehouse not in scene.floors:
        _fail(f"--warehouse: {warehouse!r} has no floor; floors: {', '.join(scene.floors) or 'none'}")
    feed = LiveFeed(url, key)
    try:
        feed.start()
        if frames is None:
            from visual.live import run_live_window

            try:
                run_live_window(scene, feed)
            except LiveError:
                raise  # said below, on one line
            except Exception as exc:  # no display: say so on one line
                _fail(f"cannot open a window ({exc}); use --frames DIR with SDL_VIDEODRIVER=dummy")
            return
        if not feed.wait(scene, lambda s: s.messages > 0, timeout=15.0):
            _fail(f"the live twin at {feed.shown} sent no state in 15 s")
        from visual.frames import write_live_frame

        shot = write_live_frame(scene, frames, level, warehouse)
        out.print(f"wrote {shot} (live state version {scene.version})", highlight=False)
    except LiveError as exc:
        _fail(str(exc))
    finally:
        feed.close()


def register(app: typer.Typer) -> None:
    app.command("view")(view)
