"""Reported vs expected (issue 7, point 4): site events posted over HTTP raise discrepancy alerts past
their thresholds (and not below them); alerts are stored events, replay with the store, are listed by
GET /twin/alerts and pushed on the WebSocket stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.conftest import FIXTURES
from twin.event_store import EventStore
from twin.keys import KeyStore
from twin.live import LiveConfig, LiveTwin, replay_state
from twin.live_alerts import AlertThresholds, parse_thresholds
from twin.scenario import load_scenario

SET_POINT = 4.0


def site_with_cold_room(folder: Path) -> Path:
    """The small scenario, its store watched by a temperature sensor with a 4 degree set point."""
    site = yaml.safe_load((FIXTURES / "site_small.yaml").read_text())
    site["sensors"] = [{"id": "cold-1", "kind": "temperature", "attached_to": "main", "nominal": SET_POINT,
                        "every": "5min"}]
    (folder / "site_small.yaml").write_text(yaml.safe_dump(site))
    (folder / "baseline.yaml").write_text((FIXTURES / "baseline.yaml").read_text())
    return folder / "baseline.yaml"


def env(ident: str, t: float, type_: str, **payload: Any) -> dict[str, Any]:
    return {"id": ident, "t": t, "source": "wms", "type": type_, "payload": payload}


def receipt(ident: str, t: float, po: int, lot: int, qty: float) -> dict[str, Any]:
    return env(ident, t, "GoodsReceived", po=po, item="gauze", location="main", lot=lot, qty=qty, scanned=qty,
               expiry=None, closes_po=True)


def po(ident: str, t: float, number: int, qty: float, due: float) -> dict[str, Any]:
    return env(ident, t, "PurchaseOrderPlaced", po=number, item="gauze", location="main", supplier="medsupply",
               qty=qty, due=due, policy="erp")


def count(ident: str, t: float, book: float, counted: float) -> dict[str, Any]:
    return env(ident, t, "StockCounted", item="gauze", location="main", book=book, counted=counted, duration=0.1)


def reading(ident: str, t: float, value: float) -> dict[str, Any]:
    return env(ident, t, "SensorReading", sensor="cold-1", target="main", kind="temperature", value=value)


# (event, the alert it raises or None): each kind once past its threshold, and once just inside it.
SCRIPT: list[tuple[dict[str, Any], tuple[str, float, float] | None]] = [
    (receipt("r0", 1.0, -1, 1, 40.0), None),
    (env("p0", 1.0, "PutAway", item="gauze", location="main", lot=1, status="available"), None),
    # Book 40: a count of 38 is 2 off (threshold max(2 units, 5% of 40) = 2): no alert.
    (count("c1", 2.0, 40.0, 38.0), None),
    # Book now 38: the site's own book says 40, but the twin expects 38; 29 is 9 off.
    (count("c2", 3.0, 40.0, 29.0), ("stock_count", 38.0, 29.0)),
    (reading("s1", 4.0, SET_POINT + 1.9), None),
    (reading("s2", 5.0, SET_POINT + 3.0), ("temperature", SET_POINT, SET_POINT + 3.0)),
    (reading("s3", 5.1, SET_POINT + 3.5), None),  # the same excursion: alerted once
    (reading("s4", 6.0, SET_POINT - 0.5), None),  # back in the band
    (reading("s5", 7.0, SET_POINT - 2.5), ("temperature", SET_POINT, SET_POINT - 2.5)),  # a new excursion
    (po("o1", 8.0, 1, 50.0, due=20.0), None),
    (po("o2", 8.0, 2, 50.0, due=30.0), None),
    (receipt("r1", 43.0, 1, 2, 50.0), None),  # 23 h late: inside 24 h
    (reading("s6", 54.5, SET_POINT), None),  # the clock passes po 2's due + 24 h
    (reading("s7", 55.0, SET_POINT), None),
    (receipt("r2", 80.0, 2, 3, 50.0), ("arrival", 30.0, 80.0)),
]


@pytest.fixture()
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    scenario = site_with_cold_room(tmp_path)
    store = KeyStore(tmp_path / "keys.sqlite")
    keys = {"operator": store.create("operator")[0], "viewer": store.create("viewer")[0]}
    app = create_app(Settings(home=tmp_path, live_scenario=scenario, max_ahead_hours=None, window_hours=0.0))
    with TestClient(app) as client:
        yield client, keys, scenario


def test_each_kind_of_discrepancy_alerts_past_its_threshold_and_not_below(
        setup: tuple[TestClient, dict[str, str], Path]) -> None:
    client, keys, _ = setup
    op, viewer = {"X-API-Key": keys["operator"]}, {"X-API-Key": keys["viewer"]}
    raised: list[tuple[str, float, float]] = []
    for event, expected in SCRIPT:
        before = client.get("/twin/alerts", headers=viewer).json()["count"]
        r = client.post("/twin/events", json=event, headers=op)
        assert r.status_code == 200, r.text
        after = client.get("/twin/alerts", headers=viewer).json()
        new = [(a["kind"], a["expected"], a["reported"]) for a in after["alerts"][before:]]
        if event["id"] == "s6":  # po 2 (due 30 h) is still open at 54.5 h: overdue, before it comes
            assert new == [("overdue_po", 30.0, 54.5)], new
            raised += new
            continue
        assert new == ([expected] if expected else []), f"{event['id']}: {new}"
        raised += new
    doc = client.get("/twin/alerts", headers=viewer).json()
    assert doc["count"] == len(raised) == 5
    assert [a["cause"] for a in doc["alerts"]] == ["c2", "s2", "s5", "", "r2"]
    assert {a["subject"] for a in doc["alerts"]} == {"gauze@main", "cold-1", "po 2"}
    assert doc["thresholds"]["count_units"] == 2.0
    only = client.get("/twin/alerts", params={"kind": "temperature"}, headers=viewer).json()["alerts"]
    assert [a["cause"] for a in only] == ["s2", "s5"]
    assert [a["cause"] for a in client.get("/twin/alerts", params={"since": 3}, headers=viewer).json()["alerts"]] \
        == ["", "r2"]
    state = client.get("/twin/state", headers=viewer).json()
    assert state["alerts"] == 5
    assert client.get("/twin/alerts").status_code == 401


def test_alerts_are_stored_events_a_restart_replays_without_raising_them_again(tmp_path: Path) -> None:
    scenario = load_scenario(site_with_cold_room(tmp_path))
    path = tmp_path / "events.sqlite"
    twin = LiveTwin(scenario, EventStore(path), LiveConfig(window=0.0, max_ahead=None))
    for event, _ in SCRIPT:
        assert not twin.ingest([event]).rejected
    stored = [se for se in twin.store.events() if se.type == "DiscrepancyRaised"]
    assert [se.source for se in stored] == ["twin"] * 5
    assert twin.store.count == len(SCRIPT) + 5
    assert twin.store.verify().ok
    # A fresh replay of the store gives the live state, alerts included.
    assert replay_state(scenario, twin.store).alerts == twin.state.alerts
    twin.store.close()
    again = LiveTwin(scenario, EventStore(path), LiveConfig(window=0.0, max_ahead=None))
    assert again.store.count == len(SCRIPT) + 5  # nothing raised twice
    assert again.state.alerts == twin.state.alerts
    # The restarted twin goes on checking: po 1 and 2 are closed, a new count 20 off alerts.
    assert not again.ingest([count("c3", 90.0, 79.0, 59.0)]).rejected
    assert [a["cause"] for a in again.alerts(5)] == ["c3"]


def test_thresholds_come_from_the_live_config(tmp_path: Path) -> None:
    scenario = load_scenario(site_with_cold_room(tmp_path))
    loose = AlertThresholds(count_units=10, temperature=5, arrival_hours=100, overdue_hours=100)
    twin = LiveTwin(scenario, EventStore(tmp_path / "a.sqlite"), LiveConfig(window=0.0, max_ahead=None, alerts=loose))
    for event, _ in SCRIPT:
        assert not twin.ingest([event]).rejected
    assert twin.state.alerts == []
    off = LiveTwin(scenario, EventStore(tmp_path / "b.sqlite"), LiveConfig(window=0.0, max_ahead=None, alerts=None))
    for event, _ in SCRIPT:
        assert not off.ingest([event]).rejected
    assert off.state.alerts == [] and off.store.count == len(SCRIPT)
    assert parse_thresholds("count_units=10, temperature=5") == AlertThresholds(count_units=10, temperature=5)
    assert parse_thresholds("off") is None
    with pytest.raises(ValueError, match=r"--alerts: temprature: Extra inputs are not permitted \(thresholds: "):
        parse_thresholds("temprature=5")
    with pytest.raises(ValueError, match="'5' is not name=value"):
        parse_thresholds("5")


def test_alerts_are_pushed_on_the_stream(setup: tuple[TestClient, dict[str, str], Path]) -> None:
    client, keys, _ = setup
    op = {"X-API-Key": keys["operator"]}
    events = [e for e, _ in SCRIPT[:4]]
    with client.websocket_connect(f"/twin/stream?key={keys['viewer']}") as ws:
        assert client.post("/twin/events", json=events, headers=op).status_code == 200
        for _ in range(50):
            msg = ws.receive_json()
            if msg["type"] == "alert":
                break
        else:
            raise AssertionError("no alert streamed")
    assert (msg["kind"], msg["subject"], msg["expected"], msg["reported"], msg["cause"]) == \
        ("stock_count", "gauze@main", 38.0, 29.0, "c2")
