"""Real parts: a Mosquitto broker and `twin serve` (uvicorn) on loopback ports, driven with paho-mqtt
and httpx. (a) 50,000 events over MQTT, 5% re-sent, shuffled: stored once each, applied in order,
the state equals the simulation's and a replay of the log; (b) SIGKILL during batch ingest (HTTP,
and MQTT) loses no acknowledged event and stores none twice; (c) schemathesis finds no 5xx."""

from __future__ import annotations

import json
import os
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

N_EVENTS_MQTT = 50_000  # issue 7's figure: sent once each, then 5% of them again

needs_mosquitto = pytest.mark.skipif(shutil.which("mosquitto") is None,
                                     reason="mosquitto not installed (.ci/run installs it)")


def _keys(home: Path) -> dict[str, str]:
    store = KeyStore(home / "keys.sqlite")
    return {role: store.create(role)[0] for role in ("viewer", "operator", "admin")}


def _publish_all(port: int, envs: list[dict[str, Any]], client_id: str = "test-pub") -> None:
    """Publish each envelope as one QoS 1 message and wait until the broker has them all. In-flight
    messages are not capped: paho's publisher walks its whole queue on every PUBACK when they are,
    which makes 50,000 messages take minutes."""
    import paho.mqtt.client as mqtt

    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    pub.max_inflight_messages_set(0)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        infos = [pub.publish(f"lems/small-site/sim/{e['id']}", json.dumps(e), qos=1) for e in envs]
        for info in infos:
            info.wait_for_publish(timeout=60)
        unsent = sum(not info.is_published() for info in infos)
        assert not unsent, f"the broker did not take {unsent} of {len(infos)} messages within the time"
    finally:
        pub.loop_stop()
        pub.disconnect()


def _available(stream: Any) -> str:
    """What a running process has written to a pipe so far (without waiting for more)."""
    if stream is None:
        return ""
    os.set_blocking(stream.fileno(), False)
    return (stream.read() or b"").decode("utf-8", "replace")[-5000:]


def _wait(pred: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@needs_mosquitto
def test_mqtt_events_resent_and_shuffled_arrive_once_each_in_order(tmp_path: Path) -> None:
    envs, out = envelopes(days=770)
    assert len(envs) >= N_EVENTS_MQTT
    rng = random.Random(11)
    sent = envs + rng.sample(envs, len(envs) // 20)
    rng.shuffle(sent[len(envs):])
    blocks = [sent[i:i + 50] for i in range(0, len(envs), 50)]
    sent = [e for b in blocks for e in rng.sample(b, len(b))] + sent[len(envs):]
    # The re-sent ones go out last, mixed into the last blocks' time range only as duplicates.
    keys = _keys(tmp_path)
    live = scenario_file(tmp_path)
    with mosquitto() as port, server(tmp_path, live, "--mqtt", f"127.0.0.1:{port}", "--window", "3d") as (url, proc):
        _publish_all(port, sent)
        hv = {"X-API-Key": keys["viewer"]}

        counts: dict[str, int] = {}

        def stored() -> bool:
            counts.update(httpx.get(url + "/twin/state", headers=hv, timeout=10).json()["counts"])
            return bool(counts["accepted"] + counts["duplicates"] >= len(sent))

        try:
            _wait(stored, 180, "every MQTT event to be stored")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {len(sent)} sent, counts so far {counts}; the server's "
                                 f"stderr: {_available(proc.stderr)}") from None
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


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_mosquitto
def test_sigkill_during_mqtt_ingest_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    """The bridge acknowledges a message only once the twin has stored it: after a SIGKILL the broker
    re-delivers the rest to the restarted twin (same persistent session), and the bridge process of
    the killed twin does not live on."""
    envs, out = envelopes(days=300)
    keys = _keys(tmp_path)
    live = scenario_file(tmp_path)
    hv = {"X-API-Key": keys["viewer"]}

    def stored(url: str) -> int:
        return int(httpx.get(url + "/twin/state", headers=hv, timeout=10).json()["store"]["events"])

    with mosquitto() as port:
        args = ("--mqtt", f"127.0.0.1:{port}", "--window", "1d")
        with server(tmp_path, live, *args) as (url, proc):
            bridges = _children(proc.pid)
            assert bridges, "the MQTT bridge process is not running"
            publisher = threading.Thread(target=_publish_all, args=(port, envs))
            publisher.start()
            _wait(lambda: stored(url) > 0, 60, "the first MQTT events to be stored")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            publisher.join(timeout=120)
        _wait(lambda: not any(map(_running, bridges)), 15, "the bridge of the killed twin to stop")
        with sqlite3.connect(tmp_path / "events.sqlite") as conn:
            before = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert 0 < before < len(envs), "the kill should land mid-ingest"
        with server(tmp_path, live, *args) as (url, _):
            _wait(lambda: stored(url) >= len(envs), 120, "the re-delivered events to be stored")
            httpx.post(url + "/twin/flush", headers={"X-API-Key": keys["operator"]}, timeout=30)
            state = httpx.get(url + "/twin/state", headers=hv, timeout=10).json()
            audit = httpx.get(url + "/twin/audit", headers={"X-API-Key": keys["admin"]}, timeout=60).json()
    assert audit["ok"] and audit["events"] == len(envs)
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        assert conn.execute("SELECT COUNT(DISTINCT id), COUNT(*) FROM events").fetchone() == (len(envs), len(envs))
    want = {(s.item, s.location): s.on_hand for s in out.state.skus.values()}
    assert {(s["item"], s["location"]): s["on_hand"] for s in state["skus"]} == want
