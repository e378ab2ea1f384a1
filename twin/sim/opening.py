"""Start a run from what is under way (``Scenario.opening``, issue 7 point 5): a forecast forked from
the live site goes on with the site's open purchase orders, backorders and machines under repair.

Called by the policy runner right after the opening stock is put away, before the first review, so
the first decision already sees the carried orders (on order, backordered) as the live site has them:

- an open purchase order is placed again at the start of the run with the same supplier and the units still to
  come, due when the live order was due; its delivery is the supplier's (transit, outages);
- a backorder becomes a customer order at the start of the run that could not be served from stock: it waits in
  the SKU's backlog ahead of every order of the run, so stock that arrives serves it first;
- a machine failed or under repair fails at the start of the run; its repair (work order, technician, parts) goes
  on from there. A repair already ``repair_done`` hours under way takes only what is left of it: its
  length is drawn from the repair law given that it is longer than the hours done (the asset's own
  repair stream), less those hours;
- a consignment not delivered yet is ready at the start of the run (``ConsignmentReady``, a customer order number
  of the run's own, as a carried backorder's): its goods left the stock before the start, so it is
  neither picked nor shipped again. One on board a vehicle under way goes on that vehicle's trip
  (``VehicleDispatched`` at the start, with a driver; no loading or refuelling): the vehicle is at its
  next node ``eta`` hours later, delivers the rest in order and returns to its depot. One waiting
  at a dock is dispatched by the dispatch policy like any other (at once if urgent, else at the
  first wave). What a carried consignment holds is not known to the run: its cold cargo is not
  judged by the cold chain.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import TwinError
from twin.model import events as E
from twin.model.assets import DurationLaw
from twin.sim.laws import draw_duration

if TYPE_CHECKING:
    from twin.model.opening import Opening
    from twin.sim.engine import Engine

__all__ = ["carry_opening", "remaining_repair", "CARRIED"]

CARRIED = "carried"  # the policy of a carried purchase order and the customer of a carried backorder


def carry_opening(engine: Engine) -> None:
    opening = engine.scenario.opening
    if opening is None:
        return
    now = engine.env.now
    supply = engine.supply
    for p in opening.purchase_orders:
        supplier = supply.suppliers.get(p.supplier)
        if supplier is None:
            raise TwinError(f"opening.purchase_orders: po {p.po}: unknown supplier {p.supplier!r}")
        if (p.item, p.location) not in engine.layout.sku_index:
            raise TwinError(f"opening.purchase_orders: po {p.po}: unknown item {p.item!r} at {p.location!r}")
        po = engine.next_id("po")
        engine.emit(E.PurchaseOrderPlaced(now, po, p.item, p.location, supplier.id, p.qty, now + p.due, CARRIED))
        # The supplier's own delivery process: it ships (and waits out an outage) as for any order.
        engine.env.process(supply._deliver(po, p.item, p.location, p.qty, supplier, p.due, True))
    for b in opening.backorders:
        if (b.item, b.location) not in engine.layout.sku_index:
            raise TwinError(f"opening.backorders: order {b.order}: unknown item {b.item!r} at {b.location!r}")
        order = engine.next_id("order")
        lines = ((b.item, b.qty),)
        engine.emit(E.OrderPlaced(now, order, b.location, CARRIED, lines))
        engine.emit(E.Allocated(now, order, b.location, (), lines, (), False))
    if opening.assets_down:
        maintenance = engine.maintenance
        if maintenance is None:
            raise TwinError("opening.assets_down: the site has no assets")
        for down in opening.assets_down:
            asset = maintenance.assets.get(down.asset)
            if asset is None:
                raise TwinError(f"opening.assets_down: unknown asset {down.asset!r}")
            # At time 0 but after the maintenance model has scheduled the asset's next failure
            # (it starts after the policies): failing it now supersedes that.
            engine.env.timeout(0.0).callbacks.append(_failer(maintenance, asset, down.repair_done))
    if opening.consignments or opening.vehicles:
        _carry_fleet(engine, opening)


def _carry_fleet(engine: Engine, opening: Opening) -> None:
    fleet = engine.fleet
    if fleet is None:
        raise TwinError("opening.vehicles: the site has no vehicles")
    now = engine.env.now
    run_id: dict[int, int] = {}  # the site's consignment number -> the run's
    run_order: dict[int, int] = {}  # the site's consignment number -> the run's customer order
    for c in opening.consignments:
        for end in (c.origin, c.destination):
            if end not in fleet.nodes:
                raise TwinError(f"opening.consignments: consignment {c.consignment}: unknown node {end!r}")
        fleet._cid += 1
        cid = run_id[c.consignment] = fleet._cid
        order = run_order[c.consignment] = engine.next_id("order")
        fleet.shipped_lines[cid] = ()  # what it holds is not known to the run
        engine.emit(E.ConsignmentReady(now, cid, order, c.origin, c.destination, c.weight,
                                       c.volume, c.priority, now + c.due))
    on_board: set[int] = set()
    km = fleet.net.km(fleet.closed())
    for u in opening.vehicles:
        v = fleet.vehicles.get(u.vehicle)
        if v is None:
            raise TwinError(f"opening.vehicles: unknown vehicle {u.vehicle!r}")
        missing = [c for c in u.stops if c not in run_id]
        if missing:
            raise TwinError(f"opening.vehicles: vehicle {u.vehicle!r}: consignments {missing} are not in "
                            "opening.consignments")
        for node in (u.at, u.next):
            if node not in fleet.nodes:
                raise TwinError(f"opening.vehicles: vehicle {u.vehicle!r}: unknown node {node!r}")
        stops = [run_id[c] for c in u.stops]
        on_board.update(u.stops)
        fleet._trip += 1
        trip = fleet._trip
        # The km still to drive: the rest of the leg (at its eta) is not known as a path, so the plan
        # counts from the node it heads to.
        path = [u.next, *_destinations(opening, u.stops), v.at]
        planned = sum(km[fleet.net.index[a], fleet.net.index[b]] for a, b in zip(path, path[1:], strict=False))
        engine.emit(E.VehicleDispatched(now, trip, v.id, v.at, tuple(stops),
                                        float(planned) if math.isfinite(planned) else -1.0))
        engine.env.process(fleet._trip_process(v, trip, stops, (u.next, u.eta)))
    for c in opening.consignments:
        if c.consignment not in on_board:
            fleet._check_carriable(run_id[c.consignment], run_order[c.consignment], c.origin, c.destination,
                                   c.weight, c.volume, c.priority)


def _destinations(opening: Opening, stops: list[int]) -> list[str]:
    dest = {c.consignment: c.destination for c in opening.consignments}
    return [dest[c] for c in stops]


def _failer(maintenance: Any, asset: Any, done: float) -> Any:
    def fail(_: Any) -> None:
        maintenance._fail(asset, asset.version)
        if done > 0:
            # The corrective work order the failure just opened: its repair is that much along (its
            # technician's travel reads the law later, in the job's own process).
            job = next(j for j in maintenance.jobs.values() if j.asset == asset.id and j.kind == "corrective")
            left = remaining_repair(job.duration, job.gen, done)
            job.duration = DurationLaw.model_construct(dist="fixed", mean=left, cv=0.0, samples=None)

    return fail


def remaining_repair(law: DurationLaw, gen: np.random.Generator, done: float, tries: int = 1000) -> float:
    """Hours left of a repair ``done`` hours along: a length drawn from ``law`` given that it is
    longer than ``done``, less ``done``. A repair already past anything the law gives (a fixed
    length, or no draw longer in ``tries``) is taken to end at once."""
    for _ in range(tries if law.dist != "fixed" else 1):
        hours = draw_duration(law, gen)
        if hours > done:
            return hours - done
    return 0.0
