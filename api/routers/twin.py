"""The live twin: ingest events, read the state, audit, trace a lot, fork a forecast, stream changes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import Services, get_services, get_twin, key_of, require, role
from twin.errors import TwinError
from twin.event_store import EventStoreError
from twin.keys import ApiKey
from twin.live import LiveTwin, stored_event
from twin.live_schema import EventEnvelope
from twin.model.durations import parse_duration

router = APIRouter(prefix="/twin", tags=["live twin"])


class ForecastRequest(BaseModel):
    horizon: str = Field("72h", max_length=30, description="from now, with a unit")
    overlay: dict[str, Any] = Field(default_factory=dict, description="partial scenario laid over the site's")
    replications: int = Field(5, ge=1, le=50)


def _scope(caller: ApiKey, twin: LiveTwin, events: list[Any]) -> None:
    if caller.site is not None and caller.site != twin.scenario.site.name:
        raise HTTPException(403, f"the key is scoped to site {caller.site!r}; this twin is {twin.scenario.site.name!r}")
    wh = caller.warehouse
    if wh is None:
        return
    for k, e in enumerate(events):
        payload = e.get("payload") if isinstance(e, dict) else None
        loc = payload.get("location") if isinstance(payload, dict) else None
        if loc != wh:
            raise HTTPException(403, f"event {k}: payload.location {loc!r} is outside the key's "
                                     f"scope {caller.scope!r}")


_ENVELOPE = EventEnvelope.model_json_schema()
_EVENTS_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "anyOf": [_ENVELOPE, {"type": "array", "items": _ENVELOPE}]}}}}}


@router.post("/events", openapi_extra={"x-min-role": "operator", **_EVENTS_BODY})
async def post_events(
    request: Request,
    caller: ApiKey = Depends(require("operator")),
    services: Services = Depends(get_services),
    twin: LiveTwin = Depends(get_twin),
) -> dict[str, Any]:
    """Ingest one event or a batch (the body: an envelope or a list of them). A batch is all or
    nothing: any bad event gives 422 naming it and its field, and nothing is stored. 200 means every
    event is on disk (re-sent ids count as duplicates). Parsing and storing run in a worker thread."""
    body = await request.body()
    return await run_in_threadpool(_ingest, body, caller, services, twin)


def _ingest(body: bytes, caller: ApiKey, services: Services, twin: LiveTwin) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, [{"index": None, "id": None, "field": "body", "message": f"not JSON: {exc}",
                                   "kind": "malformed"}]) from None
    raws = doc if isinstance(doc, list) else [doc]
    if len(raws) > services.settings.max_batch:
        raise HTTPException(413, f"batch of {len(raws)} events: send at most {services.settings.max_batch}")
    _scope(caller, twin, raws)
    try:
        result = twin.ingest(raws, source="http", atomic=True)
    except EventStoreError as exc:
        raise HTTPException(503, f"not stored: {exc}") from None
    if result.rejected:
        raise HTTPException(422, [{"index": r.index, "id": r.id, "field": r.field, "message": r.message,
                                   "kind": r.kind} for r in result.rejected])
    return {**result.to_json(), "pending": twin.pending, "clock": twin.state.clock}


@router.get("/state", openapi_extra={"x-min-role": "viewer"})
async def get_state(caller: ApiKey = Depends(require("viewer")), twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """The live state (a key scoped to a warehouse sees only that warehouse). Never waits for a batch
    being applied: it then answers with the snapshot before it (see ``version``)."""
    return twin.snapshot(caller.warehouse)


@router.post("/flush", **role("operator"))
def flush(twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Apply the events held back for late arrivals now."""
    return {"applied": twin.flush()}


@router.get("/dead-letters", **role("operator"))
def dead_letters(twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Rejected input: counts by stage and the latest 100 entries with their reasons."""
    return {"counts": twin.store.dead_letter_count(),
            "latest": [d.__dict__ for d in twin.store.dead_letters(100)]}


@router.get("/audit", **role("admin"))
def audit(twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Verify the hash chain of the event store."""
    report = twin.store.verify()
    return {"ok": report.ok, "events": report.events, "head": report.head, "problems": report.problems}


@router.get("/trace/{lot}", **role("viewer"))
def trace(lot: int, item: str | None = None, twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Where a lot came from and where it went."""
    from twin.lot_trace import trace_lot

    result = trace_lot(((se.id, stored_event(se)) for se in twin.store.events()), lot, item)
    if not result.found:
        raise HTTPException(404, f"no event names lot {lot}" + (f" of item {item!r}" if item else ""))
    return result.to_json()


@router.post("/forecast", status_code=202, **role("planner"))
def forecast(body: ForecastRequest, services: Services = Depends(get_services),
             twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Fork a simulation from the live state (stock now) over ``horizon``, with an overlay (e.g. a
    supplier outage); poll GET /runs/{id}. Open orders and machine states are not carried over yet."""
    from twin.live_forecast import forecast_scenario

    try:
        horizon = parse_duration(body.horizon)
        if not 0 < horizon <= services.settings.max_forecast_hours:
            raise ValueError(f"must be positive and at most {services.settings.max_forecast_hours:g} h")
    except ValueError as exc:
        raise HTTPException(422, f"horizon: {exc}") from None
    with twin._lock:
        try:
            scenario = forecast_scenario(twin.scenario, twin.state, horizon, body.overlay, body.replications)
        except TwinError as exc:
            raise HTTPException(422, str(exc)) from None
    job = services.jobs.start_run(scenario, None, body.replications, None, horizon, note="forecast")
    return job.to_json()


@router.websocket("/stream")
async def stream(ws: WebSocket, key: str | None = None) -> None:
    """State changes and run progress as JSON messages. Authenticate with ?key= or X-API-Key."""
    services: Services = ws.app.state.services
    try:
        caller = key_of(services, key or ws.headers.get("x-api-key"), "viewer")
    except HTTPException as exc:
        await ws.close(code=4000 + exc.status_code, reason=str(exc.detail)[:120])
        return
    await ws.accept()
    twin = services.twin()
    seen_version, seen_jobs = -1, None
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if twin is not None and twin.version != seen_version:
                seen_version = twin.version
                snap = await run_in_threadpool(twin.snapshot, caller.warehouse)
                await ws.send_json({"type": "state", **snap})
            jobs = [j.to_json() for j in list(services.jobs.jobs.values())]
            if jobs != seen_jobs:
                seen_jobs = jobs
                await ws.send_json({"type": "jobs", "jobs": jobs})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ws.receive_text(), timeout=0.2)
