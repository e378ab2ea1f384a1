"""The `twin` command: a thin face over load_scenario / simulate (no logic lives here)."""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.cli_common import err, fail, out
from twin.errors import TwinError
from twin.model.durations import parse_duration

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True, help="LEMS Twin: logistics simulation and digital twin.")


def warn(lines: list[str]) -> None:
    """Print warnings in yellow; a line already 'FILE:LINE: path: warning: ...' is shown as is."""
    from rich.markup import escape

    for w in lines:
        text = escape(w) if ": warning: " in w else f"warning: {escape(w)}"
        err.print(f"[yellow]{text}[/yellow]", highlight=False, soft_wrap=True)


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
    cluster: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (or $TWIN_CLUSTER)")] = None,
    home: Annotated[Path | None, typer.Option(help="run registry folder (default $TWIN_HOME or ./.twin)")] = None,
) -> None:
    """Run a scenario over replications; print the KPI table; write kpis.json and events.parquet."""
    from twin.executors import make_executor
    from twin.experiment import simulate
    from twin.scenario import load_scenario, scenario_digest, scenario_warnings
    from twin.store import summary_to_dict

    try:
        hours = parse_duration(horizon) if horizon is not None else None
    except ValueError as exc:
        fail(f"--horizon: {exc}")
    try:
        sc = load_scenario(scenario)
        warn(scenario_warnings(sc))
        n = replications or sc.replications
        registry = _registry(home)
        record = registry.new_run("run", [sc.name], [str(scenario)], [scenario_digest(sc)],
                                  seed if seed is not None else sc.seed, n)
        with _progress("run") as bar:
            task = bar.add_task(f"{sc.name}: replications", total=n)
            executor = make_executor(workers, cluster)
            try:
                # Events stream to the run's trace folder, one Parquet file per replication.
                result = simulate(sc, replications=n, seed=seed, horizon=hours, executor=executor,
                                  progress=lambda done, total: bar.update(task, completed=done),
                                  keep_events=False, trace_dir=record.traces)
            except BaseException as exc:
                registry.finish(record.id, {}, status="cancelled" if isinstance(exc, KeyboardInterrupt) else "failed")
                raise
            finally:
                executor.close()
    except TwinError as exc:
        fail(str(exc))
        return
    out.print(kpi_table(f"{sc.name}: {n} replication(s), seed {result.seed}", result.summary))
    registry.finish(record.id, summary_to_dict(result.summary))
    if out_dir is not None:
        payload = result.to_json() | {"run_id": record.id, "warnings": scenario_warnings(sc)}
        write_atomically(out_dir, {
            "kpis.json": lambda p: p.write_text(json.dumps(payload, indent=2)),
            "events.parquet": lambda p: _merge_traces(sorted(record.traces.glob("rep-*.parquet")), p),
        })
        out.print(f"wrote {out_dir / 'kpis.json'} and {out_dir / 'events.parquet'}")
    out.print(f"run {record.id} recorded; traces in {record.traces}", highlight=False)


def _merge_traces(files: list[Path], target: Path) -> None:
    """One Parquet file of every replication's events (with a replication column), written
    file by file so a long run never sits in memory whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for f in files:
            table = pq.read_table(f)
            rep = int(f.stem.split("-")[1])
            table = table.append_column("replication", pa.array([rep] * table.num_rows, pa.int64()))
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def _registry(home: Path | None) -> Any:
    from twin.store import RunRegistry, default_home

    return RunRegistry(home or default_home())


def _progress(label: str) -> Progress:
    # No bar when stderr is not a terminal (CI logs, pipes): it would only leave blank lines.
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)


def _recorded(registry: Any, record: Any, label: str, work: Callable[[Callable[[int, int], None]], T]) -> T:
    """Run ``work(progress)`` under a progress bar; a failure or Ctrl-C marks the recorded run so."""
    with _progress(label) as bar:
        task = bar.add_task(f"{label}: replications", total=None)
        try:
            return work(lambda done, total: bar.update(task, completed=done, total=total))
        except BaseException as exc:
            registry.finish(record.id, {}, status="cancelled" if isinstance(exc, KeyboardInterrupt) else "failed")
            raise


def _direction_word(kpi: str, diff: float) -> str:
    from twin.comparison import KPI_DIRECTION

    if diff == 0 or math.isnan(diff):
        return ""
    return "better" if diff * KPI_DIRECTION[kpi] > 0 else "worse"


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="two or more scenario files; the first is the reference")],
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=2, help="default: the largest of the scenarios'")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="default: the first scenario's")] = None,
    precision: Annotated[float | None, typer.Option(help="add replications until every KPI's CI half-width is within this fraction of its mean")] = None,
    max_replications: Annotated[int, typer.Option(min=2, help="cap for --precision")] = 100,
    warmup: Annotated[str | None, typer.Option(help="a duration (30d) or 'auto' (MSER-5); default: each file's own")] = None,
    rank_by: Annotated[str, typer.Option(help="KPI for subset selection of the best (3+ scenarios)")] = "total_cost",
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for report.html, comparison.json, kpis.csv")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="local processes (default: all cores)")] = None,
    cluster: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (or $TWIN_CLUSTER)")] = None,
    home: Annotated[Path | None, typer.Option(help="run registry folder (default $TWIN_HOME or ./.twin)")] = None,
) -> None:
    """Compare scenarios over the same replications (common random numbers): KPI means with 95% CIs,
    paired differences against the first, subset selection of the best, and an HTML report."""
    from twin.comparison import compare as run_compare
    from twin.report import render_comparison_html
    from twin.scenario import load_scenario, scenario_digest

    try:
        wu: float | str | None = None
        if warmup is not None:
            wu = "auto" if warmup == "auto" else parse_duration(warmup)
    except ValueError as exc:
        fail(f"--warmup: {exc}")
    if len(scenarios) < 2:
        fail("compare needs at least two scenario files")
    try:
        loaded = [load_scenario(p) for p in scenarios]
        registry = _registry(home)
        record = registry.new_run("compare", [s.name for s in loaded], [str(p) for p in scenarios],
                                  [scenario_digest(s) for s in loaded], seed if seed is not None else loaded[0].seed,
                                  replications or max(s.replications for s in loaded))
        result = _recorded(registry, record, "compare", lambda progress: run_compare(
            loaded, replications=replications, seed=seed, precision=precision, max_replications=max_replications,
            warmup=wu, rank_kpi=rank_by, workers=workers, cluster=cluster, trace_dir=record.traces,
            progress=progress))
    except TwinError as exc:
        fail(str(exc))
        return
    warn(result.warnings)
    table = Table(title=f"{' vs '.join(result.names)}: {result.replications} paired replications, seed {result.seed}")
    table.add_column("KPI")
    for name in result.names:
        table.add_column(name, justify="right")
    for name in result.names[1:]:
        table.add_column(f"{name} - {result.names[0]}", justify="right")
    kpi_names = list(dict.fromkeys(result.summary.index.get_level_values("kpi")))
    for k in kpi_names:
        cells = []
        for name in result.names:
            row = result.summary.loc[(name, k)]
            ci = "" if math.isnan(row["ci_low"]) else f" ±{_fmt(row['half_width'])}"
            cells.append(f"{_fmt(row['mean'])}{ci}")
        for name in result.names[1:]:
            d = result.differences.loc[(name, k)]
            mark = f" [bold]{_direction_word(k, d['diff'])}[/bold]" if d["significant"] else " (n.s.)"
            cells.append(f"{_fmt(d['diff'])} [{_fmt(d['ci_low'])}, {_fmt(d['ci_high'])}]{mark}")
        table.add_row(k, *cells)
    out.print(table)
    out.print(f"warm-up: {result.warmup.method}: {result.warmup.detail}", highlight=False)
    if result.precision.target is not None:
        state = "reached" if result.precision.reached else f"NOT reached (cap {result.precision.cap} hit)"
        out.print(f"precision {result.precision.target:.0%}: {state} with {result.replications} replications")
    if result.ranking is not None:
        r = result.ranking
        out.print(f"best by {r.kpi} ({r.procedure}, alpha {r.alpha}): could be best: {', '.join(r.could_be_best)}"
                  + (f"; statistically not best: {', '.join(r.not_best)}" if r.not_best else ""), highlight=False)
    target = out_dir or Path("out") / ("compare-" + "-vs-".join(_slug(n) for n in result.names))
    payload = result.to_json() | {"run_id": record.id}
    from twin.store import summary_to_dict

    payload["summary"] = summary_to_dict(result.summary)
    write_atomically(target, {
        "report.html": lambda p: p.write_text(render_comparison_html(result), encoding="utf-8"),
        "comparison.json": lambda p: p.write_text(json.dumps(payload, indent=2)),
        "kpis.csv": lambda p: result.kpis.to_csv(p),
    })
    registry.finish(record.id, payload["summary"])
    out.print(f"report: {target / 'report.html'}   (run {record.id}; traces in {record.traces})")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")[:40]


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario file to vary")],
    param: Annotated[list[str], typer.Option("--param", "-p", help="PATH=V1,V2,... (repeat for more parameters)")],
    samples: Annotated[int | None, typer.Option(min=1, help="Latin hypercube sample of N points instead of the full grid")] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1)] = None,
    seed: Annotated[int | None, typer.Option(min=0)] = None,
    x: Annotated[str, typer.Option(help="KPI on the x axis of the trade-off")] = "fill_rate",
    y: Annotated[str, typer.Option(help="KPI on the y axis of the trade-off")] = "total_cost",
    out_dir: Annotated[Path | None, typer.Option("--out", help="folder for sweep.csv, sweep.png, sweep.html")] = None,
    workers: Annotated[int | None, typer.Option(min=1)] = None,
    cluster: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (or $TWIN_CLUSTER)")] = None,
    home: Annotated[Path | None, typer.Option(help="run registry folder (default $TWIN_HOME or ./.twin)")] = None,
) -> None:
    """Run a grid (or Latin hypercube) of parameter values; one row of KPI means and CIs per point,
    and the trade-off plot with the Pareto-efficient points marked."""
    from twin.report import render_sweep_html, sweep_plot_png
    from twin.scenario import load_scenario, scenario_digest
    from twin.sweep import apply_overrides, grid_points, lhs_points, parse_param
    from twin.sweep import sweep as run_sweep

    try:
        sc = load_scenario(scenario)
        params = [parse_param(p) for p in param]
        # Check every path before anything runs or is recorded.
        for point in (lhs_points(params, 1, sc.seed) if samples else grid_points(params))[:1]:
            apply_overrides(sc, point)
        registry = _registry(home)
        record = registry.new_run("sweep", [sc.name], [str(scenario)], [scenario_digest(sc)],
                                  seed if seed is not None else sc.seed, replications or sc.replications)
        result = _recorded(registry, record, "sweep", lambda progress: run_sweep(
            sc, params, samples=samples, replications=replications, seed=seed, x=x, y=y, workers=workers,
            cluster=cluster, trace_dir=record.traces, progress=progress))
    except TwinError as exc:
        fail(str(exc))
        return
    table = Table(title=f"{sc.name}: {len(result.table)} points x {result.replications} replications")
    for name in result.params:
        table.add_column(name.rsplit(".", 1)[-1])
    for k in (x, y):
        table.add_column(f"{k} (95% CI)", justify="right")
    table.add_column("Pareto")
    for _, row in result.table.iterrows():
        cells = [str(row[p]) for p in result.params]
        for k in (x, y):
            cells.append(f"{_fmt(row[f'{k}_mean'])} [{_fmt(row[f'{k}_ci_low'])}, {_fmt(row[f'{k}_ci_high'])}]")
        cells.append("*" if row["pareto"] else "")
        table.add_row(*cells)
    out.print(table)
    target = out_dir or Path("out") / f"sweep-{_slug(sc.name)}"
    write_atomically(target, {
        "sweep.csv": lambda p: result.table.to_csv(p, index=False),
        "sweep.png": lambda p: sweep_plot_png(result.table, x, y, result.pareto, p),
        "sweep.html": lambda p: p.write_text(
            render_sweep_html(result.table, x, y, result.pareto, result.params), encoding="utf-8"),
    })
    summary = {f"point {int(r['point'])}": {k: r[f"{k}_mean"] for k in (x, y)} for _, r in result.table.iterrows()}
    registry.finish(record.id, summary)
    out.print(f"wrote {target / 'sweep.csv'}, {target / 'sweep.png'}, {target / 'sweep.html'}   (run {record.id})")


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="scenario files")]) -> None:
    """Check scenario files; report every problem as FILE:LINE: path: message."""
    from twin.scenario import validate_files

    warnings: list[str] = []
    problems = validate_files(files, warnings)
    warn(warnings)
    if problems:
        for p in problems:
            err.print(str(p), highlight=False, soft_wrap=True)
        err.print(f"{len(problems)} problem(s) in {len(files)} file(s)")
        raise typer.Exit(1)
    out.print(f"{len(files)} file(s) valid")


@app.command()
def schema(events: Annotated[bool, typer.Option("--events", help="the live event envelope instead")] = False) -> None:
    """Print the JSON Schema of scenario files (for editor completion), or with --events of live events."""
    from twin.model.scenario import Scenario

    if events:
        from twin.live_schema import event_json_schema

        sys.stdout.write(json.dumps(event_json_schema(), indent=2) + "\n")
        return

    doc = Scenario.model_json_schema(by_alias=True)
    site = doc["properties"]["site"]
    doc["properties"]["site"] = {"anyOf": [{"type": "string", "description": "path of a site file"}, site]}
    doc["properties"]["extends"] = {"type": "string", "description": "base scenario file this one overlays"}
    # A file that extends another inherits name, site and horizon: the loader checks the merged
    # scenario, so the editor schema must not demand them in every file.
    doc.pop("required", None)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def _mount() -> None:
    from twin.cli_runs import runs_app
    from twin.cli_solve import solve_app

    app.add_typer(runs_app, name="runs", help="The run registry: list, show and remove recorded runs.")
    app.add_typer(solve_app, name="solve", help="Solvers on standard instance files: twin solve cvrp FILE.vrp, twin solve jobshop FILE.")
    from twin.cli_regress import regress

    app.command("regress")(regress)
    from twin.cli_forecast import register as register_forecast

    register_forecast(app)
    from twin.cli_live import mount as mount_live  # serve, live, keys, audit, trace (issue 7)

    mount_live(app)
    from twin.cli_view import register as register_view  # view (issue 8)

    register_view(app)
    from twin.cli_train import register as register_train  # train (issue 8, operator training)

    register_train(app)


_mount()


def main() -> None:
    try:
        app()
    except TwinError as exc:  # pragma: no cover - commands catch their own
        fail(str(exc))


if __name__ == "__main__":
    main()
