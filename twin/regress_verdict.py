"""The verdicts of a policy regression check: per scenario and KPI, the paired comparison of the
replications now with the baseline's (``check_kpi`` -> ``KpiCheck``: identical, improved, within
tolerance or regressed), per scenario (``EntryCheck``) and for the whole suite (``SuiteReport``).
Reading suites and baselines and running the scenarios is twin.regress; formatting a report is
twin.regress_report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from twin.stats import mean_ci

if TYPE_CHECKING:
    from twin.regress import Guard

__all__ = ["Status", "KpiCheck", "EntryCheck", "SuiteReport", "check_kpi"]

Status = Literal["identical", "improved", "within tolerance", "regressed", "no data", "recorded"]


@dataclass
class KpiCheck:
    entry: str
    kpi: str
    better: str
    tolerance: str
    status: Status
    baseline_mean: float
    current_mean: float
    diff: float  # current - baseline, paired mean
    ci_low: float
    ci_high: float
    allowed: float  # worsening allowed, in the KPI's unit
    n: int

    @property
    def failed(self) -> bool:
        return self.status == "regressed"

    def explain(self) -> str:
        if self.status in ("identical", "recorded", "no data"):
            return self.status
        ci = f"[{_num(self.ci_low)}, {_num(self.ci_high)}]"
        return (f"{self.kpi} {self.status}: {_num(self.baseline_mean)} -> {_num(self.current_mean)}, paired "
                f"difference {_num(self.diff)} (95% CI {ci}, {self.n} replications; {self.better} is better, "
                f"tolerance {self.tolerance} = {_num(self.allowed)})")


@dataclass
class EntryCheck:
    name: str
    scenario: str
    identical: bool
    same_logs: int
    replications: int
    kpis: list[KpiCheck]
    notes: list[str] = field(default_factory=list)


@dataclass
class SuiteReport:
    suite: str
    file: str
    update: bool
    entries: list[EntryCheck]
    executor: str
    seconds: float
    code_version: str
    written: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[KpiCheck]:
        return [k for e in self.entries for k in e.kpis]

    @property
    def regressions(self) -> list[KpiCheck]:
        return [k for k in self.checks if k.failed]


def _num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def check_kpi(entry: str, kpi: str, guard: Guard, baseline: Sequence[float | None], current: Sequence[float],
              identical: bool) -> KpiCheck:
    """The verdict for one KPI from paired per-replication values (replication r with r)."""
    then = np.array([math.nan if v is None else v for v in baseline], dtype=float)
    now = np.array(current, dtype=float)
    base_mean = float(np.nanmean(then)) if np.isfinite(then).any() else math.nan
    now_mean = float(np.nanmean(now)) if np.isfinite(now).any() else math.nan
    allowed = guard.tolerance.allowed(base_mean)
    both = np.isfinite(then) & np.isfinite(now)
    diff, lo, hi = mean_ci(now[both] - then[both])
    n = int(both.sum())

    def verdict(status: Status) -> KpiCheck:
        return KpiCheck(entry, kpi, guard.better, str(guard.tolerance), status, base_mean, now_mean, diff, lo, hi,
                        allowed, n)

    if identical:
        return verdict("identical")
    if n == 0:
        return verdict("no data")
    if n < 2 or math.isnan(lo):
        return verdict("within tolerance")
    # Oriented so that positive is worse: the CI of the worsening.
    worse_lo, worse_hi = sorted((-guard.sign * lo, -guard.sign * hi))
    if worse_lo > allowed:
        return verdict("regressed")
    if worse_hi < 0:
        return verdict("improved")
    return verdict("within tolerance")
