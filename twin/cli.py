"""The `twin` command: a thin face over load_scenario / simulate (no logic lives here)."""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.errors import ScenarioError, TwinError
from twin.model.durations import parse_duration

app = typer.Typer(add_completion=False, no_args_is_help=True, help="LEMS Twin: logistics simulation and digital twin.")
out = Console()
err = Console(stderr=True)


def fail(message: str) -> None:
    """Report a user error on one line per problem and exit 1: no traceback."""
    for line in message.splitlines():
        err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    ax = abs(x)
    return f"{x:,.4f}" if ax < 10 else f"{x:,.1f}" if ax < 1e5 else f"{x:,.0f}"


def kpi_table(title: str, summary: Any) -> Table:
    table = Table(title=title)
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for name, row in summary.iterrows():
        ci = "-" if math.isnan(row["ci_low"]) else f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
        table.add_row(str(name), _fmt(row["mean"]), ci)
    return table


def write_atomically(directory: Path, files: dict[str, Any]) -> None:
    """Write every file into a scratch folder first, then move them into place: a failure leaves
    nothing half written in the output folder."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".twin-", dir=directory.parent))
    try:
        for name, writer in files.items():
            writer(scratch / name)
        directory.mkdir(parents=True, exist_ok=True)
        for name in files:
            (scratch / name).replace(directory / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1, help="default: the scenario's")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="default: the scenario's")] = None,
    horizon: Annotated[str | None, typer.Option(help="simulated time with a unit, e.g. 90d")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for kpis.json and events.parquet")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="processes (default: all cores)")] = None,
) -> None:
    """Run a scenario over replications; print the KPI table; write kpis.json and events.parquet."""
    from twin.experiment import simulate
    from twin.scenario import load_scenario

    try:
        hours = parse_duration(horizon) if horizon is not None else None
    except ValueError as exc:
        fail(f"--horizon: {exc}")
    try:
        sc = load_scenario(scenario)
        n = replications or sc.replications
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task(f"{sc.name}: replications", total=n)
            result = simulate(sc, replications=n, seed=seed, horizon=hours, workers=workers,
                              progress=lambda done, total: bar.update(task, completed=done),
                              keep_events=out_dir is not None)
    except ScenarioError as exc:
        fail(str(exc))
        return
    except TwinError as exc:
        fail(str(exc))
        return
    out.print(kpi_table(f"{sc.name}: {n} replication(s), seed {result.seed}", result.summary))
    if out_dir is not None:
        write_atomically(out_dir, {
            "kpis.json": lambda p: p.write_text(json.dumps(result.to_json(), indent=2)),
            "events.parquet": lambda p: result.events.to_parquet(p, index=False),
        })
        out.print(f"wrote {out_dir / 'kpis.json'} and {out_dir / 'events.parquet'}")


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="scenario files")]) -> None:
    """Check scenario files; report every problem as FILE:LINE: path: message."""
    from twin.scenario import validate_files

    problems = validate_files(files)
    if problems:
        for p in problems:
            err.print(str(p), highlight=False, soft_wrap=True)
        err.print(f"{len(problems)} problem(s) in {len(files)} file(s)")
        raise typer.Exit(1)
    out.print(f"{len(files)} file(s) valid")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from twin.model.scenario import Scenario

    doc = Scenario.model_json_schema(by_alias=True)
    site = doc["properties"]["site"]
    doc["properties"]["site"] = {"anyOf": [{"type": "string", "description": "path of a site file"}, site]}
    doc["properties"]["extends"] = {"type": "string", "description": "base scenario file this one overlays"}
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def main() -> None:
    try:
        app()
    except TwinError as exc:  # pragma: no cover - commands catch their own
        fail(str(exc))


if __name__ == "__main__":
    main()
