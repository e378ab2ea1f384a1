"""Runs and comparisons: start (in a worker thread), progress, cancel, results, the HTML report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.deps import Services, get_services, role
from api.jobs import Job
from api.routers.scenarios import scenario_path
from twin.errors import TwinError
from twin.model.durations import parse_duration
from twin.store import RegistryError

router = APIRouter(tags=["runs"])


class RunRequest(BaseModel):
    scenario: str = Field(description="an uploaded scenario's name")
    replications: int | None = Field(None, ge=1, le=1000)
    seed: int | None = Field(None, ge=0)
    horizon: str | None = Field(None, description="with a unit, e.g. 90d", max_length=30)


class CompareRequest(BaseModel):
    scenarios: list[str] = Field(min_length=2, max_length=10)
    replications: int | None = Field(None, ge=1, le=1000)
    seed: int | None = Field(None, ge=0)


def _job(services: Services, job_id: str, kind: str) -> Job:
    job = services.jobs.get(job_id)
    if job is None or job.kind != kind:
        raise HTTPException(404, f"no {kind} {job_id!r} started by this server")
    return job


@router.post("/runs", status_code=202, **role("planner"))
def start_run(body: RunRequest, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Start a run; poll GET /runs/{id} for progress."""
    from twin.scenario import load_scenario

    path = scenario_path(services, body.scenario)
    try:
        horizon = parse_duration(body.horizon) if body.horizon is not None else None
    except ValueError as exc:
        raise HTTPException(422, f"horizon: {exc}") from None
    try:
        job = services.jobs.start_run(load_scenario(path), path, body.replications, body.seed, horizon)
    except TwinError as exc:
        raise HTTPException(422, str(exc)) from None
    return job.to_json()


@router.get("/runs", **role("viewer"))
def list_runs(services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Recorded runs, comparisons and sweeps (the run registry), newest first."""
    try:
        records = services.registry.list(100)
    except RegistryError as exc:
        raise HTTPException(503, str(exc)) from None
    return [{"id": r.id, "kind": r.kind, "created": r.created, "names": r.names, "status": r.status,
             "replications": r.replications, "seed": r.seed} for r in records]


@router.get("/runs/{run_id}", **role("viewer"))
def run_status(run_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    return _job(services, run_id, "run").to_json()


@router.post("/runs/{run_id}/cancel", **role("planner"))
def cancel_run(run_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Stop a run after the replication in progress."""
    job = _job(services, run_id, "run")
    job.cancel.set()
    return job.to_json()


def _results(job: Job) -> dict[str, Any]:
    if job.status != "done" or job.result is None:
        raise HTTPException(409, f"{job.kind} {job.id} is {job.status}, not done" +
                            (f": {job.error}" if job.error else ""))
    return job.result


@router.get("/runs/{run_id}/results", **role("viewer"))
def run_results(run_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    return _results(_job(services, run_id, "run"))


@router.post("/comparisons", status_code=202, **role("planner"))
def start_comparison(body: CompareRequest, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Start a paired comparison (common random numbers) of uploaded scenarios."""
    paths = [scenario_path(services, name) for name in body.scenarios]
    try:
        job = services.jobs.start_compare(paths, body.replications, body.seed)
    except TwinError as exc:
        raise HTTPException(422, str(exc)) from None
    return job.to_json()


@router.get("/comparisons/{cmp_id}", **role("viewer"))
def comparison_status(cmp_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    return _job(services, cmp_id, "compare").to_json()


@router.post("/comparisons/{cmp_id}/cancel", **role("planner"))
def cancel_comparison(cmp_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    job = _job(services, cmp_id, "compare")
    job.cancel.set()
    return job.to_json()


@router.get("/comparisons/{cmp_id}/results", **role("viewer"))
def comparison_results(cmp_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    return _results(_job(services, cmp_id, "compare"))


@router.get("/comparisons/{cmp_id}/report", response_class=HTMLResponse, **role("viewer"))
def comparison_report(cmp_id: str, services: Services = Depends(get_services)) -> HTMLResponse:
    """The self-contained HTML report (KPI table with CIs, paired differences, plots)."""
    job = _job(services, cmp_id, "compare")
    _results(job)
    if job.report is None or not job.report.is_file():
        raise HTTPException(404, f"comparison {cmp_id} has no report")
    return HTMLResponse(job.report.read_text(encoding="utf-8"))
