"""Shadow mode (issue 7, point 6) with the real parts: a Mosquitto broker and `twin serve --shadow`.
The site's (s,S) policy reviews the live state daily in site time and publishes a reorder
recommendation to lems/<site>/recommendations once stock drops below the reorder point; the twin's
state is not changed by it."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import small_scenario
from tests.live.helpers import mosquitto, scenario_file, server
from twin.keys import KeyStore
from twin.live_shadow import ShadowRunner, inventory_observation
from twin.model.state import State
from twin.sim.layout import compile_layout

needs_mosquitto = pytest.mark.skipif(shutil.which("mosquitto") is None,
                                     reason="mosquitto not installed (.ci/run installs it)")
STOCK = {"gauze": 200.0, "saline": 200.0, "gloves": 500.0}


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "wms", "type": type_, "payload": payload}


def opening(t: float) -> list[dict[str, Any]]:
    out = []
    for lot, (item, qty) in enumerate(STOCK.items(), 1):
        out.append(env(f"r-{item}", t, "GoodsReceived", po=-1, item=item, location="main", lot=lot, qty=qty,
                       scanned=qty, expiry=None, closes_po=True))
        out.append(env(f"p-{item}", t, "PutAway", item=item, location="main", lot=lot, status="available"))
    return out


def order(n: int, t: float, item: str, lot: int, qty: float) -> list[dict[str, Any]]:
    """A customer order served from stock: placed, allocated, picked, shipped."""
    return [env(f"o{n}", t, "OrderPlaced", order=n, location="main", customer="ward", lines=[[item, qty]]),
            env(f"a{n}", t, "Allocated", order=n, location="main", picks=[[item, lot, qty]], backordered=[],
                lost=[], backlog=False),
            env(f"k{n}", t + 0.1, "Picked", order=n, location="main", picks=[[item, lot, qty, qty, qty]]),
            env(f"s{n}", t + 0.2, "Shipped", order=n, location="main", lines=[[item, qty]], complete=True)]


def levels() -> tuple[float, float]:
    """The (s,S) levels of gauze the site's policy computes (not hard-coded here)."""
    from policies.base import load_policy

    scenario = small_scenario()
    layout = compile_layout(scenario)
    policy = load_policy(scenario.policies.inventory.use, scenario.policies.inventory.params)
    s, big_s = policy.levels(inventory_observation(State.empty(layout.skus), layout))
    k = layout.sku_index[("gauze", "main")]
    return float(s[k]), float(big_s[k])


def _wait(pred: Any, timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@needs_mosquitto
def test_shadow_publishes_a_reorder_once_stock_drops_below_the_reorder_point(tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt

    s, big_s = levels()
    assert 0 < s < STOCK["gauze"]
    store = KeyStore(tmp_path / "keys.sqlite")
    op, viewer = ({"X-API-Key": store.create(role)[0]} for role in ("operator", "viewer"))
    live = scenario_file(tmp_path)
    got: list[dict[str, Any]] = []
    with mosquitto() as port, server(tmp_path, live, "--mqtt", f"127.0.0.1:{port}", "--shadow",
                                     "--window", "0h") as (url, _):
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-planner")
        sub.on_message = lambda c, u, msg: got.append({"topic": msg.topic, **json.loads(msg.payload)})
        sub.on_connect = lambda c, u, f, r, p: c.subscribe("lems/small-site/recommendations", qos=1)
        sub.connect("127.0.0.1", port)
        sub.loop_start()
        try:
            _wait(lambda: sub.is_connected(), 10, "the subscriber")
            time.sleep(0.3)

            def recs() -> dict[str, Any]:
                return dict(httpx.get(url + "/twin/recommendations", headers=viewer, timeout=10).json())

            # Day 0, stock well above s: the first review recommends nothing.
            assert httpx.post(url + "/twin/events", json=opening(1.0), headers=op, timeout=10).status_code == 200
            first = _wait(lambda: (r := recs())["reviews"] >= 1 and r, 10, "the first review")
            assert first["count"] == 0 and first["policies"][0]["next_review"] == 25.0
            # A large order leaves gauze below s at 10 h: not a review time yet (daily, in site time).
            qty = STOCK["gauze"] - (s - 5)
            assert httpx.post(url + "/twin/events", json=order(1, 10.0, "gauze", 1, qty), headers=op,
                              timeout=10).status_code == 200
            time.sleep(1.0)
            assert recs()["count"] == 0 and got == []
            # The next event past 25 h is the next review: the policy recommends ordering up to S.
            before = httpx.get(url + "/twin/state", headers=viewer, timeout=10).json()
            assert httpx.post(url + "/twin/events", json=order(2, 26.0, "gloves", 3, 5.0), headers=op,
                              timeout=10).status_code == 200
            _wait(lambda: got, 10, "a recommendation on MQTT")
            time.sleep(1.0)  # anything the shadow would (wrongly) do to the state would show by now
            after = httpx.get(url + "/twin/state", headers=viewer, timeout=10).json()
            listed = recs()
        finally:
            sub.loop_stop()
            sub.disconnect()
    assert len(got) == 1
    message = got[0]
    assert message["topic"] == "lems/small-site/recommendations"
    assert (message["site"], message["t"], message["policy"], message["trigger"]) == ("small-site", 26.2, "s_S",
                                                                                      "review")
    [rec] = message["recommendations"]
    left = s - 5
    assert (rec["action"], rec["item"], rec["location"], rec["supplier"], rec["rejected"]) == \
        ("PlaceOrder", "gauze", "main", "medsupply", None)
    assert rec["qty"] == pytest.approx(big_s - left)
    assert listed["count"] == 1 and listed["recommendations"] == [rec]
    # Not acted on: nothing on order, no new event stored, the state unchanged but for order 2.
    gauze = {x["item"]: x for x in after["skus"]}["gauze"]
    assert gauze["on_order"] == 0.0 and gauze["on_hand"] == pytest.approx(left)
    assert after["open_purchase_orders"] == 0
    assert after["store"]["events"] == before["store"]["events"] + 4
    assert after["counts"]["applied"] == before["counts"]["applied"] + 4
    assert [x for x in after["skus"] if x["item"] != "gloves"] == [x for x in before["skus"] if x["item"] != "gloves"]


def test_recommendations_need_shadow_mode_and_a_continuous_policy_advises_once_per_crossing(tmp_path: Path) -> None:
    """In process: the 409 without --shadow is in tests/live/test_api.py's walk; here a continuous
    (s,Q) policy recommends when a SKU crosses its reorder point, and not again while it stays below."""
    from twin.event_store import EventStore
    from twin.live import LiveConfig, LiveTwin

    scenario = small_scenario(policies={"inventory": {"use": "s_Q", "params": {"s": 50, "Q": 100}}})
    twin = LiveTwin(scenario, EventStore(tmp_path / "e.sqlite"), LiveConfig(window=0.0, max_ahead=None))
    published: list[dict[str, Any]] = []
    shadow = ShadowRunner(twin, [published.append])
    assert not twin.ingest(opening(1.0)).rejected
    assert shadow.step() == [] and shadow.reviews == 0
    assert not twin.ingest(order(1, 5.0, "gauze", 1, 160.0)).rejected  # 40 left: at or below s = 50
    [message] = shadow.step()
    assert message["trigger"] == "reorder_point"
    assert [(r["item"], r["qty"]) for r in message["recommendations"]] == [("gauze", 100.0)]
    assert not twin.ingest(order(2, 6.0, "gauze", 1, 10.0)).rejected  # still below: no new advice
    assert shadow.step() == []
    assert shadow.step() == []  # nothing changed: nothing reviewed
    assert not twin.ingest(order(3, 7.0, "saline", 2, 160.0)).rejected  # saline crosses now
    [message] = shadow.step()
    assert [r["item"] for r in message["recommendations"]] == ["gauze", "saline"]
    assert twin.state.purchase_orders == {} and twin.state.skus[("gauze", "main")].on_order == 0.0
    assert len(published) == 2
    assert [m["recommendations"][-1]["item"] for m in published] == ["gauze", "saline"]
