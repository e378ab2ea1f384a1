"""Material requirements planning (MRP), pure and vectorised across items.

Gross-to-net by low-level code over time buckets: every item of one low-level code is netted at
once (numpy arrays of shape items x buckets), walking the buckets in time; the planned-order
releases of that level become the gross requirements of the next through one sparse product.

Timing convention (the textbook one, see ../shared/validation/mrp_example.yaml):

- a gross requirement in bucket t must be available at the start of bucket t;
- a scheduled receipt in bucket t arrives at the start of bucket t;
- a planned order released in bucket t with lead time L is received at the start of bucket t + L;
- projected on hand is the balance after bucket t's gross requirement is met;
- net(t) = max(0, gross(t) + safety stock - (on hand carried into t + scheduled receipt(t)));
- a parent's planned-order releases x quantity per (/ (1 - scrap)) are the children's gross
  requirements in the same bucket.

A planned order whose release falls before bucket 0 is released in bucket 0 and flagged past due.
Buckets are numbered from 0; a textbook's "week 1" is bucket 0.

``policies.mrp_planner.MrpPlanner`` (registered as ``mrp``) runs this planning as the plant's
production policy inside the simulation.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse

__all__ = [
    "LotRule",
    "LotSizing",
    "MrpItem",
    "BomLine",
    "Demand",
    "PlannedOrder",
    "Peg",
    "MrpException",
    "MrpError",
    "MrpPlan",
    "plan_mrp",
    "low_level_codes",
]

LotRule = Literal["lot_for_lot", "fixed", "eoq", "poq", "wagner_whitin"]
_RULES: tuple[LotRule, ...] = ("lot_for_lot", "fixed", "eoq", "poq", "wagner_whitin")
_EPS = 1e-9


class MrpError(ValueError):
    """Input MRP cannot plan: a cyclic BOM, an item with no source, a bad lot-sizing rule."""


@dataclass(frozen=True)
class LotSizing:
    """How a net requirement becomes a planned order.

    ``fixed``: the smallest multiple of ``qty`` covering the net requirement; ``eoq``: at least the
    economic order quantity from ``order_cost`` and ``holding_cost`` (per unit per bucket) and the
    item's mean gross requirement; ``poq``: cover ``periods`` buckets of requirements;
    ``wagner_whitin``: the cost-optimal plan of the net requirements (setup vs holding).
    """

    rule: LotRule = "lot_for_lot"
    qty: float = 0.0
    periods: int = 1
    order_cost: float = 0.0
    holding_cost: float = 0.0


@dataclass(frozen=True)
class MrpItem:
    id: str
    source: Literal["make", "buy"] | None
    lead_time: int  # buckets
    on_hand: float = 0.0
    allocated: float = 0.0  # on hand already promised (to released work orders, picks)
    safety_stock: float = 0.0
    scheduled_receipts: Mapping[int, float] = field(default_factory=dict)  # bucket -> qty (open orders)
    lot: LotSizing = LotSizing()


@dataclass(frozen=True)
class BomLine:
    parent: str
    child: str
    qty_per: float
    scrap: float = 0.0  # share of the component lost in production: gross = qty_per / (1 - scrap)


@dataclass(frozen=True)
class Demand:
    """Independent demand (a master-schedule line, a customer order) due at the start of ``bucket``."""

    item: str
    bucket: int
    qty: float
    ref: str = ""


@dataclass(frozen=True)
class PlannedOrder:
    item: str
    source: Literal["make", "buy"]
    release: int  # bucket; negative = past due (released in bucket 0)
    due: int  # bucket the order is received in
    qty: float


@dataclass(frozen=True)
class Peg:
    """``qty`` of a supply (``supply``: 'on_hand', 'scheduled', 'planned') of ``item`` received in
    ``supply_bucket`` covers a requirement due in ``bucket`` caused by ``cause``: a Demand's ref or
    'parent:<item>@<release bucket>' for a parent's planned order."""

    item: str
    supply: str
    supply_bucket: int
    bucket: int
    qty: float
    cause: str


@dataclass(frozen=True)
class MrpException:
    """An action message: expedite / de_expedite / cancel a scheduled receipt, or a past-due order."""

    item: str
    kind: Literal["expedite", "de_expedite", "cancel", "past_due"]
    bucket: int  # where the order is now (receipt bucket; for past due, the release bucket it needed)
    to_bucket: int | None  # where it should be (None: cancel)
    qty: float
    message: str


def low_level_codes(items: Sequence[str], bom: Iterable[BomLine]) -> dict[str, int]:
    """Lowest level at which each item appears in any BOM (0 = end item). Raises MrpError on a cycle."""
    children: dict[str, list[str]] = defaultdict(list)
    indeg = dict.fromkeys(items, 0)
    for line in bom:
        children[line.parent].append(line.child)
        indeg[line.child] = indeg.get(line.child, 0) + 1
        indeg.setdefault(line.parent, 0)
    llc = dict.fromkeys(indeg, 0)
    queue = deque(i for i, d in indeg.items() if d == 0)
    done = 0
    while queue:
        node = queue.popleft()
        done += 1
        for child in children.get(node, ()):
            if llc[node] + 1 > llc[child]:
                llc[child] = llc[node] + 1
            indeg[child] -= 1
            if indeg[child] == 0:
                queue.append(child)
    if done < len(indeg):
        raise MrpError(f"cyclic bill of materials: {' -> '.join(_find_cycle(children, indeg))}")
    return llc


def _find_cycle(children: Mapping[str, list[str]], indeg: Mapping[str, int]) -> list[str]:
    """One cycle among the items Kahn's algorithm could not order (for the error message).

    Every item left has a parent that is left too, so walking up from any of them must come back
    to an item already seen: that stretch of the walk is a cycle."""
    left = {i for i, d in indeg.items() if d > 0}
    parents: dict[str, list[str]] = defaultdict(list)
    for parent, kids in children.items():
        for kid in kids:
            if parent in left and kid in left:
                parents[kid].append(parent)
    node = min(left)
    path: list[str] = []
    seen: dict[str, int] = {}
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(parents[node])
    cycle = [*path[seen[node]:], node][::-1]  # parent -> child order
    start = cycle.index(min(cycle[:-1]))
    return [*cycle[start:-1], *cycle[:start], cycle[start]]


@dataclass
class MrpPlan:
    """The MRP records of every item (rows in ``items`` order, one column per bucket)."""

    items: tuple[str, ...]
    index: dict[str, int]
    llc: np.ndarray
    source: tuple[str, ...]
    lead_time: np.ndarray
    gross: np.ndarray
    scheduled: np.ndarray
    net: np.ndarray
    planned_receipts: np.ndarray
    planned_releases: np.ndarray  # past-due releases are in bucket 0
    projected_on_hand: np.ndarray  # end of each bucket
    opening: np.ndarray  # on hand minus allocated at the start
    exceptions: list[MrpException]
    _demands: dict[str, list[Demand]]
    _bom: list[BomLine]

    def record(self, item: str) -> dict[str, dict[int, float]]:
        """The item's MRP record as {row: {bucket: qty}} with zero entries left out (POH kept whole)."""
        k = self.index[item]

        def nz(a: np.ndarray) -> dict[int, float]:
            return {int(t): float(a[k, t]) for t in np.flatnonzero(np.abs(a[k]) > _EPS)}

        return {
            "gross": nz(self.gross), "scheduled": nz(self.scheduled), "net": nz(self.net),
            "planned_receipts": nz(self.planned_receipts), "planned_releases": nz(self.planned_releases),
            "projected_on_hand": {t: float(v) for t, v in enumerate(self.projected_on_hand[k])},
        }

    def releases(self, item: str) -> dict[int, float]:
        return self.record(item)["planned_releases"]

    def planned_orders(self, bucket: int | None = None) -> list[PlannedOrder]:
        """Every planned order (or those released in ``bucket``), in item order then time."""
        rows, cols = np.nonzero(self.planned_receipts > _EPS)
        out = []
        for k, t in zip(rows.tolist(), cols.tolist(), strict=True):
            release = t - int(self.lead_time[k])
            if bucket is not None and max(release, 0) != bucket:
                continue
            src = self.source[k]
            out.append(PlannedOrder(self.items[k], "make" if src == "make" else "buy", release, t,
                                    float(self.planned_receipts[k, t])))
        return out

    def pegging(self, item: str) -> list[Peg]:
        """Single-level pegging: which supply covers which requirement of ``item`` (first in, first
        out in time), each requirement named by its cause. ``trace`` follows it to end demand."""
        k = self.index[item]
        needs: list[tuple[int, float, str]] = [(d.bucket, d.qty, d.ref or f"demand:{item}@{d.bucket}")
                                               for d in self._demands.get(item, [])]
        for line in self._bom:
            if line.child == item:
                p = self.index[line.parent]
                for t in np.flatnonzero(self.planned_releases[p] > _EPS).tolist():
                    qty = float(self.planned_releases[p, t]) * line.qty_per / (1.0 - line.scrap)
                    needs.append((t, qty, f"parent:{line.parent}@{t}"))
        needs.sort(key=lambda n: n[0])
        supplies: list[list[object]] = [["on_hand", -1, max(self._opening(k), 0.0)]]
        for t in range(self.gross.shape[1]):
            if self.scheduled[k, t] > _EPS:
                supplies.append(["scheduled", t, float(self.scheduled[k, t])])
            if self.planned_receipts[k, t] > _EPS:
                supplies.append(["planned", t, float(self.planned_receipts[k, t])])
        pegs: list[Peg] = []
        s = 0
        for bucket, qty, cause in needs:
            left = qty
            while left > _EPS and s < len(supplies):
                kind, at, free = supplies[s]
                assert isinstance(free, float) and isinstance(at, int) and isinstance(kind, str)
                step = min(free, left)
                if step > _EPS:
                    pegs.append(Peg(item, kind, at, bucket, step, cause))
                left -= step
                supplies[s][2] = free - step
                if free - step <= _EPS:
                    s += 1
        return pegs

    def trace(self, item: str, due: int) -> set[str]:
        """The end demands (Demand refs) that the planned order of ``item`` received in ``due`` serves."""
        out: set[str] = set()
        for peg in self.pegging(item):
            if peg.supply != "planned" or peg.supply_bucket != due:
                continue
            if peg.cause.startswith("parent:"):
                parent, _, t = peg.cause.removeprefix("parent:").rpartition("@")
                p = self.index[parent]
                out |= self.trace(parent, int(t) + int(self.lead_time[p]))
            else:
                out.add(peg.cause)
        return out

    def _opening(self, k: int) -> float:
        return float(self.opening[k])


def _check(items: Sequence[MrpItem], bom: Sequence[BomLine], demands: Sequence[Demand], buckets: int) -> None:
    if buckets < 1:
        raise MrpError(f"buckets must be at least 1, got {buckets}")
    known = {}
    for it in items:
        if it.id in known:
            raise MrpError(f"item {it.id!r} is listed twice")
        known[it.id] = it
        if it.source not in ("make", "buy"):
            raise MrpError(f"item {it.id!r} has no source: mark it 'make' (it has a BOM) or 'buy' (a supplier)")
        if it.lead_time < 0:
            raise MrpError(f"item {it.id!r}: lead_time must be >= 0, got {it.lead_time}")
        lot = it.lot
        if lot.rule not in _RULES:
            raise MrpError(f"item {it.id!r}: unknown lot-sizing rule {lot.rule!r}; use one of {', '.join(_RULES)}")
        if lot.rule == "fixed" and lot.qty <= 0:
            raise MrpError(f"item {it.id!r}: a fixed lot size needs qty > 0")
        if lot.rule == "poq" and lot.periods < 1:
            raise MrpError(f"item {it.id!r}: periods of supply needs periods >= 1")
        if lot.rule in ("eoq", "wagner_whitin") and (lot.order_cost <= 0 or lot.holding_cost <= 0):
            raise MrpError(f"item {it.id!r}: {lot.rule} needs order_cost > 0 and holding_cost > 0")
    for line in bom:
        for ident in (line.parent, line.child):
            if ident not in known:
                raise MrpError(f"BOM line {line.parent} -> {line.child}: item {ident!r} has no source "
                               "(it is not in the item list)")
        if known[line.parent].source != "make":
            raise MrpError(f"item {line.parent!r} has a BOM but is bought; mark it 'make'")
        if line.qty_per <= 0 or not 0 <= line.scrap < 1:
            raise MrpError(f"BOM line {line.parent} -> {line.child}: qty_per must be > 0 and scrap in [0, 1)")
    for d in demands:
        if d.item not in known:
            raise MrpError(f"demand {d.ref or d.item!r}: item {d.item!r} has no source (it is not in the item list)")


def plan_mrp(items: Sequence[MrpItem], bom: Sequence[BomLine], demands: Sequence[Demand], buckets: int) -> MrpPlan:
    """Plan every item over ``buckets`` time buckets. Raises MrpError on bad input (see ``_check``)."""
    _check(items, bom, demands, buckets)
    ids = tuple(it.id for it in items)
    index = {i: k for k, i in enumerate(ids)}
    n, T = len(ids), buckets
    llc_map = low_level_codes(ids, bom)
    llc = np.array([llc_map[i] for i in ids], dtype=np.int64)
    lead = np.array([it.lead_time for it in items], dtype=np.int64)
    opening = np.array([it.on_hand - it.allocated for it in items], dtype=float)
    safety = np.array([it.safety_stock for it in items], dtype=float)
    rule = np.array([_RULES.index(it.lot.rule) for it in items], dtype=np.int64)
    lot_qty = np.array([it.lot.qty for it in items], dtype=float)
    periods = np.array([it.lot.periods for it in items], dtype=np.int64)
    order_cost = np.array([it.lot.order_cost for it in items], dtype=float)
    holding = np.array([it.lot.holding_cost for it in items], dtype=float)

    gross = np.zeros((n, T))
    sched = np.zeros((n, T))
    exceptions: list[MrpException] = []
    late_receipts: list[tuple[int, int, float]] = []
    for k, it in enumerate(items):
        for t, q in it.scheduled_receipts.items():
            if t < 0:
                # An open order that should already have arrived: it is counted as arriving now.
                late_receipts.append((k, t, q))
                sched[k, 0] += q
            elif t < T:
                sched[k, t] += q
    by_item: dict[str, list[Demand]] = defaultdict(list)
    for d in demands:
        by_item[d.item].append(d)
        if 0 <= d.bucket < T:
            gross[index[d.item], d.bucket] += d.qty
        elif d.bucket < 0:
            gross[index[d.item], 0] += d.qty  # overdue demand is wanted now

    # Component matrix: child x parent, quantity per parent unit including scrap.
    if bom:
        rows = [index[b.child] for b in bom]
        cols = [index[b.parent] for b in bom]
        vals = [b.qty_per / (1.0 - b.scrap) for b in bom]
        comp = sparse.csc_matrix((vals, (rows, cols)), shape=(n, n))
    else:
        comp = sparse.csc_matrix((n, n))

    net = np.zeros((n, T))
    receipts = np.zeros((n, T))
    releases = np.zeros((n, T))
    poh = np.zeros((n, T))
    for level in range(int(llc.max()) + 1 if n else 0):
        idx = np.flatnonzero(llc == level)
        if idx.size == 0:
            continue
        g, s = gross[idx], sched[idx]
        nt, rc, ph = _net_level(g, s, opening[idx], safety[idx], rule[idx], lot_qty[idx], periods[idx],
                                order_cost[idx], holding[idx])
        net[idx], receipts[idx], poh[idx] = nt, rc, ph
        # Offset by lead time; a release before bucket 0 is past due and goes out now.
        lt = lead[idx]
        r_rows, r_cols = np.nonzero(rc > _EPS)
        rel_cols = r_cols - lt[r_rows]
        rel = np.zeros_like(rc)
        np.add.at(rel, (r_rows, np.maximum(rel_cols, 0)), rc[r_rows, r_cols])
        releases[idx] = rel
        for j in np.flatnonzero(rel_cols < 0).tolist():
            k = int(idx[r_rows[j]])
            due, start = int(r_cols[j]), int(rel_cols[j])
            exceptions.append(MrpException(ids[k], "past_due", start, 0, float(rc[r_rows[j], r_cols[j]]),
                                           f"{ids[k]}: release of {rc[r_rows[j], r_cols[j]]:g} due in bucket "
                                           f"{due} should have started in bucket {start}; release now"))
        if comp.nnz:
            gross += comp[:, idx] @ rel

    exceptions += _receipt_messages(ids, items, gross, opening, safety, T)
    for k, t, q in late_receipts:
        exceptions.append(MrpException(ids[k], "past_due", t, 0, q,
                                       f"{ids[k]}: scheduled receipt of {q:g} was due in bucket {t}"))
    return MrpPlan(ids, index, llc, tuple(it.source or "" for it in items), lead, gross, sched, net, receipts,
                   releases, poh, opening, exceptions, dict(by_item), list(bom))


def _net_level(g: np.ndarray, s: np.ndarray, opening: np.ndarray, safety: np.ndarray, rule: np.ndarray,
               lot_qty: np.ndarray, periods: np.ndarray, order_cost: np.ndarray, holding: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Net and lot-size the items of one level (rows) over the buckets (columns), all rows at once."""
    m, T = g.shape
    fixed = rule == _RULES.index("fixed")
    eoq = rule == _RULES.index("eoq")
    poq = rule == _RULES.index("poq")
    ww = rule == _RULES.index("wagner_whitin")
    eoq_qty = np.zeros(m)
    if eoq.any():
        mean = g[eoq].mean(axis=1)
        eoq_qty[eoq] = np.ceil(np.sqrt(2.0 * mean * order_cost[eoq] / holding[eoq]))
    cum_g = np.concatenate([np.zeros((m, 1)), np.cumsum(g, axis=1)], axis=1)
    cum_s = np.concatenate([np.zeros((m, 1)), np.cumsum(s, axis=1)], axis=1)
    ww_plan = np.zeros((m, T))
    if ww.any():
        ww_plan[ww] = _wagner_whitin(_lfl_net(g[ww], s[ww], opening[ww], safety[ww]), order_cost[ww], holding[ww])
    rows = np.arange(m)
    net = np.zeros((m, T))
    rec = np.zeros((m, T))
    poh_out = np.zeros((m, T))
    poh = opening.copy()
    for t in range(T):
        have = poh + s[:, t]
        need = g[:, t] + safety - have
        nt = np.where(need > _EPS, need, 0.0)
        q = nt.copy()
        if fixed.any():
            q[fixed] = np.ceil(nt[fixed] / lot_qty[fixed] - 1e-9) * lot_qty[fixed]
        if eoq.any():
            q[eoq] = np.where(nt[eoq] > 0, np.maximum(nt[eoq], eoq_qty[eoq]), 0.0)
        if poq.any():
            end = np.minimum(t + periods[poq], T)
            r = rows[poq]
            cover = (cum_g[r, end] - cum_g[r, t]) - (cum_s[r, end] - cum_s[r, t]) + safety[poq] - poh[poq]
            q[poq] = np.where(nt[poq] > 0, np.maximum(nt[poq], cover), 0.0)
        if ww.any():
            q[ww] = np.maximum(ww_plan[ww, t], nt[ww])
        net[:, t] = nt
        rec[:, t] = q
        poh = have + q - g[:, t]
        poh_out[:, t] = poh
    return net, rec, poh_out


def _lfl_net(g: np.ndarray, s: np.ndarray, opening: np.ndarray, safety: np.ndarray) -> np.ndarray:
    """Net requirements with lot-for-lot cover (what Wagner-Whitin then groups into lots)."""
    m, T = g.shape
    net = np.zeros((m, T))
    poh = opening.copy()
    for t in range(T):
        have = poh + s[:, t]
        need = np.maximum(g[:, t] + safety - have, 0.0)
        net[:, t] = need
        poh = have + need - g[:, t]
    return net


def _wagner_whitin(req: np.ndarray, setup: np.ndarray, hold: np.ndarray) -> np.ndarray:
    """Cost-optimal lots for net requirements ``req`` (rows: items): Wagner-Whitin dynamic program,
    one row per item, all rows at once. Returns the receipt quantity per bucket."""
    m, T = req.shape
    c0 = np.concatenate([np.zeros((m, 1)), np.cumsum(req, axis=1)], axis=1)
    kk = np.arange(T, dtype=float)
    c1 = np.concatenate([np.zeros((m, 1)), np.cumsum(req * kk, axis=1)], axis=1)
    f = np.zeros((m, T + 1))
    choice = np.full((m, T + 1), -1, dtype=np.int64)  # -1: bucket t-1 needs nothing, carry f[t-1]
    for t in range(1, T + 1):
        j = np.arange(t)
        # Order in j covers j..t-1: setup + holding of each unit for (k - j) buckets.
        qty = c0[:, t:t + 1] - c0[:, :t]
        carry = (c1[:, t:t + 1] - c1[:, :t]) - j[None, :] * qty
        cost = f[:, :t] + setup[:, None] + hold[:, None] * carry
        cost = np.where(req[:, :t] > _EPS, cost, np.inf)
        best = np.argmin(cost, axis=1)
        best_cost = cost[np.arange(m), best]
        idle = req[:, t - 1] <= _EPS
        take_idle = idle & (f[:, t - 1] <= best_cost)
        f[:, t] = np.where(take_idle, f[:, t - 1], best_cost)
        choice[:, t] = np.where(take_idle, -1, best)
    plan = np.zeros((m, T))
    pos = np.full(m, T)
    rows = np.arange(m)
    while (pos > 0).any():
        live = pos > 0
        r, p = rows[live], pos[live]
        j = choice[r, p]
        lot = j >= 0
        plan[r[lot], j[lot]] = c0[r[lot], p[lot]] - c0[r[lot], j[lot]]
        pos[live] = np.where(lot, j, p - 1)
    return plan


def _receipt_messages(ids: tuple[str, ...], items: Sequence[MrpItem], gross: np.ndarray, opening: np.ndarray,
                      safety: np.ndarray, T: int) -> list[MrpException]:
    """Compare each open (scheduled) receipt's date with the bucket it is first needed in."""
    out: list[MrpException] = []
    for k, it in enumerate(items):
        if not it.scheduled_receipts:
            continue
        # Stock short of safety without any open receipt, per bucket end.
        short = opening[k] - np.cumsum(gross[k]) - safety[k]
        covered = 0.0
        for t, q in sorted(it.scheduled_receipts.items()):
            if t >= T:
                continue
            lacking = np.flatnonzero(short + covered < -_EPS)
            need = int(lacking[0]) if lacking.size else None
            covered += q
            due = max(t, 0)
            if need is None:
                out.append(MrpException(ids[k], "cancel", t, None, q,
                                        f"{ids[k]}: open receipt of {q:g} in bucket {t} is not needed; cancel it"))
            elif need < due:
                out.append(MrpException(ids[k], "expedite", t, need, q,
                                        f"{ids[k]}: expedite receipt of {q:g} from bucket {t} to {need}"))
            elif need > due:
                out.append(MrpException(ids[k], "de_expedite", t, need, q,
                                        f"{ids[k]}: de-expedite receipt of {q:g} from bucket {t} to {need}"))
    return out

