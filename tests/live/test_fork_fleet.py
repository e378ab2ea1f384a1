"""Fork a forecast from now with the vehicles under way (issue 7, point 5): on the field depots a truck
left fwd-north with two consignments for outposts, and one consignment waits at fwd-east's dock. The
forecast's truck delivers both where the live one was heading, in order, without picking or shipping
them again, then returns; the waiting one is dispatched by the policy; without ``vehicles`` in
``carry`` none of them is in the forecast. Bad ``opening.vehicles`` are FILE:LINE errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.live.helpers import EPOCH
from twin.event_store import EventStore
from twin.live import LiveConfig, LiveTwin
from twin.live_forecast import CARRY, forecast_scenario, opening_of
from twin.model import events as E
from twin.scenario import load_scenario
from twin.sim.engine import run_replication

FIELD = ROOT / "scenarios" / "field" / "baseline.yaml"
NOW = 100.0
HORIZON = 24.0
NO_VEHICLES = tuple(c for c in CARRY if c != "vehicles")


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "tms", "type": type_, "payload": payload}


def stock(t: float, location: str, **qty: float) -> list[dict[str, Any]]:
    out = []
    for item, q in qty.items():
        lot = 1 + len(out) // 2 + (100 if location == "fwd-east" else 0)
        out.append(env(f"r-{location}-{item}", t, "GoodsReceived", po=-1, item=item, location=location, lot=lot,
                       qty=q, scanned=q, expiry=None, closes_po=True))
        out.append(env(f"p-{location}-{item}", t, "PutAway", item=item, location=location, lot=lot,
                       status="available"))
    return out


def ready(cid: int, order: int, origin: str, node: str, weight: float, due: float) -> dict[str, Any]:
    return env(f"c{cid}", 99.0, "ConsignmentReady", consignment=cid, order=order, origin=origin, destination=node,
               weight=weight, volume=1.0, priority=2, due=due)


# Truck n-truck-1 left fwd-north at 99.5 h with consignments 11 (op-n1) and 12 (op-n2) on board;
# consignment 13 for op-e1 waits at fwd-east's dock. The site clock is 100 h.
ROAD = [*stock(1.0, "fwd-north", fuel=5000.0, rations=1200.0, medkit=50.0, ammo=150.0),
        *stock(1.0, "fwd-east", fuel=5000.0, rations=1200.0, medkit=50.0, ammo=150.0),
        ready(11, 901, "fwd-north", "op-n1", 850.0, 110.0),
        ready(12, 902, "fwd-north", "op-n2", 600.0, 110.0),
        ready(13, 903, "fwd-east", "op-e1", 700.0, 111.0),
        env("d7", 99.5, "VehicleDispatched", trip=7, vehicle="n-truck-1", origin="fwd-north", consignments=[11, 12],
            km=90.0),
        env("tick", NOW, "StockCounted", item="fuel", location="fwd-north", book=5000.0, counted=5000.0,
            duration=0.1)]


def live_twin(tmp_path: Path, events: list[dict[str, Any]]) -> LiveTwin:
    twin = LiveTwin(load_scenario(FIELD), EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))
    result = twin.ingest(events)
    assert not result.rejected, result.rejected
    return twin


def leg_hours(a: tuple[float, float], b: tuple[float, float], speed: float) -> float:
    return math.dist(a, b) * 1.25 / speed  # planar km, the network's circuity; congestion 1 at 04:00


def test_the_fork_carries_the_truck_under_way_and_the_waiting_consignment(tmp_path: Path) -> None:
    twin = live_twin(tmp_path, ROAD)
    assert twin.state.clock == NOW
    opening = opening_of(twin.scenario, twin.state)
    assert [c["consignment"] for c in opening["consignments"]] == [11, 12, 13]
    assert opening["consignments"][2] == {"consignment": 13, "order": 903, "origin": "fwd-east",
                                          "destination": "op-e1", "weight": 700.0, "volume": 1.0, "priority": 2,
                                          "due": 11.0}
    [truck] = opening["vehicles"]
    # It left at 99.5 h, loads for 20 min, then drives 33.7 km at 40 km/h to op-n1.
    eta = 99.5 + 20 / 60 + leg_hours((10, 60), (0, 85), 40.0) - NOW
    assert truck == {"vehicle": "n-truck-1", "trip": 7, "at": "fwd-north", "next": "op-n1",
                     "eta": pytest.approx(eta, abs=1e-5), "stops": [11, 12]}

    carried = forecast_scenario(twin.scenario, twin.state, HORIZON)
    out = run_replication(carried, seed=5, replication=0, horizon=HORIZON)
    log = list(out.log)
    at_start = [e for e in log if isinstance(e, E.ConsignmentReady) and e.t == NOW]
    assert [(e.consignment, e.destination, e.weight) for e in at_start] == [
        (1, "op-n1", 850.0), (2, "op-n2", 600.0), (3, "op-e1", 700.0)]
    first = next(e for e in log if isinstance(e, E.VehicleDispatched))
    assert (first.t, first.vehicle, first.origin, first.consignments) == (NOW, "n-truck-1", "fwd-north", (1, 2))
    trip = first.trip
    delivered = [e for e in log if isinstance(e, E.Delivered) and e.consignment in (1, 2)]
    assert [(e.consignment, e.vehicle, e.trip, e.node) for e in delivered] == [
        (1, "n-truck-1", trip, "op-n1"), (2, "n-truck-1", trip, "op-n2")]
    # The fork starts at the site clock, 100 h = Friday 04:00. op-n1 opens at 06:00 (Friday's: 102 h):
    # the truck is there at its eta and waits for it.
    assert delivered[0].t == pytest.approx(102.0 + 10 / 60, abs=1e-6)
    # then on to op-n2 at 06:10's congestion (1.1), and 10 min to unload
    assert delivered[1].t == pytest.approx(delivered[0].t + 1.1 * leg_hours((0, 85), (25, 90), 40.0) + 10 / 60,
                                           abs=1e-6)
    # No loading at fwd-north's dock and no refuelling for the carried trip: the first door opening is
    # op-n1's; it is dispatched only once.
    assert sum(1 for e in log if isinstance(e, E.VehicleDispatched) and 1 in e.consignments) == 1
    back = [e for e in log if isinstance(e, E.VehicleReturned) and e.trip == trip]
    assert len(back) == 1 and back[0].vehicle == "n-truck-1" and back[0].t > delivered[1].t
    assert not [e for e in log if isinstance(e, E.Refuelled) and e.t < back[0].t and e.vehicle == "n-truck-1"]
    # The consignment waiting at fwd-east goes out on the policy's first wave (every 2 h) with an e-truck.
    out3 = next(e for e in log if isinstance(e, E.VehicleDispatched) and 3 in e.consignments)
    assert out3.t == NOW + 2.0 and out3.origin == "fwd-east" and out3.vehicle.startswith("e-truck")
    assert any(isinstance(e, E.Delivered) and e.consignment == 3 and e.vehicle == out3.vehicle for e in log)

    # Without the vehicles the three are not in the forecast: no consignment at the start, and the truck
    # starts idle at its depot. The stock side is the same run: the carried goods are neither picked
    # nor shipped again (they left the live stock when shipped).
    bare = forecast_scenario(twin.scenario, twin.state, HORIZON, carry=NO_VEHICLES)
    assert bare.opening is not None and not bare.opening.vehicles and not bare.opening.consignments
    plain = run_replication(bare, seed=5, replication=0, horizon=HORIZON)
    assert not [e for e in plain.log if isinstance(e, E.ConsignmentReady) and e.t == NOW]
    assert not [e for e in plain.log if isinstance(e, E.Delivered) and e.t < NOW + 2.0]

    def stock_moves(events: list[Any]) -> list[tuple[Any, ...]]:
        return [(type(e).__name__, e.t, e.location, getattr(e, "lines", None) or getattr(e, "qty", None))
                for e in events if isinstance(e, (E.Shipped, E.GoodsReceived))]

    assert stock_moves(log) == stock_moves(list(plain.log))
    assert carried.site.warehouses[1].initial_stock == bare.site.warehouses[1].initial_stock


def test_a_truck_between_stops_heads_to_the_next_one(tmp_path: Path) -> None:
    # Consignment 11 was delivered at op-n1 at 99.8 h: the truck heads to op-n2 with 12 alone.
    events = [*ROAD[:-1],
              env("dl", 99.8, "Delivered", trip=7, vehicle="n-truck-1", consignment=11, order=901, node="op-n1",
                  priority=2, due=110.0, late=False, spoiled=False),
              ROAD[-1]]
    twin = live_twin(tmp_path, events)
    opening = opening_of(twin.scenario, twin.state)
    assert [c["consignment"] for c in opening["consignments"]] == [12, 13]
    [truck] = opening["vehicles"]
    eta = 99.8 + leg_hours((0, 85), (25, 90), 40.0) - NOW
    assert (truck["at"], truck["next"], truck["stops"]) == ("op-n1", "op-n2", [12])
    assert truck["eta"] == pytest.approx(eta, abs=1e-5)
    out = run_replication(forecast_scenario(twin.scenario, twin.state, HORIZON), seed=5, replication=0,
                          horizon=HORIZON)
    got = [(e.consignment, e.vehicle, e.node) for e in out.log if isinstance(e, E.Delivered) and e.t < NOW + 1.0]
    assert got == [(1, "n-truck-1", "op-n2")]  # op-n2 has no window: delivered on arrival
    first = next(e for e in out.log if isinstance(e, E.Delivered))
    assert first.t == pytest.approx(NOW + eta + 10 / 60, abs=1e-6)


BAD = """
opening:
  consignments:
    - {consignment: 1, order: 4, origin: fwd-north, destination: op-n1, weight: 100, due: 5}
    - {consignment: 2, order: 5, origin: op-n2, destination: nowhere, weight: 100, due: 5}
  vehicles:
    - {vehicle: n-truck-1, trip: 3, at: fwd-north, next: op-n1, eta: 1, stops: [1, 9]}
    - {vehicle: tank-9, trip: 4, at: fwd-north, next: moon, eta: 1, stops: [1]}
"""


def test_bad_vehicles_in_the_opening_are_file_line_errors(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    main = tmp_path / "forecast.yaml"
    site = ROOT / "scenarios" / "sites" / "field-depots.yaml"
    main.write_text(FIELD.read_text().replace("../sites/field-depots.yaml", str(site)).rstrip("\n") + "\n" + BAD)
    result = cli("validate", main)
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stderr.splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(main.read_text().splitlines(), 1) if text in line)

    expected = [
        (line_of("consignment: 2"), "opening.consignments[1].origin", "unknown warehouse on the network 'op-n2'"),
        (line_of("consignment: 2"), "opening.consignments[1].destination", "unknown network node 'nowhere'"),
        (line_of("trip: 3"), "opening.vehicles[0].stops[1]", "consignment 9 is not in opening.consignments"),
        (line_of("trip: 4"), "opening.vehicles[1].vehicle", "unknown vehicle 'tank-9'"),
        (line_of("trip: 4"), "opening.vehicles[1].next", "unknown network node 'moon'"),
        (line_of("trip: 4"), "opening.vehicles[1].stops[0]", "consignment 1 is already on board 'n-truck-1'"),
    ]
    for line, path, message in expected:
        assert any(text.startswith(f"{main}:{line}:") and path in text and message in text for text in lines), \
            (line, path, message, result.stderr)
    assert lines[-1] == "6 problem(s) in 1 file(s)"


def test_post_forecast_carries_the_vehicles(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from twin.keys import KeyStore

    keys = KeyStore(tmp_path / "keys.sqlite")
    op, planner = ({"X-API-Key": keys.create(role)[0]} for role in ("operator", "planner"))
    app = create_app(Settings(home=tmp_path, live_scenario=FIELD, max_ahead_hours=None, window_hours=0.0))
    with TestClient(app) as client:
        assert client.post("/twin/events", json=ROAD, headers=op).status_code == 200
        r = client.post("/twin/forecast", json={"horizon": "24h", "replications": 1}, headers=planner)
        assert r.status_code == 202, r.text
        assert r.json()["carried"] == {"purchase_orders": 0, "backorders": 0, "assets_down": 0, "vehicles": 1,
                                       "consignments": 3}
        r = client.post("/twin/forecast", json={"horizon": "24h", "replications": 1, "carry": ["backorders"]},
                        headers=planner)
        assert r.json()["carried"] == {"backorders": 0}
