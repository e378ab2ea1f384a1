"""Live ingest benchmark: sustained events/s over HTTP batches and over MQTT, durability on
(SQLite WAL, synchronous=FULL, stored before acknowledged), and the latency of state queries
made during that load. Targets (issue 7): 5,000 events/s each way; state query p99 under 50 ms.

    .venv/bin/python bench/live_ingest.py [--days 800] [--batch 1000] [--repeat 3] [--rate 5000]

Starts a real `twin serve` (uvicorn) and, for MQTT, a real Mosquitto on loopback ports. The load
(HTTP client or MQTT publisher) runs in its own process and the state queries in this one, as a
site's gateways and its dashboards would: neither one's Python work delays the other's timing.
Each run starts from an empty store; with ``--repeat`` the spread of the runs is printed too
(the machine may be shared, so one run alone says little).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

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

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


def stored(url: str, key: str) -> int:
    counts = httpx.get(url + "/twin/state", headers={"X-API-Key": key}, timeout=30).json()["counts"]
    return int(counts["accepted"] + counts["duplicates"])


def cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time (user + system) used so far by a process and its children (Linux /proc): the twin's
    cost per event, which unlike events/s does not depend on what else the machine runs."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{p}/task").iterdir() if children else ():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def _pace(rate: float | None, t0: float, sent: int) -> None:
    """With an offered ``rate`` (events/s), wait until ``sent`` events are due; else go flat out."""
    if rate:
        delay = t0 + sent / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def _post_batches(url: str, key: str, path: str, batch: int, rate: float | None, started: MpEvent) -> None:
    """The HTTP client (its own process): every batch, one after the other, each acknowledged."""
    envs = json.loads(Path(path).read_text())
    bodies = [json.dumps(envs[i:i + batch]).encode() for i in range(0, len(envs), batch)]
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with httpx.Client(timeout=60) as c:
        started.set()
        t0 = time.perf_counter()
        for k, body in enumerate(bodies):
            _pace(rate, t0, k * batch)
            c.post(url + "/twin/events", content=body, headers=headers).raise_for_status()


def _publish(port: int, path: str, rate: float | None, started: MpEvent) -> None:
    """The MQTT gateway (its own process): one QoS 1 message per event, topic lems/<site>/<source>/<id>.
    In-flight messages are not capped: paho's publisher walks its whole queue on every PUBACK when
    they are, which would make the publisher, not the twin, the bottleneck."""
    import paho.mqtt.client as mqtt

    envs = json.loads(Path(path).read_text())
    payloads = [(f"lems/small-site/sim/{e['id']}", json.dumps(e)) for e in envs]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-pub")
    pub.max_inflight_messages_set(0)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    started.set()
    t0, infos = time.perf_counter(), []
    for k, (topic, text) in enumerate(payloads):
        if k % 100 == 0:
            _pace(rate, t0, k)
        infos.append(pub.publish(topic, text, qos=1))
    for info in infos:
        info.wait_for_publish(timeout=120)
    pub.loop_stop()
    pub.disconnect()


def _run_load(target: Any, args: tuple[Any, ...]) -> tuple[mp.process.BaseProcess, MpEvent]:
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=target, args=(*args, started), daemon=True)
    proc.start()
    if not started.wait(60):
        raise RuntimeError("the load process did not start")
    return proc, started


def bench_http(envs_path: Path, n: int, batch: int, rate: float | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = KeyStore(home / "keys.sqlite")
        op, viewer = store.create("operator")[0], store.create("viewer")[0]
        with server(home, scenario_file(home), "--window", "1d") as (url, twin), Poller(url, viewer) as poll:
            proc, _ = _run_load(_post_batches, (url, op, str(envs_path), batch, rate))
            cpu0, t0 = cpu_seconds(twin.pid), time.perf_counter()  # the client is ready: the clock starts
            proc.join()
            wall, cpu = time.perf_counter() - t0, cpu_seconds(twin.pid) - cpu0
            if proc.exitcode != 0:
                raise RuntimeError(f"the HTTP client failed (exit code {proc.exitcode})")
            if stored(url, viewer) != n:
                raise RuntimeError("the server did not store every event")
        return {"rate": n / wall, "wall": wall, "p50": poll.percentile_ms(50), "p99": poll.percentile_ms(99),
                "queries": len(poll.latencies), "cpu_us": cpu / n * 1e6}


def bench_mqtt(envs_path: Path, n: int, rate: float | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, mosquitto() as port:
        home = Path(tmp)
        viewer = KeyStore(home / "keys.sqlite").create("viewer")[0]
        with server(home, scenario_file(home), "--window", "1d", "--mqtt", f"127.0.0.1:{port}") as (url, twin):
            time.sleep(1.0)  # the twin subscribes
            with Poller(url, viewer) as poll:
                proc, _ = _run_load(_publish, (port, str(envs_path), rate))
                cpu0, own0, t0 = cpu_seconds(twin.pid), cpu_seconds(twin.pid, False), time.perf_counter()
                deadline = time.monotonic() + 600
                while stored(url, viewer) < n:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the twin did not store every MQTT event within 10 minutes")
                    time.sleep(0.05)
                wall, cpu = time.perf_counter() - t0, cpu_seconds(twin.pid) - cpu0
                own = cpu_seconds(twin.pid, False) - own0
                proc.join()
        return {"rate": n / wall, "wall": wall, "p50": poll.percentile_ms(50), "p99": poll.percentile_ms(99),
                "queries": len(poll.latencies), "cpu_us": cpu / n * 1e6, "bridge_us": (cpu - own) / n * 1e6}


def _line(name: str, n: int, r: dict[str, float]) -> str:
    return (f"{name}: {n:,} events stored in {r['wall']:.2f} s = {r['rate']:,.0f} events/s; state query "
            f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms over {r['queries']:.0f} queries; "
            f"twin CPU {r['cpu_us']:.0f} us/event"
            + (f" (twin process {r['cpu_us'] - r['bridge_us']:.0f} + MQTT bridge process {r['bridge_us']:.0f})"
               if "bridge_us" in r else ""))


def _spread(name: str, runs: list[dict[str, float]]) -> str:
    rates, p99s, cpus = ([r[k] for r in runs] for k in ("rate", "p99", "cpu_us"))
    bridge = [r["bridge_us"] for r in runs if "bridge_us" in r]
    return (f"{name} over {len(runs)} runs: {min(rates):,.0f} .. {max(rates):,.0f} events/s "
            f"(median {statistics.median(rates):,.0f}); p99 {min(p99s):.1f} .. {max(p99s):.1f} ms "
            f"(median {statistics.median(p99s):.1f}); twin CPU {min(cpus):.0f} .. {max(cpus):.0f} us/event"
            + (f" (of which the MQTT bridge {min(bridge):.0f} .. {max(bridge):.0f})" if bridge else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=800, help="simulated days of a small site to send")
    parser.add_argument("--batch", type=int, default=1000, help="events per HTTP request")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each benchmark (the spread is printed)")
    parser.add_argument("--only", choices=("http", "mqtt"), help="run one of the two")
    parser.add_argument("--rate", type=float, help="offer this many events/s (default: as fast as the twin takes "
                                                    "them); the twin keeps up if it stores them at that rate")
    args = parser.parse_args()
    envs, _ = envelopes(days=args.days)
    offered = f"offered at {args.rate:,.0f} events/s" if args.rate else "offered as fast as the twin takes them"
    print(f"{len(envs):,} events from {args.days:g} simulated days of the small site, {offered}; "
          "durability: WAL, synchronous=FULL")
    http_runs: list[dict[str, float]] = []
    mqtt_runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.json"
        path.write_text(json.dumps(envs))
        for _ in range(args.repeat):
            if args.only in (None, "http"):
                http_runs.append(bench_http(path, len(envs), args.batch, args.rate))
                print(_line(f"HTTP  batches of {args.batch}", len(envs), http_runs[-1]), flush=True)
            if args.only in (None, "mqtt"):
                mqtt_runs.append(bench_mqtt(path, len(envs), args.rate))
                print(_line("MQTT  QoS 1, one event a message", len(envs), mqtt_runs[-1]), flush=True)
    if args.repeat > 1:
        for name, runs in (("HTTP", http_runs), ("MQTT", mqtt_runs)):
            if runs:
                print(_spread(name, runs))


if __name__ == "__main__":
    main()
