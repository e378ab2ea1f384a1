"""The live twin: ingest events, read the state, audit, trace a lot, fork a forecast, stream changes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import typing
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import Services, get_services, get_twin, key_of, require, role
from twin.errors import TwinError
from twin.event_store import EventStoreError
from twin.keys import ApiKey
from twin.live import LiveTwin, stored_event
from twin.live_alerts import AlertPlaces
from twin.live_schema import EventEnvelope
from twin.model.durations import parse_duration

router = APIRouter(prefix="/twin", tags=["live twin"])


Carried = Literal["purchase_orders", "backorders", "assets_down", "vehicles"]


class ForecastRequest(BaseModel):
    horizon: str = Field("72h", max_length=30, description="from now, with a unit")
    overlay: dict[str, Any] = Field(default_factory=dict, description="partial scenario laid over the site's")
    replications: int = Field(5, ge=1, le=50)
    carry: list[Carried] = Field(
        default_factory=lambda: list(typing.get_args(Carried)),
        description="what is under way that the forecast starts with (stock always)")


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


@router.get("/alerts", openapi_extra={"x-min-role": "viewer"})
def alerts(since: int = Query(0, ge=0, description="only alerts from this index on"),
           kind: str | None = Query(None, description="stock_count | temperature | arrival | overdue_po"),
           caller: ApiKey = Depends(require("viewer")),
           twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Discrepancy alerts: what the site reported (a count, a reading, an arrival) too far from what
    the twin expected (its book stock, the set point, the purchase order's due time), oldest first,
    each with the warehouse it is about (``location``). A key scoped to a warehouse sees only that
    warehouse's alerts (``count`` included)."""
    _scope(caller, twin, [])
    wh = caller.warehouse
    found = _alert_places(twin).visible(twin.alerts(since if wh is None else 0), wh)
    count = len(twin.state.alerts) if wh is None else len(found)
    found = [a for a in found if a["index"] >= since]
    if kind is not None:
        found = [a for a in found if a["kind"] == kind]
    return {"count": count, "thresholds": _thresholds(twin), "alerts": found[-1000:]}


def _alert_places(twin: LiveTwin) -> AlertPlaces:
    # The twin's discrepancy model knows every purchase order's warehouse; with alerts off, only
    # the past alerts are listed, and those about purchase orders are then the whole site's.
    return twin.discrepancies.places if twin.discrepancies is not None else AlertPlaces(twin.scenario)


def _thresholds(twin: LiveTwin) -> dict[str, Any] | None:
    return twin.config.alerts.model_dump() if twin.config.alerts is not None else None


@router.get("/recommendations", openapi_extra={"x-min-role": "viewer"})
def recommendations(since: int = Query(0, ge=0, description="only recommendations from this index on"),
                    caller: ApiKey = Depends(require("viewer")),
                    services: Services = Depends(get_services),
                    twin: LiveTwin = Depends(get_twin)) -> dict[str, Any]:
    """Shadow mode: what the site's policies recommend on the live state (never acted on), oldest
    first; 409 when the server runs without --shadow. A key scoped to a warehouse sees only the
    recommendations about that warehouse (``location``)."""
    _scope(caller, twin, [])
    shadow = services.shadow
    if shadow is None:
        raise HTTPException(409, "shadow mode is off: start the server with `twin serve --live SCENARIO --shadow`")
    return {"count": shadow.count, "reviews": shadow.reviews,
            "policies": [{"name": p.name, "domain": p.domain, "review_hours": p.review,
                          "next_review": p.next_review} for p in shadow.policies],
            "recommendations": shadow.latest(since, warehouse=caller.warehouse)}


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
    """Fork a simulation from the live state over ``horizon``, with an overlay (e.g. a supplier
    outage); poll GET /runs/{id}. It starts with the live stock, open purchase orders, backorders,
    machines down and vehicles under way with the consignments on board or waiting at a dock (see
    ``carry``; ``carried`` counts each, and the consignments with ``vehicles``)."""
    from twin.live_forecast import forecast_scenario

    try:
        horizon = parse_duration(body.horizon)
        if not 0 < horizon <= services.settings.max_forecast_hours:
            raise ValueError(f"must be positive and at most {services.settings.max_forecast_hours:g} h")
    except ValueError as exc:
        raise HTTPException(422, f"horizon: {exc}") from None
    try:
        _, scenario = twin.view(lambda state: forecast_scenario(twin.scenario, state, horizon, body.overlay,
                                                                body.replications, body.carry))
    except TwinError as exc:
        raise HTTPException(422, str(exc)) from None
    job = services.jobs.start_run(scenario, None, body.replications, None, horizon, note="forecast")
    opening = scenario.opening
    carried: dict[str, int] = {name: len(getattr(opening, name)) for name in body.carry} if opening else {}
    if opening is not None and "vehicles" in body.carry:
        carried["consignments"] = len(opening.consignments)
    return {**job.to_json(), "carried": carried}


@router.websocket("/stream")
async def stream(ws: WebSocket, key: str | None = None) -> None:
    """State changes, discrepancy alerts, shadow-mode recommendations and run progress as JSON
    messages (``type``: state, alert, recommendation, jobs). Authenticate with ?key= or X-API-Key."""
    services: Services = ws.app.state.services
    try:
        caller = key_of(services, key or ws.headers.get("x-api-key"), "viewer")
    except HTTPException as exc:
        await ws.close(code=4000 + exc.status_code, reason=str(exc.detail)[:120])
        return
    twin = services.twin()
    if twin is not None and caller.site is not None and caller.site != twin.scenario.site.name:
        await ws.close(code=4403, reason=f"the key is scoped to site {caller.site!r}"[:120])
        return
    await ws.accept()
    seen_version, seen_jobs = -1, None
    # Alerts and recommendations from the moment of connecting (the past ones: GET /twin/alerts).
    seen_alerts = len(twin.state.alerts) if twin is not None else 0
    seen_recs = services.shadow.count if services.shadow is not None else 0
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            if twin is not None and twin.version != seen_version:
                seen_version = twin.version
                snap = await run_in_threadpool(twin.snapshot, caller.warehouse)
                await ws.send_json({"type": "state", **snap})
            # A key scoped to a warehouse gets only that warehouse's alerts and recommendations.
            if twin is not None and len(twin.state.alerts) > seen_alerts:
                fresh = twin.alerts(seen_alerts)
                seen_alerts += len(fresh)
                for alert in _alert_places(twin).visible(fresh, caller.warehouse):
                    await ws.send_json({"type": "alert", **alert})
            if services.shadow is not None and services.shadow.count > seen_recs:
                upto = services.shadow.count
                for rec in services.shadow.latest(seen_recs, warehouse=caller.warehouse):
                    if rec["index"] < upto:
                        await ws.send_json({"type": "recommendation", **rec})
                seen_recs = upto
            jobs = [j.to_json() for j in list(services.jobs.jobs.values())]
            if jobs != seen_jobs:
                seen_jobs = jobs
                await ws.send_json({"type": "jobs", "jobs": jobs})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ws.receive_text(), timeout=0.2)
