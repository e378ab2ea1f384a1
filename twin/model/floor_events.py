"""Floor events (issue 8): a picker's tour on a warehouse floor; a forklift's, AGV's or technician's
move on it (put-away, charging, a work order).

Emitted only for warehouses that have a floor, so the event log of a site without one is unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["PickTravelled", "FloorMoved", "MOVER_KINDS", "FLOOR_EVENTS", "floor_row", "HANDLERS", "parse_stops"]

MOVER_KINDS = ("forklift", "agv", "technician")


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


class FloorMoved(NamedTuple):
    """A forklift, an AGV or a technician (``kind``; ``agent`` is e.g. 'forklift-1', 'agv-2' or
    the technician's id) sets off on a warehouse floor for a ``task``: 'put_away' (dock to the
    lot's bin and back; ``ref`` is the lot), 'charge' (an AGV to a charging point and back) or
    'work_order' (a technician to a machine on the floor; ``ref`` is the work order). ``route`` is
    the cells it goes through in order (shortest paths between them), ``travel`` the hours moving,
    ``duration`` the hours it is busy (travel plus charging)."""

    t: float
    location: str
    kind: str
    agent: str
    task: str
    ref: int
    route: tuple[tuple[int, int], ...]
    distance_m: float
    travel: float
    duration: float


FLOOR_EVENTS: tuple[type, ...] = (PickTravelled, FloorMoved)


def _cells(cells: tuple[tuple[int, int], ...]) -> str:
    return ";".join(f"{r},{c}" for r, c in cells)


def floor_row(seq: int, ev: Any) -> tuple[Any, ...]:
    """The flat row. A tour: ``item`` is the picker, ``qty`` the metres walked, ``lot`` the lines
    picked, ``info`` the walk and pick hours and the stops (``r,c;r,c``), enough to replay the tour.
    A move: ``order`` is its ``ref``, ``item`` the agent, ``qty`` the metres, ``info`` the kind, the
    task, the hours and the route."""
    if type(ev) is FloorMoved:
        info = (f"kind={ev.kind} task={ev.task} travel={ev.travel!r} duration={ev.duration!r} "
                f"stops={_cells(ev.route)}")
        return (seq, ev.t, "FloorMoved", ev.ref, ev.agent, ev.location, -1, ev.distance_m, 0.0, 0.0, 0.0, 0.0, info)
    stops = _cells(ev.stops)
    info = f"travel={ev.travel!r} duration={ev.duration!r} stops={stops}"
    return (seq, ev.t, "PickTravelled", ev.order, str(ev.picker), ev.location, ev.lines, ev.distance_m,
            0.0, 0.0, 0.0, 0.0, info)


def parse_stops(text: str) -> tuple[tuple[int, int], ...]:
    """The stops of a flat row's info ('r,c;r,c') back as cells."""
    if not text:
        return ()
    return tuple((int(a), int(b)) for a, b in (p.split(",") for p in text.split(";")))


def _nothing(state: Any, event: Any) -> None:
    """A tour or a move changes no stock (the ``Picked`` that ends a tour and the ``PutAway`` a
    put-away move brings do)."""


HANDLERS: dict[type, Any] = {PickTravelled: _nothing, FloorMoved: _nothing}
