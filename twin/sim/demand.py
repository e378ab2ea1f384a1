"""Customer demand, drawn in numpy blocks of days (DESIGN principle 4).

Each demand stream (an item at a location, for a customer) and each procedure type has its own
named random stream, so adding an item never changes another item's demand, and scenarios that
share a seed see the same demand (common random numbers). A block's arrivals are merged and
sorted once; the SimPy process then walks them with one timeout per arrival instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.model.durations import HOURS_PER_DAY, HOURS_PER_YEAR
from twin.sim.layout import read_history

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["DemandProcess", "BLOCK_DAYS"]

BLOCK_DAYS = 28


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
        self.surges = [
            (d.at, d.at + d.duration, d.factor, engine.layout.select(d.items),
             d.procedures if d.procedures is not None else 1.0)
            for d in scenario.disruptions if d.kind == "demand_surge"
        ]

    def start(self, until: float) -> None:
        self.engine.env.process(self._run(until))

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

    def _block(self, day0: int, days: int) -> list[tuple[float, str, str, tuple[tuple[str, float], ...]]]:
        """Orders of the block: (time, location, customer, lines), sorted by time."""
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
        orders: list[tuple[float, str, str, tuple[tuple[str, float], ...]]] = []
        if times:
            t = np.concatenate(times)
            k_all = np.concatenate(stream_of)
            q_all = np.concatenate(sizes)
            order = np.argsort(t, kind="stable")
            batched: dict[tuple[float, str, str], list[tuple[str, float]]] = {}
            streams = self.streams
            batching = self.batching
            for ti, ki, qi in zip(t[order].tolist(), k_all[order].tolist(), q_all[order].tolist(), strict=True):
                s = streams[ki]
                every = batching.get(s.customer)
                if every is None:
                    orders.append((ti, s.location, s.customer, ((s.item, qi),)))
                else:
                    due = (int(ti // every) + 1) * every
                    batched.setdefault((due, s.location, s.customer), []).append((s.item, qi))
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
            orders.extend((float(w), proc.location, proc.customer, kit) for w in when)
        orders.sort(key=lambda o: o[0])
        return orders

    # -- the process -------------------------------------------------------------------------

    def _run(self, until: float) -> Any:
        env = self.engine.env
        warehouses = self.engine.warehouses
        place = {loc: wh.place_order for loc, wh in warehouses.items()}
        last_day = int(np.ceil(until / HOURS_PER_DAY))
        for day0 in range(0, last_day, BLOCK_DAYS):
            days = min(BLOCK_DAYS, last_day - day0)
            for t, loc, customer, lines in self._block(day0, days):
                if t >= until:
                    return
                if t > env.now:
                    yield env.timeout(t - env.now)
                place[loc](customer, lines)
