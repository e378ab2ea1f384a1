"""`twin solve cvrp FILE.vrp` and `twin solve jobshop FILE`: policy solvers on standard instance files
(a face; no logic here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.cli_common import err, out
from twin.cli_common import fail as _fail

__all__ = ["solve_app"]

solve_app = typer.Typer(no_args_is_help=True, help="Run a policy's solver on a standard instance file.")



@solve_app.command("cvrp")
def cvrp(
    file: Annotated[Path, typer.Argument(help="CVRPLIB instance (.vrp, EUC_2D)")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.001, help="solver time limit in seconds")] = 30.0,
    vehicles: Annotated[int | None, typer.Option(min=1, help="fleet size (default: bin-packing bound + 20%)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='print {"objective","routes","status","seconds"}')] = False,
) -> None:
    """Solve a CVRP instance with the OR-Tools routing policy; print cost, routes, status and seconds.

    Costs follow CVRPLIB (each edge rounded to the nearest integer); routes list customers numbered
    as in .sol files (the depot is 0 and not listed)."""
    from policies.dispatch import RoutingInputError, solve_cvrp
    from twin.model.vrplib import VrpFormatError, parse_vrp

    if not file.is_file():
        _fail(f"{file}: file not found")
    try:
        instance = parse_vrp(file.read_text(encoding="utf-8"), str(file))
        result = solve_cvrp(instance, time_limit=time_limit, vehicles=vehicles)
    except (VrpFormatError, RoutingInputError, UnicodeDecodeError) as exc:
        _fail(str(exc))
        return
    routes = [list(r) for r in result.used_routes]
    if as_json:
        sys.stdout.write(json.dumps({"objective": result.objective, "routes": routes, "status": result.status,
                                     "seconds": round(result.seconds, 3)}) + "\n")
    else:
        out.print(f"{instance.name}: cost {result.objective}  status {result.status}  "
                  f"{len(routes)} routes  {result.seconds:.2f} s", highlight=False)
        for k, route in enumerate(routes, start=1):
            out.print(f"Route #{k}: {' '.join(map(str, route))}", highlight=False)
    if result.unserved:
        for node, reason in result.unserved:
            err.print(f"unserved: customer {node}: {reason}", highlight=False)
    if result.objective is None:
        raise typer.Exit(2)


@solve_app.command("jobshop")
def jobshop(
    file: Annotated[Path, typer.Argument(help="job-shop instance (OR-Library / JSPLIB text format)")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.001, help="solver time limit in seconds")] = 60.0,
    workers: Annotated[int, typer.Option(min=1, help="CP-SAT worker threads")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help='print {"objective","status","seconds"}')] = False,
) -> None:
    """Minimise the makespan of a job-shop instance with the CP-SAT scheduler; print makespan,
    solver status (OPTIMAL when proven) and seconds. The file is read by policies.scheduling.parse_jobshop."""
    from policies.scheduling import SchedulingError, parse_jobshop, solve_cp_sat

    if not file.is_file():
        _fail(f"{file}: file not found")
    try:
        jobs = parse_jobshop(file.read_text(encoding="utf-8"), str(file))
        result = solve_cp_sat(jobs, objective="makespan", time_limit=time_limit, workers=workers)
    except UnicodeDecodeError as exc:
        _fail(f"{file}:1: not a text file ({exc.reason})")
        return
    except SchedulingError as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(json.dumps({"objective": result.makespan, "status": result.status,
                                     "seconds": round(result.seconds, 3)}) + "\n")
    else:
        bound = f"  bound {result.bound:g}" if result.bound is not None else ""
        out.print(f"{file.stem}: makespan {result.makespan}  status {result.status}{bound}  "
                  f"{result.seconds:.2f} s", highlight=False)
