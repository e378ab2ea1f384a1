"""Repair requests from people (app, phone, web): Poisson arrivals that join the work-order flow
and close with a satisfaction rating, which falls as the response misses its priority's target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.model import events as E

if TYPE_CHECKING:
    from twin.sim.maintenance import Job, MaintenanceModel

__all__ = ["RepairRequestProcess", "rating_for"]


def rating_for(response: float, target: float) -> int:
    """5 within the target, then one star less at 1.5x, 2x and 3x the target."""
    ratio = response / target if target > 0 else float("inf")
    for limit, stars in ((1.0, 5), (1.5, 4), (2.0, 3), (3.0, 2)):
        if ratio <= limit:
            return stars
    return 1


class RepairRequestProcess:
    def __init__(self, model: MaintenanceModel) -> None:
        self.model = model
        self.spec = model.engine.scenario.site.repair_requests
        self.gen = model.engine.streams.get("requests")
        self.rating_gen = model.engine.streams.get("requests", "rating")
        self.work_gen = model.engine.streams.get("requests", "duration")

    def start(self) -> None:
        self.model.env.process(self._arrivals())

    def _arrivals(self) -> Any:
        spec = self.spec
        assert spec is not None
        env = self.model.env
        gen = self.gen
        channels = list(spec.channels)
        c_p = [spec.channels[c] for c in channels]
        prios = list(spec.priorities)
        p_p = [spec.priorities[p] for p in prios]
        c_sum, p_sum = sum(c_p), sum(p_p)
        assets = spec.assets or list(self.model.assets)
        while True:
            yield env.timeout(float(gen.exponential(24.0 / spec.per_day)))
            channel = channels[int(gen.choice(len(channels), p=[x / c_sum for x in c_p]))]
            priority = int(prios[int(gen.choice(len(prios), p=[x / p_sum for x in p_p]))])
            asset = assets[int(gen.integers(len(assets)))] if assets else ""
            run = self.model.assets.get(asset)
            location = (run.spec.location or asset) if run is not None else ""
            wo = self.model.next_wo()
            self.model.engine.emit(E.RepairRequested(env.now, wo, asset, location, channel, priority))
            job = self.model.create(asset, "request", priority, spec.skill, channel, spec.duration, {}, None,
                                    0.0, 0.0, self.work_gen, wo=wo)
            job.extra["on_done"] = self._rate

    def _rate(self, job: Job) -> None:
        spec = self.spec
        assert spec is not None
        now = self.model.env.now
        stars = rating_for(now - job.created, spec.target.get(job.priority, 24.0))
        # People differ: a fifth of them rate one star either way.
        if self.rating_gen.random() < 0.2:
            stars += 1 if self.rating_gen.random() < 0.5 else -1
        self.model.engine.emit(E.RequestRated(now, job.wo, min(max(stars, 1), 5)))
