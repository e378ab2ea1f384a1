"""Fork a forecast from now (issue 7, point 5): the forecast starts with what is under way at the
live site (open purchase orders, backorders, machines under repair; vehicles under way in
test_fork_fleet.py) and goes on with it; each carried
element changes the forecast the way it should, against the same fork without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import small_scenario, small_scenario_data
from tests.live.helpers import EPOCH
from twin.errors import ScenarioError
from twin.event_store import EventStore
from twin.experiment import simulate
from twin.live import LiveConfig, LiveTwin
from twin.live_forecast import forecast_scenario, opening_of
from twin.model import events as E
from twin.model.scenario import Scenario
from twin.scenario import scenario_digest
from twin.sim.engine import run_replication
from twin.sim.opening import CARRIED

NOW = 100.0  # the site clock when the forecast is forked (hours since the store's epoch)
HORIZON = 72.0


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "erp", "type": type_, "payload": payload}


def stock(t: float, **qty: float) -> list[dict[str, Any]]:
    out = []
    for lot, (item, q) in enumerate(qty.items(), 1):
        out.append(env(f"r-{item}", t, "GoodsReceived", po=-1, item=item, location="main", lot=lot, qty=q, scanned=q,
                       expiry=None, closes_po=True))
        out.append(env(f"p-{item}", t, "PutAway", item=item, location="main", lot=lot, status="available"))
    return out


def live_twin(tmp_path: Path, scenario: Scenario, events: list[dict[str, Any]]) -> LiveTwin:
    twin = LiveTwin(scenario, EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))
    result = twin.ingest(events)
    assert not result.rejected, result.rejected
    return twin


# Gauze is out at the site; 120 are on order (po 41) from medsupply, due in 12 h; a ward's order 9
# waits for 15 of them. Saline and gloves are well stocked.
OPEN = [*stock(1.0, gauze=10.0, saline=400.0, gloves=2000.0),
        env("o9", 50.0, "OrderPlaced", order=9, location="main", customer="ward-3", lines=[["gauze", 25.0]]),
        env("a9", 50.0, "Allocated", order=9, location="main", picks=[["gauze", 1, 10.0]],
            backordered=[["gauze", 15.0]], lost=[], backlog=False),
        env("k9", 50.5, "Picked", order=9, location="main", picks=[["gauze", 1, 10.0, 10.0, 10.0]]),
        env("s9", 50.5, "Shipped", order=9, location="main", lines=[["gauze", 10.0]], complete=False),
        env("po41", 80.0, "PurchaseOrderPlaced", po=41, item="gauze", location="main", supplier="medsupply",
            qty=120.0, due=NOW + 12.0, policy="erp"),
        env("tick", NOW, "PurchaseOrderShipped", po=41, item="gauze", location="main", qty=120.0)]


def test_the_fork_carries_what_is_under_way(tmp_path: Path) -> None:
    twin = live_twin(tmp_path, small_scenario(), OPEN)
    assert twin.state.clock == NOW
    opening = opening_of(twin.scenario, twin.state)
    assert opening == {
        "purchase_orders": [{"po": 41, "item": "gauze", "location": "main", "supplier": "medsupply", "qty": 120.0,
                             "due": 12.0}],
        "backorders": [{"order": 9, "item": "gauze", "location": "main", "qty": 15.0}],
        "assets_down": []}
    scenario = forecast_scenario(twin.scenario, twin.state, HORIZON, replications=2)
    assert scenario.opening is not None and scenario.horizon == HORIZON
    assert scenario.site.warehouses[0].initial_stock == {"gauze": 0.0, "saline": 400.0, "gloves": 2000.0}
    # The opening is part of what a run depends on: the digest sees it; a scenario without one keeps
    # its digest (nothing about it is written).
    assert scenario_digest(scenario) != scenario_digest(forecast_scenario(twin.scenario, twin.state, HORIZON,
                                                                          replications=2, carry=()))
    assert "opening" not in twin.scenario.model_dump_json()
    with pytest.raises(ScenarioError, match="unknown \\['crews'\\]"):
        forecast_scenario(twin.scenario, twin.state, HORIZON, carry=("crews",))


def test_an_open_po_arrives_in_the_forecast_and_shortens_the_stockout(tmp_path: Path) -> None:
    twin = live_twin(tmp_path, small_scenario(), OPEN)
    carried = forecast_scenario(twin.scenario, twin.state, HORIZON, replications=4, carry=("purchase_orders",))
    without = forecast_scenario(twin.scenario, twin.state, HORIZON, replications=4, carry=())
    out = run_replication(carried, seed=3, replication=0, horizon=HORIZON)
    placed = [e for e in out.log if isinstance(e, E.PurchaseOrderPlaced) and e.policy == CARRIED]
    assert [(e.t, e.item, e.qty, e.due, e.supplier) for e in placed] == [(NOW, "gauze", 120.0, NOW + 12.0,
                                                                               "medsupply")]
    arrived = [e for e in out.log if isinstance(e, E.GoodsReceived) and e.po == placed[0].po]
    assert len(arrived) == 1 and arrived[0].qty == 120.0 and NOW + 12.0 <= arrived[0].t < NOW + 13.0
    # The policy sees it on order from the start: it does not order gauze again at once.
    first = [e for e in out.log if isinstance(e, E.PurchaseOrderPlaced) and e.item == "gauze" and e.policy != CARRIED]
    assert not first or first[0].t > NOW + 12.0
    with_po = simulate(carried, seed=3, workers=1).summary["mean"]
    no_po = simulate(without, seed=3, workers=1).summary["mean"]
    # Without it the (s,S) policy orders at time 0 and waits out a 3-day lead time: gauze is out far longer.
    assert with_po["stockout_hours"] < no_po["stockout_hours"] - 10
    assert with_po["fill_rate"] > no_po["fill_rate"]


def test_a_supplier_outage_in_the_overlay_holds_the_carried_po(tmp_path: Path) -> None:
    twin = live_twin(tmp_path, small_scenario(), OPEN)
    outage = {"disruptions": [{"at": "0h", "kind": "supplier_outage", "supplier": "medsupply", "duration": "48h"}]}
    scenario = forecast_scenario(twin.scenario, twin.state, HORIZON, outage, carry=("purchase_orders",))
    out = run_replication(scenario, seed=3, replication=0, horizon=HORIZON)
    po = next(e.po for e in out.log if isinstance(e, E.PurchaseOrderPlaced) and e.policy == CARRIED)
    arrived = [e.t for e in out.log if isinstance(e, E.GoodsReceived) and e.po == po]
    assert len(arrived) == 1 and arrived[0] >= NOW + 48.0  # due 12 h from now, shipped when the outage ends


def test_a_carried_backorder_is_served_first(tmp_path: Path) -> None:
    twin = live_twin(tmp_path, small_scenario(), OPEN)
    scenario = forecast_scenario(twin.scenario, twin.state, HORIZON)
    # (Seed 4: with seed 3 no gauze order comes in the 12 h before the receipt.)
    out = run_replication(scenario, seed=4, replication=0, horizon=HORIZON)
    carried = [e for e in out.log if isinstance(e, E.OrderPlaced) and e.customer == CARRIED]
    assert [(e.t, e.lines) for e in carried] == [(NOW, (("gauze", 15.0),))]
    order = carried[0].order
    # Orders placed in the run before the stock came wait behind it: the first stock served from the
    # backlog goes to the carried order, in full.
    served = [e for e in out.log if isinstance(e, E.Allocated) and e.backlog and any(p[0] == "gauze" for p in e.picks)]
    waiting_behind = [e for e in out.log if isinstance(e, E.Allocated) and e.backordered and e.order != order
                      and e.t < NOW + 12.0]
    assert waiting_behind, "the test needs run orders backordered before the receipt"
    assert served[0].order == order and sum(p[2] for p in served[0].picks) == 15.0
    assert any(isinstance(e, E.Shipped) and e.order == order for e in out.log)
    # The forecast counts the waiting units: more backorders than the same fork without them.
    without = forecast_scenario(twin.scenario, twin.state, HORIZON, carry=("purchase_orders",))
    k_with = simulate(scenario, replications=3, seed=3, workers=1).summary["mean"]
    k_without = simulate(without, replications=3, seed=3, workers=1).summary["mean"]
    assert k_with["backorders"] > k_without["backorders"]


def _plant(repair: str) -> Scenario:
    """The small site with one filling machine (its repair takes ``repair``) and one technician."""
    data = small_scenario_data()
    data["site"]["assets"] = [{"id": "filler", "failure": {"dist": "exponential", "mean": "5000h"},
                               "repair": {"dist": "fixed", "mean": repair}}]
    data["site"]["technicians"] = [{"id": "tech-1", "skills": ["general"],
                                    "shifts": [{"start": "0h", "length": "24h"}]}]
    data["kpis"] = ["fill_rate"]
    return Scenario.model_validate(data)


def test_a_machine_under_repair_starts_the_forecast_down(tmp_path: Path) -> None:
    scenario = _plant("20h")
    events = [*stock(1.0, gauze=100.0, saline=100.0, gloves=500.0),
              env("f1", 90.0, "MachineFailed", asset="filler", age=400.0),
              env("w1", 90.0, "WorkOrderCreated", wo=1, asset="filler", kind="corrective", priority=1,
                  skill="general", source="failure")]
    twin = live_twin(tmp_path, scenario, events)
    assert twin.state.maintenance.assets["filler"].status == "failed"
    assert opening_of(scenario, twin.state)["assets_down"] == [{"asset": "filler", "repair_done": 0.0}]
    down = forecast_scenario(scenario, twin.state, HORIZON)
    up = forecast_scenario(scenario, twin.state, HORIZON, carry=("purchase_orders", "backorders"))
    out = run_replication(down, seed=3, replication=0, horizon=HORIZON)
    failed = [e for e in out.log if isinstance(e, E.MachineFailed)]
    repaired = [e for e in out.log if isinstance(e, E.RepairCompleted)]
    at = twin.state.clock  # 90 h: the forecast starts at the site clock
    assert [(e.t, e.asset) for e in failed] == [(at, "filler")]
    assert len(repaired) == 1 and repaired[0].t == pytest.approx(at + 20.0, abs=1.0)
    base = run_replication(up, seed=3, replication=0, horizon=HORIZON)
    assert not [e for e in base.log if isinstance(e, E.MachineFailed) and e.t == at]
    # Availability over the forecast: the machine carried down loses its repair time.
    from twin.kpi_maintenance import maintenance_kpis

    k_down = maintenance_kpis(out.log.events, down, at, at + HORIZON)
    k_up = maintenance_kpis(base.log.events, up, at, at + HORIZON)
    assert k_down["downtime_hours"] == pytest.approx(20.0, abs=1.0)
    assert k_up["downtime_hours"] < k_down["downtime_hours"]


def test_a_repair_under_way_carries_the_hours_done_into_the_forecast(tmp_path: Path) -> None:
    scenario = _plant("20h")
    events = [*stock(1.0, gauze=100.0, saline=100.0, gloves=500.0),
              env("f1", 90.0, "MachineFailed", asset="filler", age=400.0),
              env("w1", 90.0, "WorkOrderCreated", wo=1, asset="filler", kind="corrective", priority=1,
                  skill="general", source="failure"),
              env("a1", 91.0, "TechnicianAssigned", wo=1, technician="tech-1", travel=1.0),
              env("s1", 92.0, "RepairStarted", wo=1, asset="filler", technician="tech-1"),
              # The site clock moves on to 104 h: twelve hours of the 20 h repair are done.
              env("c1", 104.0, "StockCounted", item="gauze", location="main", book=100.0, counted=100.0,
                  duration=0.1)]
    twin = live_twin(tmp_path, scenario, events)
    assert opening_of(scenario, twin.state)["assets_down"] == [{"asset": "filler", "repair_done": 12.0}]
    down = forecast_scenario(scenario, twin.state, HORIZON)
    out = run_replication(down, seed=3, replication=0, horizon=HORIZON)
    repaired = [e for e in out.log if isinstance(e, E.RepairCompleted)]
    assert len(repaired) == 1 and repaired[0].t == pytest.approx(104.0 + 8.0, abs=1e-6)
    from twin.kpi_maintenance import maintenance_kpis

    k_down = maintenance_kpis(out.log.events, down, 104.0, 104.0 + HORIZON)
    assert k_down["downtime_hours"] == pytest.approx(8.0, abs=1e-6)


def test_what_is_left_of_a_repair_is_drawn_given_the_hours_done() -> None:
    import numpy as np

    from twin.model.assets import DurationLaw
    from twin.sim.opening import remaining_repair

    gen = np.random.default_rng(5)
    # Exponential repairs forget their past: what is left has the law's own mean (3 h), whatever is done.
    law = DurationLaw(dist="exponential", mean="3h")
    left = np.array([remaining_repair(law, gen, 5.0) for _ in range(4000)])
    assert (left > 0).all() and left.mean() == pytest.approx(3.0, rel=0.08)
    # A lognormal repair 5 h along (mean 3 h): what is left is what the repairs longer than 5 h had
    # left after 5 h (checked against plain draws of the law).
    lognormal = DurationLaw(dist="lognormal", mean="3h", cv=0.5)
    tail = np.array([remaining_repair(lognormal, gen, 5.0) for _ in range(3000)])
    fresh = gen.lognormal(np.log(3.0) - np.log1p(0.25) / 2, np.sqrt(np.log1p(0.25)), 400_000)
    assert (tail > 0).all() and tail.mean() == pytest.approx((fresh[fresh > 5.0] - 5.0).mean(), rel=0.1)
    assert remaining_repair(DurationLaw(dist="fixed", mean="20h"), gen, 12.0) == 8.0
    assert remaining_repair(DurationLaw(dist="fixed", mean="20h"), gen, 25.0) == 0.0


def test_post_forecast_carries_the_open_orders_and_says_what_it_carried(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from tests.live.helpers import scenario_file
    from twin.keys import KeyStore

    keys = KeyStore(tmp_path / "keys.sqlite")
    op, planner = ({"X-API-Key": keys.create(role)[0]} for role in ("operator", "planner"))
    app = create_app(Settings(home=tmp_path, live_scenario=scenario_file(tmp_path), max_ahead_hours=None,
                              window_hours=0.0))
    with TestClient(app) as client:
        assert client.post("/twin/events", json=OPEN, headers=op).status_code == 200
        r = client.post("/twin/forecast", json={"horizon": "72h", "replications": 2}, headers=planner)
        assert r.status_code == 202, r.text
        assert r.json()["carried"] == {"purchase_orders": 1, "backorders": 1, "assets_down": 0, "vehicles": 0,
                                       "consignments": 0}
        job = r.json()["id"]
        r = client.post("/twin/forecast", json={"horizon": "72h", "replications": 2, "carry": ["backorders"]},
                        headers=planner)
        assert r.json()["carried"] == {"backorders": 1}
        bad = client.post("/twin/forecast", json={"horizon": "72h", "carry": ["crews"]}, headers=planner)
        assert bad.status_code == 422 and "carry" in bad.text
        import time

        for _ in range(600):
            doc = client.get(f"/runs/{job}", headers=planner).json()
            if doc["status"] != "running":
                break
            time.sleep(0.05)
        assert doc["status"] == "done", doc
