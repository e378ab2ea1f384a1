"""Floor policies (issue 8): slotting (which bin holds which item), pick-path ordering (in which
order a picker visits a tour's bins) and wave picking (orders released in waves, batched into picker
tours). Pure functions of plain arrays, like Ciw's disciplines: the floor model (``twin.sim.floor``)
measures their effect as travel distance per pick and picks per hour.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["abc_slotting", "random_slotting", "s_shape_order", "nearest_neighbour_order", "largest_gap_order",
           "SLOTTING", "PICK_PATHS", "next_wave", "batch_orders"]

Cell = tuple[int, int]


def _fill(ranked_items: Sequence[str], ranked_bins: Sequence[int] | np.ndarray, n_bins: int) -> dict[str, int]:
    """Items in rank order into bins in rank order; with more items than bins a bin holds several
    (its shelves), as evenly as possible."""
    per_bin = max(1, -(-len(ranked_items) // max(n_bins, 1)))
    return {item: int(ranked_bins[k // per_bin]) for k, item in enumerate(ranked_items)}


def abc_slotting(items: Sequence[str], popularity: np.ndarray, bin_distance: np.ndarray) -> dict[str, int]:
    """ABC (popularity-based) slotting: the most picked items go to the bins nearest the dock.

    ``popularity[k]`` is how often ``items[k]`` is picked (lines per day), ``bin_distance[b]`` the
    walk from the dock to bin ``b``. Ties are broken by item id and bin number (deterministic).
    Returns item -> bin number.
    """
    order = sorted(range(len(items)), key=lambda k: (-float(popularity[k]), items[k]))
    bins = np.lexsort((np.arange(len(bin_distance)), np.asarray(bin_distance)))
    return _fill([items[k] for k in order], bins, len(bin_distance))


def random_slotting(items: Sequence[str], popularity: np.ndarray, bin_distance: np.ndarray,
                    rng: np.random.Generator) -> dict[str, int]:
    """Random slotting (the reference ABC slotting is measured against): bins in a random order."""
    ranked = sorted(items)
    bins = rng.permutation(len(bin_distance))
    return _fill(ranked, bins, len(bin_distance))


SLOTTING = {"abc": abc_slotting, "random": random_slotting}


def s_shape_order(stops: Sequence[Cell], start: Cell, distance: Callable[[Cell, Cell], float]) -> list[Cell]:
    """S-shape (traversal) routing: visit the aisles (columns) holding picks from left to right,
    walking each one end to end, down the first, up the next, and so on."""
    del start, distance  # the S-shape follows the layout only
    by_col: dict[int, list[Cell]] = {}
    for s in stops:
        by_col.setdefault(s[1], []).append(s)
    out: list[Cell] = []
    for k, col in enumerate(sorted(by_col)):
        out.extend(sorted(by_col[col], reverse=bool(k % 2)))
    return out


def nearest_neighbour_order(stops: Sequence[Cell], start: Cell,
                            distance: Callable[[Cell, Cell], float]) -> list[Cell]:
    """Nearest neighbour: from where the picker is, always walk to the closest bin not yet visited
    (ties by cell, top-left first)."""
    left = sorted(set(stops))
    out: list[Cell] = []
    here = start
    while left:
        best = min(left, key=lambda s: (distance(here, s), s))
        left.remove(best)
        out.append(best)
        here = best
    return out


def largest_gap_order(stops: Sequence[Cell], start: Cell, distance: Callable[[Cell, Cell], float]) -> list[Cell]:
    """Largest gap routing (for racks between two cross aisles, the start on the front one): the
    first and last aisles (columns) with picks are walked end to end; every aisle between is
    entered from the front and from the back up to its largest gap between picks (front, picks,
    back), never crossing that gap. The picker goes out along the back and home along the front."""
    del distance  # the largest gap follows the layout only
    by_col: dict[int, list[Cell]] = {}
    for s in set(stops):
        by_col.setdefault(s[1], []).append(s)
    cols = sorted(by_col)
    if len(cols) <= 2:
        return s_shape_order(stops, start, lambda a, b: 0)
    front = min(s[0] for s in stops) - 1
    back = max(s[0] for s in stops) + 1
    first, *middle, last = cols
    near: dict[int, list[Cell]] = {}  # entered from the front
    far: dict[int, list[Cell]] = {}  # entered from the back
    for col in middle:
        picks = sorted(by_col[col])
        rows = [front, *(p[0] for p in picks), back]
        gaps = [rows[k + 1] - rows[k] for k in range(len(rows) - 1)]
        g = max(range(len(gaps)), key=lambda k: (gaps[k], -k))  # the largest gap is not walked
        near[col], far[col] = picks[:g], picks[g:]
    out = sorted(by_col[first])  # down the first aisle
    for col in middle:  # along the back, left to right: into each aisle from the back
        out.extend(sorted(far[col], reverse=True))
    out.extend(sorted(by_col[last], reverse=True))  # up the last aisle
    for col in reversed(middle):  # along the front, right to left: into each aisle from the front
        out.extend(sorted(near[col]))
    return out


PICK_PATHS = {"s_shape": s_shape_order, "nearest": nearest_neighbour_order, "largest_gap": largest_gap_order}


def next_wave(t: float, every: float) -> float:
    """When an order that comes in at ``t`` is released: the next wave (waves at 0, every, 2 every,
    ...); an order that comes in at a wave's time goes with that wave."""
    return math.ceil(t / every - 1e-9) * every


def batch_orders(stops: Sequence[Sequence[Cell]], size: int) -> list[list[int]]:
    """A wave's orders grouped into picker tours of at most ``size`` orders (order batching by
    aisle): orders sorted by the first aisle (column, then row) they need, so a tour serves orders
    in neighbouring aisles; orders with no stop last; ties by arrival. Returns order indices."""
    if size < 1:
        raise ValueError(f"a tour holds at least one order, got size {size}")
    far = (math.inf, math.inf)
    ranked = sorted(range(len(stops)),
                    key=lambda k: (min(((c, r) for r, c in stops[k]), default=far), k))
    return [ranked[i:i + size] for i in range(0, len(ranked), size)]
