"""Floor events (issue 8): a picker's tour on a warehouse floor.

Emitted only for warehouses that have a floor, so the event log of a site without one is unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["PickTravelled", "FLOOR_EVENTS", "floor_row", "HANDLERS", "parse_stops"]


class PickTravelled(NamedTuple):
    """A picker starts the tour of an order's picks: from the dock through ``stops`` (the aisle
    cells the bins are picked from, in the pick-path order) and back. ``travel`` is the walk in
    hours (congestion included), ``duration`` the whole pick (walk plus handling per line); the
    order's ``Picked`` follows ``duration`` hours later."""

    t: float
    order: int
    location: str
    picker: int
    distance_m: float
    travel: float
    duration: float
    lines: int
    stops: tuple[tuple[int, int], ...]


FLOOR_EVENTS: tuple[type, ...] = (PickTravelled,)


def floor_row(seq: int, ev: Any) -> tuple[Any, ...]:
    """The flat row: ``item`` is the picker, ``qty`` the metres walked, ``lot`` the lines picked,
    ``info`` the walk and pick hours and the stops (``r,c;r,c``), enough to replay the tour."""
    stops = ";".join(f"{r},{c}" for r, c in ev.stops)
    info = f"travel={ev.travel!r} duration={ev.duration!r} stops={stops}"
    return (seq, ev.t, "PickTravelled", ev.order, str(ev.picker), ev.location, ev.lines, ev.distance_m,
            0.0, 0.0, 0.0, 0.0, info)


def parse_stops(text: str) -> tuple[tuple[int, int], ...]:
    """The stops of a flat row's info ('r,c;r,c') back as cells."""
    if not text:
        return ()
    return tuple((int(a), int(b)) for a, b in (p.split(",") for p in text.split(";")))


def _nothing(state: Any, event: Any) -> None:
    """A tour moves no stock (the ``Picked`` that ends it does)."""


HANDLERS: dict[type, Any] = {PickTravelled: _nothing}
