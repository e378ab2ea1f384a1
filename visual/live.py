"""Live attach (issue 8): `twin view --live URL SCENARIO` draws the live twin's state as it changes.

``LiveFeed`` listens to the twin's WebSocket (``/twin/stream``, authenticated with the API key) in a
background thread; every ``state`` message (sent whenever the twin's state version changes) is
handed to ``LiveScene``, which the same renderer and controls draw as a recorded run's ``Scene``:
bins by fill level, machines by state, sensor alarms and down machines on the map. The twin's
discrepancy ``alert`` messages (a stock count off the book, a temperature off its set point, a late
receipt) are marked where they are (the warehouse on the map, the item's bins or the asset on its
floor) and the latest are listed in the side panel with the latest shadow-mode ``recommendation``
messages (what the site's policies would do now).

The stream carries the state, not the site's structure, so the view reads the site's map and floors
from the scenario file the twin runs (the server checks nothing here: the site names must match).
What the stream does not carry is not drawn: the pickers' tours and the vehicles' trips.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np

from twin.errors import TwinError
from twin.model.scenario import Scenario
from visual.scene import FloorSnapshot, NetworkSnapshot, SiteMap, _clock, floor_models, map_alarms

__all__ = ["LiveScene", "LiveFeed", "LiveError", "stream_url", "run_live_window"]

# The live twin's asset status -> the view's machine state.
STATUS = {"running": "running", "failed": "down", "stopped": "idle"}
MARKED = 8  # the latest alerts marked on the map and floors
LISTED = 3  # the latest alerts, and recommendations, listed in the side panel


class LiveError(TwinError):
    """The live twin cannot be reached, refuses the key, or runs another site."""


def stream_url(url: str, key: str | None) -> str:
    """The WebSocket address of a twin's stream from its base URL (http(s):// or ws(s)://)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise LiveError(f"--live: expected a URL like http://host:8000, got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/twin/stream"):
        path += "/twin/stream"
    return urlunsplit((scheme, parts.netloc, path, f"key={quote(key)}" if key else "", ""))


class LiveScene:
    """The latest live state, shaped like a recorded ``Scene`` for the view (its time is the twin's
    clock; there is nothing to seek). A bin's fill is its items' stock against the most seen so far
    in this session."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.floors, self.bin_items = floor_models(scenario, scenario.seed if seed is None else seed)
        self.map = SiteMap(scenario)
        self.stock: dict[tuple[str, str], float] = {}
        self.peak: dict[tuple[str, str], float] = {}
        self.assets: dict[str, str] = {a.id: "running" for a in scenario.site.assets}
        self.alarm_states: dict[str, str] = {}
        self.clock = 0.0
        self.version = -1
        self.info: dict[str, str] = {}
        self.messages = 0
        self.history: list[float] = []  # total stock after each update (the panel's small chart)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=50)  # the latest discrepancy alerts, oldest first
        self.recommendations: deque[dict[str, Any]] = deque(maxlen=50)  # the latest shadow-mode advice

    @property
    def horizon(self) -> float:
        return self.clock

    def apply(self, message: dict[str, Any]) -> bool:
        """Take one stream message; True when it changed what is drawn. A ``state`` message from
        another site is refused (the view would draw the wrong floors)."""
        kind = message.get("type")
        if kind == "alert":
            self.alerts.append(message)
            return True
        if kind == "recommendation":
            self.recommendations.append(message)
            return True
        if kind != "state":
            return False
        site = message.get("site")
        if site is not None and site != self.scenario.site.name:
            raise LiveError(f"the live twin runs site {site!r}, the scenario's site is "
                            f"{self.scenario.site.name!r}: give the scenario file the twin was started with")
        self.messages += 1
        self.version = int(message.get("version", self.version))
        if message.get("clock") is not None:
            self.clock = float(message["clock"])
        for sku in message.get("skus", []):
            key = (str(sku["item"]), str(sku["location"]))
            qty = float(sku["on_hand"])
            self.stock[key] = qty
            self.peak[key] = max(self.peak.get(key, 0.0), qty)
        for asset, status in message.get("assets", {}).items():
            self.assets[str(asset)] = STATUS.get(str(status), str(status))
        self.alarm_states = {str(k): str(v) for k, v in message.get("alarms", {}).items()}
        counts = message.get("counts", {})
        self.info = {"live": f"version {self.version}", "events": str(counts.get("accepted", "-")),
                     "pending": str(message.get("pending", 0)), "open orders": str(message.get("open_orders", 0)),
                     "open work orders": str(message.get("open_work_orders", 0))}
        self.history = [*self.history[-47:], float(sum(self.stock.values()))]
        return True

    # -- the same questions the view asks of a recorded Scene -------------------------------------

    def on_hand(self, item: str, loc: str, t: float = 0.0) -> tuple[float, float]:
        key = (item, loc)
        return self.stock.get(key, 0.0), self.peak.get(key, 0.0)

    def bin_fill(self, wh: str) -> np.ndarray:
        per_bin = self.bin_items[wh]
        out = np.full(len(per_bin), np.nan)
        for b, items in enumerate(per_bin):
            if items:
                fills = [min(q / p, 1.0) if p > 0 else 0.0 for q, p in (self.on_hand(i, wh) for i in items)]
                out[b] = sum(fills) / len(fills)
        return out

    def machines(self) -> dict[str, str]:
        return dict(self.assets)

    def alarms(self) -> dict[str, tuple[str, str]]:
        out = {sensor: (self.map.sensor_target.get(sensor, sensor), state)
               for sensor, state in self.alarm_states.items()}
        out.update({a: (a, "down") for a, s in self.assets.items() if s == "down"})
        for alert in list(self.alerts)[-MARKED:]:
            out[f"{alert.get('kind')} alert {alert.get('subject')}"] = (self.alert_target(alert), _what(alert))
        return out

    def alert_target(self, alert: dict[str, Any]) -> str:
        """Where an alert is: a stock count's warehouse (subject ``item@warehouse``), what a
        temperature sensor watches, else its subject (a purchase order: not on the map)."""
        subject = str(alert.get("subject", ""))
        if alert.get("kind") == "stock_count" and "@" in subject:
            return subject.rsplit("@", 1)[1]
        return self.map.sensor_target.get(subject, subject)

    def floor_alarms(self, wh: str) -> list[tuple[int, int, str]]:
        """The cells of floor ``wh`` the latest alerts are about: the bins of a miscounted item, the
        machine a temperature sensor watches."""
        model = self.floors[wh]
        out: list[tuple[int, int, str]] = []
        for alert in list(self.alerts)[-MARKED:]:
            subject = str(alert.get("subject", ""))
            label = f"{alert.get('kind')} {subject}: {_what(alert)}"
            if alert.get("kind") == "stock_count" and subject.endswith(f"@{wh}"):
                item = subject.rsplit("@", 1)[0]
                out.extend((r, c, label) for (r, c), items in zip(model.plan.bins, self.bin_items[wh], strict=True)
                           if item in items)
            else:
                cell = model.spec.machines.get(self.alert_target(alert))
                if cell is not None:
                    out.append((int(cell[0]), int(cell[1]), label))
        return out

    def panel(self) -> dict[str, str]:
        out = {"time": _clock(self.clock), **self.info}
        if self.alerts:
            out["alerts"] = str(len(self.alerts))
            for alert in list(self.alerts)[-LISTED:][::-1]:
                out[f"alert #{alert.get('index', '?')}"] = (f"{_clock(float(alert.get('t', 0.0)))} {alert.get('kind')} "
                                                          f"{alert.get('subject')} {_what(alert)}")
        for rec in list(self.recommendations)[-LISTED:][::-1]:
            out[f"advice #{rec.get('index', '?')}"] = f"{rec.get('policy')}: {_advice(rec)}"
        return out

    def floor(self, wh: str, t: float = 0.0) -> FloorSnapshot:
        plan = self.floors[wh].plan
        return FloorSnapshot(wh, self.clock, plan.kinds, plan.bins, self.bin_fill(wh), [], self.panel(),
                             self.machines(), list(self.history), alarms=self.floor_alarms(wh))

    def network(self, t: float = 0.0) -> NetworkSnapshot:
        sites = []
        for ident, (x, y) in self.map.positions.items():
            fills = [min(q / self.peak[k], 1.0) for k, q in self.stock.items() if k[1] == ident and self.peak[k] > 0]
            sites.append((ident, x, y, float(np.mean(fills)) if fills else math.nan))
        machines = self.machines()
        return NetworkSnapshot(self.clock, sites, self.map.roads, machines, self.panel(),
                               self.map.asset_marks(machines), [], map_alarms(self.map, self.alarms(), {}))


def _what(alert: dict[str, Any]) -> str:
    """An alert in a few words: what was reported against what the twin expected."""
    try:
        return f"{float(alert['reported']):g} vs {float(alert['expected']):g}"
    except (KeyError, TypeError, ValueError):
        return "alert"


def _advice(rec: dict[str, Any]) -> str:
    """A recommendation in a few words: the action and what it is about."""
    about = [str(rec[k]) for k in ("item", "asset", "technician", "location") if rec.get(k) is not None]
    qty = rec.get("qty")
    words = [str(rec.get("action", "")), *about, *([f"x{qty:g}"] if isinstance(qty, (int, float)) else [])]
    if rec.get("rejected"):
        words.append("(rejected)")
    return " ".join(words)


class LiveFeed:
    """The twin's stream in a background thread; ``poll`` hands what arrived to the scene."""

    def __init__(self, url: str, key: str | None = None, open_timeout: float = 10.0) -> None:
        self.url = stream_url(url, key)
        self.shown = stream_url(url, None)
        self.open_timeout = open_timeout
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.error: str | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="twin-live-feed", daemon=True)

    def start(self) -> LiveFeed:
        self._thread.start()
        if not self._ready.wait(self.open_timeout + 1.0):
            self.error = self.error or f"no answer from {self.shown} in {self.open_timeout:g} s"
        if self.error is not None:
            raise LiveError(self.error)
        return self

    def _listen(self) -> None:
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
        from websockets.sync.client import connect

        try:
            with connect(self.url, open_timeout=self.open_timeout, max_size=None) as ws:
                self._ready.set()
                while not self._stop.is_set():
                    try:
                        text = ws.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    self.inbox.put(json.loads(text))
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            if rcvd is not None and rcvd.code >= 4000:  # the twin's refusal: 4000 + HTTP status
                self.error = f"the live twin at {self.shown} refused the connection ({rcvd.code - 4000}: {rcvd.reason})"
            elif not self._stop.is_set():
                self.error = f"the live twin at {self.shown} closed the stream"
        except InvalidStatus as exc:
            code = exc.response.status_code
            if code in (401, 403):  # uvicorn answers a stream closed before it opened with 403
                self.error = (f"the live twin at {self.shown} refused the connection (HTTP {code}): "
                              "give --key with an API key of role viewer or above")
            else:
                self.error = f"{self.shown}: HTTP {code} (is it a LEMS Twin server with `--live`?)"
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.error = f"cannot reach the live twin at {self.shown}: {exc}"
        finally:
            self._ready.set()

    def poll(self, scene: LiveScene) -> int:
        """Apply every message that arrived; the number that changed the scene."""
        changed = 0
        while True:
            try:
                msg = self.inbox.get_nowait()
            except queue.Empty:
                return changed
            changed += bool(scene.apply(msg))

    def wait(self, scene: LiveScene, until: Any, timeout: float = 10.0) -> bool:
        """Poll until ``until(scene)`` holds (True) or the time is up (False)."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll(scene)
            if until(scene):
                return True
            if self.error is not None:
                raise LiveError(self.error)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=2.0)

    def __enter__(self) -> LiveFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_live_window(scene: LiveScene, feed: LiveFeed, size: tuple[int, int] = (1100, 700),
                    fps: int = 30) -> None:  # pragma: no cover - needs a display
    """The window over a live twin: the same controls as a recorded run (pause freezes the picture;
    seeking does nothing: the time is the twin's clock)."""
    from visual.app import ViewApp
    from visual.render import Renderer, pygame

    pygame.init()
    screen = pygame.display.set_mode(size)
    pygame.display.set_caption(f"LEMS Twin live: {scene.scenario.site.name}")
    app = ViewApp(scene, Renderer(size, screen))  # type: ignore[arg-type]
    clock = pygame.time.Clock()
    while app.running:
        for event in pygame.event.get():
            app.handle(event)
        if not app.paused:
            feed.poll(scene)
        if feed.error is not None:
            raise LiveError(feed.error)
        app.t = scene.clock
        clock.tick(fps)
        app.draw()
        pygame.display.flip()
    pygame.quit()
