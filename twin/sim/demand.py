"""Customer demand, drawn in numpy blocks of days (DESIGN principle 4).

Each demand stream (an item at a location, for a customer) and each procedure type has its own
named random stream, so adding an item never changes another item's demand, and scenarios that
share a seed see the same demand (common random numbers). A block's arrivals are merged and
sorted once; the demand then walks them with one entry on SimPy's event queue per arrival
instant (a callback, not a process: see ``DemandProcess.start``).
"""

from __future__ import annotations

from collections.abc import Iterator
from heapq import heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.model.durations import HOURS_PER_DAY, HOURS_PER_YEAR
from twin.sim.engine import Call
from twin.sim.layout import read_history

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["DemandProcess", "BLOCK_DAYS"]

BLOCK_DAYS = 28
_URGENT, _NORMAL = 0, 1  # SimPy's priorities (simpy.events.URGENT, NORMAL)

Order = tuple[float, str, str, tuple[tuple[str, float], ...]]  # (time, location, customer, lines)
Payload = tuple[str, str, tuple[tuple[str, float], ...]]  # (location, customer, lines)


class DemandProcess:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        scenario = engine.scenario
        site = scenario.site
        self.streams = site.demand
        self.procedures = site.procedures
        self.gens = [engine.streams.get("demand", s.item, s.location, s.customer) for s in self.streams]
        self.proc_gens = [engine.streams.get("procedure", p.id, p.location) for p in self.procedures]
        self.histories = [read_history(s.history) if s.dist == "empirical" and s.history else None
                          for s in self.streams]
        self.batching = {c.id: c.order_every for c in site.customers if c.order_every}
        start = engine.start  # scenario times count from the start of the run
        self.surges = [
            (start + d.at, start + d.at + d.duration, d.factor, engine.layout.select(d.items),
             d.procedures if d.procedures is not None else 1.0)
            for d in scenario.disruptions if d.kind == "demand_surge"
        ]
        # Per stream, what every order of it carries but its quantity, and the order of a full line.
        self._meta = [(s.location, s.customer, s.item) for s in self.streams]
        self._full = [(s.location, s.customer, ((s.item, float(s.line_size)),)) for s in self.streams]
        self._line_size = np.array([float(s.line_size) for s in self.streams])
        self._env = engine.env
        self._due_now = engine.due_now  # the engine's calls due now (see Engine.due_now)
        self._lane = engine.lane  # and its calls due later in time order (see Engine.lane)
        self._arrivals = engine.arrivals  # the lane of the next order (one at a time)
        self._queue: list[Any] = engine.env._queue  # SimPy's event heap
        self._eid = engine.env._eid.__next__  # SimPy's event numbering

    def start(self, until: float) -> None:
        """Walk the arrivals as a chain of callbacks on SimPy's queue.

        Each arrival instant is one queue entry, pushed where the former demand process pushed its
        timeout (``now + (t - now)``, at the same point in the run), and the chain starts with an
        urgent entry at time zero where that process's initialisation was: the order of events
        is the order a SimPy process walking the same list would give.
        """
        env = self.engine.env
        self._until = until
        self._times: list[float] = []
        self._pays: list[Payload] = []
        self._i = 0
        self._blocks = self._iter_blocks(until)
        self._place = {loc: wh.place_order for loc, wh in self.engine.warehouses.items()}
        self._call = Call(self._first)
        heappush(self._queue, (env._now + 0, _URGENT, self._eid(), self._call))  # type: ignore[attr-defined]

    # -- generation --------------------------------------------------------------------------

    def _factor_days(self, day0: int, days: int, item: str | None) -> np.ndarray:
        """Surge multiplier averaged over each day of the block (1 outside any surge)."""
        out = np.ones(days)
        for start, end, factor, items, proc_factor in self.surges:
            f = factor if item is not None else proc_factor
            if item is not None and item not in items:
                continue
            lo = np.arange(day0, day0 + days) * HOURS_PER_DAY
            overlap = np.clip(np.minimum(lo + HOURS_PER_DAY, end) - np.maximum(lo, start), 0, HOURS_PER_DAY)
            out *= 1.0 + (f - 1.0) * overlap / HOURS_PER_DAY
        return out

    @staticmethod
    def _calendar(day0: int, days: int, weekly: list[float] | None, trend: float) -> np.ndarray:
        d = np.arange(day0, day0 + days)
        out = np.ones(days)
        if weekly:
            out *= np.asarray(weekly)[d % 7]
        if trend:
            out *= np.maximum(1.0 + trend * (d + 0.5) * HOURS_PER_DAY / HOURS_PER_YEAR, 0.0)
        return out

    def _units(self, k: int, day0: int, days: int) -> np.ndarray:
        s = self.streams[k]
        gen = self.gens[k]
        factor = self._calendar(day0, days, s.weekly, s.trend) * self._factor_days(day0, days, s.item)
        if s.dist == "empirical":
            hist = self.histories[k]
            assert hist is not None
            base = hist[gen.integers(0, len(hist), size=days)]
            return np.round(base * factor)
        per_day = (s.mean or 0.0) * HOURS_PER_DAY / s.per
        mean = per_day * factor
        if s.dist == "poisson":
            # Poisson counts of order lines, each of line_size units.
            return gen.poisson(mean / s.line_size) * float(s.line_size)
        sd = (s.sd or 0.0) * np.sqrt(HOURS_PER_DAY / s.per) * np.sqrt(factor)
        if s.dist == "negbin":
            var = np.maximum(sd**2, mean + 1e-9)
            with np.errstate(divide="ignore", invalid="ignore"):
                n = np.where(mean > 0, mean**2 / (var - mean), 1.0)
                p = np.where(mean > 0, mean / var, 1.0)
            return gen.negative_binomial(n, p).astype(float)
        return np.maximum(np.round(gen.normal(mean, sd)), 0.0)

    def _block(self, day0: int, days: int) -> tuple[list[float], list[Payload]]:
        """Orders of the block, sorted by time: their times, and what each carries
        (location, customer, lines)."""
        times: list[np.ndarray] = []
        stream_of: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        for k, s in enumerate(self.streams):
            units = self._units(k, day0, days)
            ls = s.line_size
            lines = np.ceil(units / ls).astype(np.int64)
            total = int(lines.sum())
            if total == 0:
                continue
            day = np.repeat(np.arange(day0, day0 + days), lines)
            times.append(day * HOURS_PER_DAY + self.gens[k].uniform(0.0, HOURS_PER_DAY, total))
            stream_of.append(np.full(total, k, dtype=np.int64))
            qty = np.full(total, float(ls))
            if ls > 1:
                # The last line of each day carries the remainder.
                ends = np.cumsum(lines) - 1
                rem = units - (lines - 1) * ls
                qty[ends[lines > 0]] = rem[lines > 0]
            sizes.append(qty)
        orders: list[Order] = []
        if times:
            t = np.concatenate(times)
            k_all = np.concatenate(stream_of)
            q_all = np.concatenate(sizes)
            order = np.argsort(t, kind="stable")
            batching = self.batching
            meta = self._meta
            k_sorted = k_all[order]
            q_sorted = q_all[order]
            if not batching and not self.procedures:
                # Every line is an order of its own, and the block is in time order already.
                # Full lines share their stream's tuples; the few short ones (a day's
                # remainder) get their own.
                full = self._full
                pays = [full[ki] for ki in k_sorted.tolist()]
                short = np.flatnonzero(q_sorted != self._line_size[k_sorted])
                for j, ki, qi in zip(short.tolist(), k_sorted[short].tolist(), q_sorted[short].tolist(), strict=True):
                    loc, cust, item = meta[ki]
                    pays[j] = (loc, cust, ((item, qi),))
                return t[order].tolist(), pays
            batched: dict[tuple[float, str, str], list[tuple[str, float]]] = {}
            for ti, ki, qi in zip(t[order].tolist(), k_sorted.tolist(), q_sorted.tolist(), strict=True):
                loc, cust, item = meta[ki]
                every = batching.get(cust)
                if every is None:
                    orders.append((ti, loc, cust, ((item, qi),)))
                else:
                    due = (int(ti // every) + 1) * every
                    batched.setdefault((due, loc, cust), []).append((item, qi))
            for (due, loc, cust), lines_ in batched.items():
                merged: dict[str, float] = {}
                for item, qty_ in lines_:
                    merged[item] = merged.get(item, 0.0) + qty_
                orders.append((due, loc, cust, tuple(merged.items())))
        for j, proc in enumerate(self.procedures):
            gen = self.proc_gens[j]
            rate = proc.per_day * self._calendar(day0, days, proc.weekly, 0.0) * self._factor_days(day0, days, None)
            count = gen.poisson(rate)
            n = int(count.sum())
            if n == 0:
                continue
            when = np.repeat(np.arange(day0, day0 + days), count) * HOURS_PER_DAY + gen.uniform(0, HOURS_PER_DAY, n)
            kit = tuple((item, float(q)) for item, q in proc.kit.items())
            orders.extend((w, proc.location, proc.customer, kit) for w in when.tolist())
        orders.sort(key=lambda o: o[0])
        return [o[0] for o in orders], [o[1:] for o in orders]

    # -- the walk ----------------------------------------------------------------------------

    def _iter_blocks(self, until: float) -> Iterator[tuple[list[float], list[Payload]]]:
        """Blocks of days from the day the run starts in (days count from the Monday 00:00 epoch,
        so a weekday's rate is its own); a fork starting within a day drops that day's orders
        before its start."""
        start = self.engine.start
        first_day = int(start // HOURS_PER_DAY)
        last_day = int(np.ceil(until / HOURS_PER_DAY))
        for day0 in range(first_day, last_day, BLOCK_DAYS):
            times, pays = self._block(day0, min(BLOCK_DAYS, last_day - day0))
            if times and times[0] < start:
                skip = int(np.searchsorted(times, start, side="left"))
                times, pays = times[skip:], pays[skip:]
            yield times, pays

    def _first(self, call: Call) -> None:
        call.fn = self._arrive
        self._advance()

    def _arrive(self, call: Call) -> None:
        """The next order's time has come: place it, and every order due at the same instant."""
        env = self._env
        queue = self._queue
        due_now = self._due_now
        lane = self._lane
        while True:
            i = self._i
            loc, customer, lines = self._pays[i]
            i += 1
            self._i = i
            self._place[loc](customer, lines)
            # The common case inline: the next order is in this block, later than now, before the end.
            times = self._times
            if i < len(times):
                t = times[i]
                now = env._now  # type: ignore[attr-defined]
                if now < t < self._until:
                    at = now + (t - now)
                    # Its entry, (at, NORMAL, a new eid, call), comes after the head of the queue
                    # (or of the engine's lane) exactly when that head is not later than ``at``
                    # (an entry's priority is URGENT or NORMAL, and the new eid is the largest).
                    if due_now or not queue or queue[0][0] <= at or (lane and lane[0][0] <= at):
                        self._arrivals.append((at, _NORMAL, self._eid(), call))
                        return
                    # Nothing is due before it: the engine's loop would take this entry off the
                    # queue next and call this again at its time, so go there now (the eid it
                    # would have taken is taken all the same).
                    self._eid()
                    env._now = at  # type: ignore[attr-defined]
                    continue
            self._advance()
            return

    def _advance(self) -> None:
        """Place what is due now; schedule the next arrival, or stop at the end of the run."""
        env = self.engine.env
        times = self._times
        i = self._i
        until = self._until
        while True:
            if i >= len(times):
                block = next(self._blocks, None)
                if block is None:
                    return
                times, pays = block
                self._times, self._pays = times, pays
                i = self._i = 0
                continue
            t = times[i]
            if t >= until:
                return
            now = env._now  # type: ignore[attr-defined]
            if t > now:
                self._i = i
                heappush(self._queue, (now + (t - now), _NORMAL, self._eid(), self._call))
                return
            loc, customer, lines = self._pays[i]
            i += 1
            self._i = i
            self._place[loc](customer, lines)
