"""Emergency orders served from the nearest warehouse holding the stock, and replenishment
transfers between warehouses carried by the fleet (issue 5 point 3):

- ``emergency_source`` (pure): the order's own warehouse when it holds the stock, else the nearest
  by travel time that holds it all, else a backorder where the items are stocked;
- a forward depot sourced from the base depot gets its inventory policy's orders as transfers:
  stock leaves the base (``TransferShipped``), is in transit on a vehicle loaded at the base's dock,
  and arrives at the forward depot (``TransferReceived``) when that vehicle unloads there;
- in the simulation an emergency its own depot cannot cover is picked at the nearest depot holding
  it and delivered by a vehicle that loads there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policies.dispatch import RoutingProblem, VrpDispatch, emergency_source, solve_routing
from tests.conftest import ROOT
from twin.errors import ScenarioError
from twin.model import events as E
from twin.model.state import State, apply
from twin.scenario import load_scenario
from twin.sim.engine import run_replication
from twin.sim.fleet import RoadNetwork
from twin.sim.layout import compile_layout

FIELD = ROOT / "scenarios" / "field"
NODES = ("own", "near", "far", "cut", "op")
INDEX = {n: k for k, n in enumerate(NODES)}
# Minutes from each warehouse to the demand point 'op'. 'near' is nearest by time; 'cut' has no open road.
MINUTES = np.full((5, 5), 60, dtype=np.int64)
MINUTES[INDEX["own"], INDEX["op"]] = 50
MINUTES[INDEX["near"], INDEX["op"]] = 20
MINUTES[INDEX["far"], INDEX["op"]] = 90
MINUTES[INDEX["cut"], INDEX["op"]] = -1
LINES = (("kit", 6.0), ("dressing", 2.0))


def free(**stock: tuple[float, float]) -> dict[tuple[str, str], float]:
    return {key: value for wh, (kit, dressing) in stock.items()
            for key, value in (((("kit", wh)), kit), (("dressing", wh), dressing))}


def test_the_own_warehouse_serves_an_emergency_when_it_holds_the_stock() -> None:
    stock = free(own=(6, 2), near=(50, 50), far=(50, 50))
    assert emergency_source("op", LINES, "own", stock, MINUTES, INDEX) == "own"


def test_an_own_warehouse_short_of_stock_hands_it_to_the_nearest_holder_by_travel_time() -> None:
    stock = free(own=(5, 2), near=(6, 2), far=(50, 50), cut=(50, 50))
    assert emergency_source("op", LINES, "own", stock, MINUTES, INDEX) == "near"
    # 'near' short of one line: the next nearest holding every line; a warehouse with no open road
    # to the demand point is never chosen, however much it holds.
    stock = free(own=(5, 2), near=(6, 1), far=(50, 50), cut=(50, 50))
    assert emergency_source("op", LINES, "own", stock, MINUTES, INDEX) == "far"
    # By time, not by some other order: make 'far' the quickest and it wins.
    quick = MINUTES.copy()
    quick[INDEX["far"], INDEX["op"]] = 10
    assert emergency_source("op", LINES, "own", free(own=(0, 0), near=(6, 2), far=(6, 2)), quick, INDEX) == "far"


def test_with_no_holder_the_order_waits_as_a_backorder_where_the_items_are_stocked() -> None:
    stock = free(own=(1, 0), near=(2, 0), far=(0, 9))
    assert emergency_source("op", LINES, "own", stock, MINUTES, INDEX) == "own"
    # A demand point with no own warehouse: the nearest (reachable) warehouse stocking the items.
    assert emergency_source("op", LINES, None, stock, MINUTES, INDEX) == "near"
    # No warehouse stocks every item: nowhere to place it.
    assert emergency_source("op", LINES, None, {("kit", "near"): 9.0}, MINUTES, INDEX) is None


def test_the_dispatch_policy_answers_with_the_same_decision() -> None:
    policy = VrpDispatch(VrpDispatch.Params())
    stock = free(own=(5, 2), near=(6, 2), far=(50, 50))
    assert policy.source_emergency("op", LINES, "own", stock, MINUTES, INDEX) == "near"


# -- transfers in the simulation -----------------------------------------------------------------


@pytest.fixture(scope="module")
def transfer_run() -> tuple[Any, list[Any]]:
    scenario = load_scenario(FIELD / "depot-transfers.yaml")
    scenario = scenario.model_copy(update={"horizon": 15 * 24.0})
    return scenario, run_replication(scenario, scenario.seed, 0).log.events


def test_a_transfer_leaves_the_source_travels_on_a_vehicle_and_arrives(transfer_run) -> None:  # type: ignore[no-untyped-def]
    scenario, events = transfer_run
    shipped = {e.transfer: e for e in events if type(e) is E.TransferShipped}
    received = {e.transfer: e for e in events if type(e) is E.TransferReceived}
    assert shipped and set(received) <= set(shipped) and len(received) >= len(shipped) - 2
    assert {(e.origin, e.destination) for e in shipped.values()} <= {("base", "fwd-north"), ("base", "fwd-east")}
    assert {e.item for e in shipped.values()} <= {"medkit", "ammo"}
    ready = {e.order: e for e in events if type(e) is E.ConsignmentReady}
    dispatched = {c: e for e in events if type(e) is E.VehicleDispatched for c in e.consignments}
    delivered = {e.consignment: e for e in events if type(e) is E.Delivered}
    weight = {it.id: it.weight for it in scenario.site.items}
    for transfer, ship in shipped.items():
        qty = sum(q for _, q in ship.picks)
        # One consignment per transfer, waiting at the base's dock from the moment it is picked.
        con = ready[-1 - transfer]
        assert (con.t, con.origin, con.destination) == (ship.t, "base", ship.destination)
        assert con.weight == pytest.approx(qty * weight[ship.item])
        if transfer not in received:
            continue
        # Carried by a vehicle based at the base, loaded there; received when it is unloaded.
        trip = dispatched[con.consignment]
        assert trip.origin == "base" and trip.vehicle.startswith("base-van")
        arrived = received[transfer]
        assert delivered[con.consignment].node == ship.destination
        assert arrived.t == delivered[con.consignment].t > trip.t >= ship.t
        assert (arrived.item, arrived.location, arrived.qty) == (ship.item, ship.destination, pytest.approx(qty))
    # The forward depots buy none of those items from the rear any more; the base still does.
    bought = {(e.item, e.location) for e in events if type(e) is E.PurchaseOrderPlaced}
    assert not bought & {(i, w) for i in ("medkit", "ammo") for w in ("fwd-north", "fwd-east")}


def test_transfer_stock_moves_through_the_reducer(transfer_run) -> None:  # type: ignore[no-untyped-def]
    scenario, events = transfer_run
    state = State.empty(compile_layout(scenario).skus)
    checked = 0
    for e in events:
        if type(e) is E.TransferShipped:
            qty = sum(q for _, q in e.picks)
            src, dst = state.skus[(e.item, e.origin)], state.skus[(e.item, e.destination)]
            before = (src.on_hand, dst.on_hand, dst.in_transit, dst.on_order)
            apply(state, e)
            # Out of the base's stock, on order and in transit at the forward depot, not yet on hand.
            assert (src.on_hand, dst.on_hand, dst.in_transit, dst.on_order) == pytest.approx(
                (before[0] - qty, before[1], before[2] + qty, before[3] + qty))
            checked += 1
        elif type(e) is E.TransferReceived:
            dst = state.skus[(e.item, e.location)]
            before = (dst.on_hand, dst.in_transit)
            apply(state, e)
            assert (dst.on_hand, dst.in_transit) == pytest.approx((before[0] + e.qty, before[1] - e.qty))
            assert dst.find_lot(e.lot).qty == e.qty
        else:
            apply(state, e)
    assert checked > 0


def test_a_source_with_no_vehicle_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad-source.yaml"
    path.write_text(f"""name: bad-source
extends: {FIELD / 'baseline.yaml'}
site:
  network:
    sources:
      - {{warehouse: base, source: fwd-north, items: [medkit]}}
      - {{warehouse: fwd-east, source: depot-x}}
""")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "bad-source.yaml:" in text
    assert "sources[1].source: unknown warehouse 'depot-x'" in text


# -- emergencies in the simulation ---------------------------------------------------------------


def test_an_emergency_short_at_its_own_depot_is_served_from_the_nearest_holding_one(tmp_path: Path) -> None:
    """fwd-east starts without medical kits (the rear's kits take days): emergencies at the eastern
    outposts are picked at whichever depot holding kits is nearest by travel time, and delivered
    from there."""
    base = load_scenario(FIELD / "baseline.yaml")
    stock = {w.id: dict(w.initial_stock) for w in base.site.warehouses}  # type: ignore[call-overload]
    stock["fwd-east"]["medkit"] = 0
    rows = "\n".join(f"    - {{id: {w}, docks: 2, pickers: 3, initial_stock: {s}}}" for w, s in stock.items())
    path = tmp_path / "east-short.yaml"
    path.write_text(f"""name: east-short
extends: {FIELD / 'baseline.yaml'}
horizon: 3d
warmup: 0d
site:
  warehouses:
{rows}
  emergencies: {{per_day: 8, nodes: [op-e1, op-e2, op-e3], items: {{medkit: 6}}, due_within: 3h}}
""")
    scenario = load_scenario(path)
    events = run_replication(scenario, scenario.seed, 0).log.events
    net = RoadNetwork(scenario.site.network)  # type: ignore[arg-type]
    km = net.km(frozenset())
    speed = float(np.median([v.speed for v in scenario.site.vehicles for _ in range(v.count)]))
    state = State.empty(compile_layout(scenario).skus)
    placed: dict[int, str] = {}
    for e in events:
        if type(e) is E.OrderPlaced and e.lines == (("medkit", 6.0),) and e.customer.startswith("op-e"):
            # Own warehouse fwd-east if it holds 6 free kits; else the holder nearest by travel time.
            holders = {w: state.skus[("medkit", w)].on_hand - state.skus[("medkit", w)].reserved
                       for w in ("base", "fwd-north", "fwd-east")}
            if holders["fwd-east"] >= 6:
                expected = "fwd-east"
            else:
                cong = net.congestion(e.t)
                minutes = {w: math.ceil(km[net.index[w], net.index[e.customer]] / speed * cong * 60 - 1e-9)
                           for w, q in holders.items() if q >= 6}
                expected = min(minutes, key=lambda w: (minutes[w], w))
            assert e.location == expected, (e, holders)
            placed[e.order] = e.location
        apply(state, e)
    elsewhere = {o for o, w in placed.items() if w != "fwd-east"}
    assert len(elsewhere) >= 3, placed
    ready = {e.order: e for e in events if type(e) is E.ConsignmentReady}
    delivered = {e.consignment: e for e in events if type(e) is E.Delivered}
    loaded_at: dict[int, str] = {}
    for e in events:
        if type(e) is E.VehicleDispatched:
            loaded_at.update({c: e.origin for c in e.consignments})
        elif type(e) is E.VehicleDiverted:
            loaded_at[e.consignment] = e.warehouse
    done = [o for o in elsewhere if o in ready and ready[o].consignment in delivered]
    assert done, "emergencies served from another depot are delivered"
    for o in done:
        con = ready[o]
        # Picked and loaded at the holding depot, delivered to the outpost.
        assert con.origin == placed[o] == loaded_at[con.consignment]
        assert delivered[con.consignment].node == con.destination


def test_equal_loads_to_one_place_give_the_same_plan_every_solve() -> None:
    """Six equal transfers to one depot, two vans with room for one each: which two go, and on which
    van, is the same every time (the earliest first), so a run replays byte for byte."""
    n = 7
    dist = np.full((n, n), 0, dtype=np.int64)
    dist[0, 1:] = dist[1:, 0] = 88_388
    problem = RoutingProblem(distance=dist, demand=np.array([0] + [1500] * 6), capacity=np.array([1500, 1500]),
                             priority=[1] + [2] * 6)
    plans = {solve_routing(problem, time_limit=5.0, solution_limit=200).routes for _ in range(12)}
    assert plans == {((1,), (2,))}


def test_the_transfer_scenario_replays_byte_for_byte(transfer_run) -> None:  # type: ignore[no-untyped-def]
    scenario, events = transfer_run
    again = run_replication(scenario, scenario.seed, 0).log.events
    assert again == events


def test_an_emergency_no_warehouse_can_source_is_reported_unserved(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the dispatch policy finds no warehouse for an emergency order, the order is reported as a
    ``DeliveryUnserved`` naming the outpost and the reason, never silently dropped."""
    monkeypatch.setattr(VrpDispatch, "source_emergency", lambda self, *args: None)
    scenario = load_scenario(FIELD / "baseline.yaml").model_copy(update={"horizon": 10 * 24.0})
    out = run_replication(scenario, scenario.seed, 0)
    unserved = [e for e in out.log.events if type(e) is E.DeliveryUnserved and e.order == -1]
    placed = [e for e in out.log.events if type(e) is E.OrderPlaced and e.customer.startswith("op-")
              and e.lines == (("medkit", 6.0),)]
    assert unserved, "the baseline's emergencies (1.5 a day) are reported"
    assert not placed, "no emergency order was placed anywhere"
    nodes = set(scenario.site.emergencies.nodes)  # type: ignore[union-attr]
    for e in unserved:
        assert e.node in nodes
        assert "emergency order for medkit" in e.reason and "stocks every item" in e.reason
    assert out.state.fleet.unserved >= len(unserved)


def test_cold_transfer_spoiled_in_a_failed_reefer_is_scrapped_on_arrival(tmp_path: Path) -> None:
    """A satellite cold room replenished from the cold store by reefer: when the reefer's cooling
    fails on the way, the transferred vaccines are received and scrapped at once (cold_chain), so they
    count in spoiled_units and never reach the shelf as good stock."""
    cold = ROOT / "scenarios" / "cold-chain" / "baseline.yaml"
    path = tmp_path / "satellite.yaml"
    path.write_text(f"""name: cold-satellite
extends: {cold}
horizon: 6d
warmup: 0d
site:
  warehouses:
    - {{id: cold-store, docks: 2, pickers: 3, initial_stock: {{vaccine: 800, chilled_food: 1500, dry_goods: 1500}}}}
    - {{id: satellite, docks: 1, pickers: 1, initial_stock: {{vaccine: 40}}}}
  demand:
    - {{item: vaccine, location: satellite, customer: clinic-a, mean: 30, per: 1d, line_size: 10}}
  network:
    coordinates: latlon
    circuity: 1.3
    nodes:
      - {{id: cold-store, kind: warehouse, position: [52.370, 4.890]}}
      - {{id: satellite, kind: warehouse, position: [52.100, 5.100]}}
      - {{id: clinic-a, position: [52.090, 5.120], due_within: 8h}}
    sources:
      - {{warehouse: satellite, source: cold-store, items: [vaccine]}}
  vehicles:
    - id: reefer
      kind: reefer
      count: 2
      depot: cold-store
      capacity_weight: 1200
      capacity_volume: 8
      speed: 55
      cost_per_km: 0.7
      cost_per_hour: 28
      reefer: {{failure: {{dist: exponential, mean: 1h}}, spoil_after: 6min}}
""")
    scenario = load_scenario(path)
    events = run_replication(scenario, scenario.seed, 0).log.events
    transfers = {e.transfer for e in events if type(e) is E.TransferShipped}
    received = {e.lot: e for e in events if type(e) is E.TransferReceived and e.transfer in transfers}
    spoiled_deliveries = {e.consignment for e in events if type(e) is E.Delivered and e.spoiled
                          and e.order < 0}
    scrapped = {e.lot: e for e in events if type(e) is E.StatusChanged and e.status == "scrapped"
                and e.reason == "cold_chain" and e.location == "satellite"}
    assert spoiled_deliveries, "with cooling failing about hourly some transfer arrives spoiled"
    assert len(scrapped) == len(spoiled_deliveries)
    for lot, e in scrapped.items():
        assert lot in received and received[lot].qty == e.qty and received[lot].t == e.t
    # No scrapped lot was ever allocated to a customer.
    allocated = {lot for e in events if type(e) is E.Allocated for _, lot, _ in e.picks}
    assert not allocated & set(scrapped)
