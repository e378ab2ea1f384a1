"""Live ingest benchmark: sustained events/s over HTTP batches and over MQTT, durability on
(SQLite WAL, synchronous=FULL, stored before acknowledged), and the p99 latency of state queries
made during that load. Targets: 5,000 events/s each way; p99 under 50 ms.

    .venv/bin/python bench/live_ingest.py [--days 800] [--batch 1000]

Starts a real `twin serve` (uvicorn) and, for MQTT, a real Mosquitto on loopback ports.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.helpers import envelopes, mosquitto, scenario_file, server  # noqa: E402
from twin.keys import KeyStore  # noqa: E402


class Poller:
    """Queries GET /twin/state every 20 ms while the load runs; keeps the latencies."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as c:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                c.get(self.url + "/twin/state", headers={"X-API-Key": self.key}).raise_for_status()
                self.latencies.append(time.perf_counter() - t0)
                self._stop.wait(0.02)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies, 99) * 1000) if self.latencies else float("nan")


def stored(url: str, key: str) -> int:
    counts = httpx.get(url + "/twin/state", headers={"X-API-Key": key}, timeout=30).json()["counts"]
    return int(counts["accepted"] + counts["duplicates"])


def bench_http(envs: list[dict], batch: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = KeyStore(home / "keys.sqlite")
        op, viewer = store.create("operator")[0], store.create("viewer")[0]
        with server(home, scenario_file(home), "--window", "1d") as (url, _):
            batches = [envs[i:i + batch] for i in range(0, len(envs), batch)]
            with httpx.Client(timeout=60) as c, Poller(url, viewer) as poll:
                t0 = time.perf_counter()
                for b in batches:
                    c.post(url + "/twin/events", json=b, headers={"X-API-Key": op}).raise_for_status()
                wall = time.perf_counter() - t0
            print(f"HTTP  batches of {batch}: {len(envs):,} events in {wall:.2f} s = {len(envs) / wall:,.0f} events/s; "
                  f"state query p99 {poll.p99_ms():.1f} ms over {len(poll.latencies)} queries")


def bench_mqtt(envs: list[dict]) -> None:
    import paho.mqtt.client as mqtt

    with tempfile.TemporaryDirectory() as tmp, mosquitto() as port:
        home = Path(tmp)
        viewer = KeyStore(home / "keys.sqlite").create("viewer")[0]
        with server(home, scenario_file(home), "--window", "1d", "--mqtt", f"127.0.0.1:{port}") as (url, _):
            payloads = [(f"lems/small-site/sim/{e['id']}", json.dumps(e)) for e in envs]
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-pub")
            pub.max_inflight_messages_set(2000)
            pub.max_queued_messages_set(0)
            pub.connect("127.0.0.1", port)
            pub.loop_start()
            with Poller(url, viewer) as poll:
                t0 = time.perf_counter()
                infos = [pub.publish(topic, text, qos=1) for topic, text in payloads]
                for info in infos:
                    info.wait_for_publish(timeout=60)
                published = time.perf_counter() - t0
                while stored(url, viewer) < len(envs):
                    time.sleep(0.05)
                wall = time.perf_counter() - t0
            pub.loop_stop()
            pub.disconnect()
            print(f"MQTT  QoS 1: {len(envs):,} events stored in {wall:.2f} s = {len(envs) / wall:,.0f} events/s "
                  f"(publisher alone {len(envs) / published:,.0f} msg/s); state query p99 {poll.p99_ms():.1f} ms "
                  f"over {len(poll.latencies)} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=800, help="simulated days of a small site to send")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    envs, _ = envelopes(days=args.days)
    print(f"{len(envs):,} events from {args.days:g} simulated days of the small site; "
          "durability: WAL, synchronous=FULL")
    bench_http(envs, args.batch)
    bench_mqtt(envs)


if __name__ == "__main__":
    main()
