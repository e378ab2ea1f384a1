"""MQTT ingest for the live twin: subscribe to ``lems/<site>/<source>/<id>`` and feed the twin.

Each message is one event envelope (JSON) or a JSON list of them; a missing ``source`` or ``id`` is
taken from the topic. Messages are taken in batches (up to ``batch`` or ``linger`` seconds) and
acknowledged (QoS 1 PUBACK, sent by hand) only after the batch is on disk, so the broker re-delivers
what the twin had not stored when it stopped; re-delivered ids are de-duplicated. Anything malformed
goes to the dead-letter table: there is nobody to answer over MQTT. The broker must let enough
messages be in flight (``max_inflight_messages 0`` in mosquitto.conf) for batches to fill.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt

from twin.errors import TwinError
from twin.event_store import EventStoreError
from twin.live import LiveTwin

__all__ = ["MqttIngest", "parse_host_port"]


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TwinError(f"--mqtt {text!r}: give HOST:PORT, e.g. localhost:1883")
    return host, int(port)


class MqttIngest:
    def __init__(self, twin: LiveTwin, host: str, port: int, site: str | None = None, batch: int = 2000,
                 linger: float = 0.02, client_id: str | None = None) -> None:
        self.twin = twin
        self.site = site or twin.scenario.site.name
        self.topic = f"lems/{self.site}/+/+"
        self.batch = batch
        self.linger = linger
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self.received = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"lems-twin-{self.site}",
                                  clean_session=False, manual_ack=True)
        self.client.max_inflight_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.host, self.port = host, port
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1
        self._queue.put(msg)

    def start(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self._worker.start()
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=10)
        self.client.loop_stop()
        self.client.disconnect()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            msgs = [first]
            deadline = threading.Event()
            timer = threading.Timer(self.linger, deadline.set)
            timer.start()
            while len(msgs) < self.batch and not deadline.is_set():
                try:
                    msgs.append(self._queue.get(timeout=0.005))
                except queue.Empty:
                    if deadline.is_set():
                        break
            timer.cancel()
            self.handle(msgs)

    def handle(self, msgs: list[mqtt.MQTTMessage]) -> None:
        """Store and apply a batch of messages, then acknowledge them."""
        events: list[Any] = []
        bad: list[tuple[str, str | None, str, str, str]] = []
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
                    if ident is not None and len(msgs) and not isinstance(doc, list):
                        item.setdefault("id", ident)
                events.append(item)
        while True:  # nothing is acknowledged before it is on disk: retry a store that fails
            try:
                if bad:
                    self.twin.store.dead_letter(bad)
                    bad = []
                if events:
                    self.twin.ingest(events, source="mqtt", atomic=False)
                break
            except EventStoreError:
                if self._stop.wait(0.5):
                    return
        for msg in msgs:
            if msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)
