"""Runs and comparisons started over HTTP: each in a worker thread (the event loop never waits),
recorded in the run registry, with progress and cancellation between replications."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import TwinError
from twin.store import RunRegistry, summary_to_dict

if TYPE_CHECKING:
    from api.settings import Settings
    from twin.model.scenario import Scenario

__all__ = ["JobManager", "Job", "Cancelled"]


class Cancelled(Exception):
    """Raised from the progress callback to stop a job between replications."""


@dataclass
class Job:
    id: str
    kind: str  # run | compare
    total: int
    done: int = 0
    status: str = "running"  # running | done | failed | cancelled
    error: str | None = None
    result: dict[str, Any] | None = None
    report: Path | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done, "total": self.total,
                "error": self.error, "has_report": self.report is not None}


class JobManager:
    def __init__(self, registry: RunRegistry, settings: Settings, max_jobs: int = 2) -> None:
        self.registry = registry
        self.settings = settings
        self.jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="twin-job")
        self._lock = threading.Lock()

    def _progress(self, job: Job) -> Any:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total
            if job.cancel.is_set():
                raise Cancelled()

        return progress

    def start_run(self, scenario: Scenario, path: Path | None, replications: int | None, seed: int | None,
                  horizon: float | None, note: str = "api") -> Job:
        from twin.experiment import simulate
        from twin.scenario import scenario_digest

        n = replications or scenario.replications
        record = self.registry.new_run("run", [scenario.name], [str(path) if path else None],
                                       [scenario_digest(scenario)],
                                       seed if seed is not None else scenario.seed, n, note=note)
        job = Job(record.id, "run", n)

        def work() -> None:
            result = simulate(scenario, replications=n, seed=seed, horizon=horizon, workers=self.settings.workers,
                              progress=self._progress(job), keep_events=False)
            job.result = result.to_json()
            self.registry.finish(job.id, summary_to_dict(result.summary))

        return self._submit(job, work)

    def start_compare(self, paths: list[Path], replications: int | None, seed: int | None) -> Job:
        from twin.comparison import compare
        from twin.report import render_comparison_html
        from twin.scenario import load_scenario, scenario_digest

        loaded = [load_scenario(p) for p in paths]
        n = replications or max(s.replications for s in loaded)
        record = self.registry.new_run("compare", [s.name for s in loaded], [str(p) for p in paths],
                                       [scenario_digest(s) for s in loaded],
                                       seed if seed is not None else loaded[0].seed, n, note="api")
        job = Job(record.id, "compare", n * len(loaded))

        def work() -> None:
            result = compare(loaded, replications=n, seed=seed, workers=self.settings.workers,
                             progress=self._progress(job))
            job.result = result.to_json()
            report = record.traces / "report.html"
            report.write_text(render_comparison_html(result), encoding="utf-8")
            job.report = report
            self.registry.finish(job.id, job.result["summary"])

        return self._submit(job, work)

    def _submit(self, job: Job, work: Any) -> Job:
        def run() -> None:
            try:
                work()
                job.status = "done"
            except Cancelled:
                job.status = "cancelled"
                self.registry.finish(job.id, {}, status="cancelled")
            except (TwinError, ValueError, OSError) as exc:
                job.status, job.error = "failed", str(exc)
                self.registry.finish(job.id, {}, status="failed", note=str(exc)[:500])

        with self._lock:
            self.jobs[job.id] = job
        self._pool.submit(run)
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def shutdown(self) -> None:
        for job in self.jobs.values():
            job.cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
