"""Maintenance: asset failures, planned downtime, work orders, technicians and spare parts.

An asset ages only while it runs (in service, idle time included). A production machine whose
failure law is declared on usage (``failure: {basis: usage}``) ages only while it processes: the
production model tells it when a run begins (after the set-up) and ends. A production machine's
usage counter (what usage-based preventive maintenance reads) is its run hours x
``usage_per_hour``; any other asset's is its operating hours x ``usage_per_hour``. At each renewal
(the start, a repair, a service) its life is drawn from its failure law conditional on its virtual
age, which a repair or service resets fully or partly (``reset``: 1 = as good as new); the failure
is then one scheduled callback, cancelled by a version number when the asset stops (or a metered
machine's run ends) first. A failure opens a corrective work order; the maintenance
policy opens planned ones. Work orders wait in one backlog; whenever one waits and a technician on
shift is free, the policy's dispatch rule assigns them. A job is a SimPy process: travel, wait for
the spare parts (an order on the parts store, so the same inventory policy replenishes spares), work.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import simpy

from policies.base import load_policy
from policies.maintenance import Reactive
from twin.errors import TwinError
from twin.model import events as E
from twin.model.assets import Asset, DurationLaw, Technician
from twin.model.maintenance import (
    AssignTechnician,
    DispatchObservation,
    MaintenanceObservation,
    ScheduleMaintenance,
    TechnicianView,
    WorkOrderView,
    asset_view,
)
from twin.sim.laws import WEEK, draw_duration, draw_life, shift_windows

if TYPE_CHECKING:
    from twin.sim.engine import Engine

__all__ = ["MaintenanceModel", "AssetRun", "Job"]

PLANNED = ("preventive", "condition", "predictive")


class AssetRun:
    """One asset's running state inside the simulation (the hidden life included)."""

    def __init__(self, spec: Asset, engine: Engine) -> None:
        self.spec = spec
        self.id = spec.id
        self.fail_gen = engine.streams.get("failure", spec.id)
        self.repair_gen = engine.streams.get("repair", spec.id)
        self.status = "running"  # running | failed | stopped
        self.stop_reason = ""
        self.since = engine.start  # the start of the run (a fork's: its site time)
        self.age = 0.0  # virtual age at ``clock``
        self.clock = engine.start  # the asset ages from here on while ``pace`` is 1 (a run may begin later)
        self.life = draw_life(spec.failure, 0.0, self.fail_gen)
        self.version = 0  # bumps when a scheduled failure no longer holds
        self.listeners: list[Any] = []  # sensors that follow this asset's condition
        self.metered = False  # a production machine with a failure law on usage: ages only in use
        self.in_use = False  # a metered machine is processing (set by the production model)

    def pace(self) -> float:
        """Hours of virtual age per hour from ``clock``: 1 while running (and in use, if metered)."""
        return 1.0 if self.status == "running" and (self.in_use or not self.metered) else 0.0

    def age_at(self, t: float) -> float:
        return self.age + max(0.0, t - self.clock) * self.pace()


@dataclass(eq=False)
class Job:
    wo: int
    asset: str
    kind: str
    priority: int
    skill: str
    created: float
    duration: DurationLaw
    parts: dict[str, float]
    store: str | None
    reset: float
    fixed_cost: float
    view: WorkOrderView
    gen: Any
    cancelled: bool = False
    technician: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Tech:
    def __init__(self, spec: Technician) -> None:
        self.spec = spec
        self.id = spec.id
        self.skills = frozenset(spec.skills)
        self.position = spec.home
        self.windows = shift_windows(spec.shifts)
        self.on_shift = self.windows is None
        self.busy = False


class MaintenanceModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.env = engine.env
        site = engine.scenario.site
        self.assets = {a.id: AssetRun(a, engine) for a in site.assets}
        self.techs = {t.id: Tech(t) for t in site.technicians}
        ref = engine.scenario.policies.maintenance
        try:
            self.policy = (load_policy(ref.use, ref.params, ref.every) if ref is not None
                           else Reactive(Reactive.Params()))
        except ValueError as exc:
            raise TwinError(str(exc)) from None
        self.policy_name = getattr(self.policy, "policy_name", type(self.policy).__name__)
        self.subscribes = frozenset(getattr(self.policy, "subscribes", ()))
        self.backlog: list[Job] = []  # waiting for a technician, in creation order
        self.jobs: dict[int, Job] = {}  # open
        self._wo = itertools.count()
        self.rng = engine.streams.get("policy", "maintenance")
        self.unit_cost = {it.id: it.unit_cost for it in site.items}
        self.default_store = site.warehouses[0].id
        self._parts_wait: dict[int, simpy.Event] = {}  # parts order -> event
        # Machines on a warehouse floor (issue 8, twin.sim.floor_moves): asset -> the walk there,
        # f(now, technician, work order) -> hours, added to the technician's travel.
        self.floor_walks: dict[str, Any] = {}
        self.machines: set[str] = set()  # assets that are production machines: usage is run hours
        needs_parts = any(a.repair_parts or (a.service and a.service.parts) for a in site.assets)
        if needs_parts:
            self._watch_shipments()
        self._dispatching = False

    # -- start -------------------------------------------------------------------------------------

    def start(self) -> None:
        env = self.env
        for a in self.assets.values():
            self._schedule_failure(a)
            for pd in a.spec.planned_downtime:
                env.process(self._planned_downtime(a, pd.first, pd.every, pd.duration))
        for t in self.techs.values():
            if t.windows is not None:
                env.process(self._shifts(t))
        review = getattr(self.policy, "review", None)
        if review:
            env.process(self._reviews(float(review)))
        if self.engine.scenario.site.repair_requests is not None:
            from twin.sim.requests import RepairRequestProcess

            RepairRequestProcess(self).start()

    # -- failures and downtime -----------------------------------------------------------------------

    def _schedule_failure(self, a: AssetRun) -> None:
        a.version += 1
        if a.pace() == 0.0:
            return  # a metered machine standing idle does not wear: scheduled when a run begins
        version = a.version
        ev = self.env.timeout(max(a.clock - self.env.now, 0.0) + max(a.life - a.age, 0.0))
        ev.callbacks.append(partial(self._fail, a, version))

    def start_use(self, ident: str, at: float) -> None:
        """A production machine's run begins at ``at`` (now, or after the set-up now starting)."""
        a = self.assets[ident]
        if not a.metered:
            return
        now = self.env.now
        a.age = a.age_at(now)
        a.clock = max(at, now)
        a.in_use = True
        if a.status == "running":
            self._schedule_failure(a)
        self._notify(a)  # its condition sensors wear with it from the run's start

    def end_use(self, ident: str) -> None:
        """A production machine's run ended (completed, or stopped by a failure or a stop)."""
        a = self.assets[ident]
        if not a.metered:
            return
        now = self.env.now
        a.age = a.age_at(now)
        a.clock = now
        a.in_use = False
        a.version += 1  # its wear-out waits for the next run
        self._notify(a)

    def _fail(self, a: AssetRun, version: int, _event: Any = None) -> None:
        if version != a.version or a.status != "running":
            return
        now = self.env.now
        a.age = a.life
        a.status, a.since, a.clock = "failed", now, now
        a.version += 1
        self.engine.emit(E.MachineFailed(now, a.id, a.age))
        self._notify(a)
        for job in [j for j in self.jobs.values() if j.asset == a.id and j.kind in PLANNED]:
            self._cancel(job, "asset failed")
        spec = a.spec
        self.create(a.id, "corrective", spec.priority, spec.skill, "failure", spec.repair, spec.repair_parts,
                    spec.parts_store, spec.repair_reset, spec.repair_cost, a.repair_gen)

    def _stop(self, a: AssetRun, reason: str) -> None:
        now = self.env.now
        a.age = a.age_at(now)
        a.status, a.since, a.clock, a.stop_reason = "stopped", now, now, reason
        a.version += 1
        self.engine.emit(E.AssetStopped(now, a.id, reason))
        self._notify(a)

    def _restart(self, a: AssetRun, age: float | None = None) -> None:
        now = self.env.now
        if age is not None and age < a.age:
            a.age = age
            a.life = draw_life(a.spec.failure, age, a.fail_gen)
        elif a.life <= a.age:  # failed and repaired as bad as old: a new draw from its age
            a.life = draw_life(a.spec.failure, a.age, a.fail_gen)
        a.status, a.since, a.clock, a.stop_reason = "running", now, now, ""
        self._schedule_failure(a)
        self._notify(a)

    def _notify(self, a: AssetRun) -> None:
        for listener in a.listeners:
            listener(a)

    def _planned_downtime(self, a: AssetRun, first: float, every: float, duration: float) -> Any:
        env = self.env
        yield env.timeout(first)
        while True:
            if a.status == "running":
                self._stop(a, "planned")
                yield env.timeout(duration)
                if a.status == "stopped" and a.stop_reason == "planned":
                    self.engine.emit(E.AssetStarted(env.now, a.id, "planned"))
                    self._restart(a)
                yield env.timeout(max(every - duration, 0.0))
            else:
                yield env.timeout(every)

    # -- work orders ---------------------------------------------------------------------------------

    def create(self, asset: str, kind: str, priority: int, skill: str, source: str, duration: DurationLaw,
               parts: dict[str, float], store: str | None, reset: float, fixed_cost: float, gen: Any,
               position: tuple[float, float] | None = None, wo: int | None = None) -> Job:
        now = self.env.now
        wo = self.next_wo() if wo is None else wo
        if position is None and asset in self.assets:
            position = self.assets[asset].spec.position
        view = WorkOrderView(wo, asset, kind, priority, skill, now, position)
        job = Job(wo, asset, kind, priority, skill, now, duration, parts, store, reset, fixed_cost, view, gen)
        self.engine.emit(E.WorkOrderCreated(now, wo, asset, kind, priority, skill, source))
        self.jobs[wo] = job
        self.backlog.append(job)
        self.dispatch()
        return job

    def next_wo(self) -> int:
        return next(self._wo)

    def _cancel(self, job: Job, reason: str) -> None:
        job.cancelled = True
        if job.technician is None:
            self.backlog.remove(job)
            del self.jobs[job.wo]
            self.engine.emit(E.WorkOrderCancelled(self.env.now, job.wo, job.asset, reason))
        # An assigned job ends when its technician arrives (see _work).

    def dispatch(self) -> None:
        """Ask the policy's dispatch rule to pair waiting work orders with free technicians."""
        if self._dispatching or not self.backlog:
            return
        free = [t for t in self.techs.values() if t.on_shift and not t.busy]
        if not free:
            return
        self._dispatching = True
        try:
            obs = DispatchObservation(
                self.env.now, tuple(j.view for j in self.backlog),
                tuple(TechnicianView(t.id, t.skills, t.position, t.spec.speed) for t in free))
            for action in self.policy.assign(obs) or ():
                self.apply_action(action, obs)
        finally:
            self._dispatching = False

    def apply_action(self, action: Any, obs: DispatchObservation | None = None,
                     policy: str | None = None) -> str | None:
        """Check a technician assignment and carry it out: the one path of the dispatch policy's
        actions and the operator's (``policy`` names who gave it; default the dispatch policy). A bad
        one becomes ``ActionRejected``; returns its reason, or None when the job started. ``obs``
        is the observation it was decided on (default: the waiting work orders and free technicians now)."""
        reason = self._check_assignment(action)
        if reason is not None:
            self.engine.emit(E.ActionRejected(self.env.now, policy or self.policy_name, repr(action), reason))
            return reason
        if obs is None:
            free = [t for t in self.techs.values() if t.on_shift and not t.busy]
            obs = DispatchObservation(self.env.now, tuple(j.view for j in self.backlog),
                                      tuple(TechnicianView(t.id, t.skills, t.position, t.spec.speed) for t in free))
        self._start_job(self.jobs[action.work_order], self.techs[action.technician], obs)
        return None

    def break_down(self, asset: str) -> bool:
        """The asset fails now, as if worn out (a drill's incident); the repair then renews it as
        usual. False when it is not running (already down or stopped: nothing more to break)."""
        a = self.assets[asset]
        if a.status != "running":
            return False
        a.life = a.age_at(self.env.now)
        self._fail(a, a.version)
        return True

    def _check_assignment(self, action: Any) -> str | None:
        if not isinstance(action, AssignTechnician):
            return f"not a dispatch action: {type(action).__name__}"
        job = self.jobs.get(action.work_order)
        if job is None or job.technician is not None:
            return f"work order {action.work_order} is not waiting for a technician"
        tech = self.techs.get(action.technician)
        if tech is None:
            return f"unknown technician {action.technician!r}"
        if tech.busy or not tech.on_shift:
            return f"technician {tech.id!r} is not free"
        if job.skill not in tech.skills:
            return f"technician {tech.id!r} lacks skill {job.skill!r}"
        return None

    def _start_job(self, job: Job, tech: Tech, obs: DispatchObservation) -> None:
        tech.busy = True
        job.technician = tech.id
        self.backlog.remove(job)
        travel = obs.travel_hours(job.view, TechnicianView(tech.id, tech.skills, tech.position, tech.spec.speed))
        walk = self.floor_walks.get(job.asset)
        if walk is not None:
            travel += walk(self.env.now, tech.id, job.wo)
        self.engine.emit(E.TechnicianAssigned(self.env.now, job.wo, tech.id, travel))
        parts = self._order_parts(job) if job.parts else None
        self.env.process(self._work(job, tech, travel, parts))

    def _work(self, job: Job, tech: Tech, travel: float, parts: simpy.Event | None) -> Any:
        env = self.env
        engine = self.engine
        if travel > 0:
            yield env.timeout(travel)
            tech.position = job.view.position
        if parts is not None and not parts.triggered:
            yield parts
        a = self.assets.get(job.asset)
        if job.cancelled or (job.kind in PLANNED and (a is None or a.status == "failed")):
            engine.emit(E.WorkOrderCancelled(env.now, job.wo, job.asset, "asset failed"))
            self._finish(job, tech)
            return
        if job.kind in PLANNED and a is not None and a.status == "running":
            self._stop(a, "maintenance")
        engine.emit(E.RepairStarted(env.now, job.wo, job.asset, tech.id))
        hours = draw_duration(job.duration, job.gen)
        yield env.timeout(hours)
        labour = travel + hours
        cost = labour * tech.spec.cost_per_hour + job.fixed_cost + sum(
            q * self.unit_cost.get(i, 0.0) for i, q in job.parts.items())
        now = env.now
        if a is not None and job.kind != "request" and a.status != "running":
            age = a.age * (1.0 - job.reset)
            done = E.MaintenanceDone if job.kind in PLANNED else E.RepairCompleted
            engine.emit(done(now, job.wo, job.asset, tech.id, labour, cost, age))
            self._restart(a, age)
        else:
            engine.emit(E.RepairCompleted(now, job.wo, job.asset, tech.id, labour, cost, a.age if a else 0.0))
            hook = job.extra.get("on_done")
            if hook is not None:
                hook(job)
        self._finish(job, tech)

    def _finish(self, job: Job, tech: Tech) -> None:
        self.jobs.pop(job.wo, None)
        tech.busy = False
        self.dispatch()

    # -- spare parts ---------------------------------------------------------------------------------

    def _order_parts(self, job: Job) -> simpy.Event:
        """Order the job's parts from its store as an ordinary order (allocated, picked, shipped, or
        backordered until the inventory policy's replenishment arrives); the event fires when the
        order has fully shipped."""
        engine = self.engine
        store = job.store or self.default_store
        tag = f"wo-{job.wo}"
        lines = tuple((item, float(q)) for item, q in job.parts.items())
        done = self.env.event()
        ops = engine.warehouses[store]
        start = len(engine.log.events)
        ops.place_order(tag, lines)
        order = next(e.order for e in engine.log.events[start:]
                     if type(e) is E.OrderPlaced and e.customer == tag)
        if order in engine.state.orders:
            self._parts_wait[order] = done
        else:
            done.succeed()
        return done

    def _watch_shipments(self) -> None:
        """Follow the engine's events for the shipment that completes a parts order (one check per
        event, only on sites whose maintenance uses spare parts)."""
        engine = self.engine
        inner = engine.emit
        waiting = self._parts_wait
        shipped = E.Shipped

        def emit(event: Any) -> None:
            inner(event)
            if event.__class__ is shipped and event.complete and event.order in waiting:
                waiting.pop(event.order).succeed()

        engine.emit = emit  # type: ignore[method-assign]

    # -- technicians' shifts -------------------------------------------------------------------------

    def _shifts(self, tech: Tech) -> Any:
        env = self.env
        windows = tech.windows or []
        while True:
            week0 = env.now - env.now % WEEK
            for start, end in windows:
                s, e = week0 + start, week0 + end
                if env.now >= e:
                    continue
                if env.now < s:
                    yield env.timeout(s - env.now)
                tech.on_shift = True
                self.dispatch()
                yield env.timeout(e - env.now)
                tech.on_shift = False
            yield env.timeout(week0 + WEEK - env.now)

    # -- the policy's planned work -------------------------------------------------------------------

    def _reviews(self, every: float) -> Any:
        while True:
            self.review()
            yield self.env.timeout(every)

    def on_event(self, kind: str) -> None:
        """An event the policy subscribes to (a sensor alarm, say): let it decide now."""
        if kind in self.subscribes:
            self.review()

    def observation(self) -> MaintenanceObservation:
        m = self.engine.state.maintenance
        production = self.engine.state.production
        now = self.env.now
        views = []
        for a in self.assets.values():
            st = m.asset(a.id)
            run_hours = production.run_hours_at(a.id, now) if a.id in self.machines else None
            view = asset_view(a.spec, st, now, a.age_at(now), run_hours)
            views.append(view if view.status == a.status else replace(view, status=a.status))
        readings = {k: tuple(v) for k, v in m.readings.items()}
        return MaintenanceObservation(now, tuple(views), readings, tuple(j.view for j in self.jobs.values()),
                                      self.rng)

    def review(self) -> None:
        sensors = self.engine.sensors
        for kind in getattr(self.policy, "wants_readings", ()):
            if sensors is not None:
                sensors.readings(kind)
        actions = self.policy.decide(self.observation()) or ()
        for action in actions:
            reason = self._check_schedule(action)
            if reason is not None:
                self.engine.emit(E.ActionRejected(self.env.now, self.policy_name, repr(action), reason))
                continue
            a = self.assets[action.asset]
            task = a.spec.service
            assert task is not None  # checked above
            self.create(a.id, action.kind, action.priority, task.skill or a.spec.skill, self.policy_name,
                        task.duration, task.parts, a.spec.parts_store, task.reset, task.cost,
                        self.engine.streams.get("service", a.id))

    def _check_schedule(self, action: Any) -> str | None:
        if not isinstance(action, ScheduleMaintenance):
            return f"not a maintenance action: {type(action).__name__}"
        a = self.assets.get(action.asset)
        if a is None:
            return f"unknown asset {action.asset!r}"
        if a.spec.service is None:
            return f"asset {a.id!r} has no service task"
        if action.kind not in PLANNED:
            return f"kind must be one of {', '.join(PLANNED)}, got {action.kind!r}"
        if action.priority not in (1, 2, 3):
            return f"priority must be 1, 2 or 3, got {action.priority!r}"
        if any(j.asset == a.id for j in self.jobs.values()):
            return f"asset {a.id!r} already has an open work order"
        if a.status == "failed":
            return f"asset {a.id!r} is down (failed)"
        return None
