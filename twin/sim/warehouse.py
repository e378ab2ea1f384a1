"""Warehouse operations: orders, allocation, picking, shipping, receiving, put-away, inspection,
returns, expiry and cycle counts, with SimPy resources for docks, pickers and counters.

Picking is driven by callbacks rather than one process per order. The pickers are a counted pool
with the semantics of a ``simpy.Resource`` (first come, first served; a waiting request is granted
when a release is processed or when a new request comes in), but without its event objects and
queues: a pick is one entry on the event queue, its end, scheduled at the time the Resource's
timeout would end. A grant or release is an entry of its own (processed now, see
``Engine.schedule_now``) only where it has something to do that the pick's own entries cannot:
a grant that is more than scheduling the pick's end (a floor's walk), a release with picks waiting.
"""

from __future__ import annotations

import heapq
from collections import deque
from heapq import heappush
from typing import TYPE_CHECKING, Any

import simpy

from twin.model import events as E
from twin.model.durations import HOURS_PER_DAY
from twin.model.site import Warehouse
from twin.model.state import Sku, apply_line_shipped, apply_order_line, count_takes
from twin.sim.engine import Call
from twin.sim.scanners import Scanner

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["WarehouseOps"]

_NORMAL = 1  # SimPy's priority of ordinary events (simpy.events.NORMAL)
_new = tuple.__new__  # builds an event tuple without the NamedTuple's Python-level __new__
_OrderPlaced, _Allocated, _Picked, _Shipped = E.OrderPlaced, E.Allocated, E.Picked, E.Shipped


class WarehouseOps:
    def __init__(self, engine: Engine, spec: Warehouse) -> None:
        self.engine = engine
        self.spec = spec
        self.id = spec.id
        env = engine.env
        self.env = env
        self.pickers = spec.pickers  # the pickers' pool (its capacity): see _request
        self._picking = 0  # pickers busy
        self._waiting: deque[Call] = deque()  # picks waiting for a picker, first come first served
        self.docks = simpy.Resource(env, capacity=spec.docks)
        self.counters = simpy.Resource(env, capacity=spec.counters) if spec.counters else None
        self.scanner = Scanner(spec.scanner, engine.streams.get("scanner", spec.id))
        self.ops_gen = engine.streams.get("warehouse", spec.id)
        self.skus = engine.state.skus
        self._here = engine.state.at.get(spec.id, {})  # this warehouse's SKUs by item
        items = engine.layout.items
        self.lost_sale = {i for i, it in items.items() if it.unmet == "lost_sale"}
        self.shelf_life = {i: it.shelf_life for i, it in items.items()}
        self.return_rate = {i: it.return_rate for i, it in items.items() if it.return_rate > 0}
        self.expiry_heap: list[tuple[float, int, str]] = []
        policy = engine.allocation_policy
        self.fefo = bool(getattr(policy, "fefo", False))
        self.sort_key = policy.sort_key
        self.pick_fixed = spec.pick_time_per_order
        self.pick_line = spec.pick_time_per_line
        self._pick_one = self.pick_fixed + self.pick_line  # a pick of one line
        self.ship_time = spec.ship_time
        self._queue: list[Any] = env._queue  # SimPy's event heap
        self._eid = env._eid.__next__  # SimPy's event numbering
        self._lane = engine.lane  # calls due later in time order (see ``_end_pick``)
        self._next_order = engine.id_counter("order")
        self._released = Call(self._picker_released)
        self._on_granted = self._start = self._pick_start
        self._on_picked = self._pick_done
        # The engine's own emit and what it does, for the hot paths to do inline (see ``place_order``).
        self._plain_emit = engine.plain_emit
        self._append = engine.log.events.append
        self._state = engine.state
        # lot id -> the lines of Allocated, Picked and Shipped for an order of one line of qty taken
        # whole from that lot and picked as booked, and that qty (the line size the lot served
        # last). Event tuples are immutable, so the many lines alike (a lot serves hundreds of
        # lines of the same size) share them: less memory and allocation per line. (One entry per
        # lot received.)
        self._lines_of: dict[int, tuple[Any, Any, Any, float]] = {}
        # Deliveries by vehicle (issue 5): orders of customers that are network nodes.
        self._fleet: Any = None
        self._fleet_nodes: frozenset[str] = frozenset()
        self._fleet_orders: dict[int, Any] = {}

    def attach_fleet(self, fleet: Any) -> None:
        self._fleet = fleet
        self._fleet_nodes = frozenset(fleet.nodes)
        self._fleet_orders = fleet.orders

    def start(self) -> None:
        if any(self.shelf_life.values()):
            self.env.process(self._expiry_sweep())

    # -- outbound --------------------------------------------------------------------------------

    def allocate(self, sku: Sku, qty: float) -> list[tuple[str, int, float]]:
        """Lots to take ``qty`` units from, in the allocation policy's order (FEFO by default)."""
        now = self.env._now  # type: ignore[attr-defined]
        lots = sku.lots if self.fefo else sorted(
            sku.lots, key=lambda lot: self.sort_key(lot.expiry, lot.received, lot.id))
        out = []
        rem = qty
        item = sku.item
        for lot in lots:
            free = lot.qty - lot.reserved
            if free <= 0 or (lot.expiry is not None and lot.expiry <= now):
                continue
            step = free if free < rem else rem
            out.append((item, lot.id, step))
            rem -= step
            if rem <= 1e-9:
                break
        return out

    def place_order(self, customer: str, lines: tuple[tuple[str, float], ...]) -> None:
        t = self.env._now  # type: ignore[attr-defined]
        order = self._next_order()
        loc = self.id
        placed = _new(_OrderPlaced, (t, order, loc, customer, lines))
        engine = self.engine
        if len(lines) == 1 and self.fefo and engine.emit is self._plain_emit and customer not in self._fleet_nodes:
            # Most orders: one line, FEFO, the engine's emit its own (nothing watches the events)
            # and no vehicle to book. Take the line whole from the first lot that may give any, if
            # it holds enough (what ``allocate`` would do); record ``OrderPlaced`` and ``Allocated``
            # and apply them as a pair (``apply_order_line``: what the engine's emit does, event by
            # event); hand the pick to a free picker or queue it. Else the general way below.
            ((item, qty),) = lines
            sku = self._here.get(item)  # (an item not kept here: the general way says so)
            # (Floats are compared with float literals: a float compared with an int takes the
            # interpreter's slow path.)
            if sku is not None and type(qty) is float and qty > 0.0 and sku.on_hand - sku.reserved >= qty:
                for lot in sku.lots:
                    free = lot.qty - lot.reserved
                    if free <= 0.0 or (lot.expiry is not None and lot.expiry <= t):
                        continue
                    if free >= qty:
                        alike = self._lines_of.get(lot.id)
                        if alike is None or alike[3] != qty:
                            alike = self._lines_of[lot.id] = (
                                ((item, lot.id, qty),), ((item, lot.id, qty, qty, qty),), ((item, qty),), qty)
                        picks = alike[0]
                        allocated = _new(_Allocated, (t, order, loc, picks, (), (), False))
                        append = self._append
                        append(placed)
                        append(allocated)
                        apply_order_line(self._state, placed, allocated)
                        if not self._waiting and self._picking < self.pickers and self._on_granted is self._start:
                            # A picker is free and nobody waits: the grant would be processed now and
                            # do nothing but schedule the end of the pick (``_pick_start``), so
                            # schedule it now.
                            self._picking += 1
                            at = t + self._pick_one
                            end = Call(self._on_picked, order, picks, alike)
                            lane = self._lane  # as ``_end_pick``
                            if not lane or lane[-1][0] <= at:
                                lane.append((at, _NORMAL, self._eid(), end))
                            else:
                                heappush(self._queue, (at, _NORMAL, self._eid(), end))
                        else:
                            self._hand_over(Call(self._on_granted, order, picks, alike))
                        if engine.policies.continuous:
                            engine.policies.after_demand(loc, lines)
                        return
                    break
        engine.emit(placed)
        if customer in self._fleet_nodes:
            self._fleet.register_order(order, customer, t)
        picks = self._allocate_order(t, order, lines)
        if picks:
            self._hand_over(Call(self._on_granted, order, picks, None))
        runner = engine.policies
        if runner.continuous:
            runner.after_demand(loc, lines)

    def _hand_over(self, call: Call) -> None:
        """Give a pick to a picker (``call.fn`` is the grant): at once if one is free and nobody
        waits, else into the queue."""
        if not self._waiting and self._picking < self.pickers:
            self._picking += 1
            if call.fn is self._start:
                # The grant would be processed now and do nothing but schedule the end of the
                # pick (``_pick_start``), so schedule it now.
                self._end_pick(call)
            else:
                self.engine.schedule_now((self.env._now, _NORMAL, self._eid(), call))  # type: ignore[attr-defined]
        else:
            self._request(call)

    def _allocate_order(self, t: float, order: int, lines: tuple[tuple[str, float], ...]) -> tuple[Any, ...]:
        """Allocate an order's lines, emit ``Allocated`` and return the picks."""
        loc = self.id
        skus = self.skus
        allocate = self.allocate
        picks: list[tuple[str, int, float]] = []
        backordered: list[tuple[str, float]] = []
        lost: list[tuple[str, float]] = []
        for item, qty in lines:
            sku = skus[(item, loc)]
            avail = sku.on_hand - sku.reserved
            take = qty if avail >= qty else (avail if avail > 0 else 0.0)
            if take > 0:
                got = allocate(sku, take)
                picks.extend(got)
                take = sum(g[2] for g in got) if len(got) != 1 else got[0][2]
            rest = qty - take
            if rest > 1e-9:
                (lost if item in self.lost_sale else backordered).append((item, rest))
        out = tuple(picks)
        self.engine.emit(_new(E.Allocated, (t, order, loc, out, tuple(backordered), tuple(lost), False)))
        return out

    # The pickers' pool behaves as simpy.Resource(capacity=pickers): a request joins the queue and
    # the head of the queue is granted if a picker is free (once per request and per release); a
    # grant is processed as an event at the time it is made, and so is a release.

    def _request_pick(self, order: int, picks: tuple[tuple[str, int, float], ...]) -> None:
        self._request(Call(self._on_granted, order, picks))

    def _request(self, call: Call) -> None:
        waiting = self._waiting
        waiting.append(call)
        if self._picking < self.pickers:
            self._picking += 1
            self._grant(waiting.popleft())

    def _grant(self, call: Call) -> None:
        """A picker takes a pick now: the grant is processed as an event now (``_pick_start``), or,
        when that is all the grant would do, the end of the pick is scheduled right away."""
        if call.fn is self._start:
            self._end_pick(call)
        else:
            self.engine.schedule_now((self.env._now, _NORMAL, self._eid(), call))  # type: ignore[attr-defined]

    def _picker_released(self, _: Any) -> None:
        # A released picker takes the next waiting pick; more than one picker may be free if
        # pick ends with nobody waiting did not schedule a release (see ``_pick_done``), so
        # grant while pickers are free, as simpy.Resource does.
        waiting = self._waiting
        while waiting and self._picking < self.pickers:
            self._picking += 1
            self._grant(waiting.popleft())

    def _pick_start(self, call: Call) -> None:
        self._end_pick(call)

    def _end_pick(self, call: Call) -> None:
        """Schedule the end of a pick started now: in the engine's lane if it is not earlier than
        the lane's last call (an entry's key is (time, NORMAL, a new eid): later than the last
        exactly when its time is not earlier), else on the heap. Either way it is processed where
        SimPy would process it."""
        call.fn = self._on_picked
        at = self.env._now + (self.pick_fixed + self.pick_line * len(call.b))  # type: ignore[attr-defined]
        lane = self._lane
        if not lane or lane[-1][0] <= at:
            lane.append((at, _NORMAL, self._eid(), call))
        else:
            heappush(self._queue, (at, _NORMAL, self._eid(), call))

    def _pick_done(self, call: Call) -> None:
        t = self.env._now  # type: ignore[attr-defined]
        order = call.a
        picks = call.b
        loc = self.id
        if len(picks) == 1 and self.scanner.perfect and self.ship_time <= 0.0 and self.engine.emit is self._plain_emit:
            ((item, lot, alloc),) = picks
            if self._here[item].phantom == 0.0:
                # One line picked in full, scanned right and shipped at once, nothing watching the
                # events (most picks): record ``Picked`` and ``Shipped`` and apply them as a pair
                # (``apply_line_shipped``: what the engine's emit does, event by event).
                alike = call.c
                if alike is not None:
                    _, picked, out, _ = alike
                else:
                    picked = ((item, lot, alloc, alloc, alloc),)
                    out = ((item, alloc),)
                state = self._state
                event = _new(_Picked, (t, order, loc, picked))
                open_ = state.orders.get(order)  # (``Picked`` leaves the open orders as they are)
                shipped = _new(_Shipped, (t, order, loc, out, open_ is not None and open_[1] - alloc <= 1e-9))
                append = self._append
                append(event)
                append(shipped)
                apply_line_shipped(state, event, shipped)
                self._picking -= 1
                if self._waiting:
                    # Release the picker to the next pick as an event now; with nobody waiting,
                    # that event would find nothing to do (a pick asked for later finds the
                    # picker free), so there is none.
                    self.engine.schedule_now((t, _NORMAL, self._eid(), self._released))
                if self._fleet_orders and order in self._fleet_orders:
                    self._fleet.shipped(order, loc, out)
                if self.return_rate:
                    self._returns(order, out)
                return
        out, short = self._picked(t, order, picks)
        # Release the picker: the release is processed as an event now, as SimPy's would be.
        self._picking -= 1
        if self._waiting:
            self.engine.schedule_now((t, _NORMAL, self._eid(), self._released))
        if self.ship_time > 0:
            ship = Call(self._ship_later, order, out)
            heappush(self._queue, (t + self.ship_time, _NORMAL, self._eid(), ship))
        else:
            self._ship(order, out)
        if short:
            skus = self.skus
            for item, _lot, alloc, qty, _s in short:
                if qty < alloc:
                    self.serve_backlog(skus[(item, loc)])

    def _picked(self, t: float, order: int, picks: tuple[tuple[str, int, float], ...]) -> Any:
        """Emit ``Picked`` for the general case; returns the lines to ship and the picked lines if
        any came up short (else False)."""
        if not picks:  # every line was released by a count (``_release_surplus``): nothing to pick
            return (), False
        loc = self.id
        skus = self.skus
        record = self.scanner.record
        perfect = self.scanner.perfect
        lines = []
        shipped: dict[str, float] = {}
        free: dict[str, float] = {}  # unreserved book stock left per item as the lines are booked
        for item, lot, alloc in picks:
            sku = skus[(item, loc)]
            if perfect and sku.phantom == 0:
                lines.append((item, lot, alloc, alloc, alloc))
                shipped[item] = shipped.get(item, 0.0) + alloc
                continue
            # The shelf may hold less than the book says (phantom stock): a short pick.
            physical = sku.on_hand - sku.phantom
            qty = alloc if physical >= alloc else max(physical, 0.0)
            # A misread may book more than was picked, but never stock reserved for other orders:
            # after this line the book must still cover every remaining reservation.
            left = free.get(item, sku.on_hand - sku.reserved)
            scanned = max(0.0, min(record(qty), left + qty))
            free[item] = left + qty - scanned
            lines.append((item, lot, alloc, qty, scanned))
            if qty > 0:
                shipped[item] = shipped.get(item, 0.0) + qty
        self.engine.emit(_new(E.Picked, (t, order, loc, tuple(lines))))
        return tuple(shipped.items()), (lines if any(ln[3] < ln[2] for ln in lines) else False)

    def _ship_later(self, call: Call) -> None:
        self._ship(call.a, call.b)

    def _ship(self, order: int, lines: tuple[tuple[str, float], ...]) -> None:
        engine = self.engine
        if not lines:
            return
        open_ = engine.state.orders.get(order)
        shipped = sum(q for _, q in lines) if len(lines) != 1 else 0 + lines[0][1]  # sum() of one line
        complete = open_ is not None and open_[1] - shipped <= 1e-9
        engine.emit(_new(E.Shipped, (self.env._now, order, self.id, lines, complete)))  # type: ignore[attr-defined]
        if self._fleet_orders and order in self._fleet_orders:
            self._fleet.shipped(order, self.id, lines)
        if self.return_rate:
            self._returns(order, lines)

    def _returns(self, order: int, lines: tuple[tuple[str, float], ...]) -> None:
        """Some of what was shipped comes back later."""
        for item, qty in lines:
            rate = self.return_rate.get(item)
            if rate:
                n = float(self.ops_gen.binomial(int(qty), rate))
                if n > 0:
                    self.env.process(self._return(order, item, n))

    def serve_backlog(self, sku: Sku) -> None:
        """Give newly available stock to waiting backorders, oldest first."""
        engine = self.engine
        while sku.backlog:
            avail = sku.on_hand - sku.reserved
            if avail <= 1e-9:
                return
            order, qty = sku.backlog[0]
            got = self.allocate(sku, min(qty, avail))
            if not got:
                return
            engine.emit(E.Allocated(self.env.now, order, self.id, tuple(got), (), (), True))
            self._request_pick(order, tuple(got))

    # -- inbound ---------------------------------------------------------------------------------

    def receive(self, po: int, item: str, qty: float, closes_po: bool) -> None:
        self.env.process(self._receive(po, item, qty, closes_po))

    def _receive(self, po: int, item: str, qty: float, closes_po: bool) -> Any:
        env = self.env
        with self.docks.request() as req:
            yield req
            if self.spec.receive_time > 0:
                yield env.timeout(self.spec.receive_time)
            lot = self.engine.next_id("lot")
            shelf = self.shelf_life.get(item)
            expiry = env.now + shelf if shelf else None
            scanned = self.scanner.record(qty)
            self.engine.emit(E.GoodsReceived(env.now, po, item, self.id, lot, qty, scanned, expiry, closes_po))
        if self.spec.putaway_time > 0:
            yield env.timeout(self.spec.putaway_time)
        yield from self._put_away(item, lot, expiry)

    def opening_stock(self, item: str, qty: float) -> None:
        """Stock on hand when the run starts (time zero, or a fork's site time): received and put
        away then, with its whole shelf life ahead."""
        lot = self.engine.next_id("lot")
        shelf = self.shelf_life.get(item)
        start = self.engine.start
        expiry = start + shelf if shelf else None
        self.engine.emit(E.GoodsReceived(start, -1, item, self.id, lot, qty, qty, expiry, True))
        self.engine.emit(E.PutAway(start, item, self.id, lot, "available"))
        if expiry is not None:
            heapq.heappush(self.expiry_heap, (expiry, lot, item))

    def _put_away(self, item: str, lot: int, expiry: float | None) -> Any:
        env = self.env
        engine = self.engine
        inspection = self.spec.inspection
        if inspection.fraction > 0 and self.ops_gen.random() < inspection.fraction:
            engine.emit(E.PutAway(env.now, item, self.id, lot, "quality_hold"))
            yield env.timeout(inspection.duration)
            yield from self._release(item, lot, inspection.reject_rate)
            return
        engine.emit(E.PutAway(env.now, item, self.id, lot, "available"))
        if expiry is not None:
            heapq.heappush(self.expiry_heap, (expiry, lot, item))
        self.serve_backlog(self.skus[(item, self.id)])

    def _release(self, item: str, lot: int, reject_rate: float) -> Any:
        """End of a quality hold: scrap the lot or make it available."""
        sku = self.skus[(item, self.id)]
        held = sku.held_lots.get(lot)
        if held is None:  # expired while on hold
            return
        if reject_rate > 0 and self.ops_gen.random() < reject_rate:
            self.engine.emit(E.StatusChanged(self.env.now, item, self.id, lot, "scrapped", held.qty, "inspection"))
            return
        self.engine.emit(E.StatusChanged(self.env.now, item, self.id, lot, "available", held.qty, "inspection"))
        if held.expiry is not None:
            heapq.heappush(self.expiry_heap, (held.expiry, lot, item))
        self.serve_backlog(sku)
        yield from ()

    def _return(self, order: int, item: str, qty: float) -> Any:
        yield self.env.timeout(self.spec.return_delay)
        lot = self.engine.next_id("lot")
        shelf = self.shelf_life.get(item)
        expiry = self.env.now + shelf / 2 if shelf else None  # returned goods have used part of their life
        self.engine.emit(E.Returned(self.env.now, order, item, self.id, lot, qty, expiry))
        yield self.env.timeout(self.spec.inspection.duration)
        yield from self._release(item, lot, self.spec.inspection.reject_rate)

    # -- stock control ---------------------------------------------------------------------------

    def _expiry_sweep(self) -> Any:
        """Write off expired stock once a day, at midnight."""
        env = self.env
        heap = self.expiry_heap
        loc = self.id
        while True:
            yield env.timeout(HOURS_PER_DAY - env.now % HOURS_PER_DAY)
            now = env.now
            while heap and heap[0][0] <= now:
                _, lot_id, item = heapq.heappop(heap)
                sku = self.skus[(item, loc)]
                for lot in sku.lots:
                    if lot.id == lot_id:
                        free = lot.qty - lot.reserved
                        if free > 1e-9:
                            self.engine.emit(E.Expired(now, item, loc, lot_id, free))
                        break
                else:
                    # A frozen lot expires all the same (its expiry is physical, not a status).
                    held = sku.held_lots.get(lot_id)
                    if held is not None and held.status == "frozen" and held.qty > 1e-9:
                        self.engine.emit(E.Expired(now, item, loc, lot_id, held.qty))

    def count(self, item: str) -> bool:
        """Start a cycle count of an item here; False when there is nobody to count."""
        if self.counters is None:
            return False
        self.env.process(self._count(item))
        return True

    def _count(self, item: str) -> Any:
        sku = self.skus[(item, self.id)]
        with self.counters.request() as req:  # type: ignore[union-attr]
            yield req
            duration = self.scanner.count_duration(sku.on_hand)
            yield self.env.timeout(duration)
            book = sku.on_hand
            counted = max(book - sku.phantom, 0.0)
            # Reservations the count leaves a lot without are released as it is booked (just before,
            # so reserved never exceeds the book).
            released = counted < book and sku.reserved > 1e-9 and self._release_surplus(sku, book - counted)
            self.engine.emit(E.StockCounted(self.env.now, item, self.id, book, counted, duration))
            if counted > book or released:
                self.serve_backlog(sku)

    # -- reservations a count finds missing ------------------------------------------------------

    def _release_surplus(self, sku: Sku, missing: float) -> bool:
        """A count is about to find ``missing`` units fewer than the book: release the reservations
        it leaves a lot without from the pending picks that hold them, newest order first
        (``ReservationReleased``: back on backorder, or lost), so those picks go out with what the
        shelf holds. True when units went back on backorder."""
        over = {lot.id: lot.reserved - (lot.qty - step) for lot, step in count_takes(sku, missing)
                if lot.reserved > lot.qty - step + 1e-9}
        if not over:
            return False
        item = sku.item
        loc = self.id
        now = self.env.now
        lost = item in self.lost_sale
        holders = [(call, where) for call, where in self._pending_picks()
                   if any(p[0] == item and p[1] in over for p in call.b)]
        holders.sort(key=lambda h: h[0].a, reverse=True)  # newest order first (stable: deterministic)
        released = False
        for call, where in holders:
            picks = list(call.b)
            for k in range(len(picks) - 1, -1, -1):
                it, lot, alloc = picks[k]
                need = over.get(lot, 0.0) if it == item else 0.0
                if need <= 1e-9:
                    continue
                step = alloc if alloc - need <= 1e-9 else need
                self.engine.emit(E.ReservationReleased(now, call.a, loc, item, lot, step, lost))
                released = True
                over[lot] = need - step
                if step == alloc:
                    del picks[k]
                else:
                    picks[k] = (it, lot, alloc - step)
            call.b = tuple(picks)
            call.c = None  # the shared lines no longer match
            if not picks:
                if where == "waiting":
                    self._waiting.remove(call)
                elif where == "granted":
                    call.fn = self._on_picked  # holds a picker: end at once, with nothing picked
            if all(v <= 1e-9 for v in over.values()):
                break
        return released and not lost

    def _pending_picks(self) -> list[tuple[Call, str]]:
        """The picks not yet done here, each with where it is: ``waiting`` for a picker,
        ``granted`` a picker (not yet started), ``started`` (its end is scheduled) or ``wave``
        (a floor's wave picking holds it for its wave's tours)."""
        out = [(call, "waiting") for call in self._waiting]
        started = self._on_picked
        granted = (self._on_granted, self._pick_start)
        for entry in (*self.engine.due_now, *self.engine.lane, *self._queue):
            call = entry[3]
            if type(call) is Call:
                if call.fn == started:
                    out.append((call, "started"))
                elif call.fn in granted:
                    out.append((call, "granted"))
        picking = getattr(self._on_granted, "__self__", self)
        if picking is not self:
            out.extend((call, "wave") for call in getattr(picking, "held", ()))
            out.extend((call, "wave") for tour in getattr(picking, "tours", ()) for call in tour)
        return out
