"""Policy regression checks: a suite of scenarios, baselines recorded with fixed seeds, and a
statistical verdict per scenario and KPI when the policy code changes.

A suite file lists scenarios (paths relative to the suite file), the replications and seed to run
them with, and the KPIs to guard, each with the direction that is better and a tolerance::

    name: library
    replications: 5
    kpis:
      fill_rate: {better: higher, tolerance: 0.5%}
      order_cycle_time: {better: lower, tolerance: 2h}
    scenarios:
      - ../scenarios/plant/baseline.yaml
      - {scenario: ../scenarios/hospital/baseline.yaml, horizon: 60d, kpis: {...}}

``update`` runs every scenario and writes ``baselines/<name>.json`` (per-replication KPIs and
event-log hashes, the code version, the scenario digest and the sha256 of every file the scenario
reads). ``check`` runs them again with the same seeds and replication numbers, so replication r now
and replication r then see the same random numbers (common random numbers) and the differences
pair up. Per scenario and KPI the verdict is

- identical: every replication's event log has the same hash as in the baseline: the change did
  not touch this scenario at all;
- regressed: the 95% CI of the paired difference lies entirely beyond the tolerance on the worse side;
- improved: that CI lies entirely on the better side of zero;
- within tolerance: anything else.

A baseline recorded from other scenario files (a changed scenario, base or site file) or with
other run settings is refused with an error naming the file: such runs are not comparable. A
different code version is only reported: a different code version is what a check is for.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twin.errors import Problem, ScenarioError
from twin.executors import Executor, make_executor
from twin.experiment import Job, ReplicationResult, run_job
from twin.model.assets import MAINTENANCE_KPI_NAMES
from twin.model.durations import Duration, format_duration, parse_duration
from twin.model.production import PRODUCTION_KPI_NAMES
from twin.model.scenario import KPI_NAMES, Scenario
from twin.regress_verdict import EntryCheck, KpiCheck, SuiteReport, check_kpi
from twin.scenario import Origins, _locate, _pydantic_problems, _read_yaml, _shown, load_scenario, scenario_digest
from twin.store import code_version

__all__ = ["SuiteError", "Tolerance", "Guard", "SuiteEntry", "Suite", "KpiCheck", "EntryCheck", "SuiteReport",
           "KNOWN_KPIS", "BASELINE_FORMAT", "DEFAULT_SUITE", "load_suite", "check_baselines", "run_suite",
           "check_kpi", "guarded", "parse_tolerance"]

DEFAULT_SUITE = "regress/suite.yaml"
BASELINE_FORMAT = "lems-twin-regress/1"
KNOWN_KPIS: tuple[str, ...] = tuple(dict.fromkeys((*KPI_NAMES, *MAINTENANCE_KPI_NAMES, *PRODUCTION_KPI_NAMES)))
# KPIs measured in hours: a tolerance for them is a duration (2h) or relative (5%), never a bare number.
HOUR_KPIS = frozenset({"stockout_hours", "order_cycle_time", "emergency_response_time", "mtbf", "mttr",
                       "downtime_hours", "response_time", *(f"response_time_p{p}" for p in (1, 2, 3)),
                       "work_order_lead_time", "material_shortage_hours"})
# KPIs that are fractions in [0, 1]: an absolute tolerance of 1 or more lets anything pass.
FRACTION_KPIS = frozenset({"fill_rate", "order_fill_rate", "cycle_service_level", "on_time_in_full", "oee",
                           "availability", "technician_utilization", "vehicle_utilization", "on_time_completion",
                           "schedule_adherence"})


class SuiteError(ScenarioError):
    """A suite file, or a baseline, that cannot be used (bad input: the CLI exits 2)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Tolerance:
    """How much worse a KPI may get: ``relative`` as a fraction of the baseline mean, or
    ``absolute`` in the KPI's own unit (hours for a time KPI)."""

    kind: Literal["absolute", "relative"]
    value: float
    text: str
    duration: bool = False

    def allowed(self, baseline_mean: float) -> float:
        """The worsening allowed, in the KPI's unit."""
        if self.kind == "relative":
            return self.value * abs(baseline_mean) if math.isfinite(baseline_mean) else 0.0
        return self.value

    def __str__(self) -> str:
        return self.text


_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*%\s*$")


def parse_tolerance(value: Any) -> Tolerance:
    """``2%`` (relative), ``0.01`` (absolute) or ``2h`` (absolute, a duration)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"tolerance must be an amount such as 0.01, 2h or 2%, not {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"tolerance must be zero or more, got {value!r}")
        return Tolerance("absolute", float(value), f"{value:g}")
    if not isinstance(value, str):
        raise ValueError(f"tolerance must be an amount such as 0.01, 2h or 2%, not {value!r}")
    match = _PERCENT.match(value)
    if match:
        return Tolerance("relative", float(match.group(1)) / 100, f"{float(match.group(1)):g}%")
    try:
        return Tolerance("absolute", parse_duration(value), value.strip(), duration=True)
    except ValueError:
        pass
    raise ValueError(f"cannot read tolerance {value!r}; write an absolute amount (0.01), a duration for a "
                     "time KPI (2h) or a relative one (2%)")


class Guard(_Strict):
    """One guarded KPI: which direction is better and how much worse it may get."""

    better: Literal["higher", "lower"] = Field(description="the direction that is better for this KPI")
    tolerance: Tolerance = Field(description="0.01 (absolute), 2h (absolute, time KPIs) or 2% (relative)")

    @field_validator("tolerance", mode="before")
    @classmethod
    def _tolerance(cls, value: Any) -> Tolerance:
        return value if isinstance(value, Tolerance) else parse_tolerance(value)

    @property
    def sign(self) -> int:
        """+1 when more is better, -1 when less is."""
        return 1 if self.better == "higher" else -1


class SuiteEntry(_Strict):
    """A scenario of the suite, with optional overrides of the suite's run settings."""

    scenario: str = Field(description="scenario file, relative to the suite file")
    name: str | None = Field(None, description="baseline name (default: the scenario's name)")
    horizon: Duration | None = Field(None, description="simulated time, e.g. 60d (default: the scenario's)")
    warmup: Duration | None = Field(None, description="warm-up, e.g. 10d (default: the scenario's)")
    replications: int | None = Field(None, ge=2, description="default: the suite's, else the scenario's")
    seed: int | None = Field(None, ge=0, description="default: the suite's, else the scenario's")
    kpis: dict[str, Guard] = Field(default_factory=dict, description="KPIs guarded for this scenario only")

    @model_validator(mode="before")
    @classmethod
    def _bare_path(cls, value: Any) -> Any:
        return {"scenario": value} if isinstance(value, str) else value


class Suite(_Strict):
    """A regression suite file."""

    name: str = "regress"
    baselines: str = Field("baselines", description="folder of the baseline files, relative to the suite file")
    replications: int | None = Field(None, ge=2, description="replications per scenario (default: the scenario's)")
    seed: int | None = Field(None, ge=0, description="seed of every scenario (default: the scenario's)")
    kpis: dict[str, Guard] = Field(default_factory=dict, description="KPIs guarded on every scenario")
    scenarios: list[SuiteEntry] = Field(min_length=1)


@dataclass
class Planned:
    """A suite entry resolved: the scenario loaded, its settings, files and guards."""

    index: int
    name: str
    path: Path
    ref: str  # the scenario file relative to the suite folder, posix
    scenario: Scenario
    seed: int
    replications: int
    horizon: float
    warmup: float
    guards: dict[str, Guard]
    files: dict[str, str]  # file relative to the suite folder -> sha256
    digest: str
    where: tuple[str, int | None]  # the entry's place in the suite file
    baseline_file: Path
    kpi_where: dict[str, tuple[str, int | None, str]] = field(default_factory=dict)


@dataclass
class LoadedSuite:
    file: Path
    shown: str
    model: Suite
    entries: list[Planned]
    origins: Origins

    @property
    def baseline_dir(self) -> Path:
        return self.file.parent / self.model.baselines


def _sha256_text(path: Path) -> str:
    # Line endings normalised: a checkout with CRLF (git autocrlf) is the same scenario.
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def _rel(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def scenario_files(file: Path, scenario: Scenario) -> list[Path]:
    """Every file a scenario run depends on: the scenario, the bases it extends, its site file and
    demand history CSVs (the scenario has already loaded, so every one of them exists)."""
    files: list[Path] = []
    todo = [file]
    while todo:
        f = todo.pop()
        if any(f.resolve() == g.resolve() for g in files):
            continue
        files.append(f)
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        if isinstance(data.get("extends"), str):
            todo.append(f.parent / data["extends"])
        if isinstance(data.get("site"), str):
            files.append(f.parent / data["site"])
    files += [Path(s.history) for s in scenario.site.demand if s.history]
    return files


def _problem(where: tuple[str, int | None], path: str, message: str) -> Problem:
    return Problem(where[0], where[1], path, message)


def _guard_problems(guards: dict[str, Guard], prefix: tuple[str | int, ...], origins: Origins,
                    shown: str) -> list[Problem]:
    problems = []
    for kpi, guard in guards.items():
        file, line, path = _locate(origins, (*prefix, kpi), shown)
        if kpi not in KNOWN_KPIS:
            close = difflib.get_close_matches(kpi, KNOWN_KPIS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(KNOWN_KPIS)}"
            problems.append(Problem(file, line, path, f"unknown KPI {kpi!r}; {hint}"))
            continue
        tol = guard.tolerance
        file, line, path = _locate(origins, (*prefix, kpi, "tolerance"), shown)
        if kpi in HOUR_KPIS and tol.kind == "absolute" and not tol.duration:
            problems.append(Problem(file, line, path, f"{kpi} is a time: give the tolerance a unit (e.g. "
                                    f"'{tol.text}h' or '{tol.text}min') or make it relative ('5%')"))
        elif kpi not in HOUR_KPIS and tol.duration:
            problems.append(Problem(file, line, path, f"{kpi} is not a time, so {tol.text!r} does not fit it; "
                                    "give an amount in its own unit (e.g. 0.01) or a relative one (2%)"))
        elif kpi in FRACTION_KPIS and tol.kind == "absolute" and tol.value >= 1:
            problems.append(Problem(file, line, path, f"{kpi} is a fraction between 0 and 1, so an absolute "
                                    f"tolerance of {tol.text} lets anything pass; did you mean '{tol.text}%'?"))
    return problems


def load_suite(path: str | Path) -> LoadedSuite:
    """Read and check a suite file and every scenario it names.

    Raises SuiteError carrying every problem found, each as FILE:LINE: yaml.path: message.
    """
    file = Path(path)
    shown = _shown(file)
    origins: Origins = {}
    data = _read_yaml(file, shown, (), origins)
    try:
        model = Suite.model_validate(data)
    except ValidationError as exc:
        raise SuiteError(_pydantic_problems(exc, origins, shown)) from None
    problems = _guard_problems(model.kpis, ("kpis",), origins, shown)
    entries: list[Planned] = []
    names: dict[str, int] = {}
    folder = file.parent
    for i, entry in enumerate(model.scenarios):
        problems += _guard_problems(entry.kpis, ("scenarios", i, "kpis"), origins, shown)
        where = _locate(origins, ("scenarios", i), shown)[:2]
        sc_file = folder / entry.scenario
        if not sc_file.is_file():
            f, line, p = _locate(origins, ("scenarios", i, "scenario"), shown)
            problems.append(Problem(f, line, p, f"file not found: {entry.scenario} (relative to {shown})"))
            continue
        try:
            scenario = load_scenario(sc_file)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        name = entry.name or scenario.name
        if name in names:
            problems.append(_problem(where, f"scenarios[{i}]", f"a second entry named {name!r} (entry {names[name]} "
                                     "has it too); give one of them its own 'name:'"))
            continue
        names[name] = i
        horizon = entry.horizon if entry.horizon is not None else scenario.horizon
        warmup = entry.warmup if entry.warmup is not None else min(scenario.warmup, horizon * 0.5)
        if warmup >= horizon:
            f, line, p = _locate(origins, ("scenarios", i, "warmup"), shown)
            problems.append(Problem(f, line, p, f"warm-up {format_duration(warmup)} must be shorter than the "
                                    f"horizon {format_duration(horizon)}"))
        guards = model.kpis | entry.kpis
        if not guards:
            problems.append(_problem(where, f"scenarios[{i}]", "no KPI is guarded for this scenario; list some "
                                     "under the suite's 'kpis:' or the entry's"))
        files = {_rel(f, folder): _sha256_text(f) for f in scenario_files(sc_file, scenario)}
        kpi_where = {k: _locate(origins, (("scenarios", i, "kpis") if k in entry.kpis else ("kpis",)) + (k,), shown)
                     for k in guards}
        entries.append(Planned(
            index=i, name=name, path=sc_file, ref=_rel(sc_file, folder),
            scenario=scenario.model_copy(update={"record_levels": False}),
            seed=entry.seed if entry.seed is not None else model.seed if model.seed is not None else scenario.seed,
            replications=entry.replications or model.replications or max(scenario.replications, 2),
            horizon=horizon, warmup=warmup, guards=guards, files=files, digest=scenario_digest(scenario),
            where=where, baseline_file=folder / model.baselines / f"{_slug(name)}.json", kpi_where=kpi_where))
    if problems:
        raise SuiteError(problems)
    return LoadedSuite(file, shown, model, entries, origins)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.") or "scenario"


# -- baselines -----------------------------------------------------------------------------------------


def _read_baseline(entry: Planned, suite: LoadedSuite) -> tuple[dict[str, Any], list[Problem]]:
    """The entry's baseline and every reason it cannot be compared with a run of the entry now."""
    shown = _shown(entry.baseline_file)
    at = f"scenarios[{entry.index}]"
    if not entry.baseline_file.is_file():
        return {}, [_problem(entry.where, at, f"no baseline {shown} for {entry.name!r}; record it with "
                             f"`twin regress {suite.shown} --update`")]
    try:
        data = json.loads(entry.baseline_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, [Problem(shown, getattr(exc, "lineno", None), "", f"not a baseline file (bad JSON: {exc})")]
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        return {}, [Problem(shown, None, "format", f"not a baseline file of this version (expected format "
                            f"{BASELINE_FORMAT!r}); re-record it with `twin regress {suite.shown} --update`")]
    try:
        then_files: dict[str, str] = data["scenario"]["files"]
        run = data["run"]
        hashes = data["event_log_sha256"]
        kpis = data["kpis"]
        complete = isinstance(then_files, dict) and isinstance(hashes, list) and isinstance(kpis, dict)
    except (KeyError, TypeError):
        complete = False
    if not complete:
        return {}, [Problem(shown, None, "", "baseline file is incomplete (scenario.files, run, event_log_sha256 "
                            f"and kpis are needed); re-record it with `twin regress {suite.shown} --update`")]
    redo = f"re-record it with `twin regress {suite.shown} --update` if the change is intended"
    problems = []
    if data["scenario"].get("file") != entry.ref:
        problems.append(_problem(entry.where, at, f"baseline {shown} was recorded for {data['scenario'].get('file')}, "
                                 f"not {entry.ref}; {redo}"))
    for ref in sorted(set(then_files) | set(entry.files)):
        before, now = then_files.get(ref), entry.files.get(ref)
        if before == now:
            continue
        what = ("is new since" if before is None else "is no longer read, unlike" if now is None
                else "changed since")
        problems.append(_problem(entry.where, at, f"{ref} {what} the baseline {shown} was recorded "
                                 f"(sha256 {(before or '-')[:12]} then, {(now or '-')[:12]} now): runs of two "
                                 f"versions of the scenario are not comparable; {redo}"))
    wanted = {"seed": entry.seed, "replications": entry.replications, "horizon": entry.horizon,
              "warmup": entry.warmup}
    for key, value in wanted.items():
        if run.get(key) != value:
            shown_now = format_duration(value) if key in ("horizon", "warmup") else value
            then = run.get(key)
            shown_then = format_duration(then) if key in ("horizon", "warmup") and isinstance(then, float) else then
            problems.append(_problem(entry.where, at, f"the suite runs {entry.name!r} with {key} {shown_now} but "
                                     f"baseline {shown} has {shown_then}; {redo}"))
    for kpi in entry.guards:
        if kpi not in kpis:
            f, line, path = entry.kpi_where[kpi]
            problems.append(Problem(f, line, path, f"{entry.name!r} does not report {kpi} (baseline {shown} has "
                                    f"{', '.join(sorted(kpis))}); guard it for the scenarios that do"))
    return data, problems


def check_baselines(suite: LoadedSuite) -> dict[str, dict[str, Any]]:
    """Every entry's baseline, by entry name; SuiteError with every reason one cannot be used."""
    baselines: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for entry in suite.entries:
        baselines[entry.name], found = _read_baseline(entry, suite)
        problems += found
    if problems:
        raise SuiteError(problems)
    return baselines


def _baseline_json(entry: Planned, results: list[ReplicationResult], version: str) -> dict[str, Any]:
    kpis = sorted({k for r in results for k in r.kpis})
    return {
        "format": BASELINE_FORMAT,
        "name": entry.name,
        "scenario": {"file": entry.ref, "name": entry.scenario.name, "digest": entry.digest, "files": entry.files},
        "run": {"seed": entry.seed, "replications": entry.replications, "horizon": entry.horizon,
                "warmup": entry.warmup},
        "code_version": version,
        "event_log_sha256": [r.log_hash for r in results],
        "kpis": {k: [_json_float(r.kpis.get(k, math.nan)) for r in results] for k in kpis},
    }


def _json_float(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _write_all(files: dict[Path, str]) -> None:
    """Write every file to a scratch name beside its target first, then move them all into place:
    a failure leaves no baseline half written."""
    scratch: list[tuple[Path, Path]] = []
    try:
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(name, 0o644)  # mkstemp makes it private; a baseline is an ordinary committed file
            scratch.append((Path(name), target))
        for done, target in scratch:
            done.replace(target)
    finally:
        for left, _ in scratch:
            left.unlink(missing_ok=True)


# -- running the suite -------------------------------------------------------------------------------


def run_suite(
    suite: LoadedSuite,
    update: bool = False,
    workers: int | None = None,
    cluster: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SuiteReport:
    """Check the suite against its baselines, or with ``update`` record them.

    Every problem with the baselines is found before anything runs (SuiteError). All replications
    of all scenarios go to the executor at once, so scenarios run in parallel.
    """
    baselines = {} if update else check_baselines(suite)
    started = time.perf_counter()
    jobs = [Job(e.scenario, e.seed, r, e.horizon, e.warmup, None, False)
            for e in suite.entries for r in range(e.replications)]
    results: dict[str, list[ReplicationResult]] = {e.name: [] for e in suite.entries}
    owners = [e.name for e in suite.entries for _ in range(e.replications)]
    ex = executor or make_executor(workers, cluster)
    try:
        for i, res in enumerate(ex.map(run_job, jobs)):
            results[owners[i]].append(res)
            if progress:
                progress(i + 1, len(jobs))
    finally:
        if executor is None:
            ex.close()
    version = code_version()
    report = SuiteReport(suite.model.name, suite.shown, update, [], ex.name, 0.0, version)
    if update:
        missing = [_problem(e.kpi_where[k][:2], e.kpi_where[k][2],
                            f"{e.name!r} does not report {k}; guard it for the scenarios that do")
                   for e in suite.entries for k in e.guards if not any(k in r.kpis for r in results[e.name])]
        if missing:
            raise SuiteError(missing)
        texts = {e.baseline_file: json.dumps(_baseline_json(e, results[e.name], version), indent=1) + "\n"
                 for e in suite.entries}
        _write_all(texts)
        report.written = [_shown(p) for p in texts]
    for e in suite.entries:
        now = results[e.name]
        base = baselines.get(e.name, {})
        hashes = [r.log_hash for r in now]
        same = sum(a == b for a, b in zip(base.get("event_log_sha256", []), hashes, strict=False))
        identical = not update and same == len(hashes) == len(base.get("event_log_sha256", []))
        notes = []
        if base and base.get("code_version") != version:
            notes.append(f"baseline recorded with code {base.get('code_version')}, now {version}")
        if base and base.get("scenario", {}).get("digest") != e.digest:
            notes.append("the scenario files are unchanged but the code reads them differently (new defaults?)")
        checks = []
        for kpi, guard in e.guards.items():
            current = [r.kpis.get(kpi, math.nan) for r in now]
            if update:
                c = check_kpi(e.name, kpi, guard, current, current, True)
                c.status = "recorded"
            else:
                c = check_kpi(e.name, kpi, guard, base["kpis"][kpi], current, identical)
            checks.append(c)
        report.entries.append(EntryCheck(e.name, e.ref, identical, same, len(hashes), checks, notes))
    report.seconds = time.perf_counter() - started
    return report


def guarded(suite: LoadedSuite) -> Iterable[tuple[Planned, str]]:
    """Every (entry, KPI) the suite checks, in suite order (the pytest plugin's items)."""
    for e in suite.entries:
        for kpi in e.guards:
            yield e, kpi
