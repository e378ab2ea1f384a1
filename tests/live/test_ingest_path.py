"""The ingest path's own parts: what the twin keeps per applied event (the garbage collector's
work, which pauses queries and ingest alike), reading stored events back by sequence number, and
how the MQTT bridge turns messages into envelopes and dead letters."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any, NamedTuple

from tests.conftest import small_scenario
from tests.live.helpers import EPOCH, envelopes
from twin.event_store import EventStore
from twin.live import LiveConfig, LiveTwin, state_snapshot
from twin.live_mqtt import envelopes_of


def _tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


def test_applied_events_leave_no_collector_tracked_object_behind(tmp_path: Path) -> None:
    envs, out = envelopes(days=100)
    twin = LiveTwin(small_scenario(), EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))
    before = _tracked()
    for i in range(0, len(envs), 500):
        assert not twin.ingest(envs[i:i + 500]).rejected
    twin.flush()
    grown = _tracked() - before
    # The state itself holds open orders, lots and the like; a typed event kept per applied event
    # (they stay tracked: named tuples are never untracked) would be one object per event or more.
    assert twin.counts["applied"] == len(envs) > 6000
    assert grown < len(envs) / 5, f"{grown} more tracked objects after {len(envs)} events"
    # What the twin applied is still there, read back from the store, in the order applied.
    applied = twin.applied_events()
    assert [type(e).__name__ for e in applied] == [e["type"] for e in sorted(envs, key=lambda e: (e["t"], e["n"]))]
    assert state_snapshot(twin.state) == state_snapshot(out.state)


def test_stored_events_are_read_back_by_sequence_number(tmp_path: Path) -> None:
    envs, _ = envelopes(days=5)
    twin = LiveTwin(small_scenario(), EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))
    twin.ingest(envs[:30])
    found = twin.store.events_at([3, 7, 30, 31])
    assert sorted(found) == [3, 7, 30]  # 31 was never stored
    assert [found[k].id for k in (3, 7, 30)] == [envs[2]["id"], envs[6]["id"], envs[29]["id"]]
    assert twin.store.events_at([]) == {}


class _Message(NamedTuple):
    topic: str
    payload: bytes


def test_bridge_takes_source_and_id_from_the_topic_and_dead_letters_what_is_not_json() -> None:
    one: dict[str, Any] = {"t": 1.0, "type": "PutAway", "payload": {}}
    many = [{"id": "a", "t": 1.0, "type": "PutAway"}, {"id": "b", "t": 2.0, "type": "PutAway", "source": "mes"}]
    events, bad = envelopes_of([
        _Message("lems/site/wms/wms-7", json.dumps(one).encode()),
        _Message("lems/site/scanner-3/x", json.dumps(many).encode()),
        _Message("lems/site/wms/wms-8", b"{not json"),
    ])
    assert [(e["id"], e["source"]) for e in events] == [("wms-7", "wms"), ("a", "scanner-3"), ("b", "mes")]
    assert len(bad) == 1
    source, ident, stage, reason, raw = bad[0]
    assert (source, ident, stage, raw) == ("mqtt:wms", "wms-8", "ingest", "{not json")
    assert reason.startswith("malformed: payload is not JSON")
