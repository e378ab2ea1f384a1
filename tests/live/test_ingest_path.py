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


def test_batch_check_gives_what_checking_each_event_alone_gives(tmp_path: Path) -> None:
    """The one-pass validation of a batch must accept exactly what the event-by-event check accepts,
    make the same typed events, and report bad events with the same field, message and kind."""
    envs, _ = envelopes(days=20)
    receipt = {"po": -1, "item": "gauze", "location": "main", "lot": 1, "qty": 10.0, "scanned": 10.0,
               "expiry": None, "closes_po": False}
    bad: list[Any] = [
        {"id": "b1", "t": 1.0, "type": "Teleported", "payload": {"item": "gauze"}},
        {"id": "b2", "t": 1.0, "type": "GoodsReceived", "payload": {**receipt, "qty": "lots"}},
        {"id": "b3", "t": 1.0, "type": "GoodsReceived", "payload": {**receipt, "colour": "red"}},
        {"id": "b4", "t": 1.0, "type": "GoodsReceived", "payload": {k: v for k, v in receipt.items() if k != "lot"}},
        {"id": "b5", "type": "GoodsReceived", "payload": receipt},
        {"id": "b6", "t": float("inf"), "type": "GoodsReceived", "payload": receipt},
        {"id": "b7", "t": 1.0, "type": "GoodsReceived", "payload": {**receipt, "item": "unobtainium"}},
        {"id": "", "t": 1.0, "type": "GoodsReceived", "payload": receipt},
        {"id": "b8", "t": 1.0, "n": -1, "type": "GoodsReceived", "payload": receipt},
        {"id": "b9", "t": 1.0, "type": "GoodsReceived", "payload": receipt, "extra": 1},
        {"id": "b10", "t": 1.0, "timestamp": "2020-01-01T00:00:00Z", "type": "GoodsReceived", "payload": receipt},
        {"id": "b11", "t": 1.0, "type": "GoodsReceived", "payload": "not an object"},
        "not an object",
        None,
    ]
    # Lax values the contract accepts (a number as text, a list for a tuple) must come out alike too.
    lax = {"id": "l1", "t": "2.5", "n": "3", "type": "GoodsReceived", "payload": {**receipt, "qty": "10", "lot": 2.0}}
    raws = envs[:300] + bad + [lax] + envs[300:600]
    twin = LiveTwin(small_scenario(), EventStore(tmp_path / "events.sqlite", epoch=EPOCH),
                    LiveConfig(window=0.0, max_ahead=None))

    def seen(env: Any, event: Any, problems: Any, kind: str) -> Any:
        head = None if env is None else (env.id, env.t, env.timestamp, env.source, env.type, env.n)
        return head, event, [str(p) for p in problems], kind

    alone = [seen(*twin.check(raw)) for raw in raws]
    together = [seen(*c) for c in twin.check_batch(raws)]
    assert together == alone
    assert sum(1 for _, event, _, _ in together if event is not None) == 601  # the stream and the lax one
    assert {kind for _, _, _, kind in together[300:300 + len(bad)]} == {"malformed", "unknown_type",
                                                                        "unknown_reference"}
    # A batch with no bad event, and one that is not a list of objects at all.
    assert [seen(*c) for c in twin.check_batch(envs[:50])] == alone[:50]
    assert [seen(*c) for c in twin.check_batch(bad[-3:])] == alone[300 + len(bad) - 3:300 + len(bad)]


def test_a_new_store_counts_site_time_from_this_weeks_monday(tmp_path: Path) -> None:
    """Site time modulo a week is the time of week the simulation reads (shifts, windows, weekly
    demand): a new store's epoch is Monday 00:00 UTC of the current week; a given epoch is kept."""
    from datetime import UTC, datetime, timedelta

    from twin.event_store import EventStore, week_start

    before = datetime.now(UTC)
    store = EventStore(tmp_path / "events.sqlite")
    epoch = store.epoch
    assert epoch.weekday() == 0 and (epoch.hour, epoch.minute, epoch.second, epoch.microsecond) == (0, 0, 0, 0)
    assert timedelta(0) <= before - epoch < timedelta(days=7)
    wednesday = datetime(2026, 11, 18, 14, 30, tzinfo=UTC)
    assert week_start(wednesday) == datetime(2026, 11, 16, tzinfo=UTC)
    assert week_start(datetime(2026, 11, 16, tzinfo=UTC)) == datetime(2026, 11, 16, tzinfo=UTC)
    given = EventStore(tmp_path / "given.sqlite", epoch=wednesday)
    assert given.epoch == wednesday
    reopened = EventStore(tmp_path / "events.sqlite")
    assert reopened.epoch == epoch
