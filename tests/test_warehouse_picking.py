"""The warehouse's hot paths (twin/sim/warehouse.py, twin/sim/demand.py) and the flat event view
(twin/kpi.py ``events_frame``): what they were made faster for must not change what they do.

- the pickers still behave as a ``simpy.Resource`` of their capacity: first come, first served, a
  pick starts as soon as a picker is free, never more picks at once than pickers;
- ``events_frame`` (built column by column) is exactly the frame of the row view ``EventLog.rows``.
"""

from __future__ import annotations

import heapq
from typing import Any

import pandas as pd
import pytest

from twin.kpi import events_frame
from twin.model import events as E
from twin.model.events import ROW_COLUMNS
from twin.model.scenario import Scenario
from twin.sim.engine import Engine


def _busy_scenario(pickers: int, *, batched: bool, misread: float = 0.0, counters: int = 0,
                   inventory: dict[str, Any] | None = None) -> Scenario:
    """A small warehouse whose pickers are often all busy: orders queue for them."""
    items = [{"id": f"i{k}", "unit_cost": 1.0 + k, "shelf_life": "6d" if k == 0 else None} for k in range(4)]
    items = [{k: v for k, v in item.items() if v is not None} for item in items]
    site: dict[str, Any] = {
        "name": "s",
        "items": items,
        "warehouses": [{
            "id": "w",
            "pickers": pickers,
            "counters": counters,
            "pick_time_per_order": "20min",
            "pick_time_per_line": "10min",
            "scanner": {"misread_rate": misread},
        }],
        "suppliers": [{"id": "s", "lead_time": {"dist": "gamma", "mean": "1d", "cv": 0.4},
                       "items": [i["id"] for i in items], "order_cost": 10}],
        "demand": [  # about 30 lines a day per picker
            {"item": "i0", "location": "w", "mean": 8 * pickers, "customer": "ward"},
            {"item": "i1", "location": "w", "mean": 30 * pickers, "customer": "walk_in", "dist": "poisson",
             "line_size": 3},
            {"item": "i2", "location": "w", "mean": 6 * pickers, "customer": "walk_in"},
            {"item": "i3", "location": "w", "mean": 4 * pickers, "customer": "ward"},
        ],
        "procedures": [{"id": "op", "location": "w", "kit": {"i2": 2, "i3": 1}, "per_day": 4 * pickers}],
    }
    if batched:
        site["customers"] = [{"id": "ward", "order_every": "8h"}]
    policies: dict[str, Any] = {"inventory": inventory or {"use": "s_S", "params": {"service_level": 0.9}}}
    if counters:
        policies["cycle_count"] = {"use": "abc_cycle_count", "params": {"interval_days": {"A": 1, "B": 2, "C": 3}}}
    return Scenario.model_validate({"name": "busy-pickers", "horizon": "6d", "seed": 3, "site": site,
                                    "policies": policies})


@pytest.mark.parametrize("pickers,batched", [(1, False), (2, True), (3, True)])
def test_pickers_serve_picks_first_come_first_served_as_soon_as_one_is_free(pickers: int, batched: bool) -> None:
    sc = _busy_scenario(pickers, batched=batched)
    out = Engine(sc, sc.seed).run(sc.horizon)
    wh = sc.site.warehouses[0]
    # Every allocation with picks asks for a picker, in the order of the log; its pick ends with
    # a Picked event of the same order (an order may ask more than once: backorders served later).
    requests: list[tuple[float, int, int]] = []  # (asked at, order, lines)
    ends: dict[int, list[float]] = {}
    for ev in out.log:
        if type(ev) is E.Allocated and ev.picks:
            requests.append((ev.t, ev.order, len(ev.picks)))
        elif type(ev) is E.Picked:
            ends.setdefault(ev.order, []).append(ev.t)
    assert len(requests) > 100
    # A Resource of `pickers`, first come first served: a pick starts when it is asked for or when
    # the earliest busy picker is done, whichever is later.
    free = [0.0] * pickers
    seen: dict[int, int] = {}
    waited = 0
    for asked, order, lines in requests:
        start = max(asked, heapq.heappop(free))
        waited += start > asked
        end = start + (wh.pick_time_per_order + wh.pick_time_per_line * lines)
        heapq.heappush(free, end)
        k = seen.get(order, 0)
        seen[order] = k + 1
        got = ends.get(order, [])
        if k >= len(got):  # still being picked when the run ended
            assert end >= sc.horizon - 1e-9
            continue
        assert got[k] == pytest.approx(end, abs=1e-9), f"order {order}: pick ended at {got[k]}, expected {end}"
    assert waited > 10  # the pickers were the bottleneck now and then: the queue was exercised


@pytest.mark.parametrize("misread,counters", [(0.0, 0), (0.05, 1)])
def test_events_frame_is_the_frame_of_the_row_view(misread: float, counters: int) -> None:
    # Stock runs short now and then (backorders, served later), counts correct misreads.
    sc = _busy_scenario(2, batched=True, misread=misread, counters=counters,
                        inventory={"use": "s_S", "params": {"s": 5, "S": 40}})
    out = Engine(sc, sc.seed).run(sc.horizon)
    kinds = {type(ev).__name__ for ev in out.log}
    assert {"OrderPlaced", "Allocated", "Picked", "Shipped", "GoodsReceived", "PutAway"} <= kinds
    expected = pd.DataFrame.from_records(out.log.rows(), columns=ROW_COLUMNS)
    frame = events_frame(out.log)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    # Multi-line orders, short picks and backordered lines took the general way and are there too.
    assert (frame["type"] == "OrderPlaced").sum() > (frame.drop_duplicates("seq")["type"] == "OrderPlaced").sum()
    assert (frame["info"] == "backordered").any() and (frame["info"] == "backlog").any()
    assert (frame["type"] == "StockCounted").any() == bool(counters)


def test_events_frame_of_an_empty_log_has_the_columns() -> None:
    frame = events_frame(E.EventLog())
    assert list(frame.columns) == list(ROW_COLUMNS)
    assert frame.empty


@pytest.mark.parametrize(
    "events",
    [
        # an allocation that makes no rows: the general way adds none, the common rows keep int columns
        [E.OrderPlaced(1.0, 0, "W", "c", (("A", 2.0),)), E.Allocated(1.0, 0, "W", (), (), (), False)],
        [E.OrderPlaced(1.0, 0, "W", "c", (("A", 2.0),)), E.OrderPlaced(2.0, 1, "W", "c", ())],
        [E.OrderPlaced(1.0, 0, "W", "c", (("A", 2),))],  # int quantities stay int
        [E.Allocated(1.0, 0, "W", (("A", 3, 2),), (), (), True)],  # from the backlog, int quantities
        [E.OrderPlaced(1, 0, "W", "c", (("A", 2.0),)), E.Allocated(1.0, 0, "W", (("A", 3, 2.0),), (), (), True)],
    ],
)
def test_events_frame_of_odd_logs_is_the_frame_of_the_row_view(events: list[object]) -> None:
    log = E.EventLog()
    log.events.extend(events)
    expected = pd.DataFrame.from_records(log.rows(), columns=ROW_COLUMNS)
    pd.testing.assert_frame_equal(events_frame(log), expected, check_exact=True)


def test_an_order_for_an_item_not_kept_at_the_warehouse_is_a_reducer_error() -> None:
    from twin.model.state import ReducerError

    sc = _busy_scenario(1, batched=False)
    engine = Engine(sc, sc.seed)
    wh = next(iter(engine.warehouses.values()))
    with pytest.raises(ReducerError, match="unknown item 'no-such-item'"):
        wh.place_order("walk_in", (("no-such-item", 1.0),))
