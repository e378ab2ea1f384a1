"""LiveTwin and the event store: validate, de-duplicate, store before ack, apply in time order,
dead-letter rejects, hash chain, lot trace, forecast fork."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import small_scenario
from tests.live.helpers import EPOCH, envelopes
from twin.event_store import EventStore
from twin.live import LiveConfig, LiveTwin, replay_state, state_snapshot
from twin.live_forecast import forecast_scenario
from twin.live_schema import event_json_schema
from twin.lot_trace import trace_lot


def make_twin(tmp_path: Path, window: float = 6.0, **kw: Any) -> LiveTwin:
    store = EventStore(tmp_path / "events.sqlite", epoch=EPOCH)
    return LiveTwin(small_scenario(), store, LiveConfig(window=window, **kw))


@pytest.fixture(scope="module")
def stream() -> tuple[list[dict[str, Any]], Any]:
    return envelopes(days=10)


def test_live_state_equals_the_simulation_that_emitted_the_events(tmp_path: Path, stream: Any) -> None:
    envs, out = stream
    twin = make_twin(tmp_path)
    for i in range(0, len(envs), 97):
        result = twin.ingest(envs[i:i + 97])
        assert not result.rejected
    twin.flush()
    assert state_snapshot(twin.state) == state_snapshot(out.state)
    assert twin.counts["applied"] == len(envs)
    assert twin.store.verify().ok


def test_duplicates_and_shuffled_arrivals_apply_once_each_in_time_order(tmp_path: Path, stream: Any) -> None:
    envs, out = stream
    rng = random.Random(3)
    sent = envs + rng.sample(envs, len(envs) // 20)  # 5% re-sent
    # Shuffle within blocks: an event arrives at most ~40 events (a few hours) out of place.
    sent = [e for i in range(0, len(sent), 40) for e in rng.sample(sent[i:i + 40], len(sent[i:i + 40]))]
    twin = make_twin(tmp_path, window=48.0)
    dup = 0
    for i in range(0, len(sent), 50):
        result = twin.ingest(sent[i:i + 50])
        assert not result.rejected, result.rejected[:2]
        dup += len(result.duplicates)
    twin.flush()
    assert dup == len(sent) - len(envs)
    assert twin.store.count == len(envs)
    ids = [se.id for se in twin.store.events()]
    assert len(ids) == len(set(ids)) == len(envs)
    applied = twin.applied_events()
    assert [e.t for e in applied] == sorted(e.t for e in applied)
    assert state_snapshot(twin.state) == state_snapshot(out.state)
    assert state_snapshot(replay_state(twin.scenario, twin.store)) == state_snapshot(twin.state)
    # A restart rebuilds the same state from the store.
    again = LiveTwin(twin.scenario, EventStore(twin.store.path), twin.config)
    again.flush()
    assert state_snapshot(again.state) == state_snapshot(twin.state)


def _env(ident: str, t: float, kind: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "wms", "type": kind, "payload": payload}


RECEIPT = {"po": -1, "item": "gauze", "location": "main", "lot": 1, "qty": 10.0, "scanned": 10.0,
           "expiry": None, "closes_po": False}


@pytest.mark.parametrize(("event", "field", "kind"), [
    (_env("a", 1.0, "Teleported", item="gauze"), "type", "unknown_type"),
    (_env("a", 1.0, "GoodsReceived", **{**RECEIPT, "item": "unobtainium"}), "payload.item", "unknown_reference"),
    (_env("a", 1.0, "GoodsReceived", **{**RECEIPT, "location": "mars"}), "payload.location", "unknown_reference"),
    (_env("a", 1.0, "GoodsReceived", **{**RECEIPT, "qty": "lots"}), "payload.qty", "malformed"),
    (_env("a", 1.0, "GoodsReceived", **{k: v for k, v in RECEIPT.items() if k != "lot"}), "payload.lot", "malformed"),
    (_env("a", 1.0, "OrderPlaced", order=1, location="main", customer="ward",
          lines=[["gauze", 1.0], ["ghost", 2.0]]), "payload.lines[1][0]", "unknown_reference"),
    ({"id": "a", "type": "GoodsReceived", "payload": RECEIPT}, "t", "malformed"),
    ({"id": "a", "t": 1.0, "type": "GoodsReceived", "payload": RECEIPT, "colour": "red"}, "colour", "malformed"),
    ("not an object", "event", "malformed"),
])
def test_bad_events_are_rejected_naming_the_field_and_nothing_is_stored(
        tmp_path: Path, event: Any, field: str, kind: str) -> None:
    twin = make_twin(tmp_path)
    good = _env("good", 0.5, "GoodsReceived", **RECEIPT)
    result = twin.ingest([good, event])
    assert [(r.index, r.field, r.kind) for r in result.rejected] == [(1, field, kind)]
    assert twin.store.count == 0 and not result.accepted  # atomic: the good one is not stored either
    assert twin.store.dead_letter_count() == {"ingest": 1}
    # Not atomic (MQTT): the good one is stored, the bad one dead-lettered.
    result = twin.ingest([good, event], source="mqtt", atomic=False)
    assert result.accepted == ["good"] and twin.store.count == 1
    assert twin.store.dead_letter_count() == {"ingest": 2}


def test_far_future_and_too_late_events_are_rejected(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite", epoch=EPOCH)
    twin = LiveTwin(small_scenario(), store, LiveConfig(window=1.0, max_ahead=2.0),
                    clock=lambda: EPOCH + timedelta(hours=100))
    result = twin.ingest([_env("f", 103.0, "GoodsReceived", **RECEIPT)])
    assert result.rejected[0].field == "t" and result.rejected[0].kind == "future"
    assert "ahead of the site clock" in result.rejected[0].message
    assert not twin.ingest([_env("r", 90.0, "GoodsReceived", **RECEIPT)]).rejected
    assert not twin.ingest([_env("p", 95.0, "PutAway", item="gauze", location="main", lot=1,
                                 status="available")]).rejected
    sku = twin.state.sku("gauze", "main")
    assert (sku.held, sku.on_hand, twin.pending) == (10.0, 0.0, 1)  # 90 h applied; 95 h held back 1 h
    late = twin.ingest([_env("l", 80.0, "GoodsReceived", **{**RECEIPT, "lot": 2})])
    assert late.rejected[0].kind == "late" and "out-of-order window" in late.rejected[0].message
    ts = {"id": "z", "timestamp": (EPOCH + timedelta(hours=96)).isoformat(), "type": "StockCounted",
          "payload": {"item": "gauze", "location": "main", "book": 10.0, "counted": 9.0, "duration": 0.1}}
    assert not twin.ingest([ts]).rejected
    assert next(se for se in store.events() if se.id == "z").t == pytest.approx(96.0)


def test_an_event_that_does_not_fit_the_state_is_rolled_back_whole(tmp_path: Path) -> None:
    twin = make_twin(tmp_path, window=0.0)
    twin.ingest([_env("r", 1.0, "GoodsReceived", **RECEIPT),
                 _env("p", 1.5, "PutAway", item="gauze", location="main", lot=1, status="available")])
    before = state_snapshot(twin.state)
    # Allocates lot 1 (fine) and then lot 99, which does not exist: the first part must not stick.
    twin.ingest([_env("x", 2.0, "Allocated", order=5, location="main", picks=[["gauze", 1, 3.0], ["gauze", 99, 1.0]],
                      backordered=[], lost=[], backlog=False)])
    after = state_snapshot(twin.state)
    assert {**after, "clock": None} == {**before, "clock": None}
    assert twin.store.failed_ids() == {"x"}
    letter = twin.store.dead_letters()[0]
    assert letter.stage == "apply" and "lot 99" in letter.reason
    assert state_snapshot(replay_state(twin.scenario, twin.store))["skus"] == after["skus"]


def test_audit_detects_altered_removed_and_truncated_events(tmp_path: Path, stream: Any) -> None:
    envs, _ = stream
    twin = make_twin(tmp_path)
    twin.ingest(envs[:50])
    path = twin.store.path
    assert twin.store.verify().ok
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET t = t + 1 WHERE seq = 10")
    report = EventStore(path).verify()
    assert not report.ok and "#10" in report.problems[0] and "altered" in report.problems[0]

    other = make_twin(tmp_path / "b")
    other.ingest(envs[:50])
    with sqlite3.connect(other.store.path) as conn:
        conn.execute("DELETE FROM events WHERE seq = 20")
    assert "missing" in EventStore(other.store.path).verify().problems[0]

    third = make_twin(tmp_path / "c")
    third.ingest(envs[:50])
    with sqlite3.connect(third.store.path) as conn:
        conn.execute("DELETE FROM events WHERE seq > 45")
    assert "removed from the end" in EventStore(third.store.path).verify().problems[0]


def test_trace_a_lot_from_its_supplier_to_its_customers(stream: Any) -> None:
    envs, out = stream
    events = [(e["id"], ev) for e, ev in zip(envs, out.log.events, strict=True)]
    receipt = next(ev for _, ev in events if type(ev).__name__ == "GoodsReceived" and ev.po >= 0)
    trace = trace_lot(events, receipt.lot)
    assert trace.origin[0]["purchase_order"]["supplier"] == "medsupply"
    assert trace.item == receipt.item
    picked = [m for m in trace.movements if m["type"] == "Picked"]
    assert picked and all(m["order"] in trace.orders for m in picked)
    assert all("customer" in o for o in trace.orders.values())
    assert not trace_lot(events, 10**9).found


def test_forecast_forks_from_the_live_stock(tmp_path: Path, stream: Any) -> None:
    envs, out = stream
    twin = make_twin(tmp_path)
    twin.ingest(envs)
    twin.flush()
    overlay = {"disruptions": [{"at": "1h", "kind": "supplier_outage", "supplier": "medsupply", "duration": "3d"}]}
    sc = forecast_scenario(twin.scenario, twin.state, 72.0, overlay)
    assert sc.horizon == 72.0 and sc.disruptions[0].kind == "supplier_outage"
    stock = sc.site.warehouses[0].initial_stock
    sku = twin.state.sku("gauze", "main")
    assert isinstance(stock, dict) and stock["gauze"] == pytest.approx(sku.on_hand + sku.held - sku.reserved)


def test_event_schema_has_one_variant_per_event_type() -> None:
    from twin.model.events import EVENT_TYPES

    doc = event_json_schema()
    assert len(doc["anyOf"]) == len(EVENT_TYPES)


def test_every_event_type_with_a_minimal_payload_is_checked_without_crashing(tmp_path: Path) -> None:
    """Whatever the payload (types added by other domains included), a check answers, never raises."""
    from twin.live_schema import PAYLOAD_MODELS

    twin = make_twin(tmp_path)
    samples = {"str": "main", "int": 1, "float": 1.0, "bool": False}
    for name, model in PAYLOAD_MODELS.items():
        payload: dict[str, Any] = {}
        for field_name, info in model.model_fields.items():
            text = str(info.annotation)
            payload[field_name] = next((v for k, v in samples.items() if text.startswith(k)), [])
        raw = {"id": f"x-{name}", "t": 1.0, "type": name, "payload": payload}
        env, event, problems, _ = twin.check(raw)
        assert event is not None or problems, name


def test_cli_audit_trace_keys_and_event_schema(tmp_path: Path, stream: Any, cli: Any) -> None:
    import json

    envs, _ = stream
    twin = make_twin(tmp_path)
    twin.ingest(envs)
    db = twin.store.path
    r = cli("audit", "verify", "--db", db)
    assert r.exit_code == 0 and f"intact: {len(envs)} event(s)" in r.stdout
    lot = next(e["payload"]["lot"] for e in envs if e["type"] == "GoodsReceived" and e["payload"]["po"] >= 0)
    r = cli("trace", str(lot), "--db", db)
    assert r.exit_code == 0 and json.loads(r.stdout)["origin"][0]["purchase_order"]["supplier"] == "medsupply"
    assert cli("trace", "123456789", "--db", db).exit_code == 1
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM events WHERE seq = 3")
    r = cli("audit", "verify", "--db", db)
    assert r.exit_code == 1 and "missing" in r.stderr
    r = cli("keys", "create", "--role", "planner", "--home", tmp_path)
    assert r.exit_code == 0 and r.stdout.startswith("lems_")
    assert cli("keys", "create", "--role", "boss", "--home", tmp_path).exit_code == 1
    r = cli("schema", "--events")
    assert r.exit_code == 0 and "GoodsReceived" in json.loads(r.stdout)["$defs"]
