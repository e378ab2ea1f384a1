"""MQTT ingest for the live twin: subscribe to ``lems/<site>/<source>/<id>`` and feed the twin.

Each message is one event envelope (JSON) or a JSON list of them; a missing ``source`` or ``id`` is
taken from the topic. Anything malformed goes to the dead-letter table: there is nobody to answer
over MQTT. The broker must let enough messages be in flight (``max_inflight_messages 0`` in
mosquitto.conf) for batches to fill.

The MQTT client runs in a process of its own (the *bridge*). paho reads every message with four or
five small socket calls, each of which hands the interpreter lock over; in the twin's process that
starved both the ingest thread and the HTTP state queries. The bridge takes what arrives in a burst
(up to ``batch`` messages, or what came within ``linger`` seconds), parses the JSON, and sends the
batch to the twin over a pipe. The twin checks, stores (one transaction: a group commit) and applies
it and answers; only then does the bridge acknowledge the messages (QoS 1 PUBACK, sent by hand, in
the order they arrived). So nothing is acknowledged before it is on disk: if the twin stops, the
broker re-delivers what was not acknowledged (the session is persistent), and re-delivered ids are
de-duplicated. If the twin's process dies, the bridge notices and leaves without acknowledging.
"""

from __future__ import annotations

import collections
import json
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from twin.errors import TwinError
from twin.event_store import EventStoreError

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from twin.live import LiveTwin

__all__ = ["MqttIngest", "parse_host_port", "envelopes_of"]

DeadLetterRow = tuple[str, str | None, str, str, str]


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TwinError(f"--mqtt {text!r}: give HOST:PORT, e.g. localhost:1883")
    return host, int(port)


def envelopes_of(msgs: list[Any]) -> tuple[list[Any], list[DeadLetterRow]]:
    """The event envelopes in a batch of MQTT messages (source and id filled in from the topic),
    and a dead-letter row for each message that is not JSON."""
    events: list[Any] = []
    bad: list[DeadLetterRow] = []
    for msg in msgs:
        parts = msg.topic.split("/")
        source, ident = (parts[2], parts[3]) if len(parts) == 4 else ("mqtt", None)
        try:
            doc = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            bad.append((f"mqtt:{source}", ident, "ingest", f"malformed: payload is not JSON ({exc})",
                        msg.payload[:2000].decode("utf-8", "replace")))
            continue
        for item in doc if isinstance(doc, list) else [doc]:
            if isinstance(item, dict):
                item.setdefault("source", source)
                if ident is not None and not isinstance(doc, list):
                    item.setdefault("id", ident)
            events.append(item)
    return events, bad


class MqttIngest:
    """Feeds ``twin`` from the broker at ``host:port`` through a bridge process (see the module)."""

    def __init__(self, twin: LiveTwin, host: str, port: int, site: str | None = None, batch: int = 2000,
                 linger: float = 0.02, client_id: str | None = None) -> None:
        self.twin = twin
        self.site = site or twin.scenario.site.name
        self.topic = f"lems/{self.site}/+/+"
        self.batch = batch
        self.linger = linger
        self.host, self.port = host, port
        self.received = 0  # messages handed over by the bridge (all stored, then acknowledged)
        self.failure: str | None = None  # why ingest stopped on its own, if it did
        self.client_id = client_id or f"lems-twin-{self.site}"
        self._stop = threading.Event()
        self._bridge: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)

    def start(self) -> None:
        """Connect (through the bridge) and start ingesting; OSError if the broker cannot be reached."""
        here, there = socket.socketpair()
        # A fresh interpreter (not fork: the twin's process runs threads; not multiprocessing's
        # spawn: that would run the caller's main module again).
        self._bridge = subprocess.Popen(
            [sys.executable, "-c", "from twin.live_mqtt import bridge_main; bridge_main()", str(there.fileno()),
             self.host, str(self.port), self.topic, self.client_id, str(self.batch), str(self.linger)],
            pass_fds=[there.fileno()])
        there.close()
        self._conn = Connection(here.detach())
        try:
            if not self._conn.poll(60):
                raise TwinError(f"MQTT {self.host}:{self.port}: the bridge process did not start within 60 s")
            kind, detail = self._conn.recv()
        except (EOFError, OSError):
            kind, detail = "error", f"the bridge process stopped (exit code {self._bridge.wait(10)})"
        except TwinError:
            self.stop()
            raise
        if kind != "ready":
            self.stop()
            raise OSError(detail)
        self._worker.start()

    def stop(self) -> None:
        """Stop ingesting. Messages the twin had not stored stay unacknowledged: the broker sends them
        again on the next start."""
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
        if self._bridge is not None and self._bridge.poll() is None:
            self._bridge.terminate()
            try:
                self._bridge.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._bridge.kill()
                self._bridge.wait()

    def _work(self) -> None:
        conn, bridge = self._conn, self._bridge
        assert conn is not None and bridge is not None  # started by start()
        while not self._stop.is_set():
            try:
                if not conn.poll(0.1):
                    continue
                events, bad, count = conn.recv()
            except (EOFError, OSError):
                if not self._stop.is_set():
                    self.failure = f"the MQTT bridge process stopped (exit code {bridge.poll()})"
                return
            try:
                if not self.store(events, bad):
                    return
            except Exception as exc:
                # A bug, not bad input (that is dead-lettered): stop taking batches rather than
                # acknowledge what was not stored; the broker keeps them for the next start.
                self.failure = f"ingest stopped: {type(exc).__name__}: {exc}"
                bridge.terminate()
                raise
            self.received += count
            try:
                conn.send(True)  # the bridge acknowledges the batch now
            except OSError:
                return

    def store(self, events: list[Any], bad: list[DeadLetterRow]) -> bool:
        """Store and apply one batch (dead-lettering what is malformed); False if stopped first.
        Nothing is acknowledged before it is on disk, so a store that fails is tried again."""
        while True:
            try:
                if bad:
                    self.twin.store.dead_letter(bad)
                    bad = []
                if events:
                    self.twin.ingest(events, source="mqtt", atomic=False)
                return True
            except EventStoreError:
                if self._stop.wait(0.5):
                    return False


def bridge_main() -> None:
    """Entry point of the bridge process (started by ``MqttIngest.start``; arguments in argv)."""
    fd, host, port, topic, client_id, batch, linger = sys.argv[1:8]
    _bridge(Connection(int(fd)), host, int(port), topic, client_id, int(batch), float(linger))


def _bridge(conn: Connection, host: str, port: int, topic: str, client_id: str, batch: int,
            linger: float) -> None:
    """The bridge process: receive, batch, parse, hand over, and acknowledge once stored."""
    import paho.mqtt.client as mqtt

    inbox: list[mqtt.MQTTMessage] = []
    arrived = threading.Condition()

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # Wake the batching loop only when it has something to do: the first message of a batch
        # (it starts lingering) or a full batch (it stops). Waking it for every message made it
        # take the interpreter lock from paho's network thread once per message, for nothing.
        with arrived:
            inbox.append(msg)
            if len(inbox) == 1 or len(inbox) >= batch:
                arrived.notify()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                         manual_ack=True)
    client.max_inflight_messages_set(0)
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        conn.send(("error", f"cannot connect to the broker: {exc}"))
        return
    client.loop_start()
    conn.send(("ready", None))
    # Batches handed over and not yet confirmed as stored, oldest first. Up to two: the next batch
    # is parsed and waiting while the twin stores one, so neither side idles on the other.
    sent: collections.deque[list[mqtt.MQTTMessage]] = collections.deque()
    try:
        while True:
            while sent and (len(sent) >= 2 or conn.poll(0)):
                conn.recv()  # the twin has stored the oldest batch: acknowledge it, in arrival order
                for msg in sent.popleft():
                    if msg.qos > 0:
                        client.ack(msg.mid, msg.qos)
            with arrived:
                if not arrived.wait_for(lambda: bool(inbox), timeout=0.005 if sent else 0.5):
                    if not sent and conn.poll():  # the twin never writes first: this is its end closing
                        conn.recv()  # raises EOFError
                    continue
                # Let a burst fill the batch: one store transaction for many messages.
                end = time.monotonic() + linger
                while len(inbox) < batch and (left := end - time.monotonic()) > 0:
                    arrived.wait(left)
                msgs = inbox[:batch]
                del inbox[:batch]
            events, bad = envelopes_of(msgs)
            conn.send((events, bad, len(msgs)))
            sent.append(msgs)
    except (EOFError, OSError):
        return  # the twin is gone: what it did not store stays unacknowledged at the broker
    finally:
        client.loop_stop()
