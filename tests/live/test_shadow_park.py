"""Shadow mode beyond inventory (issue 7, point 6) and scoped keys (point 2), over HTTP: on the
industrial park a failed pump posted by the site's CMMS gets a technician-assignment recommendation,
a preventive policy's review recommends the services due, and the appliance plant's MRP publishes its
planned releases; none of it changes the live state. A key scoped to a warehouse (a storekeeper)
sees only its own area's alerts and recommendations, on GET and on the WebSocket stream."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import ROOT
from twin.keys import KeyStore
from twin.live_shadow import ShadowRunner

PARK = ROOT / "scenarios" / "industrial-park"
PLANT = ROOT / "scenarios" / "plant" / "mrp.yaml"


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "cmms", "type": type_, "payload": payload}


class Site:
    """A live twin behind the HTTP API with shadow mode on; ``step`` runs the shadow once (the
    server's background thread does the same every 0.2 s) and returns what it published."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys
        services = client.app.state.services  # type: ignore[attr-defined]
        self.published: list[dict[str, Any]] = []
        self.shadow = ShadowRunner(services.twin(), [self.published.append])
        services.shadow = self.shadow

    def post(self, *events: dict[str, Any]) -> None:
        r = self.client.post("/twin/events", json=list(events), headers={"X-API-Key": self.keys["operator"]})
        assert r.status_code == 200, r.text

    def get(self, path: str, key: str = "viewer") -> Any:
        r = self.client.get(path, headers={"X-API-Key": self.keys[key]})
        assert r.status_code == 200, r.text
        return r.json()

    def step(self, domain: str | None = "maintenance") -> list[dict[str, Any]]:
        """The messages of ``domain``'s policy (the inventory policy reviews too, on the empty stores)."""
        state = self.get("/twin/state")
        messages = self.shadow.step()
        after = self.get("/twin/state")
        assert after == state  # recommended, never acted on: no event stored, the state unchanged
        return [m for m in messages if domain is None or m["domain"] == domain]


@contextmanager
def serve(tmp_path: Path, scenario: Path, scopes: dict[str, tuple[str, str | None]]) -> Iterator[Site]:
    store = KeyStore(tmp_path / "keys.sqlite")
    keys = {name: store.create(role, scope)[0] for name, (role, scope) in scopes.items()}
    app = create_app(Settings(home=tmp_path, live_scenario=scenario, max_ahead_hours=None, window_hours=0.0))
    with TestClient(app) as client:
        yield Site(client, keys)


KEYS = {"operator": ("operator", None), "viewer": ("viewer", None),
        "spares": ("viewer", "industrial-park/spares"), "cold": ("viewer", "industrial-park/cold-room"),
        "elsewhere": ("viewer", "city-hospital")}


@pytest.fixture()
def park(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path, PARK / "reactive.yaml", KEYS) as site:
        yield site


def test_a_failed_pump_gets_a_technician_recommended_and_nothing_is_done(park: Site) -> None:
    # Monday 10:00 in site time: ana (always on shift) and chen (weekdays 7-16) are mechanics.
    park.post(env("f1", 10.0, "MachineFailed", asset="pump-1", age=900.0))
    [message] = park.step()
    assert (message["site"], message["policy"], message["trigger"], message["t"]) == \
        ("industrial-park", "reactive", "dispatch", 10.0)
    [rec] = message["recommendations"]
    # No work order at the site yet: the recommendation opens a corrective one and sends ana (the
    # nearest free mechanic; all start at home, the first on the list wins a tie).
    assert (rec["action"], rec["asset"], rec["work_order"], rec["opens"], rec["technician"], rec["rejected"]) == \
        ("AssignTechnician", "pump-1", None, "corrective", "ana", None)
    assert rec["travel_hours"] == pytest.approx((1.2**2 + 0.4**2) ** 0.5 / 25)
    assert rec["location"] is None  # the water station is no warehouse
    assert park.step() == []  # nothing changed: no new advice
    # The site opens its own work order: the advice now names it.
    park.post(env("w1", 10.5, "WorkOrderCreated", wo=41, asset="pump-1", kind="corrective", priority=1,
                  skill="mechanic", source="cmms"))
    [message] = park.step()
    [rec] = message["recommendations"]
    assert (rec["work_order"], rec["technician"], "opens" in rec) == (41, "ana", False)
    # ana takes it: the one technician left free and on shift is chen, with nothing waiting.
    park.post(env("a1", 10.6, "TechnicianAssigned", wo=41, technician="ana", travel=0.05))
    assert park.step() == []
    # A second pump fails at 20:00, after chen's shift and while ana is busy: nobody to send.
    park.post(env("f2", 20.0, "MachineFailed", asset="pump-3", age=800.0))
    assert park.step() == []
    listed = park.get("/twin/recommendations")
    mine = [r for r in listed["recommendations"] if r["policy"] == "reactive"]
    assert [r["work_order"] for r in mine] == [None, 41]
    assert {p["domain"] for p in listed["policies"]} == {"inventory", "maintenance"}
    state = park.get("/twin/state")
    assert state["store"]["events"] == 4  # only what the site posted
    assert [m["trigger"] for m in park.published if m["domain"] == "maintenance"] == ["dispatch", "dispatch"]


def test_a_preventive_policy_recommends_the_services_due_on_its_review(tmp_path: Path) -> None:
    with serve(tmp_path, PARK / "preventive.yaml", KEYS) as site:  # services every 3 weeks, reviewed daily
        site.post(env("r1", 1.0, "SensorReading", sensor="hum-spares", target="spares", kind="humidity",
                      value=45.0))
        assert site.step() == []  # the first review: none due
        site.post(env("f1", 2.0, "MachineFailed", asset="lift-a", age=50.0))
        site.step()  # lift-a's repair recommended (dispatch), it is down: no service for it
        site.post(env("r2", 3 * 168.0 + 1.0, "SensorReading", sensor="hum-spares", target="spares",
                      kind="humidity", value=45.0))
        reviews = [m for m in site.step() if m["trigger"] == "review"]
        [message] = reviews
        recs = message["recommendations"]
        assert {r["action"] for r in recs} == {"ScheduleMaintenance"}
        with_service = {"pump-1", "pump-2", "pump-3", "pump-4", "lift-b", "lift-c", "chiller-1", "chiller-2",
                        "sprinkler-pump", "fire-alarm-panel"}
        assert {r["asset"] for r in recs} == with_service  # lift-a is down
        assert all(r["kind"] == "preventive" and r["rejected"] is None for r in recs)
        assert site.get("/twin/state")["store"]["events"] == 3


def test_mrp_publishes_its_planned_releases(tmp_path: Path) -> None:
    from twin.scenario import load_scenario

    spec = load_scenario(PLANT).site.production
    assert spec is not None
    made = {r.item: spec.receives_at(r.item) for r in spec.routings}
    with serve(tmp_path, PLANT, {"operator": ("operator", None), "viewer": ("viewer", None)}) as site:
        assert [p.domain for p in site.shadow.policies] == ["inventory", "maintenance", "production"]
        first = site.get("/twin/state")
        item = next(iter(made))  # the site's first event: a count of an empty store
        site.post(env("c1", 1.0, "StockCounted", item=item, location=made[item], book=0.0, counted=0.0,
                      duration=0.1))
        [message] = site.step("production")
        assert (message["trigger"], message["t"]) == ("review", 1.0)
        recs = message["recommendations"]
        releases = [r for r in recs if r["action"] == "ReleaseWorkOrder"]
        buys = [r for r in recs if r["action"] == "PlaceOrder"]
        # An empty plant with its stated demand: MRP releases work orders for made items at the
        # store they are received in, and buys components; every action passes the simulation's checks.
        assert releases and buys
        assert all(r["item"] in made and r["location"] == made[r["item"]] for r in releases)
        assert all(r["item"] not in made and r["supplier"] for r in buys)
        assert all(r["qty"] > 0 and r["rejected"] is None for r in recs)
        assert site.step(None) == []  # the next review is a day later
        after = site.get("/twin/state")
        assert after["store"]["events"] == first["store"]["events"] + 1


def test_a_key_scoped_to_a_warehouse_sees_only_its_own_alerts_and_recommendations(park: Site) -> None:
    received = [env(f"r-{n}", 1.0, "GoodsReceived", po=-1, item=item, location=wh, lot=n, qty=10.0, scanned=10.0,
                    expiry=None, closes_po=True) for n, (item, wh) in enumerate([("seal-kit", "spares"),
                                                                                 ("vaccine-box", "cold-room")], 1)]
    park.post(*received, *(env(f"p-{n}", 1.0, "PutAway", item=r["payload"]["item"], location=r["payload"]["location"],
                               lot=n, status="available") for n, r in enumerate(received, 1)))
    park.post(env("t1", 2.0, "SensorReading", sensor="temp-cold-room", target="cold-room", kind="temperature",
                  value=12.0),  # 8 degrees over its set point: the cold room's alert
              env("c1", 2.5, "StockCounted", item="seal-kit", location="spares", book=10.0, counted=2.0,
                  duration=0.1),  # 8 short: the spares store's alert
              env("o1", 3.0, "PurchaseOrderPlaced", po=5, item="vaccine-box", location="cold-room",
                  supplier="cold-chain", qty=20.0, due=20.0, policy="erp"),
              env("r3", 80.0, "GoodsReceived", po=5, item="vaccine-box", location="cold-room", lot=3, qty=20.0,
                  scanned=20.0, expiry=None, closes_po=True))  # 60 h late: the cold room's alert
    everything = park.get("/twin/alerts")
    assert [(a["kind"], a["location"]) for a in everything["alerts"]] == \
        [("temperature", "cold-room"), ("stock_count", "spares"), ("arrival", "cold-room")]
    spares = park.get("/twin/alerts", "spares")
    assert [a["kind"] for a in spares["alerts"]] == ["stock_count"] and spares["count"] == 1
    cold = park.get("/twin/alerts", "cold")
    assert [a["kind"] for a in cold["alerts"]] == ["temperature", "arrival"] and cold["count"] == 2
    assert [a["kind"] for a in park.get("/twin/alerts?kind=arrival", "cold")["alerts"]] == ["arrival"]
    later = park.get("/twin/alerts?since=1", "cold")  # indexes are the site's: the cold room's 0 and 2
    assert [a["index"] for a in later["alerts"]] == [2] and later["count"] == 2
    assert park.get("/twin/alerts?kind=arrival", "spares")["alerts"] == []
    # Another site's key: refused, as for the state and ingest.
    for path in ("/twin/alerts", "/twin/recommendations"):
        r = park.client.get(path, headers={"X-API-Key": park.keys["elsewhere"]})
        assert r.status_code == 403 and "scoped to site 'city-hospital'" in r.text

    # Shadow mode: the inventory policy's orders for both stores, and a pump's repair (in no store).
    park.post(env("f1", 81.0, "MachineFailed", asset="pump-2", age=700.0))
    park.step(None)
    recs = park.get("/twin/recommendations")["recommendations"]
    assert {r["location"] for r in recs} == {"spares", "cold-room", None}
    for key, wh in (("spares", "spares"), ("cold", "cold-room")):
        mine = park.get("/twin/recommendations", key)["recommendations"]
        assert mine == [r for r in recs if r["location"] == wh] and mine


def test_the_stream_sends_a_scoped_key_only_its_own_alerts_and_recommendations(park: Site) -> None:
    import queue
    import threading

    with park.client.websocket_connect(f"/twin/stream?key={park.keys['spares']}") as ws:
        inbox: queue.Queue[dict[str, Any]] = queue.Queue()

        def listen() -> None:
            with contextlib.suppress(Exception):  # ends when the socket closes
                while True:
                    inbox.put(ws.receive_json())

        threading.Thread(target=listen, daemon=True).start()
        park.post(env("t1", 2.0, "SensorReading", sensor="temp-cold-room", target="cold-room", kind="temperature",
                      value=12.0))
        park.post(env("c1", 2.5, "StockCounted", item="seal-kit", location="spares", book=0.0, counted=9.0,
                      duration=0.1))
        park.step(None)
        everything = park.get("/twin/recommendations")["recommendations"]
        assert {r["location"] for r in everything} == {"spares", "cold-room"}
        want = len([r for r in everything if r["location"] == "spares"])
        alerts, recs = [], []
        while not (alerts and len(recs) >= want):
            try:
                msg = inbox.get(timeout=10)
            except queue.Empty:
                raise AssertionError(f"not streamed: alerts {alerts}, recommendations {recs}") from None
            if msg["type"] == "alert":
                alerts.append(msg)
            elif msg["type"] == "recommendation":
                recs.append(msg)
        time.sleep(0.5)  # anything else the stream would (wrongly) send to this key comes by now
        while not inbox.empty():
            msg = inbox.get()
            assert msg["type"] not in ("alert", "recommendation"), msg
    assert [(a["kind"], a["location"]) for a in alerts] == [("stock_count", "spares")]
    assert {r["location"] for r in recs} == {"spares"} and len(recs) == want
    assert len(park.get("/twin/alerts")["alerts"]) == 2
    # A key of another site is turned away before the stream opens.
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, \
            park.client.websocket_connect(f"/twin/stream?key={park.keys['elsewhere']}") as ws:
        ws.receive_json()
    assert closed.value.code == 4403
