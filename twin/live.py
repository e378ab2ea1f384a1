"""The live twin: the site's current state, built from its real events through the one reducer.

Events arrive over HTTP or MQTT as envelopes (twin.live_schema). ``LiveTwin.ingest`` takes a batch:

1. checks each event: envelope and payload fields, a known type, known items/locations/assets, a
   time not far ahead of the site clock and not older than what was already applied;
2. drops ids already stored (re-sent events are acknowledged again, stored once);
3. writes the accepted events to the hash-chained event store, durably, before returning (the
   caller acknowledges only after that);
4. applies them in time order: events are held back ``window`` hours of event time, so one that
   arrives a little late still goes in its place. Order is (t, the source's ``n``, arrival).

Rejected events go to the store's dead-letter table with the reason. An event that is stored but
does not fit the state when its turn comes (say a pick from a lot the twin never saw) is rolled back
completely (the state is rebuilt from the log without it) and dead-lettered too: never half-applied.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from twin.event_store import EventStore, EventStoreError, NewEvent, StoredEvent, canonical
from twin.live_alerts import AlertThresholds, DiscrepancyModel
from twin.live_schema import EventEnvelope, FieldProblem, problems_of, to_event, typed_event, validate_batch
from twin.model.scenario import Scenario
from twin.model.state import State, apply
from twin.sim.layout import compile_layout

__all__ = ["LiveConfig", "LiveTwin", "IngestResult", "Rejection", "replay_state", "state_snapshot",
           "stored_event"]


@dataclass(frozen=True)
class LiveConfig:
    """``window``: hours of event time an event is held back so late ones can go before it.
    ``max_ahead``: hours an event may be stamped ahead of the site clock (None: no check).
    ``alerts``: thresholds of the discrepancy alerts (twin.live_alerts; None: no alerts)."""

    window: float = 0.25
    max_ahead: float | None = 1.0
    alerts: AlertThresholds | None = AlertThresholds()


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the batch
    id: str | None
    field: str
    message: str
    kind: str  # malformed | unknown_type | unknown_reference | future | late

    def __str__(self) -> str:
        return f"event {self.index}" + (f" ({self.id})" if self.id else "") + f": {self.field}: {self.message}"


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"accepted": len(self.accepted), "duplicates": len(self.duplicates),
                "rejected": [r.__dict__ for r in self.rejected]}


_T = TypeVar("_T")
_Typed = tuple[Any, list[FieldProblem]]  # a typed event, or the problems that stop it
_REF_FIELDS = ("item", "asset", "sensor", "technician")


def stored_event(se: StoredEvent) -> Any:
    """The typed event of a stored row (its payload was validated when it was stored)."""
    env = EventEnvelope(id=se.id, t=se.t, source=se.source, type=se.type, n=se.n, payload=se.payload)
    event, problems = to_event(env, se.t)
    if problems:  # only if the event contract changed under a stored log
        raise ValueError(f"stored event {se.id}: " + "; ".join(map(str, problems)))
    return event


class LiveTwin:
    """State of one live site. Thread-safe: ingest and reads take one lock."""

    def __init__(self, scenario: Scenario, store: EventStore, config: LiveConfig | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.scenario = scenario
        self.store = store
        self.config = config or LiveConfig()
        self._clock = clock or (lambda: datetime.now(UTC))
        layout = compile_layout(scenario)
        self._skus = list(layout.skus)
        self._sku_set = frozenset(self._skus)
        site = scenario.site
        self._known: dict[str, set[str]] = {
            "item": {it.id for it in site.items},
            "location": {wh.id for wh in site.warehouses},
            "asset": {a.id for a in site.assets},
            "sensor": {s.id for s in site.sensors},
            "technician": {t.id for t in site.technicians},
        }
        self._lock = threading.RLock()
        self.counts: dict[str, int] = {"accepted": 0, "duplicates": 0, "applied": 0}
        thresholds = self.config.alerts
        self.discrepancies = DiscrepancyModel(scenario, thresholds) if thresholds is not None else None
        self.version = 0
        self._snapshot: tuple[int, str | None, dict[str, Any]] | None = None
        self._load()

    # -- start-up: rebuild from the store ------------------------------------------------------

    def _load(self) -> None:
        failed = self.store.failed_ids()
        stored = [(se.t, se.n, se.seq, se.id, stored_event(se)) for se in self.store.events() if se.id not in failed]
        stored.sort(key=lambda r: r[:3])
        self._max_t = max((r[0] for r in stored), default=float("-inf"))
        mark = self._max_t - self.config.window
        ready = [r for r in stored if r[0] <= mark]
        self._pending: list[tuple[float, int, int, str, Any]] = [r for r in stored if r[0] > mark]
        heapq.heapify(self._pending)
        # What was applied, in order: (t, n, seq, id) of each event. Tuples of plain values, which
        # the garbage collector stops tracking; the typed events themselves (tracked for good) would
        # make every full collection walk the whole log, a pause of a tenth of a second or more per
        # 50,000 events. A roll-back reads them back from the store. (An entry may carry the event
        # as a fifth value: the alerts the twin raises itself keep theirs.)
        self._applied: list[tuple[Any, ...]] = []
        self.state = State.empty(self._skus)
        self._last: tuple[float, int] = (float("-inf"), -1)
        self._apply_in_order(ready)

    # -- checks --------------------------------------------------------------------------------

    def site_clock(self) -> float:
        """Hours since the store's epoch, by the wall clock."""
        return (self._clock() - self.store.epoch).total_seconds() / 3600.0

    def _time_of(self, env: EventEnvelope) -> tuple[float | None, list[FieldProblem]]:
        if env.t is not None and env.timestamp is not None:
            return None, [FieldProblem("t", "give t (hours) or timestamp, not both")]
        if env.t is not None:
            return env.t, []
        if env.timestamp is not None:
            if env.timestamp.tzinfo is None:
                return None, [FieldProblem("timestamp", "needs a time zone, e.g. 2025-01-01T08:00:00Z")]
            return (env.timestamp - self.store.epoch).total_seconds() / 3600.0, []
        return None, [FieldProblem("t", "missing: give t (hours since the epoch) or timestamp")]

    def _references(self, event: Any) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        names = event._fields
        loc = getattr(event, "location", None)
        if "location" in names and loc not in self._known["location"] and event.__class__.__name__ not in (
                "RepairRequested", "OperationStarted", "OperationCompleted"):
            problems.append(FieldProblem("payload.location", f"unknown location {loc!r}"))
        for name in _REF_FIELDS:
            if name in names:
                value = getattr(event, name)
                if value not in self._known[name]:
                    problems.append(FieldProblem(f"payload.{name}", f"unknown {name} {value!r}"))
                elif name == "item" and loc in self._known["location"] and (value, loc) not in self._sku_set:
                    problems.append(FieldProblem("payload.item", f"item {value!r} is not stocked at {loc!r}"))
        for name in ("lines", "picks", "backordered", "lost"):
            value = getattr(event, name, ()) if name in names else ()
            # Only (item, ...) lines name items (a count of lines, say, does not).
            for k, line in enumerate(value if isinstance(value, tuple) else ()):
                if not (isinstance(line, tuple) and line and isinstance(line[0], str)):
                    continue
                item = line[0]
                if loc in self._known["location"] and (item, loc) not in self._sku_set:
                    what = "unknown item" if item not in self._known["item"] else "item not stocked at " + repr(loc)
                    problems.append(FieldProblem(f"payload.{name}[{k}][0]", f"{what}: {item!r}"))
        return problems

    def check(self, raw: Any) -> tuple[EventEnvelope | None, Any, list[FieldProblem], str]:
        """Validate one event (a dict or an envelope): (envelope, typed event, problems, kind)."""
        if isinstance(raw, EventEnvelope):
            env = raw
        else:
            if not isinstance(raw, dict):
                return None, None, [FieldProblem("event", f"must be a JSON object, got {type(raw).__name__}")], \
                    "malformed"
            try:
                env = EventEnvelope.model_validate(raw)
            except ValidationError as exc:
                return None, None, problems_of(exc), "malformed"
        return self._check_envelope(env, to_event)

    def _check_envelope(self, env: EventEnvelope, typed: Callable[[EventEnvelope, float], _Typed],
                        now: float | None = None) -> tuple[EventEnvelope | None, Any, list[FieldProblem], str]:
        """The checks after the envelope's own: time, payload (``typed`` makes the typed event),
        references, not too far ahead of the site clock (``now``, or read from the clock)."""
        t, problems = self._time_of(env)
        if t is None:
            return env, None, problems, "malformed"
        event, problems = typed(env, t)
        if problems:
            return env, None, problems, "unknown_type" if problems[0].field == "type" else "malformed"
        problems = self._references(event)
        if problems:
            return env, None, problems, "unknown_reference"
        if self.config.max_ahead is not None:
            now = self.site_clock() if now is None else now
            if t > now + self.config.max_ahead:
                since = f"{self.store.epoch:%Y-%m-%d %H:%M}"
                message = f"{t:g} h is more than {self.config.max_ahead:g} h ahead of the site clock " \
                          f"({now:.3f} h since {since})"
                return env, None, [FieldProblem("t", message)], "future"
        return env, event, [], ""

    def check_batch(self, raws: Sequence[Any]) -> list[tuple[EventEnvelope | None, Any, list[FieldProblem], str]]:
        """``check`` of every event of a batch. Envelopes and payloads are validated in one pass over
        the batch; an event with a problem there is checked on its own, so it is reported exactly as
        ``check`` reports it. The site clock is read once for the batch."""
        now = self.site_clock() if self.config.max_ahead is not None else None
        return [self.check(raw) if env is None else self._check_envelope(env, typed_event, now)
                for raw, env in zip(raws, validate_batch(raws), strict=True)]

    # -- ingest --------------------------------------------------------------------------------

    def ingest(self, raws: Sequence[Any], source: str = "http", atomic: bool = True) -> IngestResult:
        """Check, de-duplicate, store (durably) and apply a batch. With ``atomic`` a batch with any
        bad event stores nothing (HTTP: the client gets every problem); otherwise the good events
        are stored and the bad ones dead-lettered (MQTT: nobody to answer)."""
        result = IngestResult()
        checked = self.check_batch(raws)
        with self._lock:
            fresh: list[tuple[EventEnvelope, Any]] = []
            seen: set[str] = set()
            for k, (env, event, problems, kind) in enumerate(checked):
                ident = env.id if env is not None else (raws[k].get("id") if isinstance(raws[k], dict) else None)
                if not problems and env is not None and (env.id in seen or self.store.known(env.id)):
                    result.duplicates.append(env.id)
                    continue
                if not problems and (event.t, env.n) < self._last:  # type: ignore[union-attr]
                    message = (f"{event.t:g} h is older than the out-of-order window: "
                               f"the twin has applied events up to {self._last[0]:g} h")
                    problems, kind = [FieldProblem("t", message)], "late"
                if problems:
                    for p in problems:
                        result.rejected.append(Rejection(k, str(ident) if ident is not None else None,
                                                         p.field, p.message, kind))
                    continue
                assert env is not None
                seen.add(env.id)
                fresh.append((env, event))
            letters = [(source, r.id, "ingest", f"{r.kind}: {r.field}: {r.message}", _raw(raws[r.index]))
                       for r in result.rejected]
            if result.rejected and atomic:
                self.store.dead_letter(letters)
                result.duplicates.clear()
                return result
            news = [NewEvent(env.id, event.t, env.n, env.source if env.source != "unknown" else source, env.type,
                             _payload(event)) for env, event in fresh]
            seqs = self.store.append(news)  # durable before anything is acknowledged
            self.store.dead_letter(letters)
            for (env, event), seq in zip(fresh, seqs, strict=True):
                heapq.heappush(self._pending, (event.t, env.n, seq, env.id, event))
                self._max_t = max(self._max_t, event.t)
                result.accepted.append(env.id)
            self.counts["accepted"] += len(fresh)
            self.counts["duplicates"] += len(result.duplicates)
            self._release(self._max_t - self.config.window)
            if fresh:
                self.version += 1
        return result

    def flush(self) -> int:
        """Apply every held-back event now (e.g. when a source is known to be quiet); returns how many."""
        with self._lock:
            n = len(self._pending)
            self._release(float("inf"))
            if n:
                self.version += 1
            return n

    def _release(self, mark: float) -> None:
        ready = []
        while self._pending and self._pending[0][0] <= mark:
            ready.append(heapq.heappop(self._pending))
        self._apply_in_order(ready)

    def _apply_in_order(self, ready: Iterable[tuple[float, int, int, str, Any]]) -> None:
        watch = self.discrepancies
        for entry in ready:
            t, n, _, ident, event = entry
            found = watch.before(self.state, event, ident) if watch is not None else None
            try:
                apply(self.state, event)
            except Exception as exc:  # noqa: BLE001 - any reducer failure must roll back, not crash
                self.store.dead_letter([("twin", ident, "apply", f"{type(exc).__name__}: {exc}",
                                         json.dumps({"type": type(event).__name__, "t": t}))])
                self._rebuild()
                continue
            self._applied.append(entry[:4])
            self._last = (t, n)
            self.counts["applied"] += 1
            if watch is not None:
                found = (found or []) + watch.after(self.state, event, ident)
                if found:
                    self._raise(t, n, found)

    def _raise(self, t: float, n: int, found: list[tuple[str, Any]]) -> None:
        """Store and apply discrepancy alerts right after the event that showed them (same t and n,
        a later seq: a replay puts them in the same place). An alert already stored (found again while
        a restart replays the store) comes in from the store in its turn instead."""
        news = [(ident, alert) for ident, alert in found if not self.store.known(ident)]
        if not news:
            return
        try:
            seqs = self.store.append([NewEvent(ident, t, n, "twin", type(alert).__name__, _payload(alert))
                                      for ident, alert in news])
        except EventStoreError:
            # Not stored, so not applied either (the state must stay what a replay of the store
            # gives); the next start replays the cause through the same checks and raises it then.
            return
        for (ident, alert), seq in zip(news, seqs, strict=True):
            apply(self.state, alert)
            self._applied.append((t, n, seq, ident, alert))

    def _rebuild(self) -> None:
        """The state from the applied events alone (after a failed apply left it half changed)."""
        self.state = State.empty(self._skus)
        for event in self._applied_typed():
            apply(self.state, event)

    def _applied_typed(self) -> list[Any]:
        """The applied events, typed, in the order they were applied (read back from the store)."""
        stored = self.store.events_at({entry[2] for entry in self._applied if len(entry) < 5})
        return [entry[4] if len(entry) > 4 else stored_event(stored[entry[2]]) for entry in self._applied]

    # -- reads ---------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._pending)

    def view(self, read: Callable[[State], _T]) -> tuple[int, _T]:
        """``read(state)`` while no batch is being applied, and the state version it saw."""
        with self._lock:
            return self.version, read(self.state)

    def alerts(self, since: int = 0) -> list[dict[str, Any]]:
        """The discrepancy alerts raised so far (from the ``since``-th on), oldest first."""
        with self._lock:
            return [{"index": since + k, "t": a.t, **_payload(a)} for k, a in enumerate(self.state.alerts[since:])]

    def applied_events(self) -> list[Any]:
        with self._lock:
            return self._applied_typed()

    def snapshot(self, location: str | None = None) -> dict[str, Any]:
        """The state as JSON-ready data (cached per version; ``location`` limits it to one warehouse).

        While a batch is being applied the last snapshot is returned (its ``version`` says which)
        rather than waiting for the batch: state queries stay fast under ingest load."""
        cached = self._snapshot
        if cached is not None and cached[1] == location:
            if not self._lock.acquire(timeout=0.002):
                return cached[2]
        else:
            self._lock.acquire()
        try:
            cached = self._snapshot
            if cached is not None and cached[0] == self.version and cached[1] == location:
                return cached[2]
            doc = state_snapshot(self.state, location)
            doc.update(version=self.version, pending=len(self._pending), counts=dict(self.counts),
                       site=self.scenario.site.name, store={"events": self.store.count, "head": self.store.head})
            self._snapshot = (self.version, location, doc)
            return doc
        finally:
            self._lock.release()


def _payload(event: Any) -> dict[str, Any]:
    return {k: v for k, v in zip(event._fields, event, strict=True) if k != "t"}


def _raw(raw: Any) -> str:
    if isinstance(raw, EventEnvelope):
        return raw.model_dump_json()
    try:
        return canonical(raw)
    except (TypeError, ValueError):
        return repr(raw)


def state_snapshot(state: State, location: str | None = None) -> dict[str, Any]:
    skus = [{"item": s.item, "location": s.location, "on_hand": s.on_hand, "available": s.available,
             "reserved": s.reserved, "held": s.held, "backorder": s.backorder, "on_order": s.on_order,
             "in_transit": s.in_transit, "lots": len(s.lots) + len(s.held_lots)}
            for s in state.skus.values() if location is None or s.location == location]
    m = state.maintenance
    return {
        "clock": state.clock if state.clock != float("-inf") else None,
        "skus": skus,
        "open_orders": len(state.orders),
        "open_purchase_orders": len(state.purchase_orders),
        "assets": {a.id: a.status for a in m.assets.values()},
        "alarms": dict(m.alarms),
        "open_work_orders": len(m.work_orders),
        "alerts": len(state.alerts),
    }


def replay_state(scenario: Scenario, store: EventStore) -> State:
    """The state a fresh replay of the stored log gives (every stored event that was not rolled
    back, in (t, n, seq) order): what the live state must equal once nothing is held back."""
    failed = store.failed_ids()
    rows = sorted((se for se in store.events() if se.id not in failed), key=lambda se: (se.t, se.n, se.seq))
    state = State.empty(compile_layout(scenario).skus)
    for se in rows:
        apply(state, stored_event(se))
    return state
