"""Shared by the live-twin tests: a real event stream (from a simulation run), envelopes, servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import FIXTURES, ROOT, run, small_scenario
from twin.model.events import EVENT_TYPES

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # events at t hours since then are all in the past


def payload(event: Any) -> dict[str, Any]:
    return {k: v for k, v in event._asdict().items() if k != "t"}


def envelopes(days: float = 10, seed: int = 1) -> tuple[list[dict[str, Any]], Any]:
    """The event log of a small-site run as envelopes (n = position in the log), and the run."""
    out = run(small_scenario(), seed=seed, horizon_days=days)
    envs = [{"id": f"sim-{k}", "t": e.t, "n": k, "source": "sim", "type": type(e).__name__, "payload": payload(e)}
            for k, e in enumerate(out.log.events)]
    assert {e["type"] for e in envs} <= set(EVENT_TYPES)
    return envs, out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scenario_file(folder: Path) -> Path:
    """The small scenario as files (fixtures/baseline.yaml and its site) in ``folder``."""
    for name in ("baseline.yaml", "site_small.yaml"):
        (folder / name).write_text((FIXTURES / name).read_text())
    return folder / "baseline.yaml"


@contextmanager
def mosquitto() -> Iterator[int]:
    """A real broker on a free loopback port, with unlimited in-flight and queued messages."""
    port = free_port()
    conf = Path(os.environ.get("TMPDIR", "/tmp")) / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\n"
                    "max_queued_messages 0\npersistence false\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("mosquitto did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        conf.unlink(missing_ok=True)


@contextmanager
def server(home: Path, scenario: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real `twin serve` (uvicorn) on a free loopback port; yields its base URL and process."""
    port = free_port()
    cmd = [sys.executable, "-c", "from twin.cli import main; main()", "serve", "--port", str(port),
           "--home", str(home), "--live", str(scenario), "--max-ahead", "1000000h", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"twin serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                httpx.get(url + "/openapi.json", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("twin serve did not start")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
