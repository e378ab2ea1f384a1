"""KPIs computed from the event log alone (DESIGN: the log is the record).

Works on the flat view of the log (one row per event line, with the change each row makes to the
SKU's on-hand, reserved, backorder and on-order counters). Only the window [warmup, horizon) counts.
Costs are totals over that window; levels are time averages over it.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    Built column by column (the same rows as ``EventLog.rows``, in the same order): a year of a
    large warehouse has millions of rows, and a list of row tuples turned into a frame holds
    every value about three times over at its peak. The common one-line order, allocation, pick
    and shipment rows are written here directly; every other event goes through ``event_rows``.
    """
    cols: list[list[Any]] = [[] for _ in ROW_COLUMNS]
    (seq_c, t_c, type_c, order_c, item_c, loc_c, lot_c, qty_c,
     on_hand_c, reserved_c, backorder_c, on_order_c, info_c) = cols
    adds = [c.append for c in cols]
    (a_seq, a_t, a_type, a_order, a_item, a_loc, a_lot, a_qty,
     a_on_hand, a_reserved, a_backorder, a_on_order, a_info) = adds
    lot_qty: dict[tuple[str, str, int], float] = {}
    placed, allocated, picked, shipped = OrderPlaced, Allocated, Picked, Shipped
    for seq, ev in enumerate(log.events):
        cls = ev.__class__
        if cls is placed and len(ev[4]) == 1:
            t, order, loc, customer, lines = ev
            item, qty = lines[0]
            a_seq(seq), a_t(t), a_type("OrderPlaced"), a_order(order), a_item(item), a_loc(loc), a_lot(-1)
            a_qty(qty), a_on_hand(0.0), a_reserved(0.0), a_backorder(0.0), a_on_order(0.0), a_info(customer)
        elif cls is allocated and len(ev[3]) == 1 and not ev[4] and not ev[5]:
            t, order, loc, picks, _, _, backlog = ev
            item, lot, qty = picks[0]
            a_seq(seq), a_t(t), a_type("Allocated"), a_order(order), a_item(item), a_loc(loc), a_lot(lot)
            a_qty(qty), a_on_hand(0.0), a_reserved(qty), a_backorder(-qty if backlog else 0.0), a_on_order(0.0)
            a_info("backlog" if backlog else "placed")
        elif cls is picked and len(ev[3]) == 1:
            t, order, loc, picks = ev
            item, lot, alloc, qty, scanned = picks[0]
            short = alloc - qty
            a_seq(seq), a_t(t), a_type("Picked"), a_order(order), a_item(item), a_loc(loc), a_lot(lot)
            a_qty(qty), a_on_hand(-scanned - short), a_reserved(-alloc), a_backorder(short), a_on_order(0.0)
            a_info("short" if short > 0 else "")
        elif cls is shipped and len(ev[3]) == 1:
            t, order, loc, lines, complete = ev
            item, qty = lines[0]
            a_seq(seq), a_t(t), a_type("Shipped"), a_order(order), a_item(item), a_loc(loc), a_lot(-1)
            a_qty(qty), a_on_hand(0.0), a_reserved(0.0), a_backorder(0.0), a_on_order(0.0)
            a_info("complete" if complete else "partial")
        else:
            for row in event_rows(seq, ev, lot_qty):
                for add, value in zip(adds, row, strict=True):
                    add(value)
    if not seq_c:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in ROW_COLUMNS})
    # Each column is converted on its own (typed as ``DataFrame.from_records`` types it) and its
    # list let go of; the frame then puts columns of a dtype together (faster to filter).
    data = {}
    for name, col in zip(ROW_COLUMNS, cols, strict=True):
        data[name] = pd.Series(col)
        col.clear()
    return pd.DataFrame(data)


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
