"""`twin regress`: a face over twin.regress (no logic lives here).

Exit codes: 0 no regression, 1 at least one KPI regressed, 2 bad input (a suite or scenario
problem, a missing baseline, or one recorded from another version of a scenario).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.errors import TwinError

__all__ = ["regress", "EXIT_REGRESSION", "EXIT_BAD_INPUT"]

EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2

# CI logs are not terminals: give the tables room rather than rich's 80-column fallback.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

_STYLE = {"regressed": "bold red", "improved": "green", "identical": "dim", "within tolerance": "",
          "no data": "yellow", "recorded": "cyan"}


def _bad_input(message: str) -> None:
    for line in message.splitlines():
        err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _write(path: Path, text: str) -> None:
    # A scratch file beside the target, then a rename: a reader never sees half a report.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is an ordinary file
        Path(tmp).replace(path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def regress(
    suite: Annotated[Path, typer.Argument(help="suite YAML file")] = Path("regress/suite.yaml"),
    update: Annotated[bool, typer.Option("--update", help="record the baselines instead of checking them")] = False,
    junit: Annotated[Path | None, typer.Option(help="write JUnit XML here (a test case per scenario and KPI)")] = None,
    markdown_file: Annotated[Path | None, typer.Option("--markdown", help="write a Markdown summary here")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="local processes (default: all cores)")] = None,
    cluster: Annotated[str | None, typer.Option(help="Dask scheduler tcp://HOST:PORT (or $TWIN_CLUSTER)")] = None,
) -> None:
    """Guard KPIs against policy changes: run a suite of scenarios with fixed seeds and compare
    each guarded KPI with its baseline (paired differences, 95% CIs, tolerances). Exit 1 on any
    regression, 2 on bad input."""
    from twin.regress import load_suite, run_suite
    from twin.regress_report import diff_text, fmt, junit_xml, markdown

    try:
        loaded = load_suite(suite)
        total = sum(e.replications for e in loaded.entries)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("replications", total=total)
            report = run_suite(loaded, update=update, workers=workers, cluster=cluster,
                               progress=lambda done, _: bar.update(task, completed=done))
    except TwinError as exc:
        _bad_input(str(exc))
        return
    for e in report.entries:
        if e.identical:
            out.print(f"[green]✓[/green] {e.name}: identical ({e.same_logs}/{e.replications} event logs unchanged, "
                      f"{len(e.kpis)} KPIs)", highlight=False)
            continue
        table = Table(title=f"{e.name} ({e.scenario})" + ("" if update else
                      f": {e.same_logs}/{e.replications} event logs unchanged"), title_justify="left")
        columns = (("KPI", "left"), ("baseline" if not update else "mean", "right"), ("now", "right"),
                   ("paired diff [95% CI]", "right"), ("tolerance", "right"), ("verdict", "left"))
        for name, justify in columns[:2] + columns[4:] if update else columns:
            table.add_column(name, justify=justify, no_wrap=name != "paired diff [95% CI]")  # type: ignore[arg-type]
        for c in e.kpis:
            style = _STYLE.get(c.status, "")
            verdict = f"[{style}]{c.status}[/{style}]" if style else c.status
            kpi = f"{c.kpi} {'↑' if c.better == 'higher' else '↓'}"
            if update:
                table.add_row(kpi, fmt(c.current_mean), c.tolerance, verdict)
            else:
                table.add_row(kpi, fmt(c.baseline_mean), fmt(c.current_mean), diff_text(c), c.tolerance, verdict)
        out.print(table)
    for e in report.entries:
        for note in e.notes:
            out.print(f"note: {e.name}: {note}", highlight=False, soft_wrap=True)
    if junit is not None:
        _write(junit, junit_xml(report))
    if markdown_file is not None:
        _write(markdown_file, markdown(report))
    for path in report.written:
        out.print(f"wrote {path}", highlight=False)
    out.print(f"{report.seconds:.1f} s on {report.executor}; code {report.code_version}", highlight=False)
    if report.regressions:
        for c in report.regressions:
            err.print(f"[bold red]REGRESSION[/bold red] {c.entry}: {c.explain()}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REGRESSION)
