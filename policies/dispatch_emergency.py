"""Emergency dispatch (pure): where an emergency order is served from, and which vehicle is diverted
to an urgent consignment no idle vehicle at its warehouse can take.

- ``emergency_source``: the order's own warehouse when it holds the stock; otherwise the warehouse
  nearest to the demand point by travel time (minutes on the open roads at the hour's congestion,
  not km) that holds it all; the goods are picked and loaded there.
- ``divert_for_emergencies``: the vehicle that can deliver the consignment soonest (one under way,
  once it is done at the node it heads to, or one idle at another warehouse) loads it and delivers
  it next; the stops still on board follow, re-sequenced from there (``resequence``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from twin.model.fleet_actions import ConsignmentView, DivertVehicle, FleetObservation, VehicleView

__all__ = ["emergency_source", "divert_for_emergencies", "resequence"]


def emergency_source(node: str, lines: Sequence[tuple[str, float]], own: str | None,
                     free: Mapping[tuple[str, str], float], travel_minutes: np.ndarray,
                     node_index: Mapping[str, int]) -> str | None:
    """The warehouse an emergency order of ``lines`` for demand point ``node`` is placed at.

    ``free`` is the unreserved stock on hand per (item, warehouse) for every warehouse that stocks
    the item; ``own`` the warehouse that normally serves ``node`` (None: it has none). In turn:

    1. ``own``, when it holds every line;
    2. the warehouse with the shortest travel time to ``node`` that holds every line;
    3. ``own``, when it stocks every item (the order waits there as a backorder);
    4. the nearest warehouse that stocks every item (same);

    None when no warehouse with an open road to ``node`` stocks them all. Ties go to the warehouse id.
    """
    stocking = sorted({wh for (_, wh) in free if all((i, wh) in free for i, _ in lines)})

    def holds(wh: str) -> bool:
        return all(free[(i, wh)] >= q - 1e-9 for i, q in lines)

    def minutes(wh: str) -> int:
        if wh not in node_index or node not in node_index:
            return -1
        return 0 if wh == node else int(travel_minutes[node_index[wh], node_index[node]])

    reachable = [(minutes(wh), wh) for wh in stocking if minutes(wh) >= 0]
    if own in stocking and holds(own):
        return own
    holding = [(m, wh) for m, wh in reachable if holds(wh)]
    if holding:
        return min(holding)[1]
    if own in stocking:
        return own
    return min(reachable)[1] if reachable else None


def _minutes(obs: FleetObservation, a: str, b: str) -> int:
    m = int(obs.travel_minutes[obs.node_index[a], obs.node_index[b]])
    return m if m >= 0 or a == b else -1


def resequence(obs: FleetObservation, start: str, stops: Sequence[ConsignmentView]) -> tuple[int, ...]:
    """The stops in the order a driver re-plans them from ``start``: the most urgent priority first,
    the nearest of those next (by travel time; stops with no open road last)."""
    left = list(stops)
    order: list[int] = []
    at = start
    while left:
        def key(c: ConsignmentView, at: str = at) -> tuple[int, int, int]:
            m = _minutes(obs, at, c.destination)
            return (c.priority, m if m >= 0 else 10**9, c.id)

        nxt = min(left, key=key)
        left.remove(nxt)
        order.append(nxt.id)
        at = nxt.destination
    return tuple(order)


def divert_for_emergencies(obs: FleetObservation, routed: set[int] = frozenset(),  # type: ignore[assignment]
                           busy: set[str] = frozenset()) -> list[DivertVehicle]:  # type: ignore[assignment]
    """For each waiting priority-1 consignment not in ``routed``: the vehicle (not in ``busy``) that
    can deliver it soonest, with room for it, by the travel-time matrix:

    - under way: done at the node it heads to (``free_at``), then to the consignment's warehouse,
      load, and on to its destination; its other stops follow, re-sequenced from there;
    - idle at another warehouse: from its depot to the consignment's warehouse, load, deliver.

    Idle vehicles at the consignment's own warehouse were offered it by the wave's routing first;
    reaching here means none of them could take it (none idle, or none with room)."""
    now_min = obs.now * 60.0
    carried = {c.id: c for c in obs.carried}
    out: list[DivertVehicle] = []
    used = set(busy)
    for c in sorted((c for c in obs.consignments if c.priority == 1 and c.id not in routed),
                    key=lambda c: (c.window[1], c.id)):
        best: tuple[float, str, VehicleView] | None = None
        for v in obs.vehicles:
            if v.id in used or v.load_weight + c.weight > v.capacity_weight + 1e-9 or \
                    v.load_volume + c.volume > v.capacity_volume + 1e-9:
                continue
            if v.heading is not None:
                start, leave = v.heading, max(v.free_at * 60.0, now_min)
            elif v.idle and v.at != c.origin:
                start, leave = v.at, now_min
            else:
                continue
            to_wh = _minutes(obs, start, c.origin)
            to_node = _minutes(obs, c.origin, c.destination)
            if to_wh < 0 or to_node < 0:
                continue
            arrive = leave + to_wh + v.load_minutes + to_node
            if best is None or (arrive, v.id) < (best[0], best[1]):
                best = (arrive, v.id, v)
        if best is None:
            continue
        v = best[2]
        rest = resequence(obs, c.destination, [carried[s] for s in v.stops if s in carried])
        out.append(DivertVehicle(v.id, c.id, c.origin, rest))
        used.add(v.id)
    return out

