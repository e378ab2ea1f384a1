"""KPIs computed from the event log alone (DESIGN: the log is the record).

Works on the flat view of the log (one row per event line, with the change each row makes to the
SKU's on-hand, reserved, backorder and on-order counters). Only the window [warmup, horizon) counts.
Costs are totals over that window; levels are time averages over it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from twin.model.durations import HOURS_PER_DAY, HOURS_PER_YEAR
from twin.model.events import ROW_COLUMNS, Allocated, EventLog, OrderPlaced, Picked, Shipped, event_rows
from twin.model.observations import SkuParameters
from twin.model.scenario import KPI_NAMES, Costing

__all__ = ["events_frame", "compute_kpis", "KpiWindow", "level_series", "period_end_levels", "daily_levels"]


@dataclass(frozen=True)
class KpiWindow:
    warmup: float
    horizon: float
    costing: Costing


def events_frame(log: EventLog) -> pd.DataFrame:
    """The flat view of an event log as a DataFrame with the columns of ``ROW_COLUMNS``.

    The same rows as ``EventLog.rows``, in the same order, built column-wise: a year of a large
    warehouse has millions of rows. The common rows (an order of one line, its allocation from one
    lot, its pick and its shipment: most of a warehouse run's events) are read from the events a
    type and a field at a time, by C-level passes (``map`` with ``itemgetter``, which make no new
    objects for the collector to walk) into numpy columns; every other event goes through
    ``event_rows``, in log order. The parts are then put in log order by a stable sort on ``seq``
    (an event's rows keep their order).
    """
    events = log.events
    if not events:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ROW_COLUMNS})
    code_of: defaultdict[type, int] = defaultdict(int, {OrderPlaced: 1, Allocated: 2, Picked: 3, Shipped: 4})
    codes = np.fromiter(map(code_of.__getitem__, map(type, events)), dtype=np.int8, count=len(events))
    general = codes == 0  # events that take the general way
    parts: list[list[Any]] = []  # per part, its 13 columns
    for code in (1, 2, 3, 4):
        seq = np.flatnonzero(codes == code)
        if not len(seq):
            continue
        chosen = list(map(events.__getitem__, seq.tolist()))
        common = _common_shape(code, chosen)
        if not common.all():
            general[seq[~common]] = True
            seq = seq[common]
            chosen = list(map(chosen.__getitem__, np.flatnonzero(common).tolist()))
        if len(seq):
            parts.append(_common_part(code, seq, chosen))
    if general.any():
        rest = _general_part(events, np.flatnonzero(general))
        if rest is not None:
            parts.append(rest)
    if not parts:  # events that make no rows
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ROW_COLUMNS})
    order = np.argsort(np.concatenate([p[0] for p in parts]), kind="stable")
    data = {}
    for k, name in enumerate(ROW_COLUMNS):
        data[name] = pd.Series(np.concatenate([p[k] for p in parts])[order])
        for p in parts:
            p[k] = None  # let go of the part's column
    return pd.DataFrame(data)


def _field(events: list[Any], k: int) -> list[Any]:
    return list(map(itemgetter(k), events))


def _lengths(values: list[Any]) -> np.ndarray:
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def _common_shape(code: int, events: list[Any]) -> np.ndarray:
    """Which events of a common type have the common shape: one line (an allocation: one pick,
    nothing backordered or lost)."""
    if code == 1:
        return _lengths(_field(events, 4)) == 1
    if code == 2:
        return ((_lengths(_field(events, 3)) == 1) & (_lengths(_field(events, 4)) == 0)
                & (_lengths(_field(events, 5)) == 0))
    return _lengths(_field(events, 3)) == 1


_TYPE_NAMES = {1: "OrderPlaced", 2: "Allocated", 3: "Picked", 4: "Shipped"}


def _common_part(code: int, seq: np.ndarray, events: list[Any]) -> list[Any]:
    """The rows of events of one common type and shape, as ``event_rows`` writes them. Numbers
    are typed as pandas types a list of them (``np.asarray`` of the values)."""
    n = len(seq)
    t = np.asarray(_field(events, 0))
    order = np.asarray(_field(events, 1))
    loc = np.asarray(_field(events, 2), dtype=object)
    kind = np.full(n, _TYPE_NAMES[code], dtype=object)
    zeros = np.zeros(n)
    lines = _field(events, 4 if code == 1 else 3)
    first = list(map(itemgetter(0), lines))  # the one line or pick
    item = np.asarray(_field(first, 0), dtype=object)
    if code == 1:  # OrderPlaced: (item, qty); info is the customer
        return [seq, t, kind, order, item, loc, np.full(n, -1), np.asarray(_field(first, 1)),
                zeros, zeros, zeros, zeros, np.asarray(_field(events, 3), dtype=object)]
    if code == 2:  # Allocated: (item, lot, qty); from the backlog or as placed
        qty = np.asarray(_field(first, 2))
        backlog = np.fromiter(map(bool, _field(events, 6)), dtype=bool, count=n)
        d_bo = (-qty if backlog.all() else np.where(backlog, -qty, 0.0)) if backlog.any() else zeros
        info = np.where(backlog, "backlog", "placed").astype(object)
        return [seq, t, kind, order, item, loc, np.asarray(_field(first, 1)), qty, zeros, qty, d_bo, zeros, info]
    if code == 3:  # Picked: (item, lot, alloc, qty, scanned); a shortfall goes back on backorder
        alloc = np.asarray(_field(first, 2))
        qty = np.asarray(_field(first, 3))
        scanned = np.asarray(_field(first, 4))
        short = alloc - qty
        info = np.where(short > 0, "short", "").astype(object)
        return [seq, t, kind, order, item, loc, np.asarray(_field(first, 1)), qty,
                -scanned - short, -alloc, short, zeros, info]
    # Shipped: (item, qty); complete or partial
    complete = np.fromiter(map(bool, _field(events, 4)), dtype=bool, count=n)
    info = np.where(complete, "complete", "partial").astype(object)
    return [seq, t, kind, order, item, loc, np.full(n, -1), np.asarray(_field(first, 1)),
            zeros, zeros, zeros, zeros, info]


def _general_part(events: list[Any], seqs: np.ndarray) -> list[Any] | None:
    """The rows of every other event, by ``event_rows``, in log order (None if they make none)."""
    lot_qty: dict[tuple[str, str, int], float] = {}
    rows: list[Any] = []
    extend = rows.extend
    for seq in seqs.tolist():
        extend(event_rows(seq, events[seq], lot_qty))
    if not rows:
        return None
    return [np.asarray(_field(rows, k), dtype=object if k in _TEXT_COLUMNS else None) for k in range(len(ROW_COLUMNS))]


_TEXT_COLUMNS = {ROW_COLUMNS.index(c) for c in ("type", "item", "location", "info")}


def level_series(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that move a SKU's counters, with the levels after each row (per item and location)."""
    moves = df[(df["d_on_hand"] != 0) | (df["d_reserved"] != 0) | (df["d_backorder"] != 0)]
    moves = moves[["seq", "t", "item", "location", "d_on_hand", "d_reserved", "d_backorder"]]
    moves = moves.sort_values(["item", "location", "seq"], kind="stable")
    g = moves.groupby(["item", "location"], sort=False)
    out = moves.assign(
        on_hand=g["d_on_hand"].cumsum(),
        reserved=g["d_reserved"].cumsum(),
        backorder=g["d_backorder"].cumsum(),
    )
    return out


def _integrals(levels: pd.DataFrame, window: KpiWindow) -> pd.DataFrame:
    """Per SKU: time integrals (unit-hours) of on hand and backorders, and hours with nothing available."""
    w, h = window.warmup, window.horizon
    nxt = levels.groupby(["item", "location"], sort=False)["t"].shift(-1).fillna(h).to_numpy()
    t = levels["t"].to_numpy()
    length = np.clip(np.minimum(nxt, h) - np.maximum(t, w), 0.0, None)
    on_hand = levels["on_hand"].to_numpy()
    avail = on_hand - levels["reserved"].to_numpy()
    frame = pd.DataFrame({
        "item": levels["item"].to_numpy(),
        "location": levels["location"].to_numpy(),
        "on_hand_h": on_hand * length,
        "backorder_h": levels["backorder"].to_numpy() * length,
        "stockout_h": np.where(avail <= 1e-9, length, 0.0),
    })
    return frame.groupby(["item", "location"], sort=False).sum()


def period_end_levels(levels: pd.DataFrame, window: KpiWindow) -> pd.DataFrame:
    """On hand and backorders at the end of each period in the window (just before the boundary,
    so arrivals at the start of the next period are not counted), one row per SKU and period."""
    period = window.costing.period
    bounds = np.arange(window.warmup + period, window.horizon + 1e-9, period)
    out = []
    for (item, loc), grp in levels.groupby(["item", "location"], sort=False):
        t = grp["t"].to_numpy()
        idx = np.searchsorted(t, bounds, side="left") - 1
        ok = idx >= 0
        on_hand = np.where(ok, grp["on_hand"].to_numpy()[np.maximum(idx, 0)], 0.0)
        back = np.where(ok, grp["backorder"].to_numpy()[np.maximum(idx, 0)], 0.0)
        out.append(pd.DataFrame({"item": item, "location": loc, "t": bounds, "on_hand": on_hand,
                                 "backorder": back}))
    if not out:
        return pd.DataFrame(columns=["item", "location", "t", "on_hand", "backorder"])
    return pd.concat(out, ignore_index=True)


def daily_levels(levels: pd.DataFrame, params: SkuParameters, horizon: float, start: float = 0.0) -> pd.DataFrame:
    """Site totals at the end of each day from ``start`` (a fork's site time; 0 otherwise) to
    ``horizon``: on-hand value, on-hand units and backordered units. ``day`` counts from the start."""
    cost = pd.Series(params.unit_cost, index=pd.MultiIndex.from_arrays([params.items, params.locations]))
    window = KpiWindow(start, horizon, Costing(basis="period_end", period="1d"))
    ends = period_end_levels(levels, window)
    if ends.empty:
        return pd.DataFrame(columns=["day", "on_hand_value", "on_hand", "backorders"])
    key = pd.MultiIndex.from_arrays([ends["item"], ends["location"]])
    ends["value"] = ends["on_hand"].to_numpy() * cost.reindex(key).fillna(0.0).to_numpy()
    daily = ends.groupby("t").agg(on_hand_value=("value", "sum"), on_hand=("on_hand", "sum"),
                                  backorders=("backorder", "sum")).reset_index()
    daily["day"] = (daily["t"] - start) / HOURS_PER_DAY
    return daily[["day", "on_hand_value", "on_hand", "backorders"]]


def compute_kpis(df: pd.DataFrame, params: SkuParameters, window: KpiWindow) -> dict[str, float]:
    """Every KPI of KPI_NAMES for one replication."""
    w, h = window.warmup, window.horizon
    span = h - w
    idx = pd.MultiIndex.from_arrays([params.items, params.locations])
    unit_cost = pd.Series(params.unit_cost, index=idx)
    holding = pd.Series(params.holding_cost_per_day, index=idx)
    backorder_cost = pd.Series(params.backorder_cost_per_day, index=idx)
    order_cost = pd.Series(params.order_cost, index=idx)

    in_window = (df["t"] >= w) & (df["t"] < h)
    kind = df["type"]
    info = df["info"]

    def cost_of(rows: pd.DataFrame, table: pd.Series) -> np.ndarray:
        key = pd.MultiIndex.from_arrays([rows["item"], rows["location"]])
        return table.reindex(key).fillna(0.0).to_numpy()

    levels = level_series(df)
    integ = _integrals(levels, window).reindex(idx, fill_value=0.0)

    placed = df[in_window & (kind == "OrderPlaced")]
    demanded = float(placed["qty"].sum())
    alloc = df[in_window & (kind == "Allocated")]
    from_stock = float(alloc.loc[alloc["info"] == "placed", "qty"].sum())
    short_rows = alloc[alloc["info"].isin(["backordered", "lost"])]
    lost_rows = alloc[alloc["info"] == "lost"]
    orders = placed["order"].unique()
    short_orders = short_rows["order"].unique()

    # Cycle service level: replenishment cycles (between receipts) in which no demand went short.
    receipts = df[in_window & (((kind == "PutAway") | (kind == "StatusChanged")) & (info == "available"))]
    cycles = 0
    short_cycles = 0
    demanded_skus = placed.groupby(["item", "location"]).size().index
    rec_groups = {k: g["t"].to_numpy() for k, g in receipts.groupby(["item", "location"])}
    short_groups = {k: g["t"].to_numpy() for k, g in short_rows.groupby(["item", "location"])}
    for key in demanded_skus:
        r = rec_groups.get(key, np.empty(0))
        cycles += len(r) + 1
        s = short_groups.get(key)
        if s is not None:
            short_cycles += len(np.unique(np.searchsorted(r, s, side="right")))

    on_hand_value = float((integ["on_hand_h"] * unit_cost).sum() / span)
    if window.costing.basis == "period_end":
        ends = period_end_levels(levels, window)
        per_period = window.costing.period / HOURS_PER_DAY
        key = pd.MultiIndex.from_arrays([ends["item"], ends["location"]])
        holding_cost = float((ends["on_hand"].to_numpy() * holding.reindex(key).fillna(0).to_numpy()).sum()
                             * per_period)
        backorder_total = float((ends["backorder"].to_numpy() * backorder_cost.reindex(key).fillna(0).to_numpy()).sum()
                                * per_period)
    else:
        holding_cost = float((integ["on_hand_h"] * holding).sum() / HOURS_PER_DAY)
        backorder_total = float((integ["backorder_h"] * backorder_cost).sum() / HOURS_PER_DAY)
    lost_cost = float((lost_rows["qty"].to_numpy() * cost_of(lost_rows, unit_cost)).sum())  # default lost-sale cost
    # Reservations a count released (the shelf did not hold them) count as a short pick's shortfall
    # does: back on backorder (the backorder levels above), or, for lost-sale items, lost here.
    released_lost = df[in_window & (kind == "ReservationReleased") & (info == "lost")]
    lost_cost += float((released_lost["qty"].to_numpy() * cost_of(released_lost, unit_cost)).sum())
    shortage_cost = backorder_total + lost_cost

    pos = df[in_window & (kind == "PurchaseOrderPlaced")]
    ordering_cost = float(cost_of(pos, order_cost).sum())
    expired = df[in_window & (kind == "Expired")]
    expired_units = float(expired["qty"].sum())
    expired_value = float((expired["qty"].to_numpy() * cost_of(expired, unit_cost)).sum())
    shipped = df[in_window & (kind == "Shipped")]
    cogs = float((shipped["qty"].to_numpy() * cost_of(shipped, unit_cost)).sum())

    complete = df[(kind == "Shipped") & (info == "complete")]
    done = complete.groupby("order")["t"].max()
    placed_at = placed.groupby("order")["t"].min()
    cycle = (done.reindex(placed_at.index) - placed_at).dropna()

    kpis = {
        "fill_rate": from_stock / demanded if demanded > 0 else float("nan"),
        "order_fill_rate": 1.0 - len(short_orders) / len(orders) if len(orders) else float("nan"),
        "cycle_service_level": 1.0 - short_cycles / cycles if cycles else float("nan"),
        "backorders": float(integ["backorder_h"].sum() / span),
        "stockout_hours": float(integ["stockout_h"].sum()),
        "avg_on_hand_value": on_hand_value,
        "holding_cost": holding_cost,
        "ordering_cost": ordering_cost,
        "shortage_cost": shortage_cost,
        "inventory_turns": (cogs * HOURS_PER_YEAR / span) / on_hand_value if on_hand_value > 0 else float("nan"),
        "expired_units": expired_units,
        "order_cycle_time": float(cycle.mean()) if len(cycle) else float("nan"),
        "total_cost": holding_cost + ordering_cost + shortage_cost + expired_value,
    }
    assert set(kpis) == set(KPI_NAMES)
    return kpis
