"""Floor policies (issue 8): slotting (which bin holds which item) and pick-path ordering (in which
order a picker visits an order's bins). Pure functions of plain arrays, like Ciw's disciplines: the
floor model (``twin.sim.floor``) measures their effect as travel distance per pick and picks per hour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["abc_slotting", "random_slotting", "s_shape_order", "nearest_neighbour_order", "SLOTTING",
           "PICK_PATHS"]

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


PICK_PATHS = {"s_shape": s_shape_order, "nearest": nearest_neighbour_order}
