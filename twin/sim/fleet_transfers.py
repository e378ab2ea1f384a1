"""Transfers between warehouses carried by the fleet (issue 5): a depot replenished from another
warehouse (the network's ``sources``) gets what its inventory policy orders as transfers, not
purchase orders.

- The order is picked at the source warehouse at once, first expiring lots first (the allocation
  policy's order), in loads the largest vehicle based there can carry; each load is one
  ``TransferShipped`` (the units leave the source's stock and are on order, in transit, at the
  destination) and one consignment waiting at the source's dock.
- The dispatch policy routes it like any consignment: a vehicle loads it at the source's dock,
  drives, and unloads it at a dock of the destination, where ``TransferReceived`` makes it a lot on
  hand there (backorders waiting for it are served, its expiry is watched).
- What the source cannot give (not enough free stock, or no vehicle based there) is an
  ``ActionRejected`` naming the shortfall; the policy's next review sees the position without it.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

from twin.model import events as E
from twin.model.network import DepotSource

if TYPE_CHECKING:
    from twin.sim.fleet import FleetModel

__all__ = ["DepotTransfers"]


class DepotTransfers:
    def __init__(self, fleet: FleetModel) -> None:
        self.fleet = fleet
        self.engine = fleet.engine
        site = self.engine.scenario.site
        assert site.network is not None
        skus = self.engine.state.skus
        self.sources: dict[tuple[str, str], DepotSource] = {}  # (item, depot) -> where it comes from
        for src in site.network.sources:
            items = src.items or [it.id for it in site.items
                                  if (it.id, src.warehouse) in skus and (it.id, src.source) in skus]
            for item in items:
                self.sources[(item, src.warehouse)] = src
        # consignment -> (transfer, item, destination, qty, expiry) of the transfer it carries
        self.cargo: dict[int, tuple[int, str, str, float, float | None]] = {}
        self._next = 0

    def source_of(self, item: str, location: str) -> str | None:
        """The warehouse ``location`` is replenished from for ``item`` (None: its supplier)."""
        src = self.sources.get((item, location))
        return None if src is None else src.source

    def order(self, item: str, location: str, qty: float, policy: str, action: str) -> None:
        """The inventory policy ordered ``qty`` of ``item`` for ``location``: ship it from its source."""
        engine = self.engine
        fleet = self.fleet
        now = engine.env.now
        src = self.sources[(item, location)]
        origin = src.source
        spec = fleet.items[item]
        based = [v.spec for v in fleet.vehicles.values() if v.spec.depot == origin]
        if not based:
            engine.emit(E.ActionRejected(now, policy, action, f"no vehicle is based at warehouse {origin!r} "
                                         f"to carry the transfer of {item!r} to {location!r}"))
            return
        # Units one load may hold: the roomiest vehicle based at the source, by weight and volume.
        per_load = max(min(v.capacity_weight / spec.weight if spec.weight > 0 else math.inf,
                           v.capacity_volume / spec.volume if v.capacity_volume is not None and spec.volume > 0
                           else math.inf) for v in based)
        per_load = math.floor(per_load + 1e-9) if math.isfinite(per_load) else qty
        if per_load <= 0:
            engine.emit(E.ActionRejected(now, policy, action, f"one unit of {item!r} is too heavy or bulky for "
                                         f"every vehicle at {origin!r}"))
            return
        sku = engine.state.skus[(item, origin)]
        picks = engine.warehouses[origin].allocate(sku, qty)  # free, unexpired lots in allocation order
        got = sum(q for _, _, q in picks)
        if got < qty - 1e-9:
            engine.emit(E.ActionRejected(now, policy, action, f"warehouse {origin!r} has only {got:g} of {item!r} "
                                         f"free: {qty - got:g} not transferred to {location!r}"))
        load: list[tuple[int, float]] = []
        room = per_load
        for _, lot, q in picks:
            while q > 1e-9:
                step = min(q, room)
                load.append((lot, step))
                q -= step
                room -= step
                if room <= 1e-9:
                    self._ship(src, item, tuple(load))
                    load, room = [], per_load
        if load:
            self._ship(src, item, tuple(load))

    def _ship(self, src: DepotSource, item: str, picks: tuple[tuple[int, float], ...]) -> None:
        engine = self.engine
        now = engine.env.now
        sku = engine.state.skus[(item, src.source)]
        dates = [d for d in (sku.find_lot(lot).expiry for lot, _ in picks) if d is not None]
        transfer = engine.next_id("transfer")
        qty = sum(q for _, q in picks)
        due = now + src.due_within
        engine.emit(E.TransferShipped(now, transfer, item, src.source, src.warehouse, picks, due))
        cid = self.fleet.consignment(-1 - transfer, src.source, src.warehouse, ((item, qty),), src.priority, due)
        self.cargo[cid] = (transfer, item, src.warehouse, qty, min(dates) if dates else None)

    def received(self, consignment: int, spoiled: bool = False) -> None:
        """The consignment carrying a transfer was unloaded at its destination. Cold stock the
        vehicle's temperature excursion spoiled on the way is received and scrapped at once
        (reason ``cold_chain``, so it counts in spoiled_units), never put on the shelf as good stock."""
        engine = self.engine
        transfer, item, location, qty, expiry = self.cargo.pop(consignment)
        lot = engine.next_id("lot")
        now = engine.env.now
        engine.emit(E.TransferReceived(now, transfer, item, location, lot, qty, expiry))
        if spoiled:
            engine.emit(E.StatusChanged(now, item, location, lot, "scrapped", qty, "cold_chain"))
            return
        wh = engine.warehouses[location]
        if expiry is not None:
            heapq.heappush(wh.expiry_heap, (expiry, lot, item))
        wh.serve_backlog(engine.state.skus[(item, location)])
