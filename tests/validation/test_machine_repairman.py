"""The finite-source machine-repairman model M/M/R//N against the analytic values of
../shared/validation/analytic_cases.yaml (machine_repairman_MMR_N).

N assets with exponential times to failure (rate lambda while running), R technicians on duty
around the clock with the one skill the repairs need, exponential repair times (rate mu), no travel
and no spare parts, the reactive policy (run to failure) and greedy dispatch, which is FCFS among
work orders of equal priority. The real engine runs; the KPIs come from the event log through
twin.kpi_maintenance: availability, L = N (1 - availability), W = mttr (failure to repaired),
Wq (failure to repair start) and the technicians' utilisation.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.validation.conftest import analytic_cases, describe, family_level, inside, misses_allowed
from twin.kpi_maintenance import maintenance_kpis, repair_times
from twin.model.scenario import Scenario
from twin.sim.engine import run_replication

REPLICATIONS = 10
HORIZON_H = 20_000.0
WARMUP_H = 500.0
SEED = 20260412
MEASURES = {
    "availability": "availability_fraction_of_machines_up",
    "L": "L_mean_number_down",
    "W": "W_mean_downtime_per_failure",
    "Wq": "Wq_mean_wait_before_repair_starts",
    "utilization": "repairman_utilization",
}


def _cases() -> list[dict]:
    return analytic_cases()["machine_repairman_MMR_N"]["cases"]  # type: ignore[no-any-return]


def repairman_scenario(n: int, r: int, failure_rate: float, repair_rate: float) -> Scenario:
    return Scenario.model_validate({
        "name": f"repairman-{n}-{r}",
        "horizon": f"{HORIZON_H}h",
        "warmup": f"{WARMUP_H}h",
        "seed": SEED,
        "record_levels": False,
        "site": {
            "name": "machine-shop",
            "items": [{"id": "spare", "unit_cost": 1}],
            "warehouses": [{"id": "store", "initial_stock": {"spare": 0}}],
            "suppliers": [{"id": "vendor", "lead_time": {"mean": "1d"}, "items": ["spare"]}],
            "assets": [{"id": f"m{i}", "failure": {"dist": "exponential", "mean": f"{1 / failure_rate}h"},
                        "repair": {"dist": "exponential", "mean": f"{1 / repair_rate}h"}, "skill": "mechanic"}
                       for i in range(n)],
            "technicians": [{"id": f"tech{j}", "skills": ["mechanic"], "shifts": [{"start": "0h", "length": "24h"}]}
                            for j in range(r)],
        },
        "policies": {"inventory": {"use": "s_S", "params": {"s": 0, "S": 0}},
                     "maintenance": {"use": "reactive", "params": {"dispatch": "greedy"}}},
    })


@cache
def _simulated(case_id: str) -> dict[str, np.ndarray]:
    case = next(c for c in _cases() if c["id"] == case_id)
    inp = case["inputs"]
    n = inp["N_machines"]
    scenario = repairman_scenario(n, inp["R_repairmen"], inp["failure_rate_per_working_machine"],
                                  inp["repair_rate_per_busy_repairman"])
    out: dict[str, list[float]] = {k: [] for k in MEASURES}
    for rep in range(REPLICATIONS):
        events = run_replication(scenario, SEED, rep).log.events
        k = maintenance_kpis(events, scenario, WARMUP_H, HORIZON_H)
        times = repair_times(events)
        failed = np.asarray(times["failed"])
        window = (failed >= WARMUP_H) & (failed < HORIZON_H)
        out["availability"].append(k["availability"])
        out["L"].append(n * (1.0 - k["availability"]))
        out["W"].append(k["mttr"])
        out["Wq"].append(float(np.asarray(times["wait"])[window].mean()))
        out["utilization"].append(k["technician_utilization"])
    return {key: np.asarray(v) for key, v in out.items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_machine_repairman_matches_analytic(case: dict) -> None:
    sim = _simulated(case["id"])
    level = family_level(len(_cases()) * len(MEASURES))
    for key, name in MEASURES.items():
        expected = case["expected"][name]
        assert inside(expected, sim[key], level), describe(f"{case['id']} {key}", expected, sim[key], level)


@pytest.mark.slow
def test_machine_repairman_95_percent_intervals_miss_no_more_than_chance() -> None:
    misses = []
    for case in _cases():
        sim = _simulated(case["id"])
        for key, name in MEASURES.items():
            expected = case["expected"][name]
            if not inside(expected, sim[key], 0.95):
                misses.append(describe(f"{case['id']} {key}", expected, sim[key], 0.95))
    assert len(misses) <= misses_allowed(len(_cases()) * len(MEASURES)), "\n".join(misses)


def test_the_reactive_repairman_model_loses_availability_with_fewer_technicians() -> None:
    """A quick sanity check that runs with the unit suite: one technician for five machines."""
    scenario = repairman_scenario(5, 1, 0.1, 0.5)
    events = run_replication(scenario, SEED, 0, 3000.0).log.events
    k = maintenance_kpis(events, scenario, 200.0, 3000.0)
    assert 0.6 < k["availability"] < 0.82
    assert k["mtbf"] == pytest.approx(10.0, rel=0.2)
