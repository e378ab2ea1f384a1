"""`twin runs list / show / rm`: a face over the run registry (twin.store); no logic lives here."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from twin.cli_common import fail as _fail
from twin.cli_common import out
from twin.errors import TwinError
from twin.store import RunRecord, RunRegistry, default_home

__all__ = ["runs_app"]

runs_app = typer.Typer(no_args_is_help=True, help="Recorded runs and comparisons: list, show, remove.")

HEADLINE_KPIS = ("fill_rate", "total_cost")

HomeOption = Annotated[Path | None,
                       typer.Option("--home", help="registry folder (default: $TWIN_HOME or ./.twin)")]



def _registry(home: Path | None) -> RunRegistry:
    return RunRegistry(home if home is not None else default_home())


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, int):
        return str(x)
    ax = abs(float(x))
    return f"{x:,.4f}" if ax < 10 else f"{x:,.1f}" if ax < 1e5 else f"{x:,.0f}"


def _per_scenario(record: RunRecord) -> dict[str, dict[str, Any]]:
    """The summary as {scenario: {kpi: stats}}: a single run's {kpi: stats} goes under its one name."""
    summary = record.summary
    if not summary:
        return {}
    # A run's {kpi: stats} has numbers one level down; a comparison's {scenario: {kpi: stats}} has dicts.
    nested = all(isinstance(v, dict) and all(isinstance(s, dict) for s in v.values())
                 for v in summary.values())
    grouped = summary if nested else {record.names[0] if record.names else "": summary}
    return {scenario: {kpi: stats for kpi, stats in kpis.items() if isinstance(stats, dict)}
            for scenario, kpis in grouped.items() if isinstance(kpis, dict)}


def _headline(record: RunRecord, kpi: str) -> str:
    """The mean of one headline KPI, one line per scenario (matching the scenarios column)."""
    values = [stats[kpi].get("mean") if kpi in stats else None for stats in _per_scenario(record).values()]
    return "\n".join(_fmt(v) for v in values) or "-"


@runs_app.command("list")
def list_runs(
    home: HomeOption = None,
    limit: Annotated[int, typer.Option(min=1, help="most recent runs to show")] = 50,
) -> None:
    """List recorded runs, newest first."""
    try:
        records = _registry(home).list(limit)
    except TwinError as exc:
        _fail(str(exc))
        return
    if not records:
        out.print("no runs recorded yet")
        return
    # A simple box and one scenario per line keep the table readable in a narrow terminal.
    table = Table(title="runs", box=box.SIMPLE_HEAD, pad_edge=False)
    headline = [k for k in HEADLINE_KPIS if any(k in s for r in records for s in _per_scenario(r).values())]
    for name in ("id", "kind", "created (UTC)", "scenarios", "reps", "status", *headline):
        table.add_column(name, no_wrap=name in ("id", "kind", "status"), overflow="fold",
                         min_width=10 if name == "scenarios" else None,
                         justify="right" if name in headline else "left")
    for r in records:
        table.add_row(r.id, r.kind, r.created[:16].replace("T", " "), "\n".join(r.names),
                      "-" if r.replications is None else str(r.replications), r.status,
                      *(_headline(r, k) for k in headline))
    out.print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="run id or a unique prefix of it")],
    home: HomeOption = None,
) -> None:
    """Show everything recorded about a run: scenarios, hashes, code version, KPI summary, traces."""
    try:
        r = _registry(home).get(run_id)
    except TwinError as exc:
        _fail(str(exc))
        return
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    for label, value in (("id", r.id), ("kind", r.kind), ("created", r.created), ("status", r.status),
                         ("code version", r.code_version), ("seed", _fmt(r.seed)),
                         ("replications", _fmt(r.replications)), ("note", r.note or "-")):
        fields.add_row(label, value)
    for i, name in enumerate(r.names):
        hashes = r.file_hashes[i] if i < len(r.file_hashes) else {}
        fields.add_row(f"scenario {i + 1}", name)
        fields.add_row("  file", str(r.files[i]) if i < len(r.files) and r.files[i] else "-")
        fields.add_row("  file sha256", str(hashes.get("file") or "-"))
        fields.add_row("  scenario digest", str(hashes.get("scenario") or "-"))
    out.print(fields)

    per_scenario = _per_scenario(r)
    if per_scenario:
        table = Table(title="KPI summary")
        if len(per_scenario) > 1:
            table.add_column("scenario")
        for name in ("KPI", "mean", "95% CI", "n"):
            table.add_column(name, justify="left" if name == "KPI" else "right")
        for scenario, kpis in per_scenario.items():
            for kpi, stats in kpis.items():
                low, high = stats.get("ci_low"), stats.get("ci_high")
                ci = "-" if low is None or high is None else f"[{_fmt(low)}, {_fmt(high)}]"
                row = [kpi, _fmt(stats.get("mean")), ci, _fmt(stats.get("n"))]
                table.add_row(*([scenario, *row] if len(per_scenario) > 1 else row))
        out.print(table)
    else:
        out.print("KPI summary: none recorded")

    files = r.trace_files()
    missing = "" if r.traces.is_dir() else " (missing)"
    out.print(f"traces: {r.traces}{missing}", highlight=False, soft_wrap=True)
    for path in files:
        out.print(f"  {path.relative_to(r.traces)}  {path.stat().st_size:,} bytes", highlight=False)
    if r.traces.is_dir() and not files:
        out.print("  (no Parquet files)")


@runs_app.command("rm")
def remove_run(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="run id or a unique prefix of it")],
    home: HomeOption = None,
) -> None:
    """Remove a run from the registry together with its traces folder."""
    registry = _registry(home)
    try:
        n_files = len(registry.get(run_id).trace_files())
        r = registry.remove(run_id)
    except TwinError as exc:
        _fail(str(exc))
        return
    out.print(f"removed run {r.id} ({r.kind} of {', '.join(r.names)}) and {r.traces} "
              f"({n_files} trace file{'s' if n_files != 1 else ''})", highlight=False, soft_wrap=True)
