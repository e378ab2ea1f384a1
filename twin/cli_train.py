"""`twin train DRILL.yaml`: an operator drill in the view (or a scripted operator, --headless), scored
against the automatic policy on the same random numbers; the session is saved for review. A face:
the work is in twin.training (and visual.training for the window)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from twin.cli_common import fail as _fail
from twin.cli_common import out

__all__ = ["register", "train"]




def _num(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:,.4f}" if abs(x) < 10 else f"{x:,.1f}"


def train(
    drill: Annotated[Path, typer.Argument(help="drill file (a scenario with a 'drill:' block), e.g. "
                                          "scenarios/drills/pump-breakdown.yaml")],
    script: Annotated[Path | None, typer.Option("--script", help="a scripted operator: YAML list of timed "
                                                "commands (actions: [{at: 6h, do: dispatch, asset: pump-3}])")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="no window: the script (or nobody) operates, "
                                           "at full speed")] = False,
    seed: Annotated[int | None, typer.Option(min=0, help="default: the drill's")] = None,
    pace: Annotated[str | None, typer.Option(help="simulated time per wall second in the view, e.g. 2h "
                                             "(default: the drill's)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="session folder (default "
                                                 "out/drills/<drill>-<timestamp>/)")] = None,
    home: Annotated[Path | None, typer.Option(help="run registry folder (default $TWIN_HOME or ./.twin)")] = None,
) -> None:
    """Run an operator drill and score it against the automatic policy (same seed).

    In the window: space pause, +/- pace, click a machine then T dispatch a technician, I / P pick and
    order an item (X: a transfer to a depot from its source warehouse), V / R pick and send a vehicle
    (R on a vehicle under way re-routes it to the most urgent waiting consignment), Esc end the drill
    (the rest runs automatically at full speed with no more commands). Writes scorecard.json,
    actions.json and events.parquet."""
    from twin.errors import TwinError
    from twin.model.durations import parse_duration
    from twin.store import RunRegistry, default_home
    from twin.training import OperatorSession, finish, load_drill, load_script, save_session

    try:
        hours_per_second = parse_duration(pace) if pace is not None else None
    except ValueError as exc:
        _fail(f"--pace: {exc}")
        return
    if hours_per_second is not None and hours_per_second <= 0:
        _fail(f"--pace: must be positive, got {pace!r}")
    try:
        scenario = load_drill(drill)
        commands = load_script(script, scenario) if script is not None else []
        d = scenario.drill
        assert d is not None
        out.print(f"[bold]{d.title}[/bold] ({scenario.name}, {d.operator.replace('_', ' ')})", highlight=False)
        if d.briefing:
            out.print(d.briefing, highlight=False)
        if headless and not commands:
            out.print("no --script: nobody operates; the scorecard shows what doing nothing costs",
                      highlight=False)
        session = OperatorSession(scenario, seed, commands, 0.0 if headless else hours_per_second)
        if headless:
            session.run()
        else:
            from visual.training import run_training_window

            try:
                run_training_window(session)
            except TwinError:
                raise
            except Exception as exc:  # no display: say so on one line
                _fail(f"cannot open a window ({exc}); use --headless with --script ACTIONS.yaml")
                return
        result = finish(session, progress=lambda text: out.print(text, highlight=False))
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        folder = out_dir or Path("out") / "drills" / f"{drill.stem}-{stamp}"
        run_id = save_session(result, folder, drill, RunRegistry(home or default_home()))
    except TwinError as exc:
        _fail(str(exc))
        return
    card = result.card
    table = Table(title=f"{card.drill}: operator vs automatic policy (seed {card.seed})")
    for col, justify in (("KPI", "left"), ("weight", "right"), ("operator", "right"), ("automatic", "right"),
                         ("points", "right"), ("", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in card.rows:
        colour = {"better": "green", "worse": "red", "none": "red"}.get(r.better, "white")
        table.add_row(r.kpi, f"{r.weight:g}", _num(r.operator), _num(r.automatic),
                      "-" if math.isnan(r.points) else f"{r.points:+.2f}", f"[{colour}]{r.better}[/{colour}]")
    out.print(table)
    accepted = sum(1 for r in result.records if r.outcome == "accepted")
    out.print(f"score {card.score:+.1f} (0 = as good as the automatic policy, +100 best): {card.verdict}; "
              f"{accepted} of {len(result.records)} operator command(s) carried out", highlight=False)
    out.print(f"session saved to {folder} (run {run_id}; review with `twin view --replay {run_id}`)",
              highlight=False)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
