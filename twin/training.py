"""Operator training (issue 8): run a drill with a person (or a script) in one role, run it again with
the automatic policy on the same seed (common random numbers), and score the one against the other.

- ``load_drill`` reads a drill file (a scenario with a ``drill:`` block; errors as FILE:LINE: path).
- ``load_script`` reads a scripted operator: ``actions: [{at: 6h10min, do: dispatch, asset: pump-3}]``.
- ``OperatorSession`` runs the operator's side: in this thread (a script, at full speed) or in a
  background thread paced to wall time (``start``), taking commands from a thread-safe inbox the
  view pushes into (``send``); pausing holds the simulated clock.
- ``automatic_side`` is exactly ``twin run DRILL.yaml`` for one replication (the same event hash).
- ``scorecard`` compares the KPIs the drill scores, with weights; ``save_session`` writes the
  session folder and records the operator's run in the run registry (``twin view --replay RUN_ID``).
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from twin.comparison import KPI_DIRECTION
from twin.errors import Problem, ScenarioError, TwinError
from twin.experiment import Job, ReplicationResult, collect, run_job, run_kpis
from twin.kpi import events_frame
from twin.model.drill import ROLES, OperatorCommand, OperatorScript, role_commands
from twin.model.scenario import Scenario
from twin.scenario import Origins, _locate, _pydantic_problems, _read_yaml, _shown, load_scenario
from twin.sim.drill import OperatorRecord
from twin.sim.engine import Engine, RunOutput

__all__ = ["load_drill", "load_script", "OperatorSession", "automatic_side", "Scorecard", "ScoreRow",
           "scorecard", "save_session", "Session"]

Script = list[tuple[float, OperatorCommand]]


def load_drill(path: str | Path) -> Scenario:
    """Load a drill file: a scenario that has a ``drill:`` block."""
    scenario = load_scenario(path)
    if scenario.drill is None:
        raise ScenarioError([Problem(_shown(Path(path)), None, "drill",
                                     "not a drill: the file has no 'drill:' block (see scenarios/drills/)")])
    return scenario


def load_script(path: str | Path, scenario: Scenario) -> Script:
    """A scripted operator's timed commands, checked against the drill (FILE:LINE: path: message)."""
    file = Path(path)
    shown = _shown(file)
    origins: Origins = {}
    data = _read_yaml(file, shown, (), origins)
    try:
        script = OperatorScript.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, origins, shown)) from None
    drill = scenario.drill
    assert drill is not None
    site = scenario.site
    known = {"asset": {a.id for a in site.assets}, "item": {i.id for i in site.items},
             "vehicle": {v.id if v.count == 1 else f"{v.id}-{k + 1}" for v in site.vehicles for k in range(v.count)},
             "location": {w.id for w in site.warehouses}}
    problems: list[Problem] = []

    def add(loc: tuple[str | int, ...], message: str) -> None:
        f, line, where = _locate(origins, loc, shown)
        problems.append(Problem(f, line, where, message))

    expected = ROLES[drill.operator]
    for n, line in enumerate(script.actions):
        if line.do not in expected:
            add(("actions", n, "do"), f"this drill's operator ({drill.operator}) gives "
                f"{role_commands(drill.operator)} commands, not {line.do!r}")
        for name, ids in known.items():
            value = getattr(line, name)
            if value is not None and value not in ids:
                add(("actions", n, name), f"unknown {name} {value!r}")
        if line.do in ("purchase", "transfer") and line.item is None:
            add(("actions", n), f"a {line.do} needs 'item'")
        if line.consignment is not None and line.do != "route":
            add(("actions", n, "consignment"), "only a route names a consignment")
        if line.at >= scenario.horizon:
            add(("actions", n, "at"), "comes after the horizon ends")
    if problems:
        raise ScenarioError(problems)
    return [(float(line.at), OperatorCommand.of(line)) for line in script.actions]


def _kpis(scenario: Scenario, out: RunOutput) -> ReplicationResult:
    """KPIs of a run's log, as ``twin.experiment.run_job`` computes them (the same ``run_kpis``)."""
    df = events_frame(out.log)
    kpis = run_kpis(scenario, out, df, scenario.warmup)
    return ReplicationResult(out.replication, kpis, df, pd.DataFrame(), out.log.content_hash(), len(out.log),
                             out.simpy_events)


class OperatorSession:
    """The operator's side of a drill: one replication with the operator seated in the drill's role."""

    def __init__(self, scenario: Scenario, seed: int | None = None,
                 script: Sequence[tuple[float, OperatorCommand]] = (), pace: float | None = None) -> None:
        """``pace``: simulated hours per wall second (default: the drill's); 0 runs at full speed
        with no inbox (a script alone)."""
        drill = scenario.drill
        if drill is None:
            raise TwinError(f"scenario {scenario.name!r} has no drill")
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.engine = Engine(scenario, self.seed, 0)
        self.inbox: queue.SimpleQueue[OperatorCommand] = queue.SimpleQueue()
        self.pace = float(drill.pace) if pace is None else pace  # simulated hours per wall second
        self._paused = threading.Event()
        self._pause_at: float | None = None
        self._hurry = threading.Event()  # the operator left: finish without waiting for the clock
        self._wall0 = 0.0
        self._sim0 = 0.0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.output: RunOutput | None = None
        self.now = 0.0  # the simulated time the desk last saw (for the view)
        self.started = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        live = self.pace > 0
        self.engine.drill.attach(self.inbox if live else None, script, self._pacer if live else None)

    # -- the clock --------------------------------------------------------------------------------

    def _pacer(self, t: float) -> None:
        """Hold the simulated clock to ``pace`` simulated hours per wall second (and still while paused)."""
        self.now = t
        if self._hurry.is_set():
            return
        if self._pause_at is not None and t >= self._pause_at:
            self._pause_at = None
            self._paused.set()
        while self._paused.is_set() and not self._hurry.is_set():
            time.sleep(0.02)
            self._wall0, self._sim0 = time.monotonic(), t
        ahead = (t - self._sim0) / self.pace - (time.monotonic() - self._wall0)
        # Sleep only when well ahead: short sleeps overshoot, and the clock is held to the wall clock
        # of the start (not of the last tick), so what is skipped now is slept off at a later tick.
        if ahead > 0.02:
            self._hurry.wait(ahead)

    def pause_at(self, t: float) -> None:
        """Hold the clock once it reaches simulated time ``t`` (a trainer freezing the scene at an incident)."""
        self._pause_at = t

    def pause(self, paused: bool) -> None:
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def hurry(self) -> None:
        """Stop holding the clock to wall time: the rest of the drill runs at full speed."""
        self._hurry.set()

    def set_pace(self, pace: float) -> None:
        self._wall0, self._sim0, self.pace = time.monotonic(), self.now, pace

    # -- running ----------------------------------------------------------------------------------

    def send(self, command: OperatorCommand) -> None:
        """Hand the operator's command to the run (thread-safe; taken in at the next tick)."""
        self.inbox.put(command)

    def run(self) -> RunOutput:
        """Run the whole drill in this thread (a script at full speed, or paced with pace > 0)."""
        self._wall0, self._sim0 = time.monotonic(), 0.0
        self.output = self.engine.run(self.scenario.horizon)
        return self.output

    def start(self) -> None:
        """Run the drill in a background thread (the view keeps the main thread)."""

        def work() -> None:
            try:
                self.run()
            except BaseException as exc:  # handed to the main thread by wait()
                self._error = exc

        self._thread = threading.Thread(target=work, name="drill", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self.output is not None or self._error is not None

    def wait(self) -> RunOutput:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self.output is not None
        return self.output

    @property
    def records(self) -> list[OperatorRecord]:
        return self.engine.drill.records

    def events(self) -> list[Any]:
        """The events so far (a copy: safe while the run goes on in its thread)."""
        return self.engine.log.events[:]


def automatic_side(scenario: Scenario, seed: int) -> ReplicationResult:
    """The drill with the automatic policy: replication 0 exactly as ``twin run`` runs it."""
    return run_job(Job(scenario, seed, 0))


@dataclass
class ScoreRow:
    kpi: str
    weight: float
    operator: float
    automatic: float
    better: str  # better | worse | same | -
    points: float  # -1 .. 1 (direction times the relative difference); NaN when a side has no value


@dataclass
class Scorecard:
    drill: str
    scenario: str
    seed: int
    rows: list[ScoreRow]
    score: float  # -100 .. 100: the weighted mean of the rows' points, in percent
    verdict: str
    hashes: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {"drill": self.drill, "scenario": self.scenario, "seed": self.seed,
                "score": num(self.score), "verdict": self.verdict, "event_log_sha256": self.hashes,
                "kpis": [{**asdict(r), "operator": num(r.operator), "automatic": num(r.automatic),
                          "points": num(r.points)} for r in self.rows]}


def scorecard(scenario: Scenario, seed: int, operator: ReplicationResult, automatic: ReplicationResult) -> Scorecard:
    """Score the operator against the automatic policy on the drill's KPIs and weights.

    Each KPI earns ``direction * (operator - automatic) / max(|operator|, |automatic|)`` points, from
    -1 (as bad as can be) to 1, and -1 when only the automatic side has a value (the operator never
    did that thing: no repair finished, no emergency answered); a KPI neither side has is not scored.
    The score is the weighted mean of the points in percent (0: as good as automatic).
    """
    drill = scenario.drill
    assert drill is not None
    rows = []
    for kpi, weight in drill.score.items():
        op = float(operator.kpis.get(kpi, math.nan))
        auto = float(automatic.kpis.get(kpi, math.nan))
        if math.isnan(op) and not math.isnan(auto):
            # Nothing of the kind happened under the operator (no emergency answered, no repair
            # finished) while the policy did it: the worst mark, not a free pass.
            points, better = -1.0, "none"
        elif math.isnan(op) or math.isnan(auto):
            points, better = math.nan, "-"
        else:
            scale = max(abs(op), abs(auto))
            points = KPI_DIRECTION[kpi] * (op - auto) / scale if scale > 0 else 0.0
            better = "same" if abs(points) < 1e-9 else "better" if points > 0 else "worse"
        rows.append(ScoreRow(kpi, float(weight), op, auto, better, points))
    scored = [r for r in rows if not math.isnan(r.points)]
    total = sum(r.weight for r in scored)
    score = 100.0 * sum(r.weight * r.points for r in scored) / total if total else math.nan
    verdict = ("no KPI could be scored" if math.isnan(score) else
               "the operator beat the automatic policy" if score > 0.5 else
               "the operator trailed the automatic policy" if score < -0.5 else
               "the operator matched the automatic policy")
    return Scorecard(drill.title, scenario.name, seed, rows, score, verdict,
                     {"operator": operator.log_hash, "automatic": automatic.log_hash})


@dataclass
class Session:
    """A finished drill: both sides, the scorecard and the operator's commands."""

    scenario: Scenario
    seed: int
    operator: ReplicationResult
    automatic: ReplicationResult
    card: Scorecard
    records: list[OperatorRecord]
    started: str


def finish(session: OperatorSession, progress: Callable[[str], None] | None = None) -> Session:
    """Wait for the operator's side, run the automatic side, and score them."""
    out = session.wait()
    op = _kpis(session.scenario, out)
    if progress is not None:
        progress("running the automatic policy on the same random numbers")
    auto = automatic_side(session.scenario, session.seed)
    card = scorecard(session.scenario, session.seed, op, auto)
    return Session(session.scenario, session.seed, op, auto, card, list(session.records), session.started)


def save_session(session: Session, folder: Path, drill_file: Path, registry: Any) -> str:
    """Write scorecard.json, actions.json, events.parquet (the operator's run) and
    automatic-events.parquet to ``folder``; record the operator's run in the registry. Returns its id."""
    from twin.scenario import scenario_digest
    from twin.store import summary_to_dict

    folder.mkdir(parents=True, exist_ok=True)
    sc = session.scenario
    record = registry.new_run("run", [f"{sc.name} (operator)"], [drill_file], [scenario_digest(sc)],
                              session.seed, 1, note=f"drill session {folder}")
    try:
        session.operator.events.to_parquet(record.traces / "rep-0000.parquet", index=False)
        session.operator.events.to_parquet(folder / "events.parquet", index=False)
        session.automatic.events.to_parquet(folder / "automatic-events.parquet", index=False)
        card = session.card.to_json() | {"run_id": record.id, "started": session.started}
        (folder / "scorecard.json").write_text(json.dumps(card, indent=2))
        (folder / "actions.json").write_text(json.dumps([asdict(r) for r in session.records], indent=2))
    except BaseException:
        registry.finish(record.id, {}, status="failed")
        raise
    summary = collect(sc, session.seed, [session.operator]).summary
    registry.finish(record.id, summary_to_dict(summary))
    return str(record.id)
