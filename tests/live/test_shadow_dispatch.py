"""Shadow mode for fleet dispatch (issue 7, point 6), over HTTP: on the field depots the dispatch policy
(vrp, a wave every 2 h) runs on the live fleet state and recommends routes for the consignments
waiting at the docks with the idle trucks; a truck on a trip is not given one; an urgent consignment
gets a wave at once; nothing is applied (no event stored, the state unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.live.test_shadow_park import Site, serve
from twin.model.fleet_actions import DispatchRoute, DivertVehicle

FIELD = ROOT / "scenarios" / "field" / "baseline.yaml"


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "tms", "type": type_, "payload": payload}


def ready(cid: int, t: float, origin: str, node: str, weight: float, priority: int = 2) -> dict[str, Any]:
    return env(f"c{cid}", t, "ConsignmentReady", consignment=cid, order=900 + cid, origin=origin, destination=node,
               weight=weight, volume=1.0, priority=priority, due=t + 12.0)


@pytest.fixture()
def field(tmp_path: Path) -> Iterator[Site]:
    with serve(tmp_path, FIELD, {"operator": ("operator", None), "viewer": ("viewer", None)}) as site:
        yield site


def test_the_dispatch_policy_recommends_routes_for_the_waiting_consignments(field: Site) -> None:
    # n-truck-1 is out with consignment 10; 11 and 12 wait at fwd-north, 13 at fwd-east (04:00 site time).
    field.post(ready(10, 99.0, "fwd-north", "op-n3", 500.0),
               env("d7", 99.5, "VehicleDispatched", trip=7, vehicle="n-truck-1", origin="fwd-north",
                   consignments=[10], km=60.0),
               ready(11, 100.0, "fwd-north", "op-n1", 850.0),
               ready(12, 100.0, "fwd-north", "op-n2", 600.0),
               ready(13, 100.0, "fwd-east", "op-e1", 700.0))
    [message] = field.step("dispatch")
    assert (message["site"], message["policy"], message["domain"], message["trigger"], message["t"]) == \
        ("field-depots", "vrp", "dispatch", "wave", 100.0)
    recs = message["recommendations"]
    assert {r["action"] for r in recs} == {"DispatchRoute"} and all(r["rejected"] is None for r in recs)
    routed = {c: r for r in recs for c in r["consignments"]}
    assert sorted(routed) == [11, 12, 13]  # every waiting one, none of those on board
    for c in (11, 12):
        assert routed[c]["location"] == "fwd-north" and routed[c]["vehicle"] in ("n-truck-2", "n-truck-3")
    assert routed[13]["location"] == "fwd-east" and routed[13]["vehicle"].startswith("e-truck")
    assert routed[11]["destinations"][routed[11]["consignments"].index(11)] == "op-n1"
    assert field.step("dispatch") == []  # nothing changed
    # Half an hour on: no wave due (every 2 h), though the consignments still wait.
    field.post(env("tick", 100.5, "StockCounted", item="fuel", location="base", book=0.0, counted=0.0,
                   duration=0.1))
    assert field.step("dispatch") == []
    # An urgent consignment at fwd-east: a wave at once (the policy dispatches emergencies at once).
    field.post(ready(14, 100.6, "fwd-east", "op-e3", 50.0, priority=1))
    [urgent] = field.step("dispatch")
    assert urgent["trigger"] == "emergency"
    assert any(14 in r.get("consignments", [r.get("consignment")]) for r in urgent["recommendations"])
    # The site dispatched nothing: at the next wave (102 h) the same consignments are recommended again.
    field.post(env("tick2", 102.0, "StockCounted", item="fuel", location="base", book=0.0, counted=0.0,
                   duration=0.1))
    [wave] = field.step("dispatch")
    assert wave["trigger"] == "wave"
    assert sorted(c for r in wave["recommendations"] for c in r.get("consignments", [])) == [11, 12, 13, 14]
    listed = field.get("/twin/recommendations")
    assert "dispatch" in {p["domain"] for p in listed["policies"]}
    assert field.get("/twin/state")["store"]["events"] == 8  # only what the site posted


def test_recommended_routes_are_checked_as_the_simulation_checks_them(field: Site) -> None:
    field.post(ready(10, 99.0, "fwd-north", "op-n3", 500.0),
               env("d7", 99.5, "VehicleDispatched", trip=7, vehicle="n-truck-1", origin="fwd-north",
                   consignments=[10], km=60.0),
               ready(11, 100.0, "fwd-north", "op-n1", 3900.0),
               ready(12, 100.0, "fwd-north", "op-n2", 600.0))
    shadow = field.shadow
    assert shadow.fleet is not None
    obs = field.client.app.state.services.twin().view(shadow.fleet.observe)[1]  # type: ignore[attr-defined]
    truck = next(v for v in obs.vehicles if v.id == "n-truck-1")
    assert (truck.idle, truck.heading, truck.stops) == (False, "op-n3", ())

    def check(action: Any) -> str | None:
        rec: dict[str, Any] = {}
        shadow._route(action, rec, obs)
        return rec["rejected"]  # type: ignore[no-any-return]

    assert check(DispatchRoute("n-truck-2", (11,))) is None
    assert check(DispatchRoute("n-truck-1", (11,))) == "vehicle 'n-truck-1' is not idle"
    assert check(DispatchRoute("n-truck-2", (10,))) == "consignment 10 is not waiting"
    assert check(DispatchRoute("e-truck-1", (11,))) == \
        "consignment 11 waits at 'fwd-north', vehicle 'e-truck-1' is at 'fwd-east'"
    assert check(DispatchRoute("n-truck-2", (11, 12))) == "load 4500 kg exceeds vehicle 'n-truck-2' capacity 4000 kg"
    assert check(DispatchRoute("tank-9", (11,))) == "unknown vehicle 'tank-9'"
    assert check(DivertVehicle("n-truck-1", 12, "fwd-north", ())) is None  # on its way, nothing else on board
    assert check(DivertVehicle("n-truck-1", 12, "fwd-north", (10,))) == \
        "stops [10] are not the consignments on board of 'n-truck-1' []"
    assert check(DivertVehicle("n-truck-2", 12, "fwd-east", ())) == \
        "consignment 12 waits at 'fwd-north', not 'fwd-east'"
