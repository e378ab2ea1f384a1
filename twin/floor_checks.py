"""Checks of warehouse floor grids (a dock or station that cannot be reached, a bin on a wall, ...),
called by the scenario loader so each problem is reported as FILE:LINE: path: message.

A problem at a cell of the grid points at the line of that row (the grid is written as a block,
``grid: |``, one text line per row); a problem with a fixed bin or a machine points at its ``bins``
or ``machines`` entry.
"""

from __future__ import annotations

from collections.abc import Callable

from twin.errors import Problem
from twin.model.floor import floor_issues
from twin.model.site import Site

__all__ = ["floor_problems"]

Locate = Callable[[tuple[str | int, ...]], tuple[str, int | None, str]]


def floor_problems(site: Site, locate: Locate) -> list[Problem]:
    """Every floor problem of every warehouse; ``locate(path)`` gives (file, line, shown path)."""
    items = {it.id for it in site.items}
    assets = {a.id for a in site.assets}
    problems: list[Problem] = []
    for n, wh in enumerate(site.warehouses):
        spec = wh.floor
        if spec is None:
            continue
        where = ("site", "warehouses", n, "floor")
        first = _first_row(spec.grid)
        for issue in floor_issues(spec, items, assets):
            if issue.item is not None:
                file, line, path = locate((*where, "bins", issue.item))
            elif issue.machine is not None:
                file, line, path = locate((*where, "machines", issue.machine))
            else:
                file, line, path = locate((*where, "grid"))
                if line is not None and issue.row is not None:
                    # 'grid: |' on line L: row r of the art is on line L + 1 + (blank lines) + r.
                    line += 1 + first + issue.row
            problems.append(Problem(file, line, path, issue.message))
    return problems


def _first_row(grid: str) -> int:
    """Blank lines before the grid's first row (they are skipped when it is read)."""
    lines = grid.split("\n")
    k = 0
    while k < len(lines) and not lines[k].strip():
        k += 1
    return k
